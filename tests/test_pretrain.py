"""``autolabel pretrain``: floret vectors from raw text, as spaCy loads them
(``init vectors --mode floret``): every word gets a vector, unseen ones too;
evaluation sentences are kept out; every record is counted, used or set
aside; a second run with the same inputs is up to date."""

import json

import numpy as np
import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.workflow.pretrain import VectorSettings, pretrain, sentence_key

DRUGS = ["aspirin", "warfarin", "heparin", "ibuprofen", "insulin", "lithium"]
ILLS = ["migraine", "tremor", "asthma", "nephritis", "anaemia", "colitis"]
SMALL = VectorSettings(dim=16, epochs=3, min_count=1, bucket=2000, threads=1)


def raw_lines(n=400):
    rng = np.random.default_rng(0)
    return [
        f"Patients given {rng.choice(DRUGS)} developed {rng.choice(ILLS)} . "
        f"The {rng.choice(ILLS)} resolved after {rng.choice(DRUGS)} ."
        for _ in range(n)
    ]


def test_the_vectors_load_in_spacy_in_floret_mode_and_cover_unseen_words(tmp_path):
    (tmp_path / "raw.txt").write_text("\n".join(raw_lines()) + "\n")
    summary = pretrain(tmp_path / "raw.txt", tmp_path / "assets", vectors=SMALL)
    assert (summary.records, summary.kept, summary.errors) == (400, 400, 0) and summary.sentences == 800
    nlp = spacy.load(tmp_path / "assets" / "vectors")
    assert nlp.vocab.vectors.mode == "floret" and nlp.vocab.vectors.shape == (2000, 16)
    seen, unseen = nlp("warfarin"), nlp("warfarinoid")
    assert seen[0].has_vector and unseen[0].has_vector and np.abs(unseen[0].vector).sum() > 0
    # a word shares subwords with its own kind: the unseen relative is closer to its stem than to an illness
    assert unseen[0].similarity(seen[0]) > unseen[0].similarity(nlp("asthma")[0])
    manifest = json.loads((tmp_path / "assets" / "manifest.json").read_text())
    assert manifest["counts"]["tokens"] == summary.tokens == 400 * 12 and manifest["vectors"]["dim"] == 16
    assert manifest["versions"]["floret"] == "0.10.5"


def test_evaluation_sentences_are_kept_out_whatever_their_spacing(tmp_path):
    lines = raw_lines(100)
    lines[3] = "Aspirin  caused tremor . It went away ."  # the same sentence as below, spaced otherwise
    (tmp_path / "raw.txt").write_text("\n".join(lines) + "\n")
    nlp = spacy.blank("en")
    DocBin(docs=[nlp("Aspirin caused tremor .")]).to_disk(tmp_path / "test.spacy")
    summary = pretrain(tmp_path / "raw.txt", tmp_path / "assets", exclude=[tmp_path / "test.spacy"], vectors=SMALL)
    text = (tmp_path / "assets" / "tokens.txt").read_text().splitlines()
    assert summary.excluded_sentences == 1 and len(text) == 100
    assert text[3] == "It went away ." and not any(
        sentence_key("Aspirin caused tremor .") in sentence_key(t) for t in text
    )


def test_bad_records_are_counted_and_set_aside_and_the_counts_add_up(tmp_path):
    raw = tmp_path / "raw.txt"
    good = raw_lines(50)
    raw.write_bytes(
        ("\n".join(good[:20]) + "\n").encode()
        + b"\xff\xfe broken\n\n"
        + ("x" * 5000).encode()
        + b"\n"
        + ("\n".join(good[20:]) + "\n").encode()
    )
    summary = pretrain(raw, tmp_path / "assets", max_chars=1000, vectors=SMALL)
    errors = [json.loads(line) for line in (tmp_path / "assets" / "errors.jsonl").read_text().splitlines()]
    assert (summary.records, summary.kept, summary.errors) == (
        53,
        50,
        3,
    ) and summary.kept + summary.errors == summary.records
    assert [e["id"] for e in errors] == ["raw.txt:21", "raw.txt:22", "raw.txt:23"]
    assert (
        "not valid UTF-8" in errors[0]["error"]
        and errors[1]["error"] == "empty text"
        and "exceeds --max-chars 1000" in errors[2]["error"]
    )


def test_a_second_run_with_the_same_inputs_is_up_to_date_and_a_changed_one_is_not(tmp_path):
    (tmp_path / "raw.txt").write_text("\n".join(raw_lines(100)) + "\n")
    runner, app = CliRunner(), build_app()
    args = [
        "pretrain",
        str(tmp_path / "raw.txt"),
        "-o",
        str(tmp_path / "a"),
        "--dim",
        "8",
        "--bucket",
        "500",
        "--min-count",
        "1",
        "--threads",
        "1",
    ]
    first = runner.invoke(app, args)
    assert first.exit_code == 0 and "100 records: 100 used" in first.output, first.output
    stamp = (tmp_path / "a" / "vectors" / "vocab" / "vectors").stat().st_mtime_ns
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "up to date" in again.output
    assert (tmp_path / "a" / "vectors" / "vocab" / "vectors").stat().st_mtime_ns == stamp
    changed = runner.invoke(app, [*args[:-2], "--threads", "1", "--epochs", "2"])
    assert changed.exit_code == 0 and "up to date" not in changed.output
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["vectors"]["epochs"] == 2


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "no text to pretrain on (0 of 0 records unusable)"),
        (b"\n\n", "no text to pretrain on (2 of 2 records unusable)"),
    ],
)
def test_a_raw_file_with_no_text_is_one_error(tmp_path, content, problem):
    (tmp_path / "raw.txt").write_bytes(content)
    result = CliRunner().invoke(build_app(), ["pretrain", str(tmp_path / "raw.txt"), "-o", str(tmp_path / "a")])
    assert result.exit_code == 1 and result.stderr.strip() == f"error: {tmp_path / 'raw.txt'}: {problem}", result.output
    assert not (tmp_path / "a" / "manifest.json").exists()
