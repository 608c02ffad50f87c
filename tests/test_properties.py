"""Property-based tests (hypothesis) of every reader and writer and of the
``annotate`` / ``import`` entry points, with generated records: any Unicode
(surrogates, NUL, combining marks, RTL, CJK, emoji), any whitespace, empty
and huge fields, wrong JSON types, random option values.

The properties: no exception escapes a reader or an entry point (a bad
record is an error *of that record*); ``accepted + review + errors ==
input``; export -> import keeps every span, label, score and metadata for
every format that can hold them; the CLI answers with exit 0 or one
``error:`` line and exit 1 or 2, never a traceback.
"""

import json
import tempfile
from pathlib import Path

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_annotate import model  # noqa: F401  (the module's tiny trained pipeline)
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.confidences import doc_confidence, scored_entities
from autolabel_spacy.format_io import read_docs, write_docs
from autolabel_spacy.hooks.manager import get_plugins
from autolabel_spacy.workflow.annotate import annotate
from autolabel_spacy.workflow.importer import import_annotations

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
NLP = spacy.blank("en")

# text of every kind: surrogates, NUL, combining marks, RTL, CJK, emoji, any whitespace
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(
            [
                "\x00",
                "\u0301",
                "\u05d0",
                "\u0627",
                "中",
                "文",
                "😀",
                "\u200b",
                "\ufeff",
                "\u2028",
                "\t",
                "\n",
                "\r",
                " ",
            ]
        ),
    ),
    max_size=60,
)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.floats(allow_nan=False, allow_infinity=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)
SPAN_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "start": JSON_VALUE | st.integers(0, 30),
        "end": JSON_VALUE | st.integers(0, 30),
        "label": JSON_VALUE | st.sampled_from(["Chemical", "Disease"]),
        "score": JSON_VALUE,
    },
)
# records that look like each tool's, with every field possibly of the wrong type or missing
RECORD = st.one_of(
    JSON_VALUE,
    st.fixed_dictionaries(
        {},
        optional={
            "text": ANY_TEXT | JSON_VALUE,
            "spans": st.lists(SPAN_LIKE, max_size=3) | JSON_VALUE,
            "meta": JSON_VALUE,
            "score": JSON_VALUE,
            "answer": st.sampled_from(["accept", "reject", "ignore"]) | JSON_VALUE,
        },
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "text": ANY_TEXT,
            "label": st.lists(st.lists(JSON_VALUE | st.integers(0, 30), max_size=4), max_size=3) | JSON_VALUE,
            "entities": JSON_VALUE,
        },
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "data": st.fixed_dictionaries({}, optional={"text": ANY_TEXT | JSON_VALUE}) | JSON_VALUE,
            "annotations": st.lists(
                st.fixed_dictionaries({}, optional={"result": JSON_VALUE, "was_cancelled": JSON_VALUE}), max_size=2
            )
            | JSON_VALUE,
            "predictions": JSON_VALUE,
        },
    ),
)
RECORD_READERS = ("jsonl", "prodigy", "doccano", "labelstudio")


def write_lines(folder: Path, records: list, name: str = "in.jsonl") -> Path:
    path = folder / name
    # ensure_ascii keeps lone surrogates as \ud800 escapes, as another tool might write them
    path.write_text("".join(json.dumps(r, ensure_ascii=True) + "\n" for r in records), encoding="utf-8")
    return path


@SETTINGS
@given(st.lists(RECORD, min_size=1, max_size=8))
def test_record_readers_account_for_every_line_and_never_raise(records):
    formats = get_plugins().formats()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_lines(Path(tmp), records)
        for name in RECORD_READERS:
            read = list(formats[name].read_records(path, NLP))
            expected = len(records)
            if name == "labelstudio" and len(records) == 1 and isinstance(records[0], list):
                expected = len(records[0])  # a one-line JSON array is an export of that many tasks
            assert len(read) == expected, name
            assert all((r.doc is None) != (r.error is None) for r in read), name


# -- writers and readers round trip ---------------------------------------------------------------

WORD_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=80)
LABEL = st.sampled_from(["Chemical", "Disease", "B", "ÄÖ-x", "中文", "with space"])
PROBABILITY = st.integers(0, 10**6).map(lambda n: n / 10**6)
META_KEYS = st.sampled_from(["source", "text", "label", "meta.x", "score", "id", "n", "ünï"])
META = st.dictionaries(
    META_KEYS,
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | ANY_TEXT.filter(lambda t: not any("\ud800" <= c <= "\udfff" for c in t)),
    max_size=4,
)


@st.composite
def scored_docs(draw):
    text = draw(WORD_TEXT)
    doc = NLP.make_doc(text)
    words = [t.i for t in doc if not t.is_space]
    cuts = sorted(set(draw(st.lists(st.sampled_from(words), max_size=6)))) if words else []
    spans = []
    for start, end in zip(cuts[::2], cuts[1::2] + [None]):
        last = end if end is not None else start
        if doc[last].is_space:
            continue
        spans.append(doc[start : last + 1])
    spans = [s for s in spans if not s[0].is_space and not s[-1].is_space]
    labelled = [doc.char_span(s.start_char, s.end_char, label=draw(LABEL)) for s in spans]
    scores = [draw(PROBABILITY) for _ in labelled]
    from autolabel_spacy.formats.records import _restore_scores

    doc.ents = labelled
    _restore_scores(doc, labelled, scores, draw(PROBABILITY), "generated")
    doc.user_data["meta"] = draw(META)
    return doc


def summary(doc):
    meta = {k: v for k, v in (doc.user_data.get("meta") or {}).items() if k not in ("score", "span_scores")}
    return doc.text, scored_entities(doc), doc_confidence(doc), meta


@SETTINGS
@given(st.lists(scored_docs(), min_size=1, max_size=4))
@pytest.mark.parametrize("ext", [".jsonl", ".labelstudio.json", ".prodigy.jsonl", ".doccano.jsonl"])
def test_writers_and_readers_keep_spans_labels_scores_and_metadata(ext, docs):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"out{ext}"
        write_docs(docs, path)
        back = list(read_docs(path, NLP))
    assert [summary(d) for d in back] == [summary(d) for d in docs]


@SETTINGS
@given(st.lists(scored_docs(), min_size=1, max_size=4))
def test_spacy_and_conll_keep_what_they_can_hold(docs):
    with tempfile.TemporaryDirectory() as tmp:
        write_docs(docs, Path(tmp) / "out.spacy")
        back = list(read_docs(Path(tmp) / "out.spacy", NLP))
        assert [(d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents]) for d in back] == [
            (d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents]) for d in docs
        ]
        # CoNLL holds the non-whitespace tokens and their entity tags, no whitespace or labels with spaces
        holdable = [
            d for d in docs if all(" " not in e.label_ for e in d.ents) and not any("-DOCSTART-" in t.text for t in d)
        ]
        if not holdable:
            return
        write_docs(holdable, Path(tmp) / "out.conll")
        back = list(read_docs(Path(tmp) / "out.conll", NLP))

    def tokens(doc):
        return [t.text for t in doc if not t.is_space], [
            ([t.text for t in e if not t.is_space], e.label_) for e in doc.ents
        ]

    assert [tokens(d) for d in back if len(d)] == [tokens(d) for d in holdable if any(not t.is_space for t in d)]


# -- the entry points ------------------------------------------------------------------------------


@SETTINGS
@given(
    st.lists(st.one_of(RECORD, st.fixed_dictionaries({"text": ANY_TEXT})), min_size=1, max_size=6),
    st.one_of(st.none(), PROBABILITY),
    st.integers(1, 4),
    st.integers(1, 300),
)
def test_annotate_accounts_for_every_record(model, records, threshold, batch_size, max_chars):
    nlp = loaded(model)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_lines(Path(tmp), records)
        summary = annotate(
            nlp,
            path,
            Path(tmp) / "out.jsonl",
            accept_threshold=threshold,
            batch_size=batch_size,
            max_chars=max_chars,
            progress=False,
        )
        assert summary.inputs == len(records) == summary.annotated + summary.errors
        if threshold is not None:
            assert summary.annotated == summary.accepted + summary.review
        written = (
            sum(1 for name in ("accepted", "review", "errors") for _ in open(Path(tmp) / f"out.{name}.jsonl"))
            if threshold is not None
            else (sum(1 for _ in open(Path(tmp) / "out.jsonl")) + sum(1 for _ in open(Path(tmp) / "out.errors.jsonl")))
        )
        assert written == len(records)


@pytest.mark.slow
@SETTINGS
@given(st.lists(RECORD, min_size=1, max_size=6), st.sampled_from([None, "jsonl", "prodigy", "doccano", "labelstudio"]))
def test_import_accounts_for_every_record(records, input_format):
    with tempfile.TemporaryDirectory() as tmp:
        path = write_lines(Path(tmp), records)
        summary = import_annotations(path, Path(tmp) / "out.spacy", input_format)
        expected = (
            len(records[0])
            if input_format == "labelstudio" and len(records) == 1 and isinstance(records[0], list)
            else len(records)
        )
        assert summary.records == expected == summary.imported + summary.errors
        assert sum(1 for _ in open(summary.errors_path)) == summary.errors


OPTION_VALUE = st.one_of(
    st.integers(-3, 5).map(str),
    st.sampled_from(["nan", "inf", "-0", "1e9", "0.5", "", "x", "[ray]", "--"]),
    ANY_TEXT.filter(lambda t: "\x00" not in t and not any("\ud800" <= c <= "\udfff" for c in t)),
)
OPTIONS = [
    "--batch-size",
    "--n-process",
    "--max-chars",
    "--accept-threshold",
    "--column",
    "--engine",
    "--format",
    "--shard-size",
    "--num-workers",
]


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(OPTIONS), OPTION_VALUE), max_size=3))
def test_annotate_cli_answers_every_option_with_exit_0_or_one_error_line(model, options):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "in.txt").write_text("aspirin helps\n\nwarfarin\n")
        args = ["annotate", str(model), str(Path(tmp) / "in.txt"), "-o", str(Path(tmp) / "out.jsonl"), "--no-progress"]
        args += [part for option, value in options for part in (option, value)]
        result = CliRunner().invoke(build_app(), args)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
        if result.exit_code == 0:
            assert "3 records" in result.stdout
        else:
            assert (
                result.exit_code in (1, 2)
                and len([line for line in result.stderr.splitlines() if line.startswith("error: ")]) == 1
            ), result.stderr


_LOADED = {}


def loaded(path):
    if path not in _LOADED:
        _LOADED[path] = spacy.load(path)
    return _LOADED[path]
