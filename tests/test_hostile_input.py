"""A hostile new user: one regression test per failure class of the loop
(records lost or corrupted, one record aborting a run, tracebacks,
smaller traps). Every command answers with exit code 0, or one ``error:``
line and exit code 1 (the input) or 2 (the usage), and loses no record."""

import json
from pathlib import Path

import pytest
import spacy
import srsly
from test_annotate import TEXTS, model  # noqa: F401  (the module's tiny trained pipeline)
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.format_io import read_docs, write_docs
from autolabel_spacy.workflow.annotate import annotate, output_paths
from autolabel_spacy.workflow.importer import import_annotations
from autolabel_spacy.workflow.inputs import Inputs


def run(*args):
    result = CliRunner().invoke(build_app(), [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def one_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".run") or p.name.startswith(".tmp-"))


@pytest.fixture
def texts_file(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("\n".join(TEXTS) + "\n")
    return path


# -- records lost or corrupted --------------------------------------------------------------------


@pytest.mark.parametrize(
    "option",
    [
        ["--batch-size", "0"],
        ["--batch-size", "-3"],
        ["--n-process", "0"],
        ["--max-chars", "0"],
        ["--num-workers", "0"],
        ["--shard-size", "0"],
        ["--accept-threshold", "nan"],
        ["--accept-threshold", "1.5"],
        ["--engine", "spark"],
    ],
)
def test_annotate_refuses_bad_numbers_up_front(model, texts_file, tmp_path, option):
    code, _, err = run("annotate", model, texts_file, "-o", tmp_path / "out.jsonl", *option)
    assert code == 2 and option[0] in one_error(err)
    assert leftovers(tmp_path) == [] and not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["select", "M", "P", "-o", "x.jsonl", "-n", "-5"],
        ["select", "M", "P", "-o", "x.jsonl", "--diversity", "1"],
        ["evaluate", "M", "D", "--target-accuracy", "5"],
        ["evaluate", "M", "D", "--target-accuracy", "0"],
        ["convert", "a.conll", "b.jsonl", "--limit", "-1"],
        ["convert", "a.conll", "b.jsonl", "--n-sents", "0"],
        ["audit", "d.spacy", "-o", "x.jsonl", "-k", "1"],
        ["bootstrap", "r.txt", "-o", "out", "--epochs", "0"],
        ["corpus", "a", "b", "--dev-fraction", "1"],
        ["vocab", "build", "a", "b", "--min-precision", "2"],
        ["import", "a.json", "b.spacy", "--align", "sideways"],
    ],
)
def test_every_numeric_or_choice_option_is_checked(args):
    code, _, err = run(*args)
    assert code == 2, err
    one_error(err)


def test_import_reads_by_content_not_only_by_extension(tmp_path):
    prodigy = tmp_path / "x.jsonl"
    srsly.write_jsonl(
        prodigy,
        [
            {"text": "aspirin helps", "spans": [{"start": 0, "end": 7, "label": "Chemical"}], "answer": "accept"},
            {"text": "aspirin hurts", "spans": [{"start": 0, "end": 7, "label": "Chemical"}], "answer": "reject"},
            {"text": "skip me", "spans": [], "answer": "ignore"},
        ],
    )
    summary = import_annotations(prodigy, tmp_path / "p.spacy")
    assert (summary.imported, summary.errors) == (1, 2) and "read as prodigy" in summary.detected
    doccano = tmp_path / "d.jsonl"
    srsly.write_jsonl(doccano, [{"text": "aspirin helps", "label": [[0, 7, "Chemical"]]}] * 3)
    summary = import_annotations(doccano, tmp_path / "d.spacy")
    assert (summary.imported, summary.entities) == (3, 3) and "doccano" in summary.detected
    # named explicitly, a mismatching file is refused record by record, with the reason
    summary = import_annotations(prodigy, tmp_path / "q.spacy", input_format="jsonl")
    assert summary.imported == 0
    reasons = [e["error"] for e in srsly.read_jsonl(summary.errors_path)]
    assert all("prodigy record" in r and "--format prodigy" in r for r in reasons), reasons
    ls = tmp_path / "ls.jsonl"
    srsly.write_jsonl(ls, [{"data": {"text": "aspirin"}, "annotations": [{"result": []}]}])
    summary = import_annotations(ls, tmp_path / "ls.spacy", input_format="doccano")
    assert summary.imported == 0 and "labelstudio record" in next(iter(srsly.read_jsonl(summary.errors_path)))["error"]


def test_format_fields_win_over_metadata(tmp_path):
    nlp = spacy.blank("en")
    doc = nlp.make_doc("aspirin helps")
    doc.ents = [doc.char_span(0, 7, "Chemical")]
    doc.user_data["meta"] = {"label": "positive", "text": "other", "meta.x": 1, "source": "s"}
    for ext in (".doccano.jsonl", ".jsonl", ".prodigy.jsonl", ".labelstudio.json"):
        write_docs([doc], tmp_path / f"out{ext}")
        back = list(read_docs(tmp_path / f"out{ext}", nlp))
        assert [(d.text, [(e.text, e.label_) for e in d.ents]) for d in back] == [
            ("aspirin helps", [("aspirin", "Chemical")])
        ]
        assert {k: v for k, v in back[0].user_data["meta"].items() if k != "labelstudio_id"} == doc.user_data["meta"], (
            ext
        )
    task = next(iter(srsly.read_jsonl(tmp_path / "out.doccano.jsonl")))
    assert (
        task["text"] == "aspirin helps" and task["label"] == [[0, 7, "Chemical"]] and task["meta.label"] == "positive"
    )


def test_resume_with_changed_settings_is_refused(model, texts_file, tmp_path):
    out = tmp_path / "ann.jsonl"
    paths = output_paths(out, True)
    paths["run"].mkdir()
    # an unfinished run at threshold 0.5 ...
    (paths["run"] / "run.json").write_text(
        json.dumps(
            {
                "model": str(Path(model).resolve()),
                "input": str(texts_file.resolve()),
                "column": "text",
                "max_chars": 1000000,
                "accept_threshold": 0.5,
            }
        )
    )
    code, _, err = run("annotate", model, texts_file, "-o", out, "--accept-threshold", "0.9", "--resume")
    assert code == 1 and "--accept-threshold" in one_error(err) and "0.5" in err
    # ... which routed by probability (its run.json predates --rank-by)
    code, _, err = run(
        "annotate", model, texts_file, "-o", out, "--accept-threshold", "0.5", "--rank-by", "token", "--resume"
    )
    assert code == 1 and "--rank-by 'token'" in one_error(err)
    code, _, err = run(
        "annotate", model, texts_file, "-o", out, "--accept-threshold", "0.5", "--resume", "--no-progress"
    )
    assert code == 0, err


def test_side_files_keep_the_whole_output_name(model, texts_file, tmp_path):
    for name in ("run.v1.jsonl", "run.v2.jsonl"):
        annotate(model, texts_file, tmp_path / name, accept_threshold=0.5, progress=False)
    assert {"run.v1.errors.jsonl", "run.v2.errors.jsonl", "run.v1.summary.json", "run.v2.accepted.jsonl"} <= {
        p.name for p in tmp_path.iterdir()
    }
    paths = output_paths(tmp_path / "batch_2024.01.labelstudio.json", True, (".labelstudio.json", ".ls.json"))
    assert paths["accepted"].name == "batch_2024.01.accepted.labelstudio.json"
    assert paths["errors"].name == "batch_2024.01.errors.jsonl"


def test_import_writes_the_format_of_its_output_and_strips_labels(tmp_path):
    src = tmp_path / "in.jsonl"
    srsly.write_jsonl(
        src,
        [
            {
                "text": "aspirin and gout",
                "spans": [{"start": 0, "end": 7, "label": "Chemical"}, {"start": 12, "end": 16, "label": "Disease"}],
            }
        ],
    )
    code, out, err = run("import", src, tmp_path / "out.jsonl", "--labels", "Chemical, Disease")
    assert code == 0, err
    assert [len(r["spans"]) for r in srsly.read_jsonl(tmp_path / "out.jsonl")] == [2]  # JSON lines, not DocBin bytes
    assert (tmp_path / "out.import-errors.jsonl").read_text() == ""
    code, _, err = run("import", src, tmp_path / "o.spacy", "--labels", " , ")
    assert code == 2 and "--labels" in one_error(err)


# -- one record, or one setting, must not abort the run ----------------------------------------


def test_one_record_cannot_stop_a_run(model, tmp_path):
    nlp = spacy.load(model)
    nlp.max_length = 50
    lines = [json.dumps({"text": t}) for t in TEXTS]
    lines.append(json.dumps({"text": "aspirin " * 20}))  # longer than the pipeline's max_length, within --max-chars
    lines.append('{"text": "lone \\ud800 surrogate"}')  # no UTF-8 output can hold it
    lines.append('{"text": "fine", "meta": {"k": "\\udfff"}}')
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    summary = annotate(nlp, tmp_path / "in.jsonl", tmp_path / "out.jsonl", progress=False)
    assert summary.inputs == len(lines) and summary.annotated == len(TEXTS) + 1 and summary.errors == 2
    errors = {e["id"]: e["error"] for e in srsly.read_jsonl(tmp_path / "out.errors.jsonl")}
    assert "lone surrogate" in errors["in.jsonl:8"] and "metadata" in errors["in.jsonl:9"]


def test_a_failing_component_sends_its_record_to_the_errors_file(model, texts_file, tmp_path):
    from spacy.language import Language

    @Language.component("fails_on_warfarin")
    def fails_on_warfarin(doc):
        if "warfarin" in doc.text:
            raise RuntimeError("cannot handle warfarin")
        return doc

    nlp = spacy.load(model)
    nlp.add_pipe("fails_on_warfarin")
    summary = annotate(nlp, texts_file, tmp_path / "out.jsonl", batch_size=2, progress=False)
    assert (summary.inputs, summary.annotated, summary.errors) == (len(TEXTS), len(TEXTS) - 1, 1)
    error = next(iter(srsly.read_jsonl(tmp_path / "out.errors.jsonl")))
    assert error["id"] == "in.txt:3" and "cannot handle warfarin" in error["error"]
    kept = [r["meta"]["autolabel_id"] for r in srsly.read_jsonl(tmp_path / "out.jsonl")]
    assert kept == [f"in.txt:{i}" for i in (1, 2, 4, 5, 6)]  # in input order, none lost, none twice


def test_conll_output_of_spans_ending_in_whitespace(tmp_path):
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "Disease", "pattern": [{"LOWER": "heart"}, {"IS_SPACE": True}]}])
    (tmp_path / "in.txt").write_text("bad heart  today\nno match\n")
    summary = annotate(nlp, tmp_path / "in.txt", tmp_path / "out.conll", progress=False)
    assert summary.annotated == 2
    assert (tmp_path / "out.conll").read_text().split("\n")[:3] == ["bad\tO", "heart\tB-Disease", "today\tO"]


@pytest.mark.parametrize(
    "setup, args, expected",
    [
        (lambda d: None, ["missing.txt"], "no such file"),
        (lambda d: (d / "in.csv").write_text("body\nx\n"), ["in.csv"], "no column 'text'"),
        (lambda d: (d / "in.md").write_text("x\n"), ["in.md"], "must be .txt"),
        (lambda d: (d / "empty").mkdir(), ["empty"], "no .txt files"),
        (lambda d: (d / "in.txt").write_text("x\n"), ["in.txt", "--format", "nope"], "unknown format"),
    ],
)
def test_a_failed_start_leaves_nothing_behind(model, tmp_path, setup, args, expected):
    work = tmp_path / "work"
    work.mkdir()
    setup(work)
    code, _, err = run("annotate", model, work / args[0], "-o", work / "out.jsonl", *args[1:])
    assert code == 1 and expected in one_error(err)
    assert leftovers(work) == []
    (work / "ok.txt").write_text("aspirin\n")
    code, _, err = run("annotate", model, work / "ok.txt", "-o", work / "out.jsonl", "--no-progress")
    assert code == 0, err  # the corrected rerun needs no --resume


def test_failed_import_and_audit_leave_no_temporary_files(tmp_path):
    (tmp_path / "bad.labelstudio.json").write_text('[{"data": ')
    code, _, err = run("import", tmp_path / "bad.labelstudio.json", tmp_path / "out.spacy")
    assert code == 1 and "invalid JSON" in one_error(err)
    assert leftovers(tmp_path) == [] and not (tmp_path / "out.spacy").exists()


# -- tracebacks where one line is due --------------------------------------------------------------


def test_tag_with_a_missing_or_non_pipeline_model(tmp_path):
    code, _, err = run("tag", tmp_path / "nope", "text")
    assert code == 1 and "no such pipeline" in one_error(err)
    (tmp_path / "folder").mkdir()
    code, _, err = run("tag", tmp_path / "folder", "text")
    assert code == 1 and "not a loadable spaCy pipeline" in one_error(err)


def test_pipelines_without_an_entity_component_are_refused(tmp_path, texts_file):
    spacy.blank("en").to_disk(tmp_path / "blank")
    for args in (
        ["tag", tmp_path / "blank", "text"],
        ["annotate", tmp_path / "blank", texts_file, "-o", tmp_path / "o.jsonl"],
    ):
        code, _, err = run(*args)
        assert code == 1 and "no component that sets entities" in one_error(err)


def test_outputs_that_cannot_be_written_are_refused_before_the_work(model, tmp_path, texts_file):
    (tmp_path / "a_file").write_text("")
    write_docs([spacy.blank("en").make_doc("x")], tmp_path / "gold.spacy")
    cases = [
        ["convert", tmp_path / "gold.spacy", tmp_path / "a_file" / "out.jsonl"],
        ["evaluate", model, tmp_path / "gold.spacy", "-o", tmp_path / "a_file" / "r.json"],
        ["audit", tmp_path / "gold.spacy", "-o", tmp_path / "a_file" / "issues.jsonl"],
        ["annotate", model, texts_file, "-o", tmp_path / "a_file" / "x.jsonl"],
        ["select", model, texts_file, "-o", tmp_path / "folder.jsonl"],
    ]
    (tmp_path / "folder.jsonl").mkdir()
    for args in cases:
        code, _, err = run(*args)
        assert code == 1 and ("not a folder" in one_error(err) or "is a folder" in err), (args, err)


@pytest.mark.parametrize(
    "content, expected",
    [
        ('[{"data": {"text": "a b"}, "annotations": null}]', "the task has no annotations"),
        ('[{"data": {"text": "a b"}, "annotations": ["oops"]}]', "'annotations' must be a list of objects"),
        ('[{"data": {"text": "a b"}, "annotations": [{"result": [{"value": "x"}]}]}]', "needs a 'value' object"),
        ('[{"data": {"text": "a b"}, "annotations": [{"result": "x"}]}]', "'result' must be a list of objects"),
        ('{"data": "text"}', "a Label Studio task needs a 'data' object"),
        ('{\n"data": {"text": "a"}\n}', "a JSON array of tasks"),
    ],
)
def test_malformed_label_studio_structures(tmp_path, content, expected):
    (tmp_path / "x.labelstudio.json").write_text(content)
    code, out, err = run("import", tmp_path / "x.labelstudio.json", tmp_path / "out.spacy", "--format", "labelstudio")
    if code == 0:
        assert expected in (tmp_path / "out.import-errors.jsonl").read_text()
    else:
        assert code == 1 and expected in one_error(err)


def test_doccano_label_that_is_not_a_list_and_unknown_lang(tmp_path):
    (tmp_path / "d.doccano.jsonl").write_text('{"text": "a b", "label": 5}\n{"text": "a b", "label": "positive"}\n')
    code, out, err = run("import", tmp_path / "d.doccano.jsonl", tmp_path / "out.spacy")
    assert code == 0 and "0 imported" in out
    reasons = [e["error"] for e in srsly.read_jsonl(tmp_path / "out.import-errors.jsonl")]
    assert all("'label' must be a list" in r for r in reasons) and len(reasons) == 2
    for args in (
        ["import", tmp_path / "d.doccano.jsonl", tmp_path / "o.spacy", "--lang", "klingon"],
        ["convert", tmp_path / "d.doccano.jsonl", tmp_path / "o.spacy", "--lang", "klingon"],
    ):
        code, _, err = run(*args)
        assert code == 1 and "unknown language 'klingon'" in one_error(err)


@pytest.mark.slow
def test_huge_csv_fields_are_read_or_reported(model, tmp_path):
    big = "aspirin " * 30_000  # 240,000 characters: over Python's default CSV field limit
    (tmp_path / "in.csv").write_text(f'text,id\n"{big}",1\nwarfarin helps,2\n')
    summary = annotate(model, tmp_path / "in.csv", tmp_path / "a.jsonl", progress=False)
    assert (summary.inputs, summary.annotated) == (2, 2)
    summary = annotate(model, tmp_path / "in.csv", tmp_path / "b.jsonl", max_chars=1000, progress=False)
    assert (summary.inputs, summary.annotated, summary.errors) == (2, 1, 1)
    assert "longer than --max-chars 1000" in next(iter(srsly.read_jsonl(tmp_path / "b.errors.jsonl")))["error"]


# -- smaller traps ---------------------------------------------------------------------------------


def test_folder_inputs_take_txt_in_any_case_and_name_what_they_skip(model, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("aspirin helps")
    (folder / "B.TXT").write_text("warfarin helps")
    (folder / "notes.md").write_text("# not a doc")
    inputs = Inputs(folder)
    assert (
        [p.name for p in inputs.files] == ["B.TXT", "a.txt"] and inputs.skipped == ["notes.md"] and inputs.count() == 2
    )
    code, out, err = run("annotate", model, folder, "-o", tmp_path / "out.jsonl", "--no-progress")
    assert code == 0 and "2 records" in out and "skipped 1 files that are not .txt: notes.md" in err


def test_lenient_convert_names_the_repaired_lines_and_trailing_tabs_are_fine(tmp_path):
    (tmp_path / "in.conll").write_text("a\tO\t\nb\tI-X\t\n\nc\tB-X \n")
    code, out, err = run("convert", tmp_path / "in.conll", tmp_path / "out.jsonl")
    assert code == 0 and "2 docs" in out, err
    assert "1 tag-sequence violations read leniently" in err and "in.conll:2: I-X does not continue" in err


def test_progress_totals_select_errors_help_and_option_names(model, tmp_path):
    (tmp_path / "pool.jsonl").write_text('{"text": "aspirin"}\n\n{"bad json\n{"text": "gout"}\n')
    assert Inputs(tmp_path / "pool.jsonl").count() == 3
    code, out, err = run("select", model, tmp_path / "pool.jsonl", "-n", "5", "-o", tmp_path / "next.jsonl")
    assert code == 0 and "(1 unreadable)" in out, err
    assert [e["id"] for e in srsly.read_jsonl(tmp_path / "next.errors.jsonl")] == ["pool.jsonl:3"]
    code, out, _ = run("annotate", "--help")
    assert "extra [ray]" in " ".join(out.split())
    code, _, err = run("convert", tmp_path / "pool.jsonl", tmp_path / "out.unknown")
    assert code == 1 and "--to" in one_error(err) and "--format" not in err
