"""Calibration of span confidences: reliability table, ECE, precision at a
threshold; routing by doc or sentence confidence.

Exact-span P/R/F comes from spaCy's own scorer (``Language.evaluate`` /
``spacy.ner_scorer.v1``); this module adds what spaCy has no scorer for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np
from spacy.tokens import Doc

from .confidences import doc_confidence, relation_confidence, sentence_confidences, span_confidences, top_category
from .evaluate_report import CategoryReport, Recommendation, RelationReport
from .relations import get_relations, linked_relations, score_mention_pairs


@dataclass
class ScoredSpan:
    confidence: float
    correct: bool


def scored_spans(predicted: Iterable[Doc], gold: Iterable[Doc], spans_key: str) -> list[ScoredSpan]:
    """Each predicted span in ``doc.spans[spans_key]`` with its confidence and
    whether it matches a gold entity exactly (same characters, same label)."""
    out = []
    for pred, ref in zip(predicted, gold):
        truth = {(e.start_char, e.end_char, e.label_) for e in ref.ents}
        group = pred.spans.get(spans_key)
        if group is None:
            continue
        scores = span_confidences(group)
        if scores is None:
            raise ValueError(f"doc.spans[{spans_key!r}] has no confidence per span")
        for span, score in zip(group, scores):
            out.append(ScoredSpan(float(score), (span.start_char, span.end_char, span.label_) in truth))
    return out


def reliability_table(spans: list[ScoredSpan], n_bins: int = 10) -> list[dict]:
    """Equal-width confidence bins: count, mean confidence, accuracy."""
    conf = np.array([s.confidence for s in spans], dtype=float)
    correct = np.array([s.correct for s in spans], dtype=float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # bin i holds (edges[i], edges[i+1]]; confidence 0 goes to the first bin
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    rows = []
    for i in range(n_bins):
        sel = idx == i
        n = int(sel.sum())
        rows.append(
            {
                "low": float(edges[i]),
                "high": float(edges[i + 1]),
                "count": n,
                "confidence": float(conf[sel].mean()) if n else None,
                "accuracy": float(correct[sel].mean()) if n else None,
            }
        )
    return rows


def expected_calibration_error(spans: list[ScoredSpan], n_bins: int = 10) -> float:
    """Count-weighted mean |accuracy - confidence| over the reliability bins."""
    if not spans:
        return 0.0
    total = len(spans)
    return float(
        sum(
            r["count"] / total * abs(r["accuracy"] - r["confidence"])
            for r in reliability_table(spans, n_bins)
            if r["count"]
        )
    )


def precision_above(spans: list[ScoredSpan], threshold: float) -> tuple[Optional[float], int]:
    """Precision of the spans with confidence >= threshold, and how many there are."""
    chosen = [s.correct for s in spans if s.confidence >= threshold]
    return (float(np.mean(chosen)) if chosen else None), len(chosen)


@dataclass
class ScoredDoc:
    """A doc, or one sentence of a doc: the unit a reviewer accepts."""

    confidence: float  # probability that the whole annotation is right
    correct: bool  # predicted entities == gold entities exactly
    mentions: int = 0  # gold entities
    predicted: frozenset = frozenset()  # predicted entities (start char, end char, label)
    tokens: int = 0  # the unit's length


def scored_categories(predicted: Iterable[Doc], gold: Iterable[Doc]) -> list[ScoredDoc]:
    """Per doc with a gold category: the probability of its top predicted
    category, and whether that is the gold one."""
    out = []
    for pred, ref in zip(predicted, gold):
        if ref.cats and pred.cats:
            top = top_category(pred.cats)
            out.append(ScoredDoc(float(pred.cats[top]), top == top_category(ref.cats)))
    return out


def scored_relation_docs(predicted: Iterable[Doc], gold: Iterable[Doc]) -> list[ScoredDoc]:
    """Per doc whose relations a model scored: the probability that all its
    relation decisions are right, and whether its relations are exactly the
    gold ones (a tagger's entities take the gold mentions' ids, as
    :func:`relations.score_relations` scores them)."""
    out = []
    for pred, ref in zip(predicted, gold):
        confidence = relation_confidence(pred)
        if confidence is None:
            continue
        gold = {(r.head, r.child, r.label) for r in get_relations(ref)}
        out.append(ScoredDoc(float(confidence), linked_relations(pred, ref) == gold))
    return out


def relation_report(
    predicted: list[Doc], gold: list[Doc], scores: dict, target_accuracy: float, min_accepted: Optional[int] = None
) -> RelationReport:
    """Relation P/R/F1 between entities (the component's scorer; concept
    ids transferred from the gold mentions) and between mentions (every
    mention pair of a relation), and the routing of docs by the probability
    that all their relation decisions are right."""
    docs = scored_relation_docs(predicted, gold)
    mentions = score_mention_pairs(zip(predicted, gold))
    return RelationReport(
        p=scores["rel_p"],
        r=scores["rel_r"],
        f=scores["rel_f"],
        per_label=scores.get("rel_f_per_type") or {},
        mention_pairs={key: mentions[key] / 100 for key in ("p", "r", "f")},
        docs_exactly_right=sum(d.correct for d in docs) / max(1, len(docs)),
        routing=routing_curve(docs),
        min_accepted=min_accepted or least_accepted(target_accuracy),
        recommended=recommend_threshold(docs, target_accuracy, min_accepted),
    )


def category_report(
    predicted: list[Doc], gold: list[Doc], scores: dict, target_accuracy: float, min_accepted: Optional[int] = None
) -> CategoryReport:
    """Accuracy, macro-F1 (spaCy's scorer), calibration and the threshold
    on the top category's probability that keeps ``target_accuracy``."""
    docs = scored_categories(predicted, gold)
    as_spans = [ScoredSpan(d.confidence, d.correct) for d in docs]
    return CategoryReport(
        docs=len(docs),
        accuracy=sum(d.correct for d in docs) / max(1, len(docs)),
        macro_f=scores.get("cats_macro_f"),
        per_label=scores.get("cats_f_per_type") or {},
        ece=expected_calibration_error(as_spans),
        reliability=reliability_table(as_spans),
        routing=routing_curve(docs),
        min_accepted=min_accepted or least_accepted(target_accuracy),
        recommended=recommend_threshold(docs, target_accuracy, min_accepted),
    )


def unannotated(doc: Doc) -> Doc:
    """A copy of a gold doc to run a pipeline on: same tokens and sentence
    boundaries (when it has them), no entities."""
    sent_starts = [bool(t.is_sent_start) for t in doc] if doc.has_annotation("SENT_START") else None
    return Doc(
        doc.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc], sent_starts=sent_starts
    )


def _ents_in(doc: Doc, start: int, end: int) -> set:
    return {(e.start_char, e.end_char, e.label_) for e in doc.ents if start <= e.start and e.end <= end}


def scored_docs(predicted: Iterable[Doc], gold: Iterable[Doc]) -> list[ScoredDoc]:
    """Per doc: its annotation's confidence (``sequence_prob`` of the scored
    span group) and whether all its entities are exactly right."""
    out = []
    for pred, ref in zip(predicted, gold):
        confidence = doc_confidence(pred)
        if confidence is None:
            raise ValueError(
                "predicted docs carry no annotation confidence (sequence_prob); is crf_ner in the pipeline?"
            )
        predicted = frozenset((e.start_char, e.end_char, e.label_) for e in pred.ents)
        same = predicted == {(e.start_char, e.end_char, e.label_) for e in ref.ents}
        out.append(ScoredDoc(confidence, same, len(ref.ents), predicted, len(ref)))
    return out


def scored_sentences(predicted: Iterable[Doc], gold: Iterable[Doc]) -> list[ScoredDoc]:
    """Per sentence: its confidence (``crf_ner``'s sentence probability; a
    doc scored as one piece counts as one sentence) and whether its entities
    are exactly the gold ones. The predicted docs must have the gold docs'
    tokens (run the pipeline on :func:`unannotated` copies)."""
    out = []
    for pred, ref in zip(predicted, gold):
        sentences = sentence_confidences(pred)
        if not sentences:
            out += scored_docs([pred], [ref])
            continue
        for start, end, confidence in sentences:
            truth, predicted = _ents_in(ref, start, end), frozenset(_ents_in(pred, start, end))
            out.append(ScoredDoc(confidence, predicted == truth, len(truth), predicted, end - start))
    return out


def confident_errors(predicted: list[Doc], gold: list[Doc], threshold: Optional[float], top: int = 10) -> list[dict]:
    """The commonest entity errors among the units a model is sure of: those
    whose confidence reaches ``threshold`` (the recommended one), or, with
    none, the 90th percentile of the units' confidences. An error is a predicted span that is not
    gold (``spurious``; ``wrong label`` or ``wrong boundary`` when a gold
    span overlaps it) or a gold span not predicted (``missed``), counted by
    kind, label and lower-cased text, with one unit's text as an example."""
    units = []
    for pred, ref in zip(predicted, gold):
        pieces = sentence_confidences(pred)
        if not pieces:
            confidence = doc_confidence(pred)
            pieces = [(0, len(pred), confidence)] if confidence is not None else []
        units += [(pred, ref, start, end, confidence) for start, end, confidence in pieces]
    if not units:
        return []
    if threshold is None:
        ranked = sorted(u[4] for u in units)
        threshold = ranked[int(0.9 * (len(ranked) - 1))]
    counts: dict[tuple, dict] = {}
    for pred, ref, start, end, confidence in units:
        if confidence < threshold:
            continue
        got, truth = _ents_in(pred, start, end), _ents_in(ref, start, end)
        if got == truth:
            continue
        example = pred[start:end].text
        for span_set, other, missed in ((got - truth, truth, False), (truth - got, got, True)):
            for s_start, s_end, label in span_set:
                overlapping = [o for o in other if o[0] < s_end and s_start < o[1]]
                if missed:
                    if overlapping:
                        continue  # counted from the predicted side
                    kind = "missed"
                elif not overlapping:
                    kind = "spurious"
                else:
                    kind = "wrong label" if any(o[:2] == (s_start, s_end) for o in overlapping) else "wrong boundary"
                key = (kind, label, pred.text[s_start:s_end].lower())
                entry = counts.setdefault(
                    key, {"kind": kind, "label": label, "text": key[2], "count": 0, "example": example}
                )
                entry["count"] += 1
    return sorted(counts.values(), key=lambda e: (-e["count"], e["kind"], e["text"]))[:top]


def agreement(units: list[ScoredDoc], *others: list[ScoredDoc]) -> list[ScoredDoc]:
    """The same units scored by several models (the first one's units, the
    others' beside them): where all predicted the same entities, the
    geometric mean of their confidences; where any disagrees, zero (such a
    unit always goes to review)."""
    for other in others:
        if len(other) != len(units):
            raise ValueError(f"{len(units)} units against {len(other)}: score the same gold docs with every model")
    out = []
    for u, *rest in zip(units, *others):
        agree = all(o.predicted == u.predicted for o in rest)
        confidence = (
            float(np.prod([u.confidence, *(o.confidence for o in rest)])) ** (1.0 / (1 + len(rest))) if agree else 0.0
        )
        out.append(ScoredDoc(confidence, u.correct, u.mentions, u.predicted, u.tokens))
    return out


def by_mentions(units: list[ScoredDoc], threshold: Optional[float] = None, most: int = 4) -> list[dict]:
    """Exact-match rate (and, given a threshold, the share auto-accepted) of
    the units with 0, 1, …, ``most`` or more gold mentions."""
    rows = []
    for n in range(most + 1):
        group = [u for u in units if (u.mentions >= most if n == most else u.mentions == n)]
        row = {"mentions": f"{n}+" if n == most else str(n), "units": len(group)}
        row["exactly_right"] = sum(u.correct for u in group) / len(group) if group else None
        if threshold is not None:
            row["accepted"] = sum(u.confidence >= threshold for u in group) / len(group) if group else None
        rows.append(row)
    return rows


def routing_curve(docs: list[ScoredDoc], thresholds: Optional[Iterable[float]] = None) -> list[dict]:
    """Auto-accepting docs with confidence >= t: for each t the share accepted
    (coverage) and the share of accepted docs that are exactly right."""
    if thresholds is None:
        thresholds = sorted({0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999, 0.9999})
    conf = np.array([d.confidence for d in docs], dtype=float)
    correct = np.array([d.correct for d in docs], dtype=bool)
    rows = []
    for t in thresholds:
        sel = conf >= t
        rows.append(
            {
                "threshold": float(t),
                "coverage": float(sel.mean()) if len(docs) else 0.0,
                "accepted": int(sel.sum()),
                "accuracy": float(correct[sel].mean()) if sel.any() else None,
            }
        )
    return rows


def least_accepted(target_accuracy: float) -> int:
    """The fewest accepted docs from which a threshold is recommended for
    ``target_accuracy``: ``1 / (1 - target)``, the count at which the
    errors the target allows amount to one doc (100 at 99%). Below it, an
    accepted set with no error at all says little about the target: a
    handful of confident dev docs all right is no evidence for 99%. A
    target of 1.0 allows no error at any count: 1."""
    if target_accuracy >= 1.0:
        return 1
    return max(1, math.ceil(round(1.0 / (1.0 - target_accuracy), 6)))


def recommend_threshold(
    docs: list[ScoredDoc], target_accuracy: float = 0.99, min_accepted: Optional[int] = None
) -> Optional[Recommendation]:
    """The lowest confidence threshold (so the most docs auto-accepted) at
    which the accepted docs are at least ``target_accuracy`` exactly right
    and number at least ``min_accepted`` (default
    :func:`least_accepted` of the target), searched over every distinct
    confidence; None if no threshold reaches both."""
    if not docs:
        return None
    least = least_accepted(target_accuracy) if not min_accepted else min_accepted
    order = sorted(docs, key=lambda d: -d.confidence)
    best = None
    n_correct = 0
    for i, doc in enumerate(order, start=1):
        n_correct += doc.correct
        last_of_tie = i == len(order) or order[i].confidence < doc.confidence
        if last_of_tie and i >= least and n_correct / i >= target_accuracy:
            best = Recommendation(threshold=doc.confidence, coverage=i / len(order), accuracy=n_correct / i, accepted=i)
    return best
