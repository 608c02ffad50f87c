"""Document categories: the CSV reader and its seeded stratified split, and
``calibrated_textcat`` (spaCy's textcat with a fitted temperature)."""

import csv
import json
import random
from collections import Counter

import numpy as np
import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import DocBin
from spacy.training import Example

from autolabel_spacy.pipeline.categories import scaled
from autolabel_spacy.workflow.corpus_categories import (
    convert_category_corpus,
    read_category_records,
    read_label_names,
    stratified_split,
)

NLP = spacy.blank("en")
NAMES = {"1": "neoplasms", "2": "digestive", "3": "nervous"}


def write_csv(path, rows, header=("condition_label", "medical_abstract")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["1", "2", "3", "9", ""]), st.text(alphabet='ab ,"\n.', max_size=20)), max_size=12
    )
)
def test_every_row_is_a_doc_with_one_category_or_an_error_with_its_line(tmp_path_factory, rows):
    path = write_csv(tmp_path_factory.mktemp("csv") / "c.csv", rows)
    records = list(read_category_records(path, NLP, "medical_abstract", "condition_label", NAMES))
    assert len(records) == len(rows)
    for record, (label, text) in zip(records, rows):
        if label in NAMES and text.strip():
            assert record.error is None and record.doc.text == text
            assert record.doc.cats == {name: float(name == NAMES[label]) for name in NAMES.values()}
        else:
            assert record.doc is None and record.error and record.where.startswith(f"{path}:")


def test_the_split_is_seeded_stratified_disjoint_and_complete(tmp_path):
    rng = random.Random(0)
    rows = [(rng.choice(["1", "1", "1", "2", "3"]), f"text number {i} .") for i in range(500)]
    path = write_csv(tmp_path / "c.csv", rows)
    docs = [r.doc for r in read_category_records(path, NLP, "medical_abstract", "condition_label", NAMES)]
    one, again, other = stratified_split(docs, seed=0), stratified_split(docs, seed=0), stratified_split(docs, seed=1)
    texts = {k: [d.text for d in v] for k, v in one.items()}
    assert texts == {k: [d.text for d in v] for k, v in again.items()}
    assert texts != {k: [d.text for d in v] for k, v in other.items()}
    assert sorted(sum(texts.values(), [])) == sorted(d.text for d in docs)  # each doc in exactly one split
    assert [len(v) for v in texts.values()] == [300, 100, 100]
    overall = Counter(max(d.cats, key=d.cats.get) for d in docs)
    for part in one.values():
        counts = Counter(max(d.cats, key=d.cats.get) for d in part)
        for name, n in overall.items():
            assert abs(counts[name] / len(part) - n / len(docs)) < 0.02


def test_convert_writes_the_splits_and_the_refused_rows(tmp_path):
    rows = [(str(1 + i % 3), f"abstract {i} .") for i in range(60)] + [("7", "unknown label"), ("1", "  ")]
    path = write_csv(tmp_path / "c.csv", rows)
    (tmp_path / "labels.csv").write_text(
        "condition_label,condition_name\n1,neoplasms\n2,digestive\n3,nervous\n", encoding="utf-8"
    )
    counts = convert_category_corpus(
        path, tmp_path / "out", NLP, "medical_abstract", "condition_label", read_label_names(tmp_path / "labels.csv")
    )
    assert counts == {"train": 36, "dev": 12, "test": 12, "refused": 2}
    errors = (tmp_path / "out" / "errors.jsonl").read_text().splitlines()
    assert len(errors) == 2 and "unknown label '7'" in errors[0] and "no text" in errors[1]
    docs = list(DocBin().from_disk(tmp_path / "out" / "train.spacy").get_docs(NLP.vocab))
    assert len(docs) == 36 and all(sum(d.cats.values()) == 1.0 for d in docs)


def test_a_missing_column_is_an_error_of_the_file(tmp_path):
    path = write_csv(tmp_path / "c.csv", [("1", "x")], header=("label", "body"))
    with pytest.raises(ValueError, match=r"c.csv:1: no column 'medical_abstract'"):
        list(read_category_records(path, NLP, "medical_abstract", "label"))


def test_temperature_scaling_is_softmax_of_the_scaled_log_probabilities():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=20)
    for t in (0.5, 1.0, 2.0):
        out = scaled(probs, t)
        brute = np.array([[p ** (1 / t) / sum(q ** (1 / t) for q in row) for p in row] for row in probs])
        np.testing.assert_allclose(out, brute, rtol=1e-6)
        assert (out.argmax(axis=1) == probs.argmax(axis=1)).all()


def toy_examples(n, seed):
    rng = random.Random(seed)
    nlp = spacy.blank("en")
    out = []
    for _ in range(n):
        label = rng.choice(["tumour", "heart"])
        words = rng.choices(
            ["cancer", "carcinoma", "tumour"] if label == "tumour" else ["cardiac", "artery", "heart"], k=3
        )
        words += rng.choices(["the", "patient", "was", "seen", "cancer", "heart"], k=4)  # noise
        doc = nlp.make_doc(" ".join(words))
        ref = nlp.make_doc(doc.text)
        ref.cats = {"tumour": float(label == "tumour"), "heart": float(label == "heart")}
        out.append(Example(doc, ref))
    return out


def test_calibrated_textcat_trains_as_spacy_textcat_and_keeps_its_temperature(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("calibrated_textcat", name="textcat")
    train = toy_examples(200, 0)
    optimizer = nlp.initialize(lambda: train)
    for _ in range(5):
        for i in range(0, len(train), 16):
            nlp.update(train[i : i + 16], sgd=optimizer)
    textcat = nlp.get_pipe("textcat")
    fit = textcat.calibrate(toy_examples(100, 1))
    assert fit["docs"] == 100 and fit["log_loss_after"] <= fit["log_loss_before"] + 1e-9
    doc = nlp("the cardiac artery")
    assert max(doc.cats, key=doc.cats.get) == "heart" and abs(sum(doc.cats.values()) - 1) < 1e-5
    nlp.to_disk(tmp_path / "m")
    loaded = spacy.load(tmp_path / "m")
    assert loaded.get_pipe("textcat").cfg["temperature"] == fit["temperature"]
    assert loaded("the cardiac artery").cats == pytest.approx(doc.cats, rel=1e-5)


def test_autolabel_corpus_splits_a_csv_and_refuses_bad_options(tmp_path):
    from typer.testing import CliRunner

    from autolabel_spacy.cli import build_app

    path = write_csv(tmp_path / "c.csv", [(str(1 + i % 4), f"abstract {i} .") for i in range(40)])
    args = [
        "corpus",
        str(path),
        str(tmp_path / "out"),
        "--text-column",
        "medical_abstract",
        "--label-column",
        "condition_label",
    ]
    result = CliRunner().invoke(build_app(), args + ["--split", "0.5,0.25,0.25", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "train: 20 docs" in result.output and "no rows refused" in result.output
    bad = CliRunner().invoke(build_app(), args + ["--split", "0.5,0.5"])
    assert bad.exit_code == 2 and "three positive shares" in bad.output
    missing = CliRunner().invoke(build_app(), args[:3] + ["--text-column", "body"])
    assert missing.exit_code == 1 and "no column 'body'" in missing.output


def test_the_category_report_counts_accuracy_and_recommends_a_threshold_by_brute_force():
    from autolabel_spacy.evaluation import category_report

    rng = random.Random(0)
    predicted, gold = [], []
    for _ in range(200):
        p = 0.5 + rng.random() / 2
        pred, ref = NLP.make_doc("x"), NLP.make_doc("x")
        right = rng.random() < p  # the more confident, the likelier right
        pred.cats = {"a": p, "b": 1 - p} if rng.random() < 0.5 else {"a": 1 - p, "b": p}
        top = max(pred.cats, key=pred.cats.get)
        ref.cats = {"a": float((top == "a") == right), "b": float((top == "b") == right)}
        predicted.append(pred)
        gold.append(ref)
    report = category_report(predicted, gold, {"cats_macro_f": 0.5}, target_accuracy=0.9)
    truth = [
        (max(p.cats.values()), max(p.cats, key=p.cats.get) == max(g.cats, key=g.cats.get))
        for p, g in zip(predicted, gold)
    ]
    assert report.docs == 200 and report.accuracy == pytest.approx(sum(c for _, c in truth) / 200)
    best = None
    for t in sorted({c for c, _ in truth}):
        kept = [ok for c, ok in truth if c >= t]
        if len(kept) >= 10 and sum(kept) / len(kept) >= 0.9:  # 10 docs at least: 1 / (1 - 0.9)
            best = best or (t, len(kept))
    assert (report.recommended.threshold, report.recommended.accepted) == best


def test_a_pipeline_of_categories_only_is_evaluated_tagged_and_routed_by_its_category_threshold(tmp_path):
    """textcat_fast.cfg's kind of pipeline (no entities) through the loop:
    evaluate reports its categories and recommends their threshold, annotate
    takes it from the report and routes every doc by its top category, tag
    prints the categories."""
    import json

    from typer.testing import CliRunner

    from autolabel_spacy.cli import build_app

    nlp = spacy.blank("en")
    nlp.add_pipe(
        "calibrated_textcat",
        name="textcat",
        config={
            "model": {
                "@architectures": "spacy.TextCatBOW.v3",
                "exclusive_classes": True,
                "ngram_size": 1,
                "no_output_layer": False,
            }
        },
    )
    train = toy_examples(200, 0)
    optimizer = nlp.initialize(lambda: train)
    for _ in range(5):
        for i in range(0, len(train), 16):
            nlp.update(train[i : i + 16], sgd=optimizer)
    nlp.to_disk(tmp_path / "m")
    DocBin(docs=[e.reference for e in toy_examples(100, 1)]).to_disk(tmp_path / "dev.spacy")
    runner = CliRunner()
    # 100 toy dev docs: --min-accepted 10 lets a threshold accept fewer than 100 at 99%
    evaluated = [
        "evaluate",
        str(tmp_path / "m"),
        str(tmp_path / "dev.spacy"),
        "-o",
        str(tmp_path / "dev.json"),
        "--min-accepted",
        "10",
    ]
    result = runner.invoke(build_app(), evaluated)
    assert result.exit_code == 0, result.output
    assert "sets no entities" in result.output and "categories of 100 docs" in result.output
    report = json.loads((tmp_path / "dev.json").read_text())
    assert "entities" not in report and report["categories"]["recommended"]["threshold"] > 0
    texts = [e.reference.text for e in toy_examples(30, 2)]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    out = tmp_path / "a.jsonl"
    result = runner.invoke(
        build_app(),
        [
            "annotate",
            str(tmp_path / "m"),
            str(tmp_path / "in.txt"),
            "-o",
            str(out),
            "--accept-threshold-from",
            str(tmp_path / "dev.json"),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    threshold = report["categories"]["recommended"]["threshold"]
    routed = {
        part: [json.loads(line) for line in (tmp_path / f"a.{part}.jsonl").read_text().splitlines()]
        for part in ("accepted", "review")
    }
    assert sum(map(len, routed.values())) == 30
    for part, records in routed.items():
        for r in records:
            assert (max(r["cats"].values()) >= threshold) == (part == "accepted"), r
            # the output formats write floats with 10 decimals (srsly); the routing used every digit
            assert r["meta"]["autolabel_decision"]["category"]["threshold"] == pytest.approx(threshold, abs=1e-10)
    tagged = runner.invoke(build_app(), ["tag", str(tmp_path / "m"), "the cardiac artery"])
    assert tagged.exit_code == 0 and json.loads(tagged.output)["cats"], tagged.output
    # an entity pipeline still needs its own threshold
    from autolabel_spacy.workflow.annotate import annotate

    ner = spacy.blank("en")
    ner.add_pipe("crf_ner")
    with pytest.raises(ValueError, match="give that too"):
        annotate(ner, tmp_path / "in.txt", tmp_path / "b.jsonl", category_threshold=0.9, progress=False)


def test_a_row_without_label_or_of_a_category_too_small_to_stratify_is_refused_and_the_rest_split(tmp_path):
    from typer.testing import CliRunner

    from autolabel_spacy.cli import build_app

    rows = [(c, f"abstract {i} {c} .") for i in range(10) for c in "AB"] + [
        ("", "no label here ."),
        ("C", "a category of one ."),
    ]
    path = write_csv(tmp_path / "c.csv", rows, header=("label", "text"))
    result = CliRunner().invoke(build_app(), ["corpus", str(path), str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    errors = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert [(e["record"], e["error"]) for e in errors] == [
        (f"{path}:22", "no label"),
        (f"{path}:23", "category 'C' has 1 rows; a stratified train/dev/test split needs at least 3 of each"),
    ]
    docs = [
        d
        for split in ("train", "dev", "test")
        for d in DocBin().from_disk(tmp_path / "out" / f"{split}.spacy").get_docs(NLP.vocab)
    ]
    assert len(docs) == 20 and all(set(d.cats) == {"A", "B"} for d in docs)
    # shares too small for the categories: one error naming the file, and nothing written
    small = CliRunner().invoke(build_app(), ["corpus", str(path), str(tmp_path / "none"), "--split", "0.9,0.05,0.05"])
    errors = [line for line in small.stderr.splitlines() if line.startswith("error:")]
    assert small.exit_code == 1 and len(errors) == 1 and str(path) in errors[0] and "cannot be split" in errors[0]
    assert not (tmp_path / "none").exists()
