"""``evaluate``: per-label P/R/F1, calibration of span confidences, and the
coverage/accuracy curve of routing by doc confidence with a recommended
auto-accept threshold."""
from __future__ import annotations

from typing import Optional

from spacy.scorer import Scorer
from spacy.training import Example

from .. import evaluation
from ..formats.io import read_docs
from ..formats.records import scored_group
from ..loading import load_pipeline


def evaluate(model, data, data_format: Optional[str] = None, target_accuracy: float = 0.99, batch_size: int = 256) -> dict:



    if not 0.0 < target_accuracy <= 1.0:
        raise ValueError(f"target_accuracy must be in (0, 1], got {target_accuracy}")
    nlp = load_pipeline(model, need_entities="evaluate")
    gold = list(read_docs(data, nlp, data_format))
    # one pass of the pipeline serves spaCy's scorer and the calibration figures
    predicted = list(nlp.pipe((doc.text for doc in gold), batch_size=batch_size))
    scores = Scorer(nlp).score([Example(pred, ref) for pred, ref in zip(predicted, gold)])
    group = scored_group(predicted[0]) if predicted else None
    spans = evaluation.scored_spans(predicted, gold, group.name) if group is not None else []
    docs = evaluation.scored_docs(predicted, gold)
    return {
        "docs": len(gold),
        "ents_p": scores["ents_p"],
        "ents_r": scores["ents_r"],
        "ents_f": scores["ents_f"],
        "per_label": scores.get("ents_per_type") or {},
        "span_ece": evaluation.expected_calibration_error(spans),
        "reliability": evaluation.reliability_table(spans),
        "doc_accuracy": sum(d.correct for d in docs) / max(1, len(docs)),
        "routing": evaluation.routing_curve(docs),
        "target_accuracy": target_accuracy,
        "recommended": evaluation.recommend_threshold(docs, target_accuracy),
    }
