"""autolabel select: uncertainty scores from CRF marginals, diversity, CLI."""

import math

import numpy as np
import pytest
import spacy
import srsly
from test_annotate import TEXTS, model  # noqa: F401  (module fixture)
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.confidences import set_marginals
from autolabel_spacy.workflow.select import Candidate, pick, score_pool, uncertainty


def fake_doc(probs, seq_prob):
    from spacy.tokens import SpanGroup

    nlp = spacy.blank("en")
    doc = nlp.make_doc(" ".join(["w"] * len(probs)))
    set_marginals(doc, ["O", "U-X"], np.asarray(probs))
    group = SpanGroup(doc, name="crf_ner", spans=[])
    group.attrs["sequence_prob"] = seq_prob
    doc.spans["crf_ner"] = group
    return doc


def test_uncertainty_measures_by_hand():
    doc = fake_doc([[0.9, 0.1], [0.5, 0.5]], 0.45)
    assert uncertainty(doc, "least_confidence") == pytest.approx(1 - math.sqrt(0.45))
    assert uncertainty(doc, "margin") == pytest.approx(((1 - 0.8) + (1 - 0.0)) / 2)
    entropy = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1)) - 2 * 0.5 * math.log(0.5)
    assert uncertainty(doc, "entropy") == pytest.approx(entropy / 2)
    # length-normalised: a long, uniformly sure doc is not more uncertain than a short one
    short, long = fake_doc([[0.9, 0.1]], 0.9), fake_doc([[0.9, 0.1]] * 10, 0.9**10)
    for strategy in ("least_confidence", "margin", "entropy"):
        assert uncertainty(short, strategy) == pytest.approx(uncertainty(long, strategy))


def test_a_doc_is_as_uncertain_as_its_weakest_part():
    from autolabel_spacy import relations as rel

    doc = fake_doc([[0.9, 0.1], [0.5, 0.5]], 0.45)  # entities: 1 - sqrt(0.45) = 0.329
    rel.set_relations(doc, [], confidence=0.6)
    assert uncertainty(doc, "least_confidence") == pytest.approx(0.4)  # the relations are weaker
    doc.cats = {"a": 0.5, "b": 0.3, "c": 0.2}
    assert uncertainty(doc, "least_confidence") == pytest.approx(0.5)  # the category is weaker still
    assert uncertainty(doc, "margin") == pytest.approx(max(0.6, 1 - 0.2, 0.4))
    assert uncertainty(doc, "entropy") == pytest.approx(
        -(0.5 * math.log(0.5) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2))
    )


def test_diversity_avoids_near_duplicates():
    nlp = spacy.blank("en")
    texts = ["aspirin for migraine"] * 3 + ["insulin for diabetes", "warfarin after surgery"]
    candidates = [Candidate(i, u, nlp(t)) for i, (t, u) in enumerate(zip(texts, [0.9, 0.89, 0.88, 0.5, 0.4]))]
    assert [c.index for c in pick(candidates, 3)] == [0, 1, 2]
    assert sorted(c.index for c in pick(candidates, 3, diversity=0.5)) == [0, 3, 4]


def test_select_ranks_the_pool_and_writes_preannotated_docs(model, tmp_path):
    nlp = spacy.load(model)
    pool = TEXTS + ["zzz qqq xxx", "aspirin aspirin heart"]
    for strategy in ("least_confidence", "margin", "entropy"):
        scored = score_pool(nlp, pool, strategy)
        assert len(scored) == len(pool) and all(c.uncertainty >= 0 for c in scored)
        ranked = pick(scored, 3)
        assert [c.uncertainty for c in ranked] == sorted((c.uncertainty for c in scored), reverse=True)[:3]
    (tmp_path / "pool.txt").write_text("\n".join(pool) + "\n\n")
    result = CliRunner().invoke(
        build_app(),
        ["select", str(model), str(tmp_path / "pool.txt"), "-n", "3", "-o", str(tmp_path / "next.labelstudio.json")],
    )
    assert result.exit_code == 0, result.output
    assert f"selected 3 of {len(pool) + 1} docs (1 unreadable)" in result.stdout
    tasks = srsly.read_json(tmp_path / "next.labelstudio.json")
    assert [t["data"]["meta"]["rank"] for t in tasks] == [1, 2, 3]
    assert [t["data"]["meta"]["uncertainty"] for t in tasks] == sorted(
        (t["data"]["meta"]["uncertainty"] for t in tasks), reverse=True
    )
