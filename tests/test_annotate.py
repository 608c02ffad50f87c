"""autolabel annotate: every record accounted for, routing, resume, formats."""

import json
from pathlib import Path

import pytest
import spacy
import srsly
from spacy.language import Language
from test_crf_ner import make_examples, train
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.format_io import read_docs
from autolabel_spacy.workflow.annotate import annotate

TEXTS = [
    "patients with migraine took aspirin daily .",
    "no diabetes was seen .",
    "warfarin is used to treat heart failure .",
    "lung cancer improved after metformin .",
    "the weather was fine .",
    "insulin is used to treat type 2 diabetes .",
]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_ner")
    train(nlp, make_examples(nlp), steps=30)
    path = tmp_path_factory.mktemp("model") / "pipeline"
    nlp.to_disk(path)
    return path


def messy_jsonl(path):
    lines = [json.dumps({"text": t, "meta": {"n": i}}).encode() for i, t in enumerate(TEXTS)]
    lines[1:1] = [
        b'{"text": "broken json',
        b'{"body": "no text field"}',
        b'{"text": "   "}',
        b'\xff\xfe{"text": "bytes"}',
    ]
    lines.append(json.dumps({"text": "x" * 500}).encode())
    path.write_bytes(b"\n".join(lines) + b"\n")
    return len(lines)


def test_every_record_is_accounted_for_and_routed(model, tmp_path):
    n = messy_jsonl(tmp_path / "in.jsonl")
    summary = annotate(
        model,
        tmp_path / "in.jsonl",
        tmp_path / "out" / "ann.jsonl",
        accept_threshold=0.99999,
        max_chars=400,
        progress=False,
    )
    assert summary.inputs == n == summary.accepted + summary.review + summary.errors
    assert summary.errors == 5 and summary.annotated == len(TEXTS)
    errors = {e["id"]: e["error"] for e in srsly.read_jsonl(tmp_path / "out" / "ann.errors.jsonl")}
    assert errors == {
        "in.jsonl:2": "invalid JSON (Unterminated string starting at: column 10)",
        "in.jsonl:3": "missing 'text' string field",
        "in.jsonl:4": "empty text",
        "in.jsonl:5": "not valid UTF-8 (invalid start byte at byte 0)",
        "in.jsonl:11": "text of 500 characters exceeds --max-chars 400",
    }
    accepted = list(srsly.read_jsonl(tmp_path / "out" / "ann.accepted.jsonl"))
    review = list(srsly.read_jsonl(tmp_path / "out" / "ann.review.jsonl"))
    assert all(r["score"] >= 0.99999 for r in accepted) and all(r["score"] < 0.99999 for r in review)
    assert accepted and len(review) >= 2
    assert [r["score"] for r in review] == sorted(r["score"] for r in review)  # most uncertain first
    assert sorted(r["meta"]["n"] for r in accepted + review) == list(range(len(TEXTS)))
    decisions = list(srsly.read_jsonl(tmp_path / "out" / "ann.decisions.jsonl"))
    assert {d["decision"] for d in decisions} <= {"accepted", "review"} and len(decisions) == len(TEXTS)
    for d in decisions:
        assert d["threshold"] == pytest.approx(0.99999) and 0.0 <= d["score"] <= 1.0, d
    assert accepted[0]["meta"]["autolabel_decision"] == {
        "route": "accepted",
        "threshold": pytest.approx(0.99999),
        "score": accepted[0]["score"],
    }
    assert not (tmp_path / "out" / "ann.run").exists()


@pytest.mark.parametrize("ext", ["jsonl", "labelstudio.json", "prodigy.jsonl", "doccano.jsonl", "conll", "spacy"])
def test_every_output_format_reads_back_the_same_spans(model, tmp_path, ext):
    (tmp_path / "in.txt").write_text("\n".join(TEXTS) + "\n")
    annotate(model, tmp_path / "in.txt", tmp_path / f"ann.{ext}", progress=False)
    reference = spacy.load(model)
    expected = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in reference.pipe(TEXTS)]
    assert any(expected)
    back = list(read_docs(tmp_path / f"ann.{ext}", spacy.blank("en")))
    assert [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in back] == expected


CRASH = {"after": None, "seen": 0}


@Language.component("crash_after_n_docs")
def crash_after_n_docs(doc):
    CRASH["seen"] += 1
    if CRASH["after"] is not None and CRASH["seen"] > CRASH["after"]:
        raise KeyboardInterrupt("simulated kill")
    return doc


def test_resume_after_a_kill_gives_one_output_per_input(model, tmp_path):
    nlp = spacy.load(model)
    nlp.add_pipe("crash_after_n_docs")
    texts = [f"{t} ({i})" for i in range(10) for t in TEXTS]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    out = tmp_path / "ann.jsonl"
    CRASH.update(after=25, seen=0)
    with pytest.raises(KeyboardInterrupt):
        annotate(nlp, tmp_path / "in.txt", out, accept_threshold=0.5, batch_size=4, progress=False)
    parts = tmp_path / "ann.run"
    written = sum(1 for name in ("accepted", "review") for _ in open(parts / f"{name}.jsonl"))
    assert 0 < written < len(texts) and not out.exists()
    with open(parts / "review.jsonl", "a") as f:
        f.write('{"id": "in.txt:999", "text": "torn')  # killed mid-line
    with pytest.raises(FileExistsError, match="--resume"):
        annotate(nlp, tmp_path / "in.txt", out, accept_threshold=0.5, progress=False)
    CRASH.update(after=None)
    summary = annotate(nlp, tmp_path / "in.txt", out, accept_threshold=0.5, resume=True, progress=False)
    assert summary.resumed == written
    ids = [
        r["meta"]["autolabel_id"]
        for name in ("accepted", "review")
        for r in srsly.read_jsonl(tmp_path / f"ann.{name}.jsonl")
    ]
    assert sorted(ids) == sorted(f"in.txt:{i}" for i in range(1, len(texts) + 1))  # no losses, no duplicates


def test_csv_and_directory_inputs_and_the_cli(model, tmp_path):
    (tmp_path / "in.csv").write_text('id,body\n1,"' + TEXTS[0] + '"\n2,"' + TEXTS[2] + '"\n')
    runner = CliRunner()
    result = runner.invoke(
        build_app(),
        [
            "annotate",
            str(model),
            str(tmp_path / "in.csv"),
            "-o",
            str(tmp_path / "a.jsonl"),
            "--column",
            "body",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2 records: 2 annotated and 0 errors" in result.stdout
    assert [r["meta"]["id"] for r in srsly.read_jsonl(tmp_path / "a.jsonl")] == ["1", "2"]
    bad = runner.invoke(
        build_app(), ["annotate", str(model), str(tmp_path / "in.csv"), "-o", str(tmp_path / "b.jsonl")]
    )
    assert bad.exit_code == 1 and "no column 'text'" in bad.stderr
    (tmp_path / "docs").mkdir()
    for i, text in enumerate(TEXTS[:3]):
        (tmp_path / "docs" / f"{i}.txt").write_text(text)
    summary = annotate(model, tmp_path / "docs", tmp_path / "c.jsonl", n_process=2, batch_size=1, progress=False)
    assert summary.annotated == 3
    assert [r["meta"]["source"] for r in srsly.read_jsonl(tmp_path / "c.jsonl")] == ["0.txt", "1.txt", "2.txt"]


def test_annotate_export_correct_import_round_trip(model, tmp_path):
    """Label Studio: tasks out, reviewer fixes one span, export back in."""
    (tmp_path / "in.txt").write_text("\n".join(TEXTS) + "\n")
    annotate(model, tmp_path / "in.txt", tmp_path / "tasks.labelstudio.json", progress=False)
    tasks = srsly.read_json(tmp_path / "tasks.labelstudio.json")
    export = []
    for i, task in enumerate(tasks):
        result = task["predictions"][0]["result"]
        if i == 0:  # the reviewer drops the first span and mislabels... nothing else
            result = result[1:]
        export.append({"id": i, "data": task["data"], "annotations": [{"id": i, "result": result}]})
    export.append(
        {
            "id": 99,
            "data": {"text": "aspirin helps"},
            "annotations": [{"result": [{"type": "labels", "value": {"start": 0, "end": 4, "labels": ["DRUG"]}}]}],
        }
    )
    export.append(
        {
            "id": 100,
            "data": {"text": "aspirin helps"},
            "annotations": [{"result": [{"type": "labels", "value": {"start": 0, "end": 7, "labels": ["GENE"]}}]}],
        }
    )
    srsly.write_json(tmp_path / "export.json", export)
    result = CliRunner().invoke(
        build_app(),
        [
            "import",
            str(tmp_path / "export.json"),
            str(tmp_path / "train.spacy"),
            "--format",
            "labelstudio",
            "--model",
            str(model),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"{len(TEXTS) + 2} records: {len(TEXTS)} imported" in result.stdout and "2 errors" in result.stdout
    errors = list(srsly.read_jsonl(tmp_path / "train.import-errors.jsonl"))
    assert [e["record"].rsplit("#", 1)[1] for e in errors] == [str(len(TEXTS)), str(len(TEXTS) + 1)]
    assert "does not match token boundaries" in errors[0]["error"] and "--align" in errors[0]["error"]
    assert "unknown label 'GENE'" in errors[1]["error"]
    from spacy.tokens import DocBin

    docs = list(DocBin().from_disk(tmp_path / "train.spacy").get_docs(spacy.blank("en").vocab))
    predicted = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in spacy.load(model).pipe(TEXTS)]
    assert [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs] == [predicted[0][1:]] + predicted[1:]
    fixed = CliRunner().invoke(
        build_app(),
        [
            "import",
            str(tmp_path / "export.json"),
            str(tmp_path / "t2.spacy"),
            "--format",
            "labelstudio",
            "--align",
            "expand",
        ],
    )
    assert f"{len(TEXTS) + 2} imported" in fixed.stdout  # no label set given, span snapped to 'aspirin'


def test_evaluate_reports_labels_calibration_and_routing(model, tmp_path):
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    DocBin(docs=[eg.reference for eg in make_examples(nlp, n=40, seed=3)]).to_disk(tmp_path / "gold.spacy")
    result = CliRunner().invoke(
        build_app(),
        ["evaluate", str(model), str(tmp_path / "gold.spacy"), "-o", str(tmp_path / "r.json"), "--min-accepted", "10"],
    )
    assert result.exit_code == 0, result.output
    whole = srsly.read_json(tmp_path / "r.json")
    report = whole["entities"]
    assert set(report["per_label"]) == {"DRUG", "DISEASE"} and report["ents_f"] > 0.9
    assert sum(r["count"] for r in report["reliability"]) > 40
    coverage = [r["coverage"] for r in report["routing"]]
    assert coverage == sorted(coverage, reverse=True)
    assert report["recommended"]["accuracy"] >= 0.99
    assert "recommended --accept-threshold" in result.stdout

    # annotate takes the threshold from that report (the project's annotate step)
    (tmp_path / "in.txt").write_text("\n".join(TEXTS) + "\n")
    out = tmp_path / "routed.jsonl"
    routed = CliRunner().invoke(
        build_app(),
        [
            "annotate",
            str(model),
            str(tmp_path / "in.txt"),
            "-o",
            str(out),
            "--accept-threshold-from",
            str(tmp_path / "r.json"),
        ],
    )
    assert routed.exit_code == 0, routed.output
    threshold = report["recommended"]["threshold"]
    assert f"threshold {threshold:.6f}" in routed.stdout
    summary = srsly.read_json(tmp_path / "routed.summary.json")
    assert summary["accept_threshold"] == pytest.approx(threshold) and summary["accepted"] + summary["review"] == len(
        TEXTS
    )
    assert all(r["score"] >= threshold for r in srsly.read_jsonl(tmp_path / "routed.accepted.jsonl"))
    assert all(r["score"] < threshold for r in srsly.read_jsonl(tmp_path / "routed.review.jsonl"))

    # a report where no threshold reached the target: every doc goes to review,
    # those whose probability is 1.0 in float32 too
    srsly.write_json(tmp_path / "none.json", dict(whole, entities=dict(report, recommended=None)))
    strict = CliRunner().invoke(
        build_app(),
        [
            "annotate",
            str(model),
            str(tmp_path / "in.txt"),
            "-o",
            str(tmp_path / "s.jsonl"),
            "--accept-threshold-from",
            str(tmp_path / "none.json"),
        ],
    )
    assert strict.exit_code == 0 and "every doc goes to review" in strict.stdout
    assert srsly.read_json(tmp_path / "s.summary.json")["accepted"] == 0
    assert len(list(srsly.read_jsonl(tmp_path / "s.review.jsonl"))) == len(TEXTS)
    # not a report, or both options: a clear error
    bad = CliRunner().invoke(
        build_app(),
        [
            "annotate",
            str(model),
            str(tmp_path / "in.txt"),
            "-o",
            str(tmp_path / "b.jsonl"),
            "--accept-threshold-from",
            str(tmp_path / "in.txt"),
        ],
    )
    assert bad.exit_code == 1 and "not a report of `autolabel evaluate --output`" in bad.output
    both = CliRunner().invoke(
        build_app(),
        [
            "annotate",
            str(model),
            str(tmp_path / "in.txt"),
            "-o",
            str(tmp_path / "b.jsonl"),
            "--accept-threshold",
            "0.5",
            "--accept-threshold-from",
            str(tmp_path / "r.json"),
        ],
    )
    assert both.exit_code == 2 and "not both" in both.output  # a usage error


@pytest.mark.slow
def test_the_vocab_does_not_grow_with_the_input(model, tmp_path):
    """Memory stays flat: every token string of the input is new, and none
    of them stays in the pipeline's vocab after the run (spaCy memory zones)."""
    nlp = spacy.load(model)
    (tmp_path / "in.txt").write_text("".join(f"zq{i}x took aspirin for migraine{i} .\n" for i in range(3000)))
    before = len(nlp.vocab.strings)
    summary = annotate(nlp, tmp_path / "in.txt", tmp_path / "out.jsonl", accept_threshold=0.5, progress=False)
    assert summary.inputs == 3000 and summary.errors == 0
    # (spaCy's lexeme counter still counts the freed transient lexemes, so
    # the string store is what tells)
    assert len(nlp.vocab.strings) == before
    texts = [r["text"] for name in ("accepted", "review") for r in srsly.read_jsonl(tmp_path / f"out.{name}.jsonl")]
    assert sorted(texts) == sorted(f"zq{i}x took aspirin for migraine{i} ." for i in range(3000))


@pytest.mark.parametrize("threshold", [None, 0.5])
def test_jsonl_written_from_records_equals_jsonl_written_from_docs(model, tmp_path, threshold, monkeypatch):
    """The jsonl format's write_records fast path (no re-tokenizing) writes
    byte for byte what its doc writer writes."""
    import dataclasses

    from autolabel_spacy.hooks.manager import get_plugins

    src = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"text": t, "meta": {"n": i, "tags": ["a", "é"]}}, ensure_ascii=False)
        for i, t in enumerate(TEXTS * 3)
    ]
    lines.append(json.dumps({"text": "Ünïcode text with aspirin and “quotes” / slashes"}, ensure_ascii=False))
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fast = annotate(model, src, tmp_path / "fast" / "out.jsonl", accept_threshold=threshold, progress=False)
    plugins = get_plugins()
    real_format = plugins.format
    monkeypatch.setattr(plugins, "format", lambda name: dataclasses.replace(real_format(name), write_records=None))
    slow = annotate(model, src, tmp_path / "slow" / "out.jsonl", accept_threshold=threshold, progress=False)
    assert fast.inputs == slow.inputs == len(lines)
    outputs = [k for k in fast.outputs if k not in ("summary",)]
    assert set(outputs) >= ({"all"} if threshold is None else {"accepted", "review"})
    for key in outputs:
        a, b = Path(fast.outputs[key]).read_bytes(), Path(slow.outputs[key]).read_bytes()
        assert a == b, key
    annotated = ["all"] if threshold is None else ["accepted", "review"]
    spans = [s for key in annotated for r in srsly.read_jsonl(fast.outputs[key]) for s in r["spans"]]
    assert spans and all("score" in s for s in spans)
