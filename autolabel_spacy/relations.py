"""Relations between the entities of a doc: how they are grouped, stored and scored.

A relation links two *entities* of a doc, not two mentions: the mentions
that share a concept id (``kb_id_``; each part of a composite ``A|B``) or,
without one, the same normalised text and label are one entity, keyed by
that id or text. That is how document-level relations such as BC5CDR's CID
("the chemical D008750 induces the disease D003000 somewhere in this
abstract") are stated and scored.

A doc's relations live in ``doc.user_data`` under ``confidences.RELATIONS_KEY``
(so they travel in a DocBin, through ``nlp.pipe(n_process=...)`` and to
disk) as ``{"relations": [{"head", "child", "label"[, "score"]}]}``, beside
their confidence (``confidences.py``);
``doc._.relations`` reads them. A doc read from PubTator has its relation
lines there (``formats/pubtator.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, NamedTuple, Optional, Sequence

from spacy.tokens import Doc, Span

from .confidences import RELATIONS_KEY, with_relation_confidence

NO_ID = "-1"  # the concept id of a mention that has none (PubTator's convention)
NO_IDS = ("", NO_ID)
TEXT_KEY = "~"  # the key of an entity without a concept id: "~" and its normalised text


class Relation(NamedTuple):
    head: str  # entity key
    child: str
    label: str
    score: Optional[float] = None


@dataclass
class Entity:
    label: str
    key: str  # concept id, or "~" + normalised text
    mentions: list = field(default_factory=list)  # [(start token, end token)]


def mention_keys(span: Span) -> list[str]:
    """The entity keys of a mention: each id of its ``kb_id_`` (``A|B`` and
    ``A+B`` name two), else its lower-cased text with whitespace collapsed."""
    ids = [part for part in span.kb_id_.replace("+", "|").split("|") if part not in NO_IDS]
    return ids or [TEXT_KEY + " ".join(span.text.lower().split())]


def entities(doc: Doc, spans: Optional[Iterable[Span]] = None) -> list[Entity]:
    """The entities of ``spans`` (default ``doc.ents``), in the order of
    their first mention; one per (label, key)."""
    groups: dict[tuple[str, str], Entity] = {}
    for span in doc.ents if spans is None else spans:
        for key in mention_keys(span):
            entity = groups.setdefault((span.label_, key), Entity(span.label_, key))
            entity.mentions.append((span.start, span.end))
    return list(groups.values())


def set_relations(doc: Doc, relations: Sequence[Relation], confidence: Optional[float] = None) -> None:
    """Store ``relations`` (and the probability that the doc's relation
    decisions are all right) on the doc."""
    doc.user_data[RELATIONS_KEY] = with_relation_confidence(
        {"relations": [_relation_dict(r) for r in relations]}, confidence
    )


def get_relations(doc: Doc) -> list[Relation]:
    """The relations stored on the doc (none when it has none)."""
    data = doc.user_data.get(RELATIONS_KEY) or {}
    return [Relation(r["head"], r["child"], r["label"], r.get("score")) for r in data.get("relations", [])]


def has_relations(doc: Doc) -> bool:
    """Whether relations were set on the doc (read or predicted; none is an answer too)."""
    return RELATIONS_KEY in doc.user_data


def first_mentions(doc: Doc) -> list[tuple[Relation, Span, Span]]:
    """Each relation with the first mention of its head and of its child:
    where formats that relate mentions (Label Studio, Prodigy, doccano)
    draw it."""
    first: dict[str, Span] = {}
    ents = {(ent.start, ent.end): ent for ent in doc.ents}  # the entity spans themselves: their label and concept id
    for entity in entities(doc):
        first.setdefault(entity.key, ents[entity.mentions[0]])
    return [(r, first[r.head], first[r.child]) for r in get_relations(doc) if r.head in first and r.child in first]


def drawn_keys(relation: Relation, head: Span, child: Span) -> Optional[list[str]]:
    """The entity keys a relation drawn between two mentions names, where
    the mentions alone do not tell them: ``[head key, child key]`` when a
    mention is a composite (``A|B`` is two entities; an arrow from it names
    one of them), else None. Formats that relate mentions write it beside
    the arrow, and ``formats.relation_items.between_mentions`` reads it back."""
    if len(mention_keys(head)) > 1 or len(mention_keys(child)) > 1:
        return [relation.head, relation.child]
    return None


def relation_records(doc: Doc) -> list[dict]:
    """The doc's relations as a record's ``relations`` list."""
    return [_relation_dict(r) for r in get_relations(doc)]


def prf(predicted: Iterable[tuple], gold: Iterable[tuple]) -> dict:
    """Precision, recall and F1 (in percent) of two sets of tuples, with counts."""
    predicted, gold = set(predicted), set(gold)
    tp = len(predicted & gold)
    p = 100 * tp / len(predicted) if predicted else 0.0
    r = 100 * tp / len(gold) if gold else 0.0
    return {
        "p": p,
        "r": r,
        "f": 2 * p * r / (p + r) if p + r else 0.0,
        "tp": tp,
        "predicted": len(predicted),
        "gold": len(gold),
    }


def score_relations(pairs: Iterable[tuple[Doc, Doc]]) -> dict:
    """Relation P/R/F1 over (predicted doc, reference doc) pairs: the set of
    (doc, head, child, label) predicted against the gold one, overall
    (``rel_p``/``rel_r``/``rel_f``) and per label (``rel_f_per_type``).

    A predicted entity keyed by its text (a tagger's mentions have no concept
    id) takes the ids of the gold mentions its mentions match exactly (same
    characters, same label); one that matches none keeps its text key, which
    no gold relation names."""
    predicted, gold = set(), set()
    for i, (pred_doc, ref_doc) in enumerate(pairs):
        predicted |= {(i, *t) for t in linked_relations(pred_doc, ref_doc)}
        gold |= {(i, r.head, r.child, r.label) for r in get_relations(ref_doc)}
    overall = prf(predicted, gold)
    per_label = {
        label: prf({t for t in predicted if t[3] == label}, {t for t in gold if t[3] == label})
        for label in sorted({t[3] for t in predicted | gold})
    }
    return {
        "rel_p": overall["p"] / 100,
        "rel_r": overall["r"] / 100,
        "rel_f": overall["f"] / 100,
        "rel_f_per_type": {k: {"p": v["p"] / 100, "r": v["r"] / 100, "f": v["f"] / 100} for k, v in per_label.items()},
    }


def mention_pairs(doc: Doc) -> set[tuple[int, int, int, int, str]]:
    """The doc's relations at the mention level: for each relation, every
    pair (a mention of its head, a mention of its child) as character
    offsets ``(head start, head end, child start, child end, label)``."""
    where: dict[str, list[tuple[int, int]]] = {}
    for entity in entities(doc):
        where.setdefault(entity.key, []).extend((doc[s:e].start_char, doc[s:e].end_char) for s, e in entity.mentions)
    return {
        (*h, *c, r.label) for r in get_relations(doc) for h in where.get(r.head, []) for c in where.get(r.child, [])
    }


def score_mention_pairs(pairs: Iterable[tuple[Doc, Doc]]) -> dict:
    """Relation P/R/F1 (in percent, with counts) at the mention level: the
    predicted doc's mention pairs (:func:`mention_pairs`) against the
    reference's, so that a missed or misplaced mention costs what it costs
    a reviewer, which the entity-level score (:func:`score_relations`) does
    not count."""
    predicted, gold = set(), set()
    for i, (pred_doc, ref_doc) in enumerate(pairs):
        predicted |= {(i, *t) for t in mention_pairs(pred_doc)}
        gold |= {(i, *t) for t in mention_pairs(ref_doc)}
    return prf(predicted, gold)


def linked_relations(pred_doc: Doc, ref_doc: Doc) -> set[tuple[str, str, str]]:
    """The predicted doc's relations as (head, child, label), its entities
    without a concept id keyed by the gold ids :func:`gold_ids` gives them."""
    ids = gold_ids(pred_doc, ref_doc)
    return {
        (h, c, r.label)
        for r in get_relations(pred_doc)
        for h in ids.get(r.head, [r.head])
        for c in ids.get(r.child, [r.child])
    }


def gold_ids(pred_doc: Doc, ref_doc: Doc) -> dict[str, list[str]]:
    """Text key of each predicted entity without a concept id -> the ids of
    the gold mentions at exactly its mentions' characters with its label."""
    gold = {}
    for ent in ref_doc.ents:
        gold.setdefault((ent.start_char, ent.end_char, ent.label_), []).extend(
            k for k in mention_keys(ent) if not k.startswith(TEXT_KEY)
        )
    out: dict[str, set] = {}
    for ent in pred_doc.ents:
        keys = mention_keys(ent)
        if keys[0].startswith(TEXT_KEY):
            out.setdefault(keys[0], set()).update(gold.get((ent.start_char, ent.end_char, ent.label_), []))
    return {key: sorted(ids) for key, ids in out.items() if ids}


def _relation_dict(relation: Relation) -> dict:
    out = {"head": relation.head, "child": relation.child, "label": relation.label}
    if relation.score is not None:
        out["score"] = float(relation.score)
    return out


if not Doc.has_extension("relations"):
    Doc.set_extension("relations", getter=get_relations)
