"""Which review tool a record came from, by its fields, so that a file is
never silently read as something else: a Prodigy file named ``x.jsonl`` is
read as Prodigy (its rejected answers are not training data), a doccano
file named ``x.jsonl`` keeps its entities, and a reader handed a record of
another tool refuses it with the reason.

The marks: Label Studio tasks have a ``data`` object (and ``annotations`` or
``predictions``); Prodigy records an ``answer``; doccano a ``label`` list or
an ``entities`` list of ``start_offset``/``end_offset`` objects; the
``jsonl`` format a ``spans`` list.
"""

from __future__ import annotations

import json
from typing import Optional

RECORD_FORMATS = ("labelstudio", "prodigy", "doccano", "jsonl")
# the kinds of record each reader reads as they are (Prodigy's spans are
# the jsonl format's spans plus token offsets)
READS = {"jsonl": {"jsonl"}, "prodigy": {"prodigy", "jsonl"}, "doccano": {"doccano"}, "labelstudio": {"labelstudio"}}


def record_kind(record) -> Optional[tuple[str, str]]:
    """``(format, the field that shows it)`` of one parsed record, or None."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("data"), dict) or "annotations" in record or "predictions" in record:
        return "labelstudio", "a 'data' object" if "data" in record else "'annotations'"
    if "answer" in record:
        return "prodigy", "an 'answer' field"
    if "spans" not in record and (isinstance(record.get("label"), list) or isinstance(record.get("entities"), list)):
        return "doccano", "a 'label' list" if isinstance(record.get("label"), list) else "an 'entities' list"
    if "spans" in record:
        return "jsonl", "a 'spans' list"
    return None


def foreign(record, reader: str) -> Optional[str]:
    """Why ``reader`` must not read ``record`` (a record of another tool), or None."""
    kind = record_kind(record)
    if kind is None or kind[0] in READS.get(reader, {kind[0]}):
        return None
    name, mark = kind
    return f"this is a {name} record ({mark}), not {reader}; import the file with --format {name}"


def detect_format(path) -> Optional[tuple[str, str]]:
    """``(format, reason)`` from the first record of a JSON or JSON-lines
    file, or None when the content does not say (or cannot be read)."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 20).decode("utf-8-sig", errors="replace")
    except OSError:
        return None
    stripped = head.lstrip()
    first = None
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
            first = items[0] if isinstance(items, list) and items else None
        except ValueError:
            decoder = json.JSONDecoder()
            try:  # a long array: parse its first element only
                first, _ = decoder.raw_decode(stripped[1:].lstrip())
            except ValueError:
                return None
    else:
        for line in head.splitlines():
            if line.strip():
                try:
                    first = json.loads(line)
                except ValueError:
                    return None
                break
    kind = record_kind(first)
    return (kind[0], f"its first record has {kind[1]}") if kind else None
