"""``evaluate``: per-label P/R/F1, calibration of span confidences, and the
coverage/accuracy curve of routing by confidence with a recommended
auto-accept threshold. Docs of several sentences (whole abstracts from
``pubtator``) are routed sentence by sentence, as a reviewer accepts them."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from typing import Optional

import spacy
from spacy.scorer import Scorer
from spacy.training import Example

from .. import __version__, evaluation, routing
from ..confidences import scored_group
from ..evaluate_report import EntityReport, EvaluateReport
from ..format_io import read_docs, reader_options
from ..formats import format_for_path
from ..hooks.manager import get_plugins
from ..loading import entity_components, load_pipeline


def evaluate(
    model,
    data,
    data_format: Optional[str] = None,
    target_accuracy: float = 0.99,
    batch_size: int = 256,
    align: str = "strict",
    label_map: Optional[dict] = None,
    rank_by: str = "sentence",
    min_accepted: Optional[int] = None,
) -> EvaluateReport:
    """The report of ``autolabel evaluate`` on gold ``data`` (any readable
    format; ``align`` and ``label_map`` for its reader, as ``convert``'s);
    its entities' ``unit`` says whether routing is by doc or sentence,
    ``rank_by`` what a unit's score is (:func:`routing.routing_score`). A threshold is
    recommended only where it accepts at least ``min_accepted`` units
    (default :func:`evaluation.least_accepted` of the target: 100 at 99%)."""
    if not 0.0 < target_accuracy <= 1.0:
        raise ValueError(f"target_accuracy must be in (0, 1], got {target_accuracy}")
    routing.check_rank_by(rank_by)
    nlp = load_pipeline(model, need_annotations="evaluate")
    plugins = get_plugins()
    data_format = data_format or format_for_path(data, plugins.formats())
    gold = list(read_docs(data, nlp, data_format, **reader_options(plugins.format(data_format), align, label_map)))
    # one pass of the pipeline serves spaCy's scorer and the calibration
    # figures; it sees the gold tokens and sentence boundaries, not the entities
    predicted = list(nlp.pipe((evaluation.unannotated(doc) for doc in gold), batch_size=batch_size))
    scores = Scorer(nlp).score([Example(pred, ref) for pred, ref in zip(predicted, gold)])
    report = EvaluateReport(docs=len(gold), stamp=stamp(model, data, nlp), target_accuracy=target_accuracy)
    if entity_components(nlp):  # else a pipeline of categories only
        report.entities = _entity_report(predicted, gold, scores, target_accuracy, rank_by, min_accepted)
    if (
        "rel_f" in scores
    ):  # a relation component: relations of the predicted entities, ids as relations.py transfers them
        report.relations = evaluation.relation_report(predicted, gold, scores, target_accuracy, min_accepted)
    if any(doc.cats for doc in gold):  # a category component, and gold categories
        report.categories = evaluation.category_report(predicted, gold, scores, target_accuracy, min_accepted)
    return report


def _entity_report(
    predicted: list, gold: list, scores: dict, target_accuracy: float, rank_by: str, min_accepted: Optional[int]
) -> EntityReport:
    """The entity part of the report: P/R/F1, span calibration, the routing
    curve by doc or sentence and the recommended threshold."""
    group = scored_group(predicted[0]) if predicted else None
    spans = evaluation.scored_spans(predicted, gold, group.name) if group is not None else []
    docs = routing.ranked(evaluation.scored_sentences(predicted, gold), rank_by)
    recommended = evaluation.recommend_threshold(docs, target_accuracy, min_accepted)
    threshold = recommended.threshold if recommended else None
    return EntityReport(
        unit="sentence" if len(docs) > len(gold) else "doc",
        units=len(docs),
        rank_by=rank_by,
        ents_p=scores["ents_p"],
        ents_r=scores["ents_r"],
        ents_f=scores["ents_f"],
        per_label=scores.get("ents_per_type") or {},
        span_ece=evaluation.expected_calibration_error(spans),
        reliability=evaluation.reliability_table(spans),
        doc_accuracy=sum(d.correct for d in docs) / max(1, len(docs)),
        by_mentions=evaluation.by_mentions(docs, threshold),
        confident_errors=evaluation.confident_errors(predicted, gold, threshold),
        routing=evaluation.routing_curve(docs),
        min_accepted=min_accepted or evaluation.least_accepted(target_accuracy),
        recommended=recommended,
    )


def stamp(model, data, nlp) -> dict:
    """What a report was made from: the model (its path or name, and its
    meta's name and version), the data, the versions that made it, and when."""
    return {
        "model": str(model),
        "pipeline": f"{nlp.meta.get('name', '')} {nlp.meta.get('version', '')}".strip(),
        "data": str(data),
        "autolabel_spacy": __version__,
        "spacy": spacy.__version__,
        "python": platform.python_version(),
        "made": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
