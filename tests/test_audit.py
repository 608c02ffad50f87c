"""autolabel audit: cross-validated posteriors find planted label errors."""

from pathlib import Path

import pytest
import spacy
import srsly
from spacy.tokens import DocBin, Span
from test_crf_ner import make_examples
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.workflow.audit import folds_of

ROOT = Path(__file__).resolve().parent.parent


def test_folds_are_balanced_and_cover_every_doc():
    fold = folds_of(103, 5, seed=1)
    counts = [fold.count(f) for f in range(5)]
    assert sum(counts) == 103 and max(counts) - min(counts) <= 1


@pytest.mark.slow
def test_audit_ranks_planted_errors_first(tmp_path):
    nlp = spacy.blank("en")
    docs = [eg.reference for eg in make_examples(nlp, n=120, seed=5)]
    planted = {}
    for i in (3, 17, 40, 77):  # drop a label
        planted[i] = docs[i].ents[0]
        docs[i].ents = docs[i].ents[1:]
    for i in (8, 55):  # flip a label
        ent = docs[i].ents[0]
        flipped = Span(docs[i], ent.start, ent.end, "DRUG" if ent.label_ == "DISEASE" else "DISEASE")
        docs[i].ents = [flipped] + list(docs[i].ents[1:])
        planted[i] = flipped
    DocBin(docs=docs).to_disk(tmp_path / "corpus.spacy")
    result = CliRunner().invoke(
        build_app(),
        [
            "audit",
            str(tmp_path / "corpus.spacy"),
            "-o",
            str(tmp_path / "issues.jsonl"),
            "-k",
            "3",
            "--epochs",
            "6",
            "--config",
            str(ROOT / "autolabel_spacy" / "configs" / "crf_fast.cfg"),
        ],
    )
    assert result.exit_code == 0, result.output
    issues = list(srsly.read_jsonl(tmp_path / "issues.jsonl"))
    top = issues[: len(planted)]
    hits = sum(
        1
        for issue in top
        if issue["doc"] in planted
        and issue["start"] < planted[issue["doc"]].end
        and planted[issue["doc"]].start < issue["end"]
    )
    assert hits / len(planted) >= 0.8, top
    kinds = {issue["doc"]: issue["kind"] for issue in top}
    assert kinds.get(3) == "missing" and kinds.get(8) == "doubtful"
    assert all(issue["reason"] for issue in issues)


@pytest.mark.slow
def test_audit_flags_planted_category_errors_with_a_categories_only_config(tmp_path):
    """Confident learning on doc.cats: held-out textcat probabilities of the
    given category, flagged below the category's self-confidence."""
    import random

    from benchmarks.categories import efficiency_config

    rng = random.Random(0)
    nlp = spacy.blank("en")
    words = {
        "tumour": ["cancer", "carcinoma", "tumour", "metastasis"],
        "heart": ["cardiac", "artery", "heart", "infarction"],
    }
    docs = []
    for _ in range(150):
        label = rng.choice(sorted(words))
        doc = nlp.make_doc(
            " ".join(rng.choices(words[label], k=4) + rng.choices(["the", "patient", "was", "seen", "today"], k=4))
        )
        doc.cats = {name: float(name == label) for name in words}
        docs.append(doc)
    planted = [4, 21, 60, 99, 130]
    for i in planted:
        doc = docs[i]
        doc.cats = {name: 1.0 - value for name, value in doc.cats.items()}
    DocBin(docs=docs).to_disk(tmp_path / "corpus.spacy")
    config = tmp_path / "textcat.cfg"
    config.write_text(efficiency_config((ROOT / "autolabel_spacy" / "configs" / "textcat_fast.cfg").read_text()))
    result = CliRunner().invoke(
        build_app(),
        [
            "audit",
            str(tmp_path / "corpus.spacy"),
            "-o",
            str(tmp_path / "issues.jsonl"),
            "-k",
            "3",
            "--epochs",
            "8",
            "--config",
            str(config),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "0 spans and 150 categories judged" in result.output
    issues = list(srsly.read_jsonl(tmp_path / "issues.jsonl"))
    assert len(issues) == 150 and {issue["kind"] for issue in issues} == {"category"}
    assert sorted(issue["doc"] for issue in issues[: len(planted)]) == planted
    assert all(issue["flagged"] for issue in issues[: len(planted)]) and "prefers the category" in issues[0]["reason"]
