"""Tag schemes: tag inventories, allowed transitions and span <-> tag conversions.

Two schemes are used *inside* the CRF: ``BILUO`` (spaCy's own) and ``BIO``
(IOB2). Corpora in IOB1, IO and BMES are converted to spans on reading
(see :mod:`autolabel_spacy.corpora`), so the model never sees them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import numpy as np

SCHEMES = ("BILUO", "BIO")

Span = tuple[int, int, str]  # (start token, end token exclusive, label)


@dataclass(frozen=True)
class TagScheme:
    """The tag inventory of a scheme over a label set, with its constraints."""

    name: str
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.name not in SCHEMES:
            raise ValueError(f"unknown tag scheme {self.name!r}; choose one of {', '.join(SCHEMES)}")
        for label in self.labels:
            if not label or "-" == label[:1] or label == "O":
                raise ValueError(f"invalid entity label {label!r}")

    @property
    def prefixes(self) -> tuple[str, ...]:
        return ("B", "I", "L", "U") if self.name == "BILUO" else ("B", "I")

    @functools.cached_property
    def tags(self) -> tuple[str, ...]:
        """``O``, then each label's prefixed tags (``1 + label * len(prefixes) + prefix``)."""
        return ("O",) + tuple(f"{p}-{label}" for label in self.labels for p in self.prefixes)

    def tag_index(self) -> dict[str, int]:
        return {tag: i for i, tag in enumerate(self.tags)}

    # -- constraints -------------------------------------------------------
    def allowed_transitions(self) -> np.ndarray:
        """Bool matrix ``[K, K]``: may tag i be followed by tag j?"""
        tags = self.tags
        K = len(tags)
        allowed = np.zeros((K, K), dtype=bool)
        for i, a in enumerate(tags):
            for j, b in enumerate(tags):
                allowed[i, j] = self._may_follow(a, b)
        return allowed

    def allowed_start(self) -> np.ndarray:
        return np.array([_prefix(t) in ("O", "B", "U") for t in self.tags], dtype=bool)

    def allowed_end(self) -> np.ndarray:
        if self.name == "BIO":
            return np.ones(len(self.tags), dtype=bool)
        return np.array([_prefix(t) in ("O", "L", "U") for t in self.tags], dtype=bool)

    def _may_follow(self, a: str, b: str) -> bool:
        pa, la = _prefix(a), _label(a)
        pb, lb = _prefix(b), _label(b)
        if self.name == "BIO":
            return pb != "I" or (pa in ("B", "I") and la == lb)
        open_a = pa in ("B", "I")
        if open_a:
            return pb in ("I", "L") and la == lb
        return pb in ("O", "B", "U")

    # -- conversions -------------------------------------------------------
    def spans_to_tags(self, spans: Iterable[Span], length: int) -> list[str]:
        tags = ["O"] * length
        for start, end, label in spans:
            if self.name == "BILUO" and end - start == 1:
                tags[start] = f"U-{label}"
                continue
            tags[start] = f"B-{label}"
            for i in range(start + 1, end):
                tags[i] = f"I-{label}"
            if self.name == "BILUO":
                tags[end - 1] = f"L-{label}"
        return tags

    def tags_to_spans(self, tags: Sequence[str]) -> list[Span]:
        """Spans of a *valid* tag sequence (as Viterbi produces)."""
        return bio_to_spans(tags) if self.name == "BIO" else biluo_to_spans(tags)

    def segment(self, start: int, end: int, label: str) -> tuple[int, int, int, int]:
        """(first, inside, last, stop) tag ids describing a span, as used by
        :func:`autolabel_spacy.ml.crf.segment_log_probs`."""
        index = self.tag_index()
        if self.name == "BILUO":
            if end - start == 1:
                u = index[f"U-{label}"]
                return u, u, u, -1
            return index[f"B-{label}"], index[f"I-{label}"], index[f"L-{label}"], -1
        b, i = index[f"B-{label}"], index[f"I-{label}"]
        return b, i, (b if end - start == 1 else i), i


def _prefix(tag: str) -> str:
    return tag.split("-", 1)[0] if tag != "O" else "O"


def _label(tag: str) -> Optional[str]:
    return tag.split("-", 1)[1] if "-" in tag else None


def biluo_to_spans(tags: Sequence[str]) -> list[Span]:
    spans: list[Span] = []
    start: Optional[int] = None
    for i, tag in enumerate(tags):
        p, label = _prefix(tag), _label(tag)
        if p == "U":
            spans.append((i, i + 1, label))
            start = None
        elif p == "B":
            start = i
        elif p == "L" and start is not None:
            spans.append((start, i + 1, label))
            start = None
        elif p == "O":
            start = None
    return spans


def bio_to_spans(tags: Sequence[str]) -> list[Span]:
    """IOB2 tags to spans. An ``I-X`` that does not continue an ``X`` span
    starts a new one (the lenient reading, which keeps every annotated token)."""
    spans: list[Span] = []
    start: Optional[int] = None
    current: Optional[str] = None
    for i, tag in enumerate(list(tags) + ["O"]):
        p, label = _prefix(tag), _label(tag)
        if p == "I" and current == label and start is not None:
            continue
        if start is not None:
            spans.append((start, i, current))
            start, current = None, None
        if p in ("B", "I"):
            start, current = i, label
    return spans
