"""JSON lines with character offsets: ``{"text": ..., "spans": [{"start",
"end", "label", "score"}], "score": ..., "meta": {...}}``.

Reading tokenizes each text with the pipeline's tokenizer; a span whose
offsets do not fall on token boundaries is an error naming the line (or is
snapped to tokens with ``align="expand"|"contract"``), never dropped.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Optional

import srsly
from spacy.tokens import Doc

from .records import (
    META_KEY,
    Record,
    RecordError,
    doc_confidence,
    make_doc,
    open_for_write,
    records_from_json_lines,
    scored_entities,
)

JSONLFormatError = RecordError


def read_jsonl_records(path, nlp, align: str = "strict", labels: Optional[Iterable[str]] = None) -> Iterator[Record]:
    def to_doc(record: dict, where: str) -> Doc:
        spans = []
        for i, span in enumerate(record.get("spans") or []):
            try:
                spans.append((int(span["start"]), int(span["end"]), str(span["label"])))
            except (KeyError, TypeError, ValueError):
                raise RecordError(where, f"span {i} needs integer 'start', 'end' and a 'label': {span!r}") from None
        if not isinstance(record.get("text"), str):
            raise RecordError(where, "a record needs a 'text' string")
        doc = make_doc(nlp, record["text"], spans, where, align, labels)
        if record.get("meta"):
            doc.user_data[META_KEY] = record["meta"]
        return doc

    return records_from_json_lines(path, to_doc)



def doc_to_record(doc: Doc) -> dict:
    spans = []
    for start, end, label, score in scored_entities(doc):
        span = {"start": start, "end": end, "label": label, "text": doc.text[start:end]}
        if score is not None:
            span["score"] = round(score, 6)
        spans.append(span)
    record = {"text": doc.text, "spans": spans}
    confidence = doc_confidence(doc)
    if confidence is not None:
        record["score"] = round(confidence, 6)
    if doc.user_data.get(META_KEY):
        record["meta"] = doc.user_data[META_KEY]
    return record


def write_jsonl(docs: Iterable[Doc], path) -> None:
    write_jsonl_records((doc_to_record(doc) for doc in docs), path)


def write_jsonl_records(records: Iterable[dict], path) -> None:
    """Records already in this format's shape (what :func:`doc_to_record`
    gives), written without building docs."""
    srsly.write_jsonl(open_for_write(path), records)
