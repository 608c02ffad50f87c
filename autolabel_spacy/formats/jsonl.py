"""JSON lines with character offsets: ``{"text": ..., "spans": [{"start",
"end", "label", "score"[, "kb_id"]}], "score": ..., "relations": [{"head",
"child", "label", "score"}], "cats": {...}, "meta": {...}}``.

A relation names its entities by key (``relations.mention_keys``: a span's
``kb_id``, else ``~`` and its lower-cased text); ``cats`` holds a document's
category probabilities. Both are optional.

Reading tokenizes each text with the pipeline's tokenizer; a span whose
offsets do not fall on token boundaries is an error naming the line (or is
snapped to tokens with ``align="expand"|"contract"``), never dropped.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Optional

import srsly
from spacy.tokens import Doc

from ..checks import is_whole
from ..confidences import doc_confidence, scored_entities, sentence_confidences
from ..relations import has_relations, relation_records, set_relations
from .detect import foreign
from .records import (
    META_KEY,
    Record,
    RecordError,
    concept_ids,
    make_doc,
    open_for_write,
    read_cats,
    records_from_json_lines,
    span_scores,
)
from .relation_items import read_relations


def read_jsonl_records(path, nlp, align: str = "strict", labels: Optional[Iterable[str]] = None) -> Iterator[Record]:
    def to_doc(record: dict, where: str) -> Doc:
        problem = foreign(record, "jsonl")
        if problem:
            raise RecordError(where, problem)
        if not isinstance(record.get("text"), str):
            raise RecordError(where, "a record needs a 'text' string")
        if not isinstance(record.get("spans"), list):
            raise RecordError(where, "a record needs a 'spans' list (\"spans\": [] for a text without entities)")
        spans = []
        for i, span in enumerate(record["spans"]):
            if not (
                isinstance(span, dict)
                and is_whole(span.get("start"))
                and is_whole(span.get("end"))
                and isinstance(span.get("label"), str)
            ):
                raise RecordError(where, f"span {i} needs integer 'start', 'end' and a 'label' string: {span!r}")
            spans.append((span["start"], span["end"], span["label"], span.get("kb_id")))
        doc = make_doc(
            nlp,
            record["text"],
            spans,
            where,
            align,
            labels,
            scores=span_scores(record["spans"]),
            doc_score=record.get("score"),
        )
        if record.get("relations") is not None:
            set_relations(doc, read_relations(doc, record["relations"], where))
        doc.cats = read_cats(record.get("cats"), where)
        if record.get("meta") is not None:
            if not isinstance(record["meta"], dict):
                raise RecordError(where, f"'meta' must be an object, got {type(record['meta']).__name__}")
            if record["meta"]:
                doc.user_data[META_KEY] = record["meta"]
        return doc

    return records_from_json_lines(path, to_doc)


def doc_to_record(doc: Doc) -> dict:
    spans = []
    ids = concept_ids(doc)
    text = doc.text  # built once: Doc.text joins every token, so reading it per span is quadratic in a long doc
    for start, end, label, score in scored_entities(doc):
        span = {"start": start, "end": end, "label": label, "text": text[start:end]}
        if score is not None:
            span["score"] = round(score, 6)
        if (start, end) in ids:
            span["kb_id"] = ids[(start, end)]
        spans.append(span)
    record = {"text": text, "spans": spans}
    if has_relations(doc):
        record["relations"] = relation_records(doc)
    if doc.cats:
        record["cats"] = {k: round(float(v), 6) for k, v in doc.cats.items()}
    confidence = doc_confidence(doc)
    if confidence is not None:
        record["score"] = round(confidence, 6)
    sentences = sentence_confidences(doc)
    if sentences:  # a document of several sentences: how sure each one is, for review
        record["sentences"] = [
            {"start": doc[s].idx, "end": doc[e - 1].idx + len(doc[e - 1]), "score": round(p, 6)}
            for s, e, p in sentences
        ]
    if doc.user_data.get(META_KEY):
        record["meta"] = doc.user_data[META_KEY]
    return record


def write_jsonl(docs: Iterable[Doc], path) -> None:
    write_jsonl_records((doc_to_record(doc) for doc in docs), path)


def write_jsonl_records(records: Iterable[dict], path) -> None:
    """Records already in this format's shape (what :func:`doc_to_record`
    gives), written without building docs."""
    srsly.write_jsonl(open_for_write(path), records)
