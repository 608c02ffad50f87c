"""The core's annotation formats (registered through the autolabel_formats
hook): round trips, and errors that name the record."""

import json

import pytest
import spacy
import srsly
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.format_io import read_docs, write_docs
from autolabel_spacy.formats import format_for_path
from autolabel_spacy.formats.records import RecordError
from autolabel_spacy.hooks.manager import Plugins


def ents(docs):
    return [(d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents]) for d in docs]


@pytest.fixture
def docs():
    nlp = spacy.blank("en")
    out = []
    for text, spans in [
        ("Tamoxifen lowers breast cancer risk .", [(0, 9, "Chemical"), (17, 30, "Disease")]),
        ("No entities here .", []),
        ("Ataxia telangiectasia", [(0, 21, "Disease")]),
    ]:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(s, e, label=label) for s, e, label in spans]
        out.append(doc)
    return out


@pytest.mark.parametrize("name", ["jsonl", "spacy", "conll", "labelstudio", "prodigy", "doccano"])
def test_every_builtin_format_round_trips(tmp_path, docs, name):
    spec = Plugins(entry_points=False).formats()[name]  # what the autolabel_formats hook returned
    path = tmp_path / f"out{spec.extensions[0]}"
    write_docs(docs, path, name)
    assert format_for_path(path, {name: spec}) == name
    back = list(read_docs(path, spacy.blank("en"), name))
    assert ents(back) == ents(docs)


def test_jsonl_errors_name_the_line_and_span(tmp_path):
    nlp = spacy.blank("en")
    path = tmp_path / "bad.jsonl"
    srsly.write_jsonl(
        path,
        [{"text": "fine", "spans": []}, {"text": "Tamoxifen works", "spans": [{"start": 0, "end": 5, "label": "X"}]}],
    )
    with pytest.raises(RecordError, match=r"bad.jsonl:2: span 0 \[0:5\] 'Tamox' does not match token boundaries"):
        list(read_docs(path, nlp))
    srsly.write_jsonl(path, [{"txt": "no text key"}])
    with pytest.raises(RecordError, match="bad.jsonl:1: a record needs a 'text' string"):
        list(read_docs(path, nlp))
    srsly.write_jsonl(
        path, [{"text": "a b c", "spans": [{"start": 0, "end": 3, "label": "X"}, {"start": 2, "end": 5, "label": "Y"}]}]
    )
    with pytest.raises(RecordError, match="bad.jsonl:1: spans overlap"):
        list(read_docs(path, nlp))


def test_convert_cli_between_formats(tmp_path, docs):
    write_docs(docs, tmp_path / "in.jsonl")
    runner = CliRunner()
    result = runner.invoke(build_app(), ["convert", str(tmp_path / "in.jsonl"), str(tmp_path / "out.conll")])
    assert result.exit_code == 0, result.output
    assert "3 docs" in result.stdout and "3 entities" in result.stdout
    assert (tmp_path / "out.conll").read_text().splitlines()[:4] == [
        "Tamoxifen\tB-Chemical",
        "lowers\tO",
        "breast\tB-Disease",
        "cancer\tI-Disease",
    ]
    result = runner.invoke(build_app(), ["convert", str(tmp_path / "in.jsonl"), str(tmp_path / "out.unknown")])
    assert result.exit_code == 1 and "cannot tell the format" in result.stderr


def test_formats_cli_lists_builtins_and_labelers():
    result = CliRunner().invoke(build_app(), ["formats"])
    assert result.exit_code == 0
    for name in ("conll", "jsonl", "spacy", "vocab", "patterns"):
        assert f"  {name}\t" in result.stdout


def scored_doc(nlp):
    import numpy as np
    from spacy.tokens import SpanGroup

    doc = nlp.make_doc("Tamoxifen lowers breast cancer risk .")
    spans = [doc.char_span(0, 9, "Chemical"), doc.char_span(17, 30, "Disease")]
    doc.ents = spans
    group = SpanGroup(doc, name="crf_ner", spans=spans)
    group.attrs["scores"] = np.asarray([0.91, 0.42], dtype="float32")
    group.attrs["sequence_prob"] = 0.38
    doc.spans["crf_ner"] = group
    doc.user_data["meta"] = {"id": "pmid-1"}
    return doc


def test_label_studio_tasks_carry_predictions_with_scores(tmp_path):
    nlp = spacy.blank("en")
    write_docs([scored_doc(nlp)], tmp_path / "tasks.labelstudio.json")
    tasks = srsly.read_json(tmp_path / "tasks.labelstudio.json")
    prediction = tasks[0]["predictions"][0]
    assert tasks[0]["data"] == {"text": "Tamoxifen lowers breast cancer risk .", "meta": {"id": "pmid-1"}}
    assert prediction["score"] == pytest.approx(0.38)
    assert [(r["value"]["labels"], r["value"]["text"], round(r["score"], 2)) for r in prediction["result"]] == [
        (["Chemical"], "Tamoxifen", 0.91),
        (["Disease"], "breast cancer", 0.42),
    ]
    assert all(
        r["from_name"] == "label" and r["to_name"] == "text" and r["type"] == "labels" for r in prediction["result"]
    )


def test_label_studio_export_reads_the_latest_valid_annotation(tmp_path):
    from autolabel_spacy.formats.labelstudio import read_labelstudio_records

    def result(start, end, label):
        return {
            "type": "labels",
            "from_name": "label",
            "to_name": "text",
            "value": {"start": start, "end": end, "labels": [label]},
        }

    export = [
        {
            "id": 1,
            "data": {"text": "Tamoxifen lowers risk"},
            "annotations": [
                {"id": 10, "created_at": "2026-01-01", "result": [result(0, 9, "Disease")]},
                {"id": 11, "created_at": "2026-01-02", "result": [result(0, 9, "Chemical")]},
                {"id": 12, "created_at": "2026-01-03", "was_cancelled": True, "result": []},
            ],
        },
        {"id": 2, "data": {"text": "skipped"}, "annotations": [{"was_cancelled": True, "result": []}]},
        {"id": 3, "data": {"text": "Tamoxifen lowers risk"}, "annotations": [{"result": [result(0, 5, "Chemical")]}]},
        {"id": 4, "data": {"text": "Tamoxifen lowers risk"}, "annotations": [{"result": [result(0, 9, "Gene")]}]},
    ]
    srsly.write_json(tmp_path / "export.json", export)
    records = list(
        read_labelstudio_records(tmp_path / "export.json", spacy.blank("en"), labels=["Chemical", "Disease"])
    )
    assert [(e.text, e.label_) for e in records[0].doc.ents] == [("Tamoxifen", "Chemical")]
    assert records[0].doc.user_data["meta"] == {"labelstudio_id": 1}
    assert records[1].error == "every annotation of this task was cancelled"
    assert "does not match token boundaries" in records[2].error and records[2].where.endswith("export.json#2")
    assert "unknown label 'Gene'" in records[3].error
    expanded = list(read_labelstudio_records(tmp_path / "export.json", spacy.blank("en"), align="expand"))
    assert [e.text for e in expanded[2].doc.ents] == ["Tamoxifen"]
    contracted = list(read_labelstudio_records(tmp_path / "export.json", spacy.blank("en"), align="contract"))
    assert "does not match" in contracted[2].error  # nothing inside [0:5] is a whole token


def test_prodigy_and_doccano_records(tmp_path):
    from autolabel_spacy.formats.doccano import read_doccano_records
    from autolabel_spacy.formats.prodigy import read_prodigy_records

    nlp = spacy.blank("en")
    write_docs([scored_doc(nlp)], tmp_path / "out.prodigy.jsonl")
    task = list(srsly.read_jsonl(tmp_path / "out.prodigy.jsonl"))[0]
    assert task["spans"][1] == {
        "start": 17,
        "end": 30,
        "token_start": 2,
        "token_end": 3,
        "label": "Disease",
        "score": pytest.approx(0.42),
    }
    assert task["tokens"][0] == {"text": "Tamoxifen", "start": 0, "end": 9, "id": 0, "ws": True}
    (tmp_path / "answers.jsonl").write_bytes(
        b'{"text": "a b", "spans": [], "answer": "accept"}\n'
        b'{"text": "a b", "spans": [], "answer": "reject"}\n'
        b'{"text": "a b", "spans": [\n'
        b'\xff\xfe{"text": "bad bytes"}\n'
    )
    records = list(read_prodigy_records(tmp_path / "answers.jsonl", nlp))
    assert records[0].doc is not None
    assert records[1].error == "answer is 'reject'; only accepted examples are imported"
    assert records[2].error.startswith("invalid JSON") and records[2].where.endswith(":3")
    assert records[3].error.startswith("not valid UTF-8")
    (tmp_path / "d.jsonl").write_text(
        '{"text": "Tamoxifen works", "entities": [{"start_offset": 0, "end_offset": 9, "label": "Chemical"}], '
        '"source": "x"}\n'
        '{"text": "Tamoxifen works", "label": [[0, 9]]}\n'
    )
    records = list(read_doccano_records(tmp_path / "d.jsonl", nlp))
    assert [(e.text, e.label_) for e in records[0].doc.ents] == [("Tamoxifen", "Chemical")]
    assert records[0].doc.user_data["meta"] == {"source": "x"}
    assert "label 0 must be [start, end, label]" in records[1].error


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_a_json_line_holding_a_unicode_line_separator_is_one_record(tmp_path, separator):
    """JSON strings may hold U+2028, U+2029 and U+0085 as they are, and
    str.splitlines splits at them: a Label Studio JSON-lines file whose text
    holds one is still one task per line, read whole."""
    task = {"id": 7, "data": {"text": f"Aspirin helps{separator}migraine ."}, "annotations": [{"id": 1, "result": []}]}
    lines = [json.dumps(t, ensure_ascii=False) for t in (task, {**task, "id": 8})]
    (tmp_path / "tasks.json").write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs = list(read_docs(tmp_path / "tasks.json", spacy.blank("en"), "labelstudio"))
    assert [d.text for d in docs] == [task["data"]["text"]] * 2
