"""doccano sequence-labelling JSONL: ``{"text", "label": [[start, end,
LABEL], ...]}`` (doccano 1.x) — also read: ``"entities": [{"start_offset",
"end_offset", "label"}]`` (doccano ≥ 1.6 relation projects).

doccano keeps every other key of a record as its metadata, so a doc's
metadata is written as top-level keys; the format's own fields always win:
a metadata key that is one of them (``text``, ``label``…), or that starts
with ``meta.``, is written as ``meta.<key>``, and reading strips that prefix
again, so metadata round-trips whatever its keys."""
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
)

OWN_FIELDS = ("text", "label", "entities", "relations", "id", "cats")
META_PREFIX = "meta."


def doc_to_task(doc: Doc) -> dict:
    entities = scored_entities(doc)
    meta = meta_with_score(doc)
    scores = [round(p, 6) for *_, p in entities if p is not None]
    if scores:
        meta["span_scores"] = scores
    task = {_meta_key(k): v for k, v in meta.items()}  # doccano keeps extra keys as metadata
    task.update({"text": doc.text, "label": [[s, e, label] for s, e, label, _ in entities]})
    return task


def _meta_key(key: str) -> str:
    return META_PREFIX + key if key in OWN_FIELDS or key.startswith(META_PREFIX) else key


def _from_meta_key(key: str) -> str:
    return key[len(META_PREFIX):] if key.startswith(META_PREFIX) else key


def write_doccano(docs: Iterable[Doc], path) -> None:
    srsly.write_jsonl(open_for_write(path), (doc_to_task(doc) for doc in docs))


def read_doccano_records(path, nlp, align: str = "strict", labels: Optional[Iterable[str]] = None) -> Iterator[Record]:
    labels = list(labels) if labels is not None else None

    def to_doc(task: dict, where: str) -> Doc:
        problem = foreign(task, "doccano")
        if problem:
            raise RecordError(where, problem)
        spans = []
        if "entities" in task:
            if not isinstance(task["entities"], list):
                raise RecordError(where, f"'entities' must be a list, got {type(task['entities']).__name__}")
            for i, ent in enumerate(task["entities"]):
                try:
                    spans.append((ent["start_offset"], ent["end_offset"], ent["label"]))
                except (KeyError, TypeError):
                    raise RecordError(where, f"entity {i} needs start_offset, end_offset and label: {ent!r}") from None
        elif "label" in task:
            if not isinstance(task["label"], list):
                raise RecordError(where, f"'label' must be a list of [start, end, label], got {type(task['label']).__name__}")
            for i, item in enumerate(task["label"]):
                if not isinstance(item, (list, tuple)) or len(item) != 3:
                    raise RecordError(where, f"label {i} must be [start, end, label], got {item!r}")
                spans.append(tuple(item))
        else:
            raise RecordError(where, "a doccano record needs a 'label' list (\"label\": [] for a text without entities)")
        meta = {_from_meta_key(k): v for k, v in task.items() if k not in ("text", "label", "entities", "relations")}
        scores = meta.get("span_scores") if spans and isinstance(meta.get("span_scores"), list) else None
        doc = make_doc(nlp, task.get("text"), spans, where, align, labels, scores=scores, doc_score=meta.get("score"))
        if meta:
            doc.user_data[META_KEY] = meta
        return doc

    return records_from_json_lines(path, to_doc)

