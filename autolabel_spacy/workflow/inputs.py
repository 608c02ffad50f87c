"""Raw text inputs for annotation, one record at a time, every record
accounted for: a record that cannot be used comes back with its error (line
number and reason) instead of being skipped.

Supported: ``.txt`` (one doc per line), ``.jsonl`` (a ``text`` field plus any
metadata), ``.csv`` (a chosen column; the other columns become metadata),
``.pubtator`` (one doc per abstract: title and abstract, the PMID as its id;
any mentions in the file are not read) and a folder of ``.txt`` files (one
doc per file, a whole document; the extension in any case, ``.TXT`` too, in
every subfolder; the other files are listed in :attr:`Inputs.skipped`).

:class:`Inputs` checks what can be checked before anything is written (the
path, its kind, the CSV column, a folder's files), so a command fails at its
start, not halfway; iterating it yields the records.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from ..formats.pubtator import block_head, blocks
from ..formats.records import RecordError, json_lines

DEFAULT_MAX_CHARS = 1_000_000
KINDS = (".txt", ".jsonl", ".csv", ".pubtator")
MAX_CHARS_LIMIT = (
    2**31 - 2
)  # the longest text a record may hold: what Python's csv field limit takes, and far past what fits a doc


@dataclass
class TextRecord:
    id: str  # stable across runs: "name:line" or "name" (used by --resume)
    text: Optional[str] = None
    meta: dict = field(default_factory=dict)
    error: Optional[str] = None
    raw: Optional[str] = None


class Inputs:
    """The records of one input path (a file or a folder)."""

    def __init__(self, path, column: str = "text", max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self.path = Path(path)
        self.column = column
        self.max_chars = max_chars
        self.skipped: list[str] = []  # folder entries that are not .txt files
        if not self.path.exists():
            raise ValueError(f"{self.path}: no such file or folder")
        if self.path.is_dir():
            self.files = []
            for p in sorted(self.path.rglob("*")):
                if p.is_file():
                    (self.files if p.suffix.lower() == ".txt" else self.skipped).append(p)
            self.skipped = [str(p.relative_to(self.path)) for p in self.skipped]
            if not self.files:
                also = f" (it has {len(self.skipped)} other files)" if self.skipped else ""
                raise ValueError(f"{self.path}: no .txt files in this folder{also}")
            self.kind = "folder"
        else:
            self.kind = self.path.suffix.lower()
            if self.kind not in KINDS:
                raise ValueError(f"{self.path}: input must be .txt, .jsonl, .csv, .pubtator or a folder of .txt files")
            if self.kind == ".csv":
                header = _csv_header(self.path)
                if column not in header:
                    raise ValueError(
                        f"{self.path}:1: no column {column!r} (columns: {', '.join(header) or 'none'}); choose one "
                        "with --column"
                    )

    def __iter__(self) -> Iterator[TextRecord]:
        records = {
            "folder": _dir_records,
            ".jsonl": _jsonl_records,
            ".csv": _csv_records,
            ".txt": _txt_records,
            ".pubtator": _pubtator_records,
        }[self.kind](self)
        for record in records:
            if record.error is None:
                record.error = _check_record(record, self.max_chars)
            yield record

    def count(self) -> int:
        """How many records iterating yields (a cheap pass over the input),
        for a progress bar's total."""
        if self.kind == "folder":
            return len(self.files)
        if self.kind == ".csv":
            return sum(1 for _ in _csv_rows(self.path, self.max_chars))
        if self.kind == ".pubtator":
            return sum(1 for _ in blocks(self.path))
        n = 0
        with open(self.path, "rb") as f:
            for line in f:
                n += bool(line.strip()) if self.kind == ".jsonl" else 1
        return n


def _check_record(record: TextRecord, max_chars: int) -> Optional[str]:
    text = record.text
    if not isinstance(text, str):
        return "no text"
    if not text.strip():
        return "empty text"
    if len(text) > max_chars:
        return f"text of {len(text)} characters exceeds --max-chars {max_chars}"
    for what, value in (("text", text), ("metadata", record.meta)):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as err:
            return f"{what} holds a lone surrogate ({err.object[err.start]!r}), which no UTF-8 output can hold"
        except (TypeError, ValueError) as err:
            return f"{what} cannot be written as JSON ({err})"
    return None


def _txt_records(inputs: Inputs) -> Iterator[TextRecord]:
    path = inputs.path
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            rid = f"{path.name}:{lineno}"
            try:
                text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                yield TextRecord(rid, error=f"not valid UTF-8 ({err.reason} at byte {err.start})", raw=repr(raw))
                continue
            yield TextRecord(rid, text=text, meta={"source": rid}, raw=text)


def _jsonl_records(inputs: Inputs) -> Iterator[TextRecord]:
    path, key = inputs.path, inputs.column
    for where, record, raw in json_lines(path):
        rid = f"{path.name}:{where.rsplit(':', 1)[1]}"
        if isinstance(record, RecordError):
            yield TextRecord(rid, error=record.reason, raw=raw)
        elif not isinstance(record, dict):
            yield TextRecord(rid, error=f"expected a JSON object, got {type(record).__name__}", raw=raw)
        elif not isinstance(record.get(key), str):
            yield TextRecord(rid, error=f"missing {key!r} string field", raw=raw)
        else:
            yield TextRecord(rid, text=record[key], meta={"source": rid, **record_meta(record, key)}, raw=raw)


def record_meta(record: dict, key: str) -> dict:
    """Every field of an input record but its text, as one metadata object
    the outputs carry: the fields of its ``meta`` object alongside its other
    top-level fields. Where the two name the same field with different
    values, or ``meta`` is not an object, ``meta`` stays a field of its own,
    so no value is lost."""
    others = {k: v for k, v in record.items() if k not in (key, "meta")}
    if "meta" not in record:
        return others
    inner = record["meta"]
    if isinstance(inner, dict) and all(others.get(k, v) == v for k, v in inner.items()):
        return {**others, **inner}
    return {**others, "meta": inner}


def _pubtator_records(inputs: Inputs) -> Iterator[TextRecord]:
    path = inputs.path
    for where, lines, raw in blocks(path):
        rid = f"{path.name}:{where.rsplit(':', 1)[1]}"
        try:
            pmid, title, text = block_head(lines, where)
        except RecordError as err:
            line = err.where.rsplit(":", 1)[1]
            reason = f"line {line}: {err.reason}" if line != rid.rsplit(":", 1)[1] else err.reason
            yield TextRecord(
                rid, error=reason, raw=raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            )
            continue
        yield TextRecord(rid, text=text, meta={"source": rid, "id": pmid, "title_length": len(title)}, raw=raw)


def _csv_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig", errors="surrogateescape")


def _csv_header(path: Path) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(_csv_text(path), newline="")), [])
    except csv.Error as err:
        raise ValueError(f"{path}:1: unreadable CSV header ({err})") from None


def _csv_rows(path: Path, max_chars: int) -> Iterator[tuple[int, Optional[list[str]], Optional[str]]]:
    """(line, fields or None, error or None) for each row after the header.
    Fields up to ``max_chars`` long are read (Python's csv stops at 128 KiB
    unless told otherwise; the limit is restored afterwards)."""
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, max_chars + 1))
    try:
        text = _csv_text(path)
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            next(reader, None)
        except csv.Error:
            return
        lines = None
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                reason = str(err)
                if "field larger than field limit" in reason:
                    reason = f"a field is longer than --max-chars {max_chars}"
                yield reader.line_num, None, f"unreadable CSV row ({reason})"
                continue
            if reader.line_num > start:  # a quoted field over several lines: legitimate only if its quote closes
                lines = lines if lines is not None else text.splitlines(keepends=True)
                if "".join(lines[start - 1 : reader.line_num]).count('"') % 2:
                    yield (
                        start,
                        None,
                        (
                            f"unreadable CSV row (a quoted field opened on this line is never closed: it swallowed "
                            f"lines {start}-{reader.line_num}, to the end of the file)"
                        ),
                    )
                    continue
            if row:
                yield reader.line_num, row, None
    finally:
        csv.field_size_limit(limit)


def _csv_records(inputs: Inputs) -> Iterator[TextRecord]:
    path, column = inputs.path, inputs.column
    header = _csv_header(path)
    for line, row, error in _csv_rows(path, inputs.max_chars):
        rid = f"{path.name}:{line}"
        if error is not None:
            yield TextRecord(rid, error=error)
            continue
        raw = ",".join(row)
        if any(_has_surrogates(v) for v in row):
            yield TextRecord(rid, error="not valid UTF-8", raw=raw.encode("utf-8", "surrogateescape").decode("latin-1"))
        elif len(row) > len(header):
            yield TextRecord(rid, error=f"row has {len(row) - len(header)} more fields than the header", raw=raw)
        else:
            values = dict(zip(header, row))
            if column not in values:
                yield TextRecord(
                    rid, error=f"row has no {column!r} field (it has {len(row)} of {len(header)} columns)", raw=raw
                )
                continue
            meta = {k: v for k, v in values.items() if k != column}
            yield TextRecord(rid, text=values[column], meta={"source": rid, **meta}, raw=raw)


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _dir_records(inputs: Inputs) -> Iterator[TextRecord]:
    for file in inputs.files:
        rid = str(file.relative_to(inputs.path))
        try:
            text = file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as err:
            yield TextRecord(rid, error=f"not valid UTF-8 ({err.reason} at byte {err.start})")
            continue
        except OSError as err:
            yield TextRecord(rid, error=f"cannot be read ({err.strerror or err})")
            continue
        yield TextRecord(rid, text=text, meta={"source": rid})
