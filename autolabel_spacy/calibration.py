"""Temperature scaling of ``crf_ner`` confidences, fitted on held-out data.

Dividing every CRF score (emissions, transitions, start, end) by a
temperature T leaves the Viterbi path unchanged but sharpens (T < 1) or
flattens (T > 1) the posteriors. T is chosen to minimise the log-loss of
"this predicted span is exactly right" on held-out examples, the proper
scoring rule behind calibration. In training it runs before a checkpoint
is saved (``[training.before_to_disk]``): the best ones and the final one,
so ``model-best`` and the final ``model-last`` are calibrated on the dev
set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from spacy.training import Corpus

LOW, HIGH = 0.25, 8.0  # temperature search range
STEPS = 14  # golden-section steps: the bracket shrinks to 0.618**14 ~ 0.1% of ln(HIGH/LOW)


def log_loss(probs: Sequence[float], correct: Sequence[bool]) -> float:
    p = np.clip(np.asarray(probs, dtype=float), 1e-7, 1 - 1e-7)
    y = np.asarray(correct, dtype=float)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()) if len(p) else 0.0


def best_temperature(probs_at: Callable[[float], Sequence[float]], correct: Sequence[bool]) -> float:
    """Temperature in [LOW, HIGH] with the lowest span log-loss, by
    golden-section search on log T (each step costs one forward-backward
    pass over the held-out data)."""
    loss = lambda u: log_loss(probs_at(float(np.exp(u))), correct)  # noqa: E731
    a, b = np.log(LOW), np.log(HIGH)
    ratio = (np.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = loss(c), loss(d)
    for _ in range(STEPS):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = loss(d)
    return round(float(np.exp((a + b) / 2)), 4)


def fit_temperature(cfg: dict, probs_at: Callable[[float], Sequence[float]], correct: Sequence[bool]) -> dict:
    """Fit a component's ``cfg["temperature"]`` on held-out data (its
    probabilities at a temperature, and whether each is right): the
    temperature chosen (1.0 without data) and the log-loss at the one
    before and at the new one. Every calibrated component fits through this."""
    before = log_loss(probs_at(cfg.get("temperature", 1.0)), correct)
    temperature = best_temperature(probs_at, correct) if len(correct) else 1.0
    cfg["temperature"] = temperature
    return {
        "temperature": temperature,
        "log_loss_before": before,
        "log_loss_after": log_loss(probs_at(temperature), correct),
    }


def make_calibrate_before_save(path: Path, component: Union[str, List[str]] = "crf_ner", limit: int = 0):
    """``autolabel.calibrate_before_save.v1``: fit the temperature of
    ``component`` (a name, or a list of names: ``crf_ner`` and
    ``entity_relations`` of a multi-task pipeline) on the DocBin at ``path``
    when a checkpoint that needs it is saved (:class:`CheckpointWatch`)."""
    names = [component] if isinstance(component, str) else list(component)
    watch = CheckpointWatch()

    def before_to_disk(nlp):
        if not path or not watch.needs_calibration(nlp):
            return nlp
        examples = list(Corpus(path, limit=limit)(nlp))
        for name in names:
            calibrate(nlp, name, examples)
        return nlp

    return before_to_disk


class CheckpointWatch:
    """Which checkpoints of ``spacy train`` are worth calibrating.

    spaCy's loop saves ``model-last`` after every evaluation, copies it to
    ``model-best`` when its score is the best so far, and saves
    ``model-last`` once more when training ends. Calibrating costs a pass of
    the pipeline over the dev set and a forward-backward pass per
    temperature tried, so it is done for the saves that last: a best
    checkpoint (a score at least the best before it: the copy spaCy keeps)
    and the final save. A ``model-last`` of a worse evaluation keeps the
    temperature fitted before it; the final save overwrites it.

    The loop gives ``before_to_disk`` only the pipeline: each evaluation puts
    a new ``nlp.meta["performance"]`` dict with its scores, so a save that
    finds the same dict as the one before is the final one, and one with no
    scores is not in a training loop (it is always calibrated)."""

    def __init__(self) -> None:
        self.performance = None
        self.best: Optional[float] = None

    def needs_calibration(self, nlp) -> bool:
        performance = nlp.meta.get("performance")
        if not isinstance(performance, dict) or not performance or performance is self.performance:
            return True
        self.performance = performance
        weights = nlp.config["training"]["score_weights"]
        score = sum(
            performance[key] * weight
            for key, weight in weights.items()
            if weight is not None and isinstance(performance.get(key), (int, float))
        )
        if self.best is not None and score < self.best:
            return False
        self.best = score
        return True


def calibrate(nlp, component: str, examples: list) -> dict:
    """Run the components before ``component`` on the examples' predicted docs
    (a listener needs its tok2vec's output), then fit the temperature."""
    docs = [eg.predicted for eg in examples]
    for name, proc in nlp.pipeline:
        if name == component:
            break
        docs = list(proc.pipe(docs)) if hasattr(proc, "pipe") else [proc(d) for d in docs]
    for eg, doc in zip(examples, docs):
        eg.predicted = doc
    return nlp.get_pipe(component).calibrate(examples)
