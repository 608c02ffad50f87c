"""doccano sequence-labelling JSONL: ``{"text", "label": [[start, end,
LABEL], ...]}`` (doccano 1.x) — also read: ``"entities": [{"start_offset",
"end_offset", "label"}]`` (doccano ≥ 1.6 relation projects)."""
from __future__ import annotations

from typing import Iterable, Iterator, Optional

import srsly
from spacy.tokens import Doc

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


def doc_to_task(doc: Doc) -> dict:
    entities = scored_entities(doc)
    task = {"text": doc.text, "label": [[s, e, label] for s, e, label, _ in entities]}
    meta = meta_with_score(doc)
    scores = [round(p, 6) for *_, p in entities if p is not None]
    if scores:
        meta["span_scores"] = scores
    task.update(meta)  # doccano keeps extra keys as metadata
    return task


def write_doccano(docs: Iterable[Doc], path) -> None:
    srsly.write_jsonl(open_for_write(path), (doc_to_task(doc) for doc in docs))


def read_doccano_records(path, nlp, align: str = "strict", labels: Optional[Iterable[str]] = None) -> Iterator[Record]:
    labels = list(labels) if labels is not None else None

    def to_doc(task: dict, where: str) -> Doc:
        spans = []
        if "entities" in task:
            for i, ent in enumerate(task["entities"] or []):
                try:
                    spans.append((ent["start_offset"], ent["end_offset"], ent["label"]))
                except (KeyError, TypeError):
                    raise RecordError(where, f"entity {i} needs start_offset, end_offset and label: {ent!r}") from None
        else:
            for i, item in enumerate(task.get("label") or []):
                if not isinstance(item, (list, tuple)) or len(item) != 3:
                    raise RecordError(where, f"label {i} must be [start, end, label], got {item!r}")
                spans.append(tuple(item))
        doc = make_doc(nlp, task.get("text"), spans, where, align, labels)
        meta = {k: v for k, v in task.items() if k not in ("text", "label", "entities", "relations")}
        if meta:
            doc.user_data[META_KEY] = meta
        return doc

    return records_from_json_lines(path, to_doc)

