"""Match vocabulary terms in docs (spaCy PhraseMatcher), longest match first."""
from __future__ import annotations

from typing import Callable, Iterable

from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

# Token attributes a match can compare: exact text, lowercase, or NORM (which
# tokenizer exceptions and lexeme norms can set, e.g. for spelling variants).
MATCH_ATTRS = ("ORTH", "LOWER", "NORM")


class VocabMatcher:
    """Finds terms of a ``term -> label`` vocabulary in docs.

    make_doc: the pipeline's tokenizer (``nlp.make_doc``), so terms are split
        exactly as the text they are matched against.
    attr: ``ORTH`` (case-sensitive), ``LOWER`` (case-insensitive) or ``NORM``.
    longest: keep only the longest non-overlapping matches (ties: the
        earliest); otherwise keep every match, overlaps included.
    """

    def __init__(self, make_doc: Callable[[str], Doc], attr: str = "LOWER", longest: bool = True) -> None:
        attr = attr.upper()
        if attr not in MATCH_ATTRS:
            raise ValueError(f"attr must be one of {MATCH_ATTRS}, got {attr!r}")
        self.make_doc = make_doc
        self.attr = attr
        self.longest = longest
        self.terms: dict[str, str] = {}
        self._matcher = None

    def add(self, terms: dict[str, str]) -> None:
        self.terms.update(terms)
        self._matcher = None  # rebuilt on the next call

    def __len__(self) -> int:
        return len(self.terms)

    def _build(self, vocab) -> PhraseMatcher:
        matcher = PhraseMatcher(vocab, attr=self.attr)
        by_label: dict[str, list[Doc]] = {}
        for term, label in self.terms.items():
            pattern = self.make_doc(term)
            if len(pattern):
                by_label.setdefault(label, []).append(pattern)
        for label, patterns in sorted(by_label.items()):
            matcher.add(label, patterns)
        return matcher

    def __call__(self, doc: Doc) -> list[Span]:
        if not self.terms:
            return []
        if self._matcher is None or self._matcher.vocab is not doc.vocab:
            self._matcher = self._build(doc.vocab)
        spans = self._matcher(doc, as_spans=True)
        return filter_spans(spans) if self.longest else sorted(spans)

    def pipe(self, docs: Iterable[Doc]) -> Iterable[list[Span]]:
        for doc in docs:
            yield self(doc)
