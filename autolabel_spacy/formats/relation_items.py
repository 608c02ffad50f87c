"""A record's relations, read and checked against its entities: the
relation items of jsonl and ``annotate``'s part files (:func:`read_relations`)
and the arrows between mentions of Label Studio, Prodigy and doccano
(:func:`between_mentions`). What does not hold is an error of the record."""

from __future__ import annotations

from typing import Iterable

from spacy.tokens import Doc

from ..checks import probability
from ..relations import Relation, mention_keys
from .records import RecordError


def read_relations(doc: Doc, items, where: str) -> list[Relation]:
    """A record's ``relations`` (``[{"head", "child", "label"[, "score"]}]``,
    entity keys as :func:`mention_keys` gives them) checked against the
    doc's entities: a relation naming an entity the record does not have, an
    entity related to itself, a repeated relation or a score outside [0, 1]
    is an error of the record."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise RecordError(where, f"'relations' must be a list, got {type(items).__name__}")
    keys = {key for ent in doc.ents for key in mention_keys(ent)}
    found: list[Relation] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not all(
            isinstance(item.get(f), str) and item[f] for f in ("head", "child", "label")
        ):
            raise RecordError(where, f"relation {i} needs 'head', 'child' and 'label' strings, got {item!r}")
        for end in ("head", "child"):
            if item[end] not in keys:
                raise RecordError(where, f"relation {i} names {end} {item[end]!r}, which no entity of the record has")
        if item["head"] == item["child"]:
            raise RecordError(where, f"relation {i} relates {item['head']!r} to itself")
        if any((r.head, r.child, r.label) == (item["head"], item["child"], item["label"]) for r in found):
            raise RecordError(where, f"relation {i} repeats {item['label']} {item['head']!r} -> {item['child']!r}")
        score = item.get("score")
        if score is not None and not probability(score):
            raise RecordError(where, f"relation {i} has a score outside [0, 1]: {score!r}")
        found.append(Relation(item["head"], item["child"], item["label"], score))
    return found


def between_mentions(doc: Doc, items: Iterable[tuple], where: str, align: str = "strict") -> list[dict]:
    """Relations a format states between two mentions, ``(i, (head start,
    head end), (child start, child end), label, score[, keys])`` in
    characters, as relation items between their entities for
    :func:`read_relations`: the entities ``keys`` names (what
    ``relations.drawn_keys`` wrote) when they are the mentions', else every key of
    a composite mention (an arrow a person drew). A mention that is not one
    of the doc's entities is an error of the record."""
    at = {(e.start_char, e.end_char): e for e in doc.ents}
    out = []
    for i, head, child, label, score, *named in items:
        ends = []
        for offsets in (head, child):
            span = doc.char_span(*offsets, alignment_mode=align) if all(isinstance(o, int) for o in offsets) else None
            ent = at.get((span.start_char, span.end_char)) if span is not None else None
            if ent is None:
                raise RecordError(
                    where, f"relation {i} links characters {list(offsets)}, where the record has no entity"
                )
            ends.append(mention_keys(ent))
        if not isinstance(label, str) or not label:
            raise RecordError(where, f"relation {i} needs a label string, got {label!r}")
        extra = {"score": score} if score is not None else {}
        keys = named[0] if named else None
        if isinstance(keys, list) and len(keys) == 2 and keys[0] in ends[0] and keys[1] in ends[1]:
            ends = [[keys[0]], [keys[1]]]
        out += [{"head": h, "child": c, "label": label, **extra} for h in ends[0] for c in ends[1]]
    return out
