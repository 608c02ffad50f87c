"""Evaluate reports for tests, built with the report's own types (so a test
that needs a report with a given recommendation writes a real one)."""

from __future__ import annotations

from typing import Optional

from autolabel_spacy.evaluate_report import CategoryReport, EntityReport, EvaluateReport, Recommendation, RelationReport

UNSET = object()


def a_report(
    entities: Optional[Recommendation] = UNSET, relations=UNSET, categories=UNSET, rank_by: str = "sentence"
) -> EvaluateReport:
    """A report with an entity section recommending ``entities`` (leave it
    out for a report without entities), and a relation or category section
    recommending ``relations`` / ``categories`` when given (None: no
    threshold reached the target)."""
    report = EvaluateReport(docs=200, stamp={"model": "m", "data": "dev.spacy"}, target_accuracy=0.99)
    if entities is not UNSET:
        report.entities = EntityReport(
            unit="doc",
            units=200,
            rank_by=rank_by,
            ents_p=0.8,
            ents_r=0.7,
            ents_f=0.75,
            per_label={},
            span_ece=0.02,
            reliability=[],
            doc_accuracy=0.6,
            by_mentions=[],
            confident_errors=[],
            routing=[],
            min_accepted=100,
            recommended=entities,
        )
    if relations is not UNSET:
        report.relations = RelationReport(
            p=0.5,
            r=0.5,
            f=0.5,
            per_label={},
            mention_pairs={"p": 0.5, "r": 0.5, "f": 0.5},
            docs_exactly_right=0.4,
            routing=[],
            min_accepted=100,
            recommended=relations,
        )
    if categories is not UNSET:
        report.categories = CategoryReport(
            docs=200,
            accuracy=0.9,
            macro_f=0.8,
            per_label={},
            ece=0.03,
            reliability=[],
            routing=[],
            min_accepted=100,
            recommended=categories,
        )
    return report
