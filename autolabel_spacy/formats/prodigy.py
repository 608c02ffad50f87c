"""Prodigy JSONL (``ner_manual`` style): ``{"text", "tokens": [{"text",
"start", "end", "id", "ws"}], "spans": [{"start", "end", "token_start",
"token_end", "label"}], "meta", "answer"}``; ``token_end`` is inclusive.
A doc's relations are ``"relations": [{"head", "child", "head_span",
"child_span", "label"}]`` as ``rel.manual`` writes them (``head``/``child``
the last token of each span), between the first mentions of the two
entities (with ``"keys": [head, child]`` where a composite mention
leaves open which of its entities it relates); its categories are ``"options"`` with the top one in
``"accept"`` (``choice``). A span's concept id is its ``"kb_id"``.

Read: records answered ``reject`` or ``ignore`` are errors (so they are
counted, never silently used or lost); records without an answer are read.
"""

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
    records_from_json_lines,
    span_scores,
)
from .relation_items import between_mentions, read_relations


def doc_to_task(doc: Doc) -> dict:
    tokens = [
        {"text": t.text, "start": t.idx, "end": t.idx + len(t), "id": t.i, "ws": bool(t.whitespace_)} for t in doc
    ]
    spans = []
    ids = concept_ids(doc)
    for start, end, label, score in scored_entities(doc):
        span = doc.char_span(start, end)
        item = _span_item(span, label)
        if score is not None:
            item["score"] = round(score, 6)
        if (start, end) in ids:
            item["kb_id"] = ids[(start, end)]
        spans.append(item)
    task = {"text": doc.text, "tokens": tokens, "spans": spans}
    if has_relations(doc):
        task["relations"] = []
        for r, head, child in first_mentions(doc):
            item = {
                "head": head.end - 1,
                "child": child.end - 1,
                "head_span": _span_item(head),
                "child_span": _span_item(child),
                "label": r.label,
            }
            if r.score is not None:
                item["score"] = round(r.score, 6)
            keys = drawn_keys(r, head, child)
            if keys:  # a relation from a composite mention: which of its entities it relates
                item["keys"] = keys
            task["relations"].append(item)
    if doc.cats:
        task["options"] = [{"id": c, "text": c} for c in doc.cats]
        task["accept"] = [top_category(doc.cats)]
    meta = meta_with_score(doc)
    if meta:
        task["meta"] = meta
    return task


def _span_item(span, label: Optional[str] = None) -> dict:
    return {
        "start": span.start_char,
        "end": span.end_char,
        "token_start": span.start,
        "token_end": span.end - 1,
        "label": label or span.label_,
    }


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
            spans.append((span["start"], span["end"], span["label"], span.get("kb_id")))
        meta = task.get("meta")
        if meta is not None and not isinstance(meta, dict):
            raise RecordError(where, f"'meta' must be an object, got {type(meta).__name__}")
        doc = make_doc(
            nlp,
            task.get("text"),
            spans,
            where,
            align,
            labels,
            scores=span_scores(task.get("spans") or []),
            doc_score=(meta or {}).get("score"),
        )
        if task.get("relations") is not None:
            set_relations(doc, read_relations(doc, _relations(doc, task["relations"], where, align), where))
        if task.get("accept") is not None and task.get("options") is not None:
            doc.cats = _cats(task, where)
        if meta:
            doc.user_data[META_KEY] = meta
        return doc

    return records_from_json_lines(path, to_doc)


def _relations(doc: Doc, items, where: str, align: str) -> list[dict]:
    if not isinstance(items, list):
        raise RecordError(where, f"'relations' must be a list, got {type(items).__name__}")
    pairs = []
    for i, item in enumerate(items):
        spans = [item.get(k) if isinstance(item, dict) else None for k in ("head_span", "child_span")]
        if not all(isinstance(s, dict) for s in spans):
            raise RecordError(where, f"relation {i} needs 'head_span' and 'child_span' objects")
        ends = [(s.get("start"), s.get("end")) for s in spans]
        pairs.append((i, ends[0], ends[1], item.get("label"), item.get("score"), item.get("keys")))
    return between_mentions(doc, pairs, where, align)


def _cats(task: dict, where: str) -> dict:
    """``options`` and the ``accept``ed one -> one-hot categories."""
    options, accepted = task["options"], task["accept"]
    names = [o.get("id") for o in options if isinstance(o, dict)] if isinstance(options, list) else None
    if not names or not all(isinstance(n, str) and n for n in names) or len(names) != len(options):
        raise RecordError(where, "'options' must be a list of objects with an 'id' string each")
    if not isinstance(accepted, list) or len(accepted) != 1 or accepted[0] not in names:
        raise RecordError(where, f"'accept' must name one of the options {names}, got {accepted!r}")
    return {name: float(name == accepted[0]) for name in names}
