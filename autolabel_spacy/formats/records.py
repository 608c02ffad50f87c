"""What every annotation format shares: one record in, one doc out, and an
error naming the record otherwise.

Readers of record-based formats yield :class:`Record` (a doc, or the reason
it could not be read) so that a workflow can route bad records to an errors
file and keep going; the format's plain ``read`` raises on the first one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from spacy.tokens import Doc, SpanGroup
from spacy.util import filter_spans

from ..checks import is_whole, probability
from ..confidences import SCORED_KEY, doc_confidence, set_span_confidences

ALIGN_MODES = ("strict", "expand", "contract")
META_KEY = "meta"  # doc.user_data key for a record's metadata


class RecordError(ValueError):
    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


@dataclass
class Record:
    where: str  # "file:line" (or "file#n")
    doc: Optional[Doc] = None
    error: Optional[str] = None
    raw: Optional[str] = None  # the input line, kept for errors files

    def error_line(self) -> str:
        """The record's line in an errors file: where, why, and its raw text."""
        return json.dumps({"record": self.where, "error": self.error, "raw": self.raw}, ensure_ascii=False) + "\n"


def set_aside(records: Iterable[Record], errors_path) -> tuple[list[Doc], int]:
    """The docs of the good ``records``; each refused one written to
    ``errors_path`` as its :meth:`Record.error_line` (the file is written
    even when empty, so a rerun never leaves an older one behind). Returns
    the docs and the number refused: nothing read is dropped."""
    docs: list[Doc] = []
    refused = 0
    # backslashreplace: an error line can quote a record's lone surrogates
    with open(errors_path, "w", encoding="utf-8", errors="backslashreplace") as errors:
        for record in records:
            if record.error is None:
                docs.append(record.doc)
            else:
                errors.write(record.error_line())
                refused += 1
    return docs, refused


ALIGN_HINT = "; use --align expand or contract to snap it to tokens"  # what the commands that read files offer


def make_doc(
    nlp,
    text,
    spans: Iterable[tuple],
    where: str,
    align: str = "strict",
    labels: Optional[Iterable[str]] = None,
    scores: Optional[list] = None,
    doc_score=None,
    align_hint: str = ALIGN_HINT,
) -> Doc:
    """A doc of ``text`` with ``spans`` ``(start_char, end_char, label[,
    concept id])`` as entities. Offsets off token boundaries are an error unless ``align`` is
    ``expand`` or ``contract``; overlapping spans and labels outside
    ``labels`` are errors. ``scores`` (one number per span) and
    ``doc_score`` restore a model's confidences as :func:`scored_entities`
    and :func:`doc_confidence` read them; a score that is not a number in
    [0, 1] is an error."""
    if align not in ALIGN_MODES:
        raise ValueError(f"align must be one of {ALIGN_MODES}, got {align!r}")
    if not isinstance(text, str):
        raise RecordError(where, "the record has no text string")
    doc = nlp.make_doc(text)
    known = set(labels) if labels is not None else None
    ents = []
    for i, (start, end, label, *kb_id) in enumerate(spans):
        if not (_is_offset(start) and _is_offset(end) and 0 <= start < end <= len(text)):
            raise RecordError(
                where, f"span {i} has invalid offsets [{start!r}:{end!r}] for a text of {len(text)} characters"
            )
        if not isinstance(label, str) or not label.strip():
            raise RecordError(where, f"span {i} needs a label string, got {label!r}")
        if known is not None and label not in known:
            raise RecordError(
                where, f"span {i} {text[start:end]!r} has unknown label {label!r} (known: {sorted(known)})"
            )
        if kb_id and kb_id[0] is not None and not (isinstance(kb_id[0], str) and kb_id[0]):
            raise RecordError(where, f"span {i} has a concept id that is not a non-empty string: {kb_id[0]!r}")
        span = doc.char_span(start, end, label=label, kb_id=(kb_id[0] if kb_id else None) or "", alignment_mode=align)
        if span is None or len(span) == 0:
            hint = align_hint if align == "strict" else ""
            raise RecordError(
                where,
                f"span {i} [{start}:{end}] {text[start:end]!r} does not match token boundaries "
                f"(the tokens there: {token_bounds(doc, start, end)}){hint}",
            )
        ents.append(span)
    if filter_spans(ents) != sorted(ents):
        raise RecordError(where, "spans overlap; entities must not overlap")
    doc.ents = ents
    _restore_scores(doc, ents, scores, doc_score, where)
    return doc


def token_bounds(doc: Doc, start: int, end: int) -> str:
    """The tokens a character range touches, with their offsets, for an
    error that says where the span could start and end instead."""
    touched = [t for t in doc if t.idx < end and t.idx + len(t.text) > start]
    if not touched:
        return "only whitespace"
    return ", ".join(f"{t.text!r} [{t.idx}:{t.idx + len(t.text)}]" for t in touched[:6]) + (
        " …" if len(touched) > 6 else ""
    )


def _restore_scores(doc: Doc, ents: list, scores, doc_score, where: str) -> None:

    if scores is None and doc_score is None:
        return
    if scores is not None and (len(scores) != len(ents) or not all(probability(p) for p in scores)):
        raise RecordError(where, f"span scores must be one number in [0, 1] per span, got {scores!r}")
    if doc_score is not None and not probability(doc_score):
        raise RecordError(where, f"the record's score must be a number in [0, 1], got {doc_score!r}")
    group = SpanGroup(doc, name=SCORED_KEY, spans=ents)
    set_span_confidences(group, scores, doc_score, dtype="float64")
    doc.spans[SCORED_KEY] = group


def read_cats(value, where: str) -> dict:
    """A record's ``cats`` (``{"category": probability}``), checked."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and k and probability(v) for k, v in value.items()):
        raise RecordError(where, f"'cats' must map category names to numbers in [0, 1], got {value!r}")
    return {k: float(v) for k, v in value.items()}


def concept_ids(doc: Doc) -> dict[tuple[int, int], str]:
    """``(start_char, end_char)`` -> concept id (``kb_id_``) of each entity
    that has one: what a writer adds to that span's item."""
    return {(e.start_char, e.end_char): e.kb_id_ for e in doc.ents if e.kb_id_}


def span_scores(items: list, key: str = "score") -> Optional[list]:
    """The ``key`` of each span item when every one has it, else None."""
    if items and all(isinstance(item, dict) and key in item for item in items):
        return [item[key] for item in items]
    return None


def _is_offset(value) -> bool:
    return is_whole(value)


def parse_json(text: str, where: str):
    """``json.loads``, every failure of which is an error of that record:
    invalid JSON, nesting deeper than Python can walk, an integer past the
    interpreter's digit limit."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        at = f"column {err.colno}" if err.lineno == 1 else f"line {err.lineno} column {err.colno}"
        raise RecordError(where, f"invalid JSON ({err.msg}: {at})") from None
    except RecursionError:
        raise RecordError(where, "JSON nested too deeply to read") from None
    except ValueError as err:  # e.g. an integer of more digits than int() converts
        raise RecordError(where, f"JSON that cannot be read ({' '.join(str(err).split())})") from None


def array_elements(text: str) -> Iterator[str]:
    """The elements of a JSON array's text, unparsed: a linear scan of
    brackets and strings, so one element that ``json.loads`` cannot take
    (nested too deeply, a number too long) is that element's error and not
    the whole array's."""
    depth, in_string, escaped, start = 0, False, False, None
    for i, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth == 1:
                start = None
                continue
        elif char in "]}":
            depth -= 1
        if depth == 1 and char == "," or depth == 0 and char == "]":
            if start is not None:
                yield text[start:i]
            start = None
            if depth == 0:
                return
            continue
        if depth >= 1 and start is None and not char.isspace():
            start = i


def json_lines(path) -> Iterator[tuple[str, object, str]]:
    """(where, parsed record or RecordError, raw line) for each non-blank line;
    bytes that are not UTF-8 and invalid JSON are errors of that line only."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            where = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as err:
                yield where, RecordError(where, f"not valid UTF-8 ({err.reason} at byte {err.start})"), repr(raw)
                continue
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            try:
                yield where, parse_json(line, where), line
            except RecordError as err:
                yield where, err, line


def records_from_json_lines(path, to_doc: Callable[[dict, str], Doc]) -> Iterator[Record]:
    for where, record, raw in json_lines(path):
        if isinstance(record, RecordError):
            yield Record(where, error=record.reason, raw=raw)
            continue
        try:
            if not isinstance(record, dict):
                raise RecordError(where, f"expected a JSON object, got {type(record).__name__}")
            check_encodable(record, where)
            yield Record(where, doc=to_doc(record, where), raw=raw)
        except RecordError as err:
            yield Record(where, error=err.reason, raw=raw)
        except UNFORESEEN as err:  # a shape no check foresaw: still this record's
            yield Record(where, error=unreadable(err), raw=raw)


# what a reader raises on a record of a shape no check foresaw: :func:`unreadable` says why
UNFORESEEN = (TypeError, ValueError, KeyError, AttributeError, RecursionError)


def unreadable(err: BaseException) -> str:
    """The reason for a record that a reader failed on in a way no check
    foresaw: the record's error, never the run's."""
    if isinstance(err, RecursionError):
        return "nested too deeply to read"
    return f"cannot be read ({type(err).__name__}: {' '.join(str(err).split())[:200]})"


def check_encodable(record, where: str) -> None:
    """A record whose strings hold lone surrogates (``\\ud800`` escapes in
    JSON) cannot be written to any UTF-8 output: an error of that record."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise RecordError(where, "nested too deeply to write") from None
    except UnicodeEncodeError as err:
        raise RecordError(
            where, f"holds a lone surrogate ({err.object[err.start]!r}), which no UTF-8 output can hold"
        ) from None


def read_strictly(read_records: Callable[..., Iterator[Record]], path, nlp, **options) -> Iterator[Doc]:
    """The docs a record reader yields; the first bad record raises."""
    for record in read_records(path, nlp, **options):
        if record.error is not None:
            raise RecordError(record.where, record.error)
        yield record.doc


def meta_with_score(doc: Doc) -> dict:
    """A copy of the doc's metadata, plus ``score``: its annotation's confidence."""
    meta = dict(doc.user_data.get(META_KEY) or {})
    confidence = doc_confidence(doc)
    if confidence is not None:
        meta["score"] = round(confidence, 6)
    return meta


def open_for_write(path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
