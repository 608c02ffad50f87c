"""Raw text inputs for annotation, one record at a time, every record
accounted for: a record that cannot be used comes back with its error (line
number and reason) instead of being skipped.

Supported: ``.txt`` (one doc per line), ``.jsonl`` (a ``text`` field plus any
metadata), ``.csv`` (a chosen column; the other columns become metadata) and
a directory of ``.txt`` files (one doc per file).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from ..formats.records import RecordError, json_lines

DEFAULT_MAX_CHARS = 1_000_000


@dataclass
class TextRecord:
    id: str  # stable across runs: "name:line" or "name" (used by --resume)
    text: Optional[str] = None
    meta: dict = field(default_factory=dict)
    error: Optional[str] = None
    raw: Optional[str] = None


def read_inputs(path, column: str = "text", max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[TextRecord]:
    path = Path(path)
    if path.is_dir():
        records = _dir_records(path)
    elif path.suffix.lower() == ".jsonl":
        records = _jsonl_records(path, column)
    elif path.suffix.lower() == ".csv":
        records = _csv_records(path, column)
    elif path.suffix.lower() == ".txt":
        records = _txt_records(path)
    else:
        raise ValueError(f"{path}: input must be .txt, .jsonl, .csv or a directory of .txt files")
    for record in records:
        if record.error is None:
            record.error = _check_text(record.text, max_chars)
        yield record


def _check_text(text, max_chars: int) -> Optional[str]:
    if not isinstance(text, str):
        return "no text"
    if not text.strip():
        return "empty text"
    if len(text) > max_chars:
        return f"text of {len(text)} characters exceeds --max-chars {max_chars}"
    return None


def _txt_records(path: Path) -> Iterator[TextRecord]:
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            rid = f"{path.name}:{lineno}"
            try:
                text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                yield TextRecord(rid, error=f"not valid UTF-8 ({err.reason} at byte {err.start})", raw=repr(raw))
                continue
            yield TextRecord(rid, text=text, meta={"source": rid}, raw=text)


def _jsonl_records(path: Path, key: str) -> Iterator[TextRecord]:
    for where, record, raw in json_lines(path):
        rid = f"{path.name}:{where.rsplit(':', 1)[1]}"
        if isinstance(record, RecordError):
            yield TextRecord(rid, error=record.reason, raw=raw)
        elif not isinstance(record, dict):
            yield TextRecord(rid, error=f"expected a JSON object, got {type(record).__name__}", raw=raw)
        elif not isinstance(record.get(key), str):
            yield TextRecord(rid, error=f"missing {key!r} string field", raw=raw)
        else:
            meta = record["meta"] if isinstance(record.get("meta"), dict) else {k: v for k, v in record.items() if k != key}
            yield TextRecord(rid, text=record[key], meta={"source": rid, **meta}, raw=raw)


def _csv_records(path: Path, column: str) -> Iterator[TextRecord]:
    text = path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or column not in reader.fieldnames:
        raise ValueError(f"{path}: no column {column!r} (columns: {reader.fieldnames}); choose one with --column")
    for row in reader:
        rid = f"{path.name}:{reader.line_num}"
        raw = ",".join(str(v) for v in row.values())
        if any(isinstance(v, str) and _has_surrogates(v) for v in row.values()):
            yield TextRecord(rid, error="not valid UTF-8", raw=raw.encode("utf-8", "surrogateescape").decode("latin-1"))
        elif None in row:
            yield TextRecord(rid, error=f"row has {len(row[None])} more fields than the header", raw=raw)
        else:
            meta = {k: v for k, v in row.items() if k != column}
            yield TextRecord(rid, text=row[column], meta={"source": rid, **meta}, raw=raw)


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _dir_records(path: Path) -> Iterator[TextRecord]:
    files = sorted(p for p in path.rglob("*.txt") if p.is_file())
    if not files:
        raise ValueError(f"{path}: no .txt files")
    for file in files:
        rid = str(file.relative_to(path))
        try:
            text = file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as err:
            yield TextRecord(rid, error=f"not valid UTF-8 ({err.reason} at byte {err.start})")
            continue
        yield TextRecord(rid, text=text, meta={"source": rid})
