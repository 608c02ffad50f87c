"""doccano sequence-labelling JSONL: ``{"text", "label": [[start, end,
LABEL], ...]}`` (doccano 1.x) — also read: ``"entities": [{"start_offset",
"end_offset", "label"}]`` (doccano ≥ 1.6 relation projects).

A doc with relations or concept ids is written in the relation projects'
form: ``"entities": [{"id", "label", "start_offset", "end_offset"}]`` and
``"relations": [{"id", "from_id", "to_id", "type"}]`` between the first
mentions of two entities (their scores in the metadata's
``relation_scores``, the entities' concept ids in ``kb_ids``, and in
``relation_keys`` which entities a relation from a composite mention
relates). A doc's top
category is ``"cats": [name]`` (its probability in ``cat_score``), as
doccano's intent-and-slot projects hold it.

doccano keeps every other key of a record as its metadata, so a doc's
metadata is written as top-level keys; the format's own fields always win:
a metadata key that is one of them (``text``, ``label``…), or that starts
with ``meta.``, is written as ``meta.<key>``, and reading strips that prefix
again, so metadata round-trips whatever its keys."""

from __future__ import annotations

from typing import Iterable, Iterator, Optional

import srsly
from spacy.tokens import Doc

from ..confidences import scored_entities, top_category
from ..relations import drawn_keys, first_mentions, has_relations, set_relations
from .detect import foreign
from .records import (
    META_KEY,
    Record,
    RecordError,
    concept_ids,
    make_doc,
    meta_with_score,
    open_for_write,
    read_cats,
    records_from_json_lines,
)
from .relation_items import between_mentions, read_relations

OWN_FIELDS = ("text", "label", "entities", "relations", "id", "cats")
META_PREFIX = "meta."


def doc_to_task(doc: Doc) -> dict:
    entities = scored_entities(doc)
    meta = meta_with_score(doc)
    scores = [round(p, 6) for *_, p in entities if p is not None]
    if scores:
        meta["span_scores"] = scores
    relations = first_mentions(doc) if has_relations(doc) else []
    ids = concept_ids(doc)
    if ids:
        meta["kb_ids"] = [ids.get((s, e)) for s, e, *_ in entities]
    if any(r.score is not None for r, *_ in relations):
        meta["relation_scores"] = [r.score for r, *_ in relations]
    keys = [drawn_keys(*drawn) for drawn in relations]
    if any(keys):  # relations from composite mentions: which of their entities each relates
        meta["relation_keys"] = keys
    if doc.cats:
        meta["cat_score"] = round(float(doc.cats[top_category(doc.cats)]), 6)
    task = {_meta_key(k): v for k, v in meta.items()}  # doccano keeps extra keys as metadata
    task["text"] = doc.text
    if ids or has_relations(doc):
        index = {(s, e): i for i, (s, e, *_) in enumerate(entities)}
        task["entities"] = [
            {"id": i, "label": label, "start_offset": s, "end_offset": e} for i, (s, e, label, _) in enumerate(entities)
        ]
        task["relations"] = [
            {
                "id": j,
                "from_id": index[(h.start_char, h.end_char)],
                "to_id": index[(c.start_char, c.end_char)],
                "type": r.label,
            }
            for j, (r, h, c) in enumerate(relations)
        ]
    else:
        task["label"] = [[s, e, label] for s, e, label, _ in entities]
    if doc.cats:
        task["cats"] = [top_category(doc.cats)]
    return task


def _meta_key(key: str) -> str:
    return META_PREFIX + key if key in OWN_FIELDS or key.startswith(META_PREFIX) else key


def _from_meta_key(key: str) -> str:
    return key[len(META_PREFIX) :] if key.startswith(META_PREFIX) else key


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
                raise RecordError(
                    where, f"'label' must be a list of [start, end, label], got {type(task['label']).__name__}"
                )
            for i, item in enumerate(task["label"]):
                if not isinstance(item, (list, tuple)) or len(item) != 3:
                    raise RecordError(where, f"label {i} must be [start, end, label], got {item!r}")
                spans.append(tuple(item))
        else:
            raise RecordError(
                where, "a doccano record needs a 'label' list (\"label\": [] for a text without entities)"
            )
        meta = {
            _from_meta_key(k): v for k, v in task.items() if k not in ("text", "label", "entities", "relations", "cats")
        }
        scores = meta.get("span_scores") if spans and isinstance(meta.get("span_scores"), list) else None
        kb_ids = meta.pop("kb_ids", None)
        if kb_ids is not None:
            if not isinstance(kb_ids, list) or len(kb_ids) != len(spans):
                raise RecordError(where, f"'kb_ids' must give one concept id (or null) per entity, got {kb_ids!r}")
            spans = [(*span, kb_id) for span, kb_id in zip(spans, kb_ids)]
        doc = make_doc(nlp, task.get("text"), spans, where, align, labels, scores=scores, doc_score=meta.get("score"))
        if task.get("relations") is not None:
            drawn = _relations(
                doc, task, meta.pop("relation_scores", None), meta.pop("relation_keys", None), where, align
            )
            set_relations(doc, read_relations(doc, drawn, where))
        if task.get("cats") is not None:
            doc.cats = _cats(task["cats"], meta.pop("cat_score", None), where)
        if meta:
            doc.user_data[META_KEY] = meta
        return doc

    return records_from_json_lines(path, to_doc)


def _relations(doc: Doc, task: dict, scores, keys, where: str, align: str) -> list[dict]:
    """``relations`` between entity ids -> relations between the entities."""
    items, ents = task["relations"], task.get("entities")
    if not isinstance(items, list):
        raise RecordError(where, f"'relations' must be a list, got {type(items).__name__}")
    if items and not isinstance(ents, list):
        raise RecordError(where, "'relations' need the 'entities' they link")
    offsets = {}
    for j, ent in enumerate(ents or []):
        if isinstance(ent, dict) and ent.get("id") is not None:
            if not _is_id(ent["id"]):
                raise RecordError(where, f"entity {j}'s id must be a number or a string, got {ent['id']!r}")
            offsets[ent["id"]] = (ent.get("start_offset"), ent.get("end_offset"))
    if scores is not None and (not isinstance(scores, list) or len(scores) != len(items)):
        raise RecordError(where, f"'relation_scores' must give one score per relation, got {scores!r}")
    pairs = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise RecordError(where, f"relation {i} must be an object, got {item!r}")
        for end in ("from_id", "to_id"):
            if not _is_id(item.get(end)) or item.get(end) not in offsets:
                raise RecordError(where, f"relation {i}'s {end} {item.get(end)!r} is no entity id of the record")
        named = keys[i] if isinstance(keys, list) and len(keys) == len(items) else None
        pairs.append(
            (
                i,
                offsets[item["from_id"]],
                offsets[item["to_id"]],
                item.get("type"),
                scores[i] if scores else None,
                named,
            )
        )
    return between_mentions(doc, pairs, where, align)


def _is_id(value) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, str)


def _cats(cats, score, where: str) -> dict:
    """``"cats": [name]`` (and its probability) -> the doc's categories."""
    if not isinstance(cats, list) or not all(isinstance(c, str) and c for c in cats):
        raise RecordError(where, f"'cats' must be a list of category names, got {cats!r}")
    if score is not None and len(cats) == 1:
        return read_cats({cats[0]: score}, where)
    return {c: 1.0 for c in cats}
