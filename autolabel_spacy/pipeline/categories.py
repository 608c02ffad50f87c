"""``calibrated_textcat``: spaCy's ``textcat`` (one category per text) whose
probabilities are calibrated on held-out data.

The model, its loss and its training are spaCy's own, untouched; the
component only divides the log-probabilities by a temperature T and
normalises again (``softmax(log p / T)``, which keeps the top category) at
prediction. T is fitted like ``crf_ner``'s: the log-loss of "the top
category is right" on the dev set before each checkpoint is saved
(``autolabel.calibrate_before_save.v1``), so that a document's category
probability can route it.
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional

import numpy as np
from spacy.language import Language
from spacy.pipeline.textcat import DEFAULT_SINGLE_TEXTCAT_MODEL, TextCategorizer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.vocab import Vocab
from thinc.api import Model

from ..calibration import fit_temperature
from ..confidences import top_category

SCORE_WEIGHTS = {
    "cats_score": 1.0,
    "cats_score_desc": None,
    "cats_micro_p": None,
    "cats_micro_r": None,
    "cats_micro_f": None,
    "cats_macro_p": None,
    "cats_macro_r": None,
    "cats_macro_f": None,
    "cats_macro_auc": None,
    "cats_f_per_type": None,
}


@Language.factory(
    "calibrated_textcat",
    assigns=["doc.cats"],
    default_config={
        "threshold": 0.0,
        "model": DEFAULT_SINGLE_TEXTCAT_MODEL,
        "scorer": {"@scorers": "spacy.textcat_scorer.v2"},
    },
    default_score_weights=SCORE_WEIGHTS,
)
def make_calibrated_textcat(
    nlp: Language, name: str, model: Model, threshold: float, scorer: Optional[Callable]
) -> "CalibratedTextCategorizer":
    """spaCy's ``textcat`` with calibrated probabilities (same settings)."""
    return CalibratedTextCategorizer(nlp.vocab, model, name, threshold=threshold, scorer=scorer)


class CalibratedTextCategorizer(TextCategorizer):
    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "calibrated_textcat",
        *,
        threshold: float,
        scorer: Optional[Callable] = None,
    ) -> None:
        super().__init__(vocab, model, name, threshold=threshold, scorer=scorer)
        self.cfg["temperature"] = 1.0

    def predict(self, docs: Iterable[Doc]):
        return scaled(self.model.ops.to_numpy(super().predict(docs)), self.cfg.get("temperature", 1.0))

    def calibrate(self, examples: Iterable[Example], batch_size: int = 256) -> dict:
        """Fit the temperature on held-out examples that have a category."""
        examples = [eg for eg in examples if eg.reference.cats and len(eg.predicted)]
        if not examples:
            return {"temperature": self.cfg.get("temperature", 1.0), "docs": 0}
        raw = np.concatenate(
            [
                self.model.ops.to_numpy(self.model.predict([eg.predicted for eg in examples[i : i + batch_size]]))
                for i in range(0, len(examples), batch_size)
            ]
        )
        labels = list(self.labels)
        gold = np.asarray([labels.index(top_category(eg.reference.cats)) for eg in examples])
        correct = raw.argmax(axis=1) == gold
        probs_at = lambda t: scaled(raw, t).max(axis=1)  # noqa: E731
        return {**fit_temperature(self.cfg, probs_at, correct), "docs": len(examples)}


def scaled(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log p / T)`` row by row."""
    if temperature == 1.0 or not probs.size:
        return probs
    logits = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=1, keepdims=True)
