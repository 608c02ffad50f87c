"""Routing: which tagged docs are accepted as they are and which go to review.

The words, here and wherever routing is meant:

- a **unit** is what an entity threshold is compared with: a sentence of a
  doc scored sentence by sentence (a whole abstract), otherwise the doc;
- a **part** of a doc's annotation has its own confidence and threshold:
  its ``entities`` (by unit), its ``relations`` (the probability that all
  its relation decisions are right) and its ``category`` (the top one's
  probability);
- a **threshold** is the score from which a part is accepted, chosen by
  ``evaluate`` on dev data (:func:`thresholds_from_report`) or given;
- a **decision** is ``accepted`` or ``review``, with the record of why
  (:func:`route`): a doc is accepted when every part it has is.

What a unit's score is: its probability, or with ``rank_by="token"`` that
probability's geometric mean per token (:func:`routing_score`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from .checks import probability
from .confidences import doc_confidence, relation_confidence, sentence_confidences
from .evaluate_report import read_report
from .evaluation import ScoredDoc

ACCEPTED, REVIEW = "accepted", "review"
DECISIONS = (ACCEPTED, REVIEW)
# what a unit (a sentence, or a doc scored as one piece) is routed by:
# its probability, or that probability's geometric mean per token
RANK_BY = ("sentence", "token")
# the threshold of a part whose evaluate report recommends none: above every
# probability, so that part sends every doc to review (a threshold of 1.0
# would still accept the docs a saturated float32 probability puts at 1.0)
REVIEW_ALL = math.nextafter(1.0, 2.0)


class RoutingOptionError(ValueError):
    """Routing options that do not go together (the command line's usage error)."""


def check_rank_by(rank_by: str) -> None:
    if rank_by not in RANK_BY:
        raise ValueError(f"rank_by must be one of {', '.join(RANK_BY)}, got {rank_by!r}")


def routing_score(probability: float, tokens: int, rank_by: str = "sentence") -> float:
    """The score a unit is routed by: its probability (``rank_by="sentence"``)
    or ``probability ** (1 / tokens)`` (``"token"``), so that a long sentence
    without mentions is not ranked below a short one only for its length. The
    second is a ranking, not a probability: its threshold must be chosen on
    the same scores (``evaluate --rank-by token``)."""
    check_rank_by(rank_by)
    return probability if rank_by == "sentence" else probability ** (1.0 / max(1, tokens))


def ranked(units: list[ScoredDoc], rank_by: str = "sentence") -> list[ScoredDoc]:
    """The units with their confidence replaced by :func:`routing_score`."""
    return [
        ScoredDoc(routing_score(u.confidence, u.tokens, rank_by), u.correct, u.mentions, u.predicted, u.tokens)
        for u in units
    ]


@dataclass(frozen=True)
class Routing:
    """The thresholds of a run: ``threshold`` for the entities' units (None
    only for a pipeline that sets no entities), and, when the pipeline
    relates entities or categorises docs, ``relation_threshold`` and
    ``category_threshold`` (None: that part is not checked)."""

    threshold: Optional[float]
    rank_by: str = "sentence"
    relation_threshold: Optional[float] = None
    category_threshold: Optional[float] = None

    def __post_init__(self) -> None:
        if (self.threshold, self.relation_threshold, self.category_threshold) == (None, None, None):
            raise ValueError("routing needs a threshold for at least one part: entities, relations or categories")
        for name in ("threshold", "relation_threshold", "category_threshold"):
            value = getattr(self, name)
            if value is not None and not (probability(value) or value == REVIEW_ALL):
                option = "accept_threshold" if name == "threshold" else name
                raise ValueError(f"{option} must be a number in [0, 1], got {value!r}")
        check_rank_by(self.rank_by)


def route(doc, routing: Routing) -> tuple[str, dict]:
    """The decision on a tagged doc, and its record of why.

    A doc of one sentence is accepted when the score of its whole annotation
    (its probability, ``crf_ner``'s ``sequence_prob``) reaches the
    threshold. A doc of several scored sentences is routed sentence by
    sentence, as ``evaluate`` chooses its threshold for such docs: each
    sentence whose score reaches the threshold is accepted, and the doc is
    accepted when all of them are; otherwise it goes to review, whole, its
    record listing the sentences left to review (``[start, end, score]``,
    character offsets and the score compared with the threshold) so that a
    reviewer reads those and not the rest. Without an entity threshold (a
    pipeline of categories only) the other parts decide alone."""
    if routing.threshold is None:
        return _check_parts(doc, routing, ACCEPTED, {})
    why = {"threshold": routing.threshold}
    if routing.rank_by != "sentence":
        why["rank_by"] = routing.rank_by
    sentences = sentence_confidences(doc)
    if not sentences:
        confidence = doc_confidence(doc)
        accepted = confidence is not None and routing_score(confidence, len(doc), routing.rank_by) >= routing.threshold
        decision = ACCEPTED if accepted else REVIEW
        return _check_parts(doc, routing, decision, {"route": decision, **why})
    left = []
    for start, end, confidence in sentences:
        score = routing_score(confidence, end - start, routing.rank_by)
        if score < routing.threshold:
            span = doc[start:end]
            left.append([span.start_char, span.end_char, round(score, 6)])
    decision = REVIEW if left else ACCEPTED
    why = {
        "route": decision,
        **why,
        "unit": "sentence",
        "sentences": len(sentences),
        "sentences_accepted": len(sentences) - len(left),
    }
    if left:
        why["review_sentences"] = left
    return _check_parts(doc, routing, decision, why)


def _check_parts(doc, routing: Routing, decision: str, why: dict) -> tuple[str, dict]:
    """The relations and the category of a doc decided on by its entities:
    each checked against its own threshold; the doc is accepted only when
    every part is, and the record says how each part scored."""
    checks = []
    relations = relation_confidence(doc)
    if routing.relation_threshold is not None and relations is not None:
        checks.append(("relations", relations, routing.relation_threshold))
    if routing.category_threshold is not None and doc.cats:
        checks.append(("category", max(doc.cats.values()), routing.category_threshold))
    for part, score, threshold in checks:
        passed = score >= threshold
        why[part] = {"score": round(float(score), 6), "threshold": threshold, "accepted": passed}
        if not passed:
            decision = REVIEW
    why["route"] = decision
    return decision, why


def decision_line(record: dict, threshold: Optional[float]) -> dict:
    """A line of ``decisions.jsonl`` for a tagged record (its decision,
    score, the threshold, its span scores and, for a doc routed sentence by
    sentence, its sentences)."""
    why = record.get("decision") or {}
    line = {
        "id": record["id"],
        "decision": why.get("route", "annotated"),
        "score": record.get("score"),
        "threshold": threshold,
        "span_scores": [s.get("score") for s in record["spans"]],
    }
    if "sentences" in why:
        line["sentences"] = why["sentences"]
        line["sentences_accepted"] = why["sentences_accepted"]
        line["review_sentences"] = why.get("review_sentences", [])
    return line


def units_decided(record: dict, decision: str) -> tuple[int, int]:
    """How many units of a routed record were accepted and left to review."""
    why = record.get("decision") or {}
    accepted = why.get("sentences_accepted", int(decision == ACCEPTED))
    return accepted, why.get("sentences", 1) - accepted


def review_priority(record: dict) -> float:
    """A record's place in the review queue: its lowest score over its parts
    (entities, relations, top category), least sure first (-1 for a record
    without any score)."""
    scores = [record.get("score"), record.get("relation_score")]
    if record.get("cats"):
        scores.append(max(record["cats"].values()))
    scores = [s for s in scores if s is not None]
    return min(scores) if scores else -1.0


@dataclass(frozen=True)
class Thresholds:
    """The thresholds of a run as given or read from an evaluate report,
    and, when read, a line saying where they came from."""

    accept_threshold: Optional[float] = None
    rank_by: Optional[str] = None
    relation_threshold: Optional[float] = None
    category_threshold: Optional[float] = None
    why: Optional[str] = None


def thresholds_from_report(path) -> Thresholds:
    """The thresholds an ``evaluate`` report recommends, for every part it
    evaluated (:data:`REVIEW_ALL` for a part whose target accuracy no
    threshold reached: every doc goes to review). The report of a pipeline
    that sets no entities gives no entity threshold."""
    report = read_report(path)
    others = {}
    for part, key in (("relations", "relation_threshold"), ("categories", "category_threshold")):
        section = getattr(report, part)
        if section is not None:
            others[key] = section.recommended.threshold if section.recommended else REVIEW_ALL
    entities, target = report.entities, report.target_accuracy
    if entities is None:
        return Thresholds(
            None,
            "sentence",
            **others,
            why=f"{path}: a report without entities; the other parts' thresholds route the docs",
        )
    rec = entities.recommended
    if rec is None:
        return Thresholds(
            REVIEW_ALL,
            entities.rank_by,
            **others,
            why=f"{path}: no threshold reached accuracy {target}; every {entities.unit} goes to review",
        )
    ranked_by = f", ranked by {entities.rank_by}" if entities.rank_by != "sentence" else ""
    why = (
        f"{path}: threshold {rec.threshold:.6f} (accepted {rec.coverage:.1%} of its {entities.unit}s at accuracy "
        f"{rec.accuracy:.3f}, target {target}{ranked_by})"
    )
    return Thresholds(rec.threshold, entities.rank_by, **others, why=why)


def chosen_thresholds(given: Thresholds, report_path=None) -> Thresholds:
    """The thresholds of a run: those ``given``, or those of the report in
    ``report_path`` where none is given (a threshold given wins over the
    report's; an entity threshold or ``rank_by`` given beside a report is an
    error, as ``rank_by`` without an entity threshold is)."""
    if given.rank_by is not None and given.accept_threshold is None and report_path is None:
        raise RoutingOptionError("--rank-by needs --accept-threshold or --accept-threshold-from")
    if report_path is None:
        return given
    if given.accept_threshold is not None:
        raise RoutingOptionError("give --accept-threshold or --accept-threshold-from, not both")
    chosen = thresholds_from_report(report_path)
    if given.rank_by is not None and given.rank_by != chosen.rank_by:
        raise RoutingOptionError(
            f"--rank-by {given.rank_by}: {report_path} chose its threshold ranking by {chosen.rank_by}"
        )
    return Thresholds(
        chosen.accept_threshold,
        chosen.rank_by,
        given.relation_threshold if given.relation_threshold is not None else chosen.relation_threshold,
        given.category_threshold if given.category_threshold is not None else chosen.category_threshold,
        chosen.why,
    )
