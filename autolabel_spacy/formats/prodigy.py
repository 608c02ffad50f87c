"""Prodigy JSONL (``ner_manual`` style): ``{"text", "tokens": [{"text",
"start", "end", "id", "ws"}], "spans": [{"start", "end", "token_start",
"token_end", "label"}], "meta", "answer"}``; ``token_end`` is inclusive.

Read: records answered ``reject`` or ``ignore`` are errors (so they are
counted, never silently used or lost); records without an answer are read.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Optional

import srsly
from spacy.tokens import Doc

from .detect import foreign
from .records import (
    META_KEY,
    Record,
    RecordError,
    make_doc,
    meta_with_score,
    open_for_write,
    records_from_json_lines,
    scored_entities,
    span_scores,
)


def doc_to_task(doc: Doc) -> dict:
    tokens = [
        {"text": t.text, "start": t.idx, "end": t.idx + len(t), "id": t.i, "ws": bool(t.whitespace_)} for t in doc
    ]
    spans = []
    for start, end, label, score in scored_entities(doc):
        span = doc.char_span(start, end)
        item = {"start": start, "end": end, "token_start": span.start, "token_end": span.end - 1, "label": label}
        if score is not None:
            item["score"] = round(score, 6)
        spans.append(item)
    task = {"text": doc.text, "tokens": tokens, "spans": spans}
    meta = meta_with_score(doc)
    if meta:
        task["meta"] = meta
    return task


def write_prodigy(docs: Iterable[Doc], path) -> None:
    srsly.write_jsonl(open_for_write(path), (doc_to_task(doc) for doc in docs))


def read_prodigy_records(path, nlp, align: str = "strict", labels: Optional[Iterable[str]] = None) -> Iterator[Record]:
    labels = list(labels) if labels is not None else None

    def to_doc(task: dict, where: str) -> Doc:
        problem = foreign(task, "prodigy")
        if problem:
            raise RecordError(where, problem)
        answer = task.get("answer")
        if answer not in (None, "accept"):
            raise RecordError(where, f"answer is {answer!r}; only accepted examples are imported")
        if "spans" not in task and answer != "accept":
            raise RecordError(where, "a record needs a 'spans' list (or an accepted 'answer')")
        if not isinstance(task.get("spans", []), list):
            raise RecordError(where, f"'spans' must be a list, got {type(task['spans']).__name__}")
        spans = []
        for i, span in enumerate(task.get("spans") or []):
            if not isinstance(span, dict) or "label" not in span or "start" not in span or "end" not in span:
                raise RecordError(where, f"span {i} needs 'start', 'end' and 'label': {span!r}")
            spans.append((span["start"], span["end"], span["label"]))
        meta = task.get("meta")
        if meta is not None and not isinstance(meta, dict):
            raise RecordError(where, f"'meta' must be an object, got {type(meta).__name__}")
        doc = make_doc(
            nlp, task.get("text"), spans, where, align, labels,
            scores=span_scores(task.get("spans") or []), doc_score=(meta or {}).get("score"),
        )
        if meta:
            doc.user_data[META_KEY] = meta
        return doc

    return records_from_json_lines(path, to_doc)

