"""``tag``: the entities a pipeline finds in some texts, with confidences,
and the relations and categories when it has components for them."""

from __future__ import annotations

from typing import Iterable, Optional

from ..confidences import scored_group, span_confidences
from ..formats.jsonl import doc_to_record
from ..loading import load_pipeline


def tag(model: str, texts: Iterable[str], spans_key: Optional[str] = None) -> list[dict]:
    """One record per text: its ``spans`` (character offsets, label, text and
    confidence, from ``spans_key`` or the pipeline's scored span group), and
    its ``relations`` and ``cats`` as the ``jsonl`` format writes them when
    the pipeline sets them."""
    nlp = load_pipeline(model, need_annotations="tag")
    out = []
    for doc in nlp.pipe(texts):
        group = doc.spans.get(spans_key) if spans_key else scored_group(doc)
        scores = (span_confidences(group) or []) if group is not None else []
        spans = list(group) if group is not None else list(doc.ents)
        record = {
            "text": doc.text,
            "spans": [
                {
                    "start": s.start_char,
                    "end": s.end_char,
                    "label": s.label_,
                    "text": s.text,
                    "score": round(float(scores[i]), 4) if i < len(scores) else None,
                }
                for i, s in enumerate(spans)
            ],
        }
        other = doc_to_record(doc)
        record.update({key: other[key] for key in ("relations", "cats") if key in other})
        out.append(record)
    return out
