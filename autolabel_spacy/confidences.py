"""Where a Doc's confidences live, and the one way to write and read them.

Every predicted confidence a pipeline leaves on a doc, and every reader of
one (routing, evaluation, audit, select, the formats), goes through this
module; the keys are written nowhere else.

- **Span scores**: a span group whose ``attrs[SPAN_SCORES]`` holds one
  probability per span (``crf_ner``'s group under its ``spans_key``; a doc
  read from a file with scores has them in the group ``SCORED_KEY``).
- **Sequence probability**: ``attrs[SEQUENCE_PROB]`` of that group, the
  probability that the doc's whole predicted annotation is right.
- **Sentence probabilities**: ``attrs[SENTENCE_PROBS]``, ``[start token, end
  token, probability]`` of each sentence of a doc of several.
- **Tag marginals**: ``doc.user_data[MARGINALS_KEY]``, ``{"tags", "probs"}``
  (``crf_ner`` with ``store_marginals``), for active learning and audit.
- **Relation confidence**: ``"confidence"`` beside the relations in
  ``doc.user_data[RELATIONS_KEY]`` (``relations.py`` stores the relations).
- **Category probabilities**: ``doc.cats``, as spaCy has them.

Imports nothing of the package: the pipeline, the formats and the workflow
all stand on it.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from spacy.tokens import Doc, SpanGroup

SPAN_SCORES = "scores"
SEQUENCE_PROB = "sequence_prob"
SENTENCE_PROBS = "sentence_probs"
SCORED_KEY = "autolabel"  # span group of read docs whose spans carry confidences
MARGINALS_KEY = "autolabel_marginals"
RELATIONS_KEY = "autolabel_relations"  # {"relations": [...], "confidence": p}
RELATION_CONFIDENCE = "confidence"


# writing


def set_span_confidences(
    group: SpanGroup,
    scores: Optional[Sequence[float]],
    sequence_prob: Optional[float] = None,
    sentence_probs: Optional[Sequence[tuple[int, int, float]]] = None,
    dtype: str = "float32",
) -> None:
    """One probability per span of ``group`` (``scores``), and optionally the
    whole annotation's (``sequence_prob``) and each sentence's."""
    if scores is not None:
        group.attrs[SPAN_SCORES] = np.asarray(scores, dtype=dtype)
    if sequence_prob is not None:
        group.attrs[SEQUENCE_PROB] = float(sequence_prob)
    if sentence_probs:
        group.attrs[SENTENCE_PROBS] = [[s, e, float(p)] for s, e, p in sentence_probs]


def set_marginals(doc: Doc, tags: Sequence[str], probs) -> None:
    """Per-token tag posteriors ``[n_tokens, n_tags]`` over ``tags``."""
    doc.user_data[MARGINALS_KEY] = {"tags": list(tags), "probs": probs}


def with_relation_confidence(data: dict, confidence: Optional[float]) -> dict:
    """``data`` (a doc's stored relations) with the probability that its
    relation decisions are all right, when one was predicted."""
    if confidence is not None:
        data[RELATION_CONFIDENCE] = float(confidence)
    return data


# reading


def span_confidences(group: SpanGroup) -> Optional[list[float]]:
    """The probability of each span of ``group``, or None when it has none
    (or not one per span)."""
    scores = group.attrs.get(SPAN_SCORES)
    if scores is None or len(scores) != len(group):
        return None
    return [float(p) for p in scores]


def scored_group(doc: Doc) -> Optional[SpanGroup]:
    """The span group of predicted spans with one confidence each (``crf_ner``'s), or None."""
    for group in doc.spans.values():
        if SPAN_SCORES in group.attrs and len(group) == len(group.attrs[SPAN_SCORES]):
            return group
    return None


def scored_spans(doc: Doc) -> list[tuple]:
    """``(span, probability)`` of each span of the scored group (none without one)."""
    group = scored_group(doc)
    return list(zip(group, span_confidences(group))) if group is not None else []


def scored_entities(doc: Doc) -> list[tuple[int, int, str, Optional[float]]]:
    """``(start_char, end_char, label, confidence)`` of the doc's predicted
    entities; the confidence comes from the scored span group when there is
    one, else it is None."""
    group = scored_group(doc)
    if group is not None:
        return [(s.start_char, s.end_char, s.label_, p) for s, p in scored_spans(doc)]
    return [(e.start_char, e.end_char, e.label_, None) for e in doc.ents]


def doc_confidence(doc: Doc) -> Optional[float]:
    """Probability that the doc's whole predicted annotation is right
    (``crf_ner``'s sequence probability), or None."""
    for group in doc.spans.values():
        if SEQUENCE_PROB in group.attrs:
            return float(group.attrs[SEQUENCE_PROB])
    return None


def sentence_confidences(doc: Doc) -> list[tuple[int, int, float]]:
    """``(start, end, probability its predicted annotation is right)`` of each
    sentence of the doc, or an empty list when none were scored."""
    for group in doc.spans.values():
        if SENTENCE_PROBS in group.attrs:
            return [(int(s), int(e), float(p)) for s, e, p in group.attrs[SENTENCE_PROBS]]
    return []


def marginals(doc: Doc) -> Optional[dict]:
    """``{"tags", "probs"}``: the doc's per-token tag posteriors, or None."""
    return doc.user_data.get(MARGINALS_KEY)


def relation_confidence(doc: Doc) -> Optional[float]:
    """The probability, as predicted, that every relation decision on the doc
    is right (None: no model scored its relations)."""
    data = doc.user_data.get(RELATIONS_KEY) or {}
    confidence = data.get(RELATION_CONFIDENCE)
    return float(confidence) if confidence is not None else None


def top_category(cats: dict) -> str:
    """The most probable category of ``doc.cats``."""
    return max(cats, key=cats.get)
