"""JSON lines with character offsets: ``{"text": ..., "spans": [{"start",
"end", "label"}], "meta": {...}}`` — the format most annotation tools speak.

Reading tokenizes each text with the pipeline's tokenizer; a span whose
offsets do not fall on token boundaries is an error naming the line, never
dropped.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import srsly
from spacy.tokens import Doc
from spacy.util import filter_spans


class JSONLFormatError(ValueError):
    pass


def read_jsonl(path, nlp) -> Iterator[Doc]:
    for lineno, record in enumerate(srsly.read_jsonl(path), start=1):
        yield record_to_doc(record, nlp, where=f"{path}:{lineno}")


def record_to_doc(record: dict, nlp, where: str = "record") -> Doc:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise JSONLFormatError(f"{where}: a record needs a 'text' string")
    doc = nlp.make_doc(record["text"])
    spans = []
    for i, span in enumerate(record.get("spans") or []):
        try:
            start, end, label = int(span["start"]), int(span["end"]), str(span["label"])
        except (KeyError, TypeError, ValueError):
            raise JSONLFormatError(f"{where}: span {i} needs integer 'start', 'end' and a 'label': {span!r}") from None
        char_span = doc.char_span(start, end, label=label)
        if char_span is None:
            raise JSONLFormatError(
                f"{where}: span {i} [{start}:{end}] {record['text'][start:end]!r} does not match token boundaries"
            )
        spans.append(char_span)
    if filter_spans(spans) != sorted(spans):
        raise JSONLFormatError(f"{where}: spans overlap; entities must not overlap")
    doc.ents = spans
    if record.get("meta"):
        doc.user_data["meta"] = record["meta"]
    return doc


def doc_to_record(doc: Doc) -> dict:
    record = {
        "text": doc.text,
        "spans": [{"start": e.start_char, "end": e.end_char, "label": e.label_} for e in doc.ents],
    }
    if doc.user_data.get("meta"):
        record["meta"] = doc.user_data["meta"]
    return record


def write_jsonl(docs: Iterable[Doc], path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    srsly.write_jsonl(path, (doc_to_record(doc) for doc in docs))
