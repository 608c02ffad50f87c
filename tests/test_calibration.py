import numpy as np
import pytest
import spacy

from autolabel_spacy import evaluation
from autolabel_spacy.calibration import CheckpointWatch, best_temperature, calibrate, log_loss


def test_golden_section_recovers_the_true_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 4, 20000)
    correct = rng.random(20000) < 1 / (1 + np.exp(-logits / 2.0))  # true temperature 2
    probs_at = lambda t: 1 / (1 + np.exp(-logits / t))  # noqa: E731
    t = best_temperature(probs_at, correct)
    assert abs(t - 2.0) < 0.1
    assert log_loss(probs_at(t), correct) < log_loss(probs_at(1.0), correct)


def test_reliability_and_ece():
    spans = (
        [evaluation.ScoredSpan(0.95, True)] * 9
        + [evaluation.ScoredSpan(0.95, False)]
        + [evaluation.ScoredSpan(0.15, False)] * 10
    )
    table = evaluation.reliability_table(spans)
    assert table[9]["count"] == 10 and table[9]["accuracy"] == pytest.approx(0.9)
    assert table[1]["count"] == 10 and table[1]["accuracy"] == 0.0
    assert evaluation.expected_calibration_error(spans) == pytest.approx(0.5 * 0.05 + 0.5 * 0.15)
    assert evaluation.precision_above(spans, 0.9) == (pytest.approx(0.9), 10)


def test_calibrate_sets_a_temperature_that_keeps_predictions(tmp_path):
    from test_crf_ner import make_examples, train

    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_ner")
    train(nlp, make_examples(nlp, 60), steps=8)  # under-trained: confidences are off
    held_out = make_examples(nlp, 60, seed=1)
    texts = [eg.reference.text for eg in held_out]
    before = [[(e.start, e.end, e.label_) for e in d.ents] for d in nlp.pipe(texts)]
    result = calibrate(nlp, "crf_ner", held_out)
    ner = nlp.get_pipe("crf_ner")
    assert ner.cfg["temperature"] == result["temperature"] != 1.0
    assert result["log_loss_after"] <= result["log_loss_before"]
    after = [[(e.start, e.end, e.label_) for e in d.ents] for d in nlp.pipe(texts)]
    assert after == before  # temperature never changes the decoded spans
    nlp.to_disk(tmp_path / "m")
    assert spacy.load(tmp_path / "m").get_pipe("crf_ner").cfg["temperature"] == result["temperature"]


def test_only_the_best_and_the_final_checkpoints_are_calibrated():
    """As spaCy's training loop saves: a new performance dict per
    evaluation, weighted by the training score weights; then the final save
    with the last evaluation's dict."""
    nlp = spacy.blank("en")
    nlp.config["training"]["score_weights"] = {"ents_f": 0.5, "ents_p": 0.5, "ents_per_type": None}
    watch = CheckpointWatch()
    assert watch.needs_calibration(nlp)  # no scores: not in a training loop
    evaluations = [(0.4, 0.4), (0.2, 0.4), (0.6, 0.4), (0.4, 0.6), (0.8, 0.0)]
    saved = []
    for f, p in evaluations:
        nlp.meta["performance"] = {"ents_f": f, "ents_p": p, "ents_per_type": {"X": {}}, "crf_ner_loss": 3.0}
        saved.append(watch.needs_calibration(nlp))
    # scores 0.4, 0.3, 0.5, 0.5 (a tie is a best, as spaCy copies it), 0.4
    assert saved == [True, False, True, True, False]
    assert watch.needs_calibration(nlp)  # the final save: same scores as the last save
    nlp.meta["performance"] = {"ents_f": 0.1, "ents_p": 0.1}
    assert not watch.needs_calibration(nlp)


def test_recommended_threshold_is_the_lowest_that_reaches_the_target():
    import itertools
    import random

    from autolabel_spacy.evaluation import ScoredDoc, least_accepted, recommend_threshold, routing_curve

    assert [least_accepted(t) for t in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0)] == [2, 5, 10, 20, 100, 1000, 1]
    rng = random.Random(0)
    for _ in range(200):
        docs = [ScoredDoc(round(rng.random(), 2), rng.random() < 0.8) for _ in range(rng.randint(1, 30))]
        target = rng.choice([0.8, 0.9, 0.99])
        least = rng.choice([None, 1, 3, 12])
        needed = least or {0.8: 5, 0.9: 10, 0.99: 100}[target]
        best = None
        for t in sorted({d.confidence for d in docs}):  # brute force over every cut
            chosen = [d.correct for d in docs if d.confidence >= t]
            if len(chosen) >= needed and sum(chosen) / len(chosen) >= target:
                best = t
                break
        got = recommend_threshold(docs, target, least)
        assert (got and got.threshold) == best
        if got:
            row = routing_curve(docs, [got.threshold])[0]
            assert (
                row["coverage"] == got.coverage
                and row["accuracy"] == got.accuracy >= target
                and row["accepted"] == got.accepted
            )
    assert list(itertools.islice(routing_curve([ScoredDoc(0.5, True)], [0.9]), 1))[0]["accuracy"] is None


def test_agreement_keeps_units_two_models_agree_on_and_sends_the_rest_to_review():
    from autolabel_spacy.evaluation import ScoredDoc, agreement

    a = [ScoredDoc(0.9, True, 1, frozenset({(0, 4, "X")})), ScoredDoc(0.99, False, 0, frozenset({(5, 9, "X")}))]
    b = [ScoredDoc(0.4, True, 1, frozenset({(0, 4, "X")})), ScoredDoc(0.99, True, 0, frozenset())]
    both = agreement(a, b)
    assert [round(u.confidence, 6) for u in both] == [0.6, 0.0]
    assert [(u.correct, u.mentions) for u in both] == [(True, 1), (False, 0)]  # the first model's units
    with pytest.raises(ValueError, match="same gold docs"):
        agreement(a, b[:1])
    # three models: all must agree; the confidence is the geometric mean of the three
    c = [ScoredDoc(0.625, True, 1, frozenset({(0, 4, "X")})), ScoredDoc(0.99, True, 0, frozenset({(5, 9, "X")}))]
    three = agreement(a, b, c)
    assert [round(u.confidence, 6) for u in three] == [round((0.9 * 0.4 * 0.625) ** (1 / 3), 6), 0.0]
    assert agreement(a, c)[1].confidence == pytest.approx(0.99)


def test_per_token_ranking_is_the_geometric_mean_per_token():
    from autolabel_spacy.evaluation import ScoredDoc
    from autolabel_spacy.routing import ranked as rank

    long_empty, short_wrong = ScoredDoc(0.81, True, 0, frozenset(), 20), ScoredDoc(0.85, False, 1, frozenset(), 2)
    assert rank([long_empty], "sentence") == [long_empty]
    with pytest.raises(ValueError, match="rank_by"):
        rank([long_empty], "word")
    ranked = rank([long_empty, short_wrong], "token")
    assert [round(u.confidence, 6) for u in ranked] == [round(0.81 ** (1 / 20), 6), round(0.85**0.5, 6)]
    assert ranked[0].confidence > ranked[1].confidence  # the long sentence is no longer ranked below for its length
    assert [(u.correct, u.tokens) for u in ranked] == [(True, 20), (False, 2)]
