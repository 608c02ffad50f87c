"""Hostile input, round two: pathological JSON (deep nesting, numbers past
the digit limit, wrong types at every level) is that record's error, never
the run's, in every reader and in the files the commands read whole; a
long record costs what its length costs."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_annotate import TEXTS, model  # noqa: F401  (the module's tiny trained pipeline)
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.workflow.annotate import annotate
from autolabel_spacy.workflow.importer import import_annotations

DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "9" * 5000
GOOD = {
    "jsonl": {"text": "aspirin eased gout .", "spans": [{"start": 0, "end": 7, "label": "DRUG"}]},
    "doccano": {"text": "aspirin eased gout .", "label": [[0, 7, "DRUG"]]},
    "labelstudio": {
        "data": {"text": "aspirin eased gout ."},
        "annotations": [
            {
                "result": [
                    {
                        "from_name": "label",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 0, "end": 7, "labels": ["DRUG"]},
                    }
                ]
            }
        ],
    },
}
EXTENSION = {"jsonl": ".jsonl", "doccano": ".doccano.jsonl", "labelstudio": ".labelstudio.json"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 50) | st.floats(allow_nan=False, width=16) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


def spoil(record, path: list, value):
    """``record`` with the value at ``path`` (keys and indexes) replaced."""
    if not path:
        return value
    record = json.loads(json.dumps(record))
    target = record
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return record


def paths(value, prefix=()):
    yield list(prefix)
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


def write_lines(path, fmt: str, records: list[str]) -> None:
    if fmt == "labelstudio":
        path.write_text("[\n" + ",\n".join(records) + "\n]\n")
    else:
        path.write_text("".join(r + "\n" for r in records))


@pytest.mark.parametrize("fmt", sorted(GOOD))
@pytest.mark.parametrize("poison", ["deep", "huge", "deep_inside", "huge_inside"])
def test_deep_nesting_and_huge_numbers_are_that_records_error_in_every_reader(tmp_path, fmt, poison):
    good = json.dumps(GOOD[fmt])
    bad = {
        "deep": DEEP,
        "huge": HUGE,
        "deep_inside": good[:-1] + ', "x": ' + DEEP + "}",
        "huge_inside": good[:-1] + ', "x": ' + HUGE + "}",
    }[poison]
    source = tmp_path / f"in{EXTENSION[fmt]}"
    write_lines(source, fmt, [good, bad, good])
    summary = import_annotations(source, tmp_path / "out.spacy", fmt)
    assert (summary.imported, summary.errors) == (2, 1)
    (error,) = [json.loads(line) for line in (tmp_path / "out.import-errors.jsonl").read_text().splitlines()]
    assert "nested too deeply" in error["error"] or "cannot be read" in error["error"] or "digit" in error["error"], (
        error
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), fmt=st.sampled_from(sorted(GOOD)))
def test_a_wrong_type_at_any_level_is_that_records_error_never_the_runs(tmp_path_factory, data, fmt):
    where = data.draw(st.sampled_from(list(paths(GOOD[fmt]))))
    spoiled = spoil(GOOD[fmt], where, data.draw(json_values))
    folder = tmp_path_factory.mktemp("spoiled")
    source = folder / f"in{EXTENSION[fmt]}"
    write_lines(source, fmt, [json.dumps(GOOD[fmt]), json.dumps(spoiled), json.dumps(GOOD[fmt])])
    summary = import_annotations(source, folder / "out.spacy", fmt)
    assert (
        summary.imported + summary.errors == 3 and summary.imported >= 2
    )  # every record accounted for, the good ones kept


@pytest.mark.parametrize("poison", [DEEP, HUGE, '{"text": ' + DEEP + "}", '{"text": "a", "n": ' + HUGE + "}"])
def test_annotate_sends_a_pathological_record_to_the_errors_file_and_tags_the_rest(model, tmp_path, poison):
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(json.dumps({"text": t}) + "\n" for t in TEXTS[:2])
        + poison
        + "\n"
        + json.dumps({"text": TEXTS[2]})
        + "\n"
    )
    summary = annotate(model, source, tmp_path / "out" / "run.jsonl", accept_threshold=0.5, progress=False)
    assert (summary.annotated, summary.errors) == (3, 1)


@pytest.mark.parametrize(
    "content",
    [
        DEEP,
        '{"target_accuracy": 0.99, "recommended": ' + HUGE + "}",
        '{"target_accuracy": 0.99, "ents_f": 0.5, "recommended": "0.9"}',
        '{"report": "autolabel evaluate", "version": 1, "docs": 3, "stamp": {}, "target_accuracy": 0.99, "entities": '
        '{"unit": "doc", "recommended": {"threshold": ' + HUGE + "}}}",
        '{"report": "autolabel evaluate", "version": 1, "docs": 3, "stamp": {}, "target_accuracy": 0.99, "entities": '
        "[]}",
    ],
)
def test_a_pathological_report_is_an_error_naming_the_file(model, tmp_path, content):
    (tmp_path / "r.json").write_text(content)
    (tmp_path / "in.txt").write_text(TEXTS[0] + "\n")
    runner = CliRunner()
    for args in (
        [
            "annotate",
            str(model),
            str(tmp_path / "in.txt"),
            "-o",
            str(tmp_path / "o.jsonl"),
            "--accept-threshold-from",
            str(tmp_path / "r.json"),
        ],
        ["report", str(tmp_path / "r.json"), "-o", str(tmp_path / "r.html")],
    ):
        result = runner.invoke(build_app(), args)
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert result.exit_code == 1 and len(errors) == 1 and str(tmp_path / "r.json") in errors[0], (
            args[0],
            result.output,
        )


def test_a_doccano_id_that_is_a_list_is_that_records_error(tmp_path):
    good = {
        "text": "aspirin eased gout .",
        "entities": [
            {"id": 1, "start_offset": 0, "end_offset": 7, "label": "DRUG"},
            {"id": 2, "start_offset": 14, "end_offset": 18, "label": "DISEASE"},
        ],
        "relations": [{"id": 1, "from_id": 1, "to_id": 2, "type": "treats"}],
    }
    bad_entity = json.loads(json.dumps(good))
    bad_entity["entities"][0]["id"] = [1]
    bad_relation = json.loads(json.dumps(good))
    bad_relation["relations"][0]["from_id"] = [1]
    (tmp_path / "in.doccano.jsonl").write_text("".join(json.dumps(r) + "\n" for r in (good, bad_entity, bad_relation)))
    summary = import_annotations(tmp_path / "in.doccano.jsonl", tmp_path / "out.spacy", "doccano")
    assert (summary.imported, summary.errors) == (1, 2)


def test_a_label_studio_task_whose_meta_is_a_string_or_a_list_is_read(tmp_path):
    tasks = [
        {**GOOD["labelstudio"], "data": {"text": "aspirin eased gout .", "meta": meta}}
        for meta in ("from the ward", [1, 2])
    ]
    (tmp_path / "in.labelstudio.json").write_text(json.dumps(tasks))
    summary = import_annotations(tmp_path / "in.labelstudio.json", tmp_path / "out.spacy", "labelstudio")
    assert (summary.imported, summary.errors) == (2, 0)
    docs = list(spacy.tokens.DocBin().from_disk(tmp_path / "out.spacy").get_docs(spacy.blank("en").vocab))
    assert json.loads(json.dumps([d.user_data["meta"] for d in docs])) == [{"meta": "from the ward"}, {"meta": [1, 2]}]


@pytest.mark.parametrize(
    "command", ["annotate", "annotate-errors", "import", "import-errors", "convert", "select", "report"]
)
def test_an_output_over_an_input_or_another_output_is_refused_before_anything_is_written(model, tmp_path, command):
    (tmp_path / "raw.txt").write_text("\n".join(TEXTS) + "\n")
    (tmp_path / "m.errors.jsonl").write_text(json.dumps({"text": TEXTS[0]}) + "\n")
    (tmp_path / "in.jsonl").write_text(json.dumps(GOOD["jsonl"]) + "\n")
    (tmp_path / "out.import-errors.jsonl").write_text("")  # an old errors file, named as an input below
    (tmp_path / "r.json").write_text("{}")
    args = {
        "annotate": ["annotate", model, tmp_path / "raw.txt", "-o", tmp_path / "raw.txt"],
        "annotate-errors": [
            "annotate",
            model,
            tmp_path / "m.errors.jsonl",
            "-o",
            tmp_path / "m.jsonl",
            "--accept-threshold",
            "0.5",
        ],
        "import": ["import", tmp_path / "in.jsonl", tmp_path / "in.jsonl"],
        "import-errors": ["import", tmp_path / "out.import-errors.jsonl", tmp_path / "out.jsonl", "--format", "jsonl"],
        "convert": ["convert", tmp_path / "in.jsonl", tmp_path / "in.jsonl"],
        "select": ["select", model, tmp_path / "raw.txt", "-n", "1", "-o", tmp_path / "raw.txt"],
        "report": ["report", tmp_path / "r.json", "-o", tmp_path / "r.json"],
    }[command]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    result = CliRunner().invoke(build_app(), [str(a) for a in args])
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert (
        result.exit_code in (1, 2)
        and len(errors) == 1
        and ("overwrite the input" in errors[0] or "the same file" in errors[0])
    ), result.output
    assert {
        p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()
    } == before  # nothing written, nothing replaced


def test_resume_after_the_input_changed_in_place_is_refused(model, tmp_path):
    import shutil

    from autolabel_spacy.workflow.annotate import output_paths

    source = tmp_path / "in.txt"
    source.write_text("\n".join(TEXTS) + "\n")
    out = tmp_path / "out" / "run.jsonl"
    annotate(model, source, out, accept_threshold=0.5, progress=False)
    parts = output_paths(out, True)["run"]
    # an unfinished run: the run folder of the same settings, as a kill leaves it
    shutil.rmtree(tmp_path / "out")
    annotate_args = dict(accept_threshold=0.5, progress=False)
    parts.mkdir(parents=True)
    from autolabel_spacy.files import fingerprint
    from autolabel_spacy.workflow.annotate import _model_id  # the settings annotate records, as a killed run left them

    settings = {
        "model": _model_id(model),
        "input": str(source.resolve()),
        "input_content": fingerprint(source),
        "column": "text",
        "max_chars": 1_000_000,
        "accept_threshold": 0.5,
        "rank_by": "sentence",
        "relation_threshold": None,
        "category_threshold": None,
    }
    (parts / "run.json").write_text(json.dumps(settings) + "\n")
    source.write_text("a line inserted at the top .\n" + "\n".join(TEXTS) + "\n")  # changed in place, same path
    with pytest.raises(ValueError, match="INPUT changed since the unfinished run began"):
        annotate(model, source, out, resume=True, **annotate_args)
    source.write_text("\n".join(TEXTS) + "\n")  # the same content again: resumed
    summary = annotate(model, source, out, resume=True, **annotate_args)
    assert summary.annotated == len(TEXTS)


def test_a_csv_quote_that_never_closes_is_the_csv_error_of_its_line(model, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(
        'id,text\n0,"a quoted field\nover two lines ."\n1,"Aspirin helps .\n2,warfarin is used .\n3,insulin .\n'
    )
    summary = annotate(model, source, tmp_path / "out" / "run.jsonl", accept_threshold=0.5, progress=False)
    assert (summary.annotated, summary.errors) == (
        1,
        1,
    )  # the closed multi-line field is a record; the open one is the error
    (error,) = [json.loads(line) for line in (tmp_path / "out" / "run.errors.jsonl").read_text().splitlines()]
    assert error["id"].endswith("in.csv:4") and "never closed" in error["error"], error


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.dictionaries(st.sampled_from(["id", "source_url", "batch", "n", "meta"]), json_values, max_size=4),
    inner=st.one_of(
        st.none(), st.dictionaries(st.sampled_from(["batch", "id", "note"]), json_values, max_size=3), json_values
    ),
)
def test_every_field_of_an_input_record_comes_back_out(fields, inner):
    """Property: the output's metadata holds every input field's value,
    whatever the record puts at the top level and in its ``meta``."""
    from autolabel_spacy.workflow.inputs import record_meta

    record = {"text": "aspirin .", **fields}
    if inner is not None:
        record["meta"] = inner
    meta = record_meta(record, "text")
    flat = {k: v for k, v in record.items() if k not in ("text", "meta")}
    for k, v in flat.items():
        assert meta[k] == v
    if "meta" in record:
        if isinstance(record["meta"], dict) and "meta" not in meta:
            assert all(meta[k] == v for k, v in record["meta"].items())
        else:
            assert meta["meta"] == record["meta"]


def test_annotate_keeps_every_field_of_a_jsonl_record(model, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"text": TEXTS[0], "id": 77, "source_url": "https://example.org/77", "meta": {"batch": 3}}) + "\n"
    )
    annotate(model, source, tmp_path / "out" / "run.jsonl", progress=False)
    (record,) = [json.loads(line) for line in (tmp_path / "out" / "run.jsonl").read_text().splitlines()]
    assert {k: record["meta"][k] for k in ("id", "source_url", "batch")} == {
        "id": 77,
        "source_url": "https://example.org/77",
        "batch": 3,
    }


def test_a_text_with_a_docstart_token_is_refused_by_the_conll_writer_with_the_reason(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"text": "-DOCSTART- aspirin eased gout .", "spans": [{"start": 11, "end": 18, "label": "DRUG"}]})
        + "\n"
    )
    result = CliRunner().invoke(build_app(), ["convert", str(source), str(tmp_path / "out.conll")])
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert (
        result.exit_code == 1
        and len(errors) == 1
        and "-DOCSTART-" in errors[0]
        and "cannot be written as CoNLL" in errors[0]
    ), result.output
    assert not (tmp_path / "out.conll").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["annotate", "MODEL", "IN", "-o", "OUT", "--max-chars", "99999999999999999999"],
        ["annotate", "MODEL", "IN", "-o", "OUT", "--max-chars", str(2**63 - 1)],
        ["corpus", "IN", "OUT", "--split", "nan,0.5,0.5"],
        ["corpus", "IN", "OUT", "--seed", "-1"],
        ["select", "MODEL", "IN", "-n", "1", "-o", "OUT", "--seed", "-5"],
    ],
)
def test_out_of_range_options_are_usage_errors(model, tmp_path, args):
    (tmp_path / "in.csv").write_text("text,label\naspirin .,a\n")
    names = {"MODEL": str(model), "IN": str(tmp_path / "in.csv"), "OUT": str(tmp_path / "out.jsonl")}
    result = CliRunner().invoke(build_app(), [names.get(a, a) for a in args])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("align", ["expand", "contract"])
def test_a_snapped_pubtator_mention_keeps_its_concept_id_and_relations(tmp_path, align):
    from autolabel_spacy.relations import get_relations

    text = "ketamine causes delirium"
    mention = (0, 7, "ketamin") if align == "expand" else (0, 9, "ketamine ")
    source = tmp_path / "in.pubtator"
    source.write_text(
        f"1|t|{text}\n1|a|In rats .\n1\t{mention[0]}\t{mention[1]}\t{mention[2]}\tChemical\tD007649\n"
        "1\t16\t24\tdelirium\tDisease\tD003693\n1\tCID\tD007649\tD003693\n\n"
    )
    summary = import_annotations(source, tmp_path / "out.spacy", "pubtator", align=align)
    assert (summary.imported, summary.errors) == (1, 0)
    (doc,) = spacy.tokens.DocBin().from_disk(tmp_path / "out.spacy").get_docs(spacy.blank("en").vocab)
    assert [(e.text, e.kb_id_) for e in doc.ents] == [("ketamine", "D007649"), ("delirium", "D003693")]
    assert [(r.head, r.child, r.label) for r in get_relations(doc)] == [("D007649", "D003693", "CID")]


def test_a_resumed_run_removes_the_temporary_file_a_kill_during_the_final_write_left(model, tmp_path):
    import subprocess
    import sys

    source = tmp_path / "in.txt"
    source.write_text("\n".join(TEXTS) + "\n")
    out = tmp_path / "out" / "run.jsonl"
    out.parent.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    left = out.parent / f".tmp-{dead}-run.review.jsonl"  # what atomic_path of a process killed mid-write leaves
    left.write_text("half a file")
    annotate(model, source, out, accept_threshold=0.5, progress=False)
    assert not left.exists() and (out.parent / "run.review.jsonl").exists()


@pytest.mark.parametrize("command", ["evaluate", "convert", "import"])
def test_a_spacy_file_that_is_no_docbin_is_an_error_naming_the_file(model, tmp_path, command):
    bad = tmp_path / "bad.spacy"
    bad.write_bytes(b"\x80\x81 not a DocBin")
    args = {
        "evaluate": ["evaluate", model, bad],
        "convert": ["convert", bad, tmp_path / "out.jsonl"],
        "import": ["import", bad, tmp_path / "out.jsonl", "--format", "spacy"],
    }[command]
    result = CliRunner().invoke(build_app(), [str(a) for a in args])
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.exit_code == 1 and len(errors) == 1 and f"{bad}: not a spaCy DocBin" in errors[0], result.output


def test_audit_of_a_corpus_without_entities_is_an_error_naming_the_file(tmp_path):
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    DocBin(docs=[nlp(t) for t in TEXTS]).to_disk(tmp_path / "plain.spacy")
    result = CliRunner().invoke(
        build_app(), ["audit", str(tmp_path / "plain.spacy"), "-o", str(tmp_path / "issues.jsonl")]
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert (
        result.exit_code == 1
        and len(errors) == 1
        and "nothing to audit" in errors[0]
        and str(tmp_path / "plain.spacy") in errors[0]
    ), result.output
    assert not (tmp_path / "issues.jsonl").exists()


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal is Linux's")
def test_n_process_workers_die_when_the_run_is_killed(model, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("".join(TEXTS[i % len(TEXTS)] + "\n" for i in range(50_000)))
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autolabel_spacy",
            "annotate",
            str(model),
            str(source),
            "-o",
            str(tmp_path / "o.jsonl"),
            "--n-process",
            "2",
            "--batch-size",
            "1",
            "--no-progress",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children_file = f"/proc/{run.pid}/task/{run.pid}/children"
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.2)
        with open(children_file) as f:
            workers = [int(p) for p in f.read().split()]
    assert len(workers) >= 2, "spaCy's workers never started"
    time.sleep(1)  # the workers are tagging
    run.kill()
    run.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.2)
    left = [p for p in workers if _alive(p)]
    for pid in left:  # the test leaves no process behind, even when it fails
        os.kill(pid, signal.SIGKILL)
    assert not left, "a worker outlived its killed parent"
