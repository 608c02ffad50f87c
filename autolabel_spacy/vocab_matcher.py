"""Match vocabulary terms in docs (spaCy PhraseMatcher), longest match first."""

from __future__ import annotations

import zlib
from typing import Callable, Iterable

from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

# Token attributes a match can compare: exact text, lowercase, or NORM (which
# tokenizer exceptions and lexeme norms can set, e.g. for spelling variants).
MATCH_ATTRS = ("ORTH", "LOWER", "NORM")


def text_fold(text: str, n_folds: int) -> int:
    """The cross-validation fold of a training text (stable across runs): a
    vocabulary built by folds (``autolabel vocab build --folds``) and the
    gazetteer features that read it agree on it."""
    return zlib.crc32(text.encode("utf-8")) % n_folds


class VocabMatcher:
    """Finds terms of a ``term -> label`` vocabulary in docs.

    make_doc: the pipeline's tokenizer (``nlp.make_doc``), so terms are split
        exactly as the text they are matched against.
    attr: ``ORTH`` (case-sensitive), ``LOWER`` (case-insensitive) or ``NORM``.
    longest: keep only the longest non-overlapping matches (ties: the
        earliest); otherwise keep every match, overlaps included.
    exact_acronyms: with ``LOWER`` or ``NORM``, terms whose case carries
        meaning — a token with a capital after its first character ("AS",
        "DMD", "SCA2", "mRNA") or a lone capital ("X", "hemophilia A") — are
        matched by their exact text (or with a capitalised first letter, as
        at a sentence start), so the abbreviation "AS" does not match the
        word "as", nor "WAS" "was".
    """

    def __init__(
        self, make_doc: Callable[[str], Doc], attr: str = "LOWER", longest: bool = True, exact_acronyms: bool = True
    ) -> None:
        attr = attr.upper()
        if attr not in MATCH_ATTRS:
            raise ValueError(f"attr must be one of {MATCH_ATTRS}, got {attr!r}")
        self.make_doc = make_doc
        self.attr = attr
        self.longest = longest
        self.exact_acronyms = exact_acronyms and attr != "ORTH"
        self.terms: dict[str, str] = {}
        self._matchers: list[PhraseMatcher] | None = None  # one per match attr, built for _vocab
        self._vocab = None

    def add(self, terms: dict[str, str]) -> None:
        self.terms.update(terms)
        self._matchers = None  # rebuilt on the next call

    def __len__(self) -> int:
        return len(self.terms)

    def _build(self, vocab) -> list[PhraseMatcher]:
        folded: dict[str, list[Doc]] = {}
        exact: dict[str, list[Doc]] = {}
        for term, label in self.terms.items():
            pattern = self.make_doc(term)
            if not len(pattern):
                continue
            if self.exact_acronyms and has_cased_token(pattern):
                exact.setdefault(label, []).append(pattern)
                if term[0].islower():
                    exact[label].append(self.make_doc(term[0].upper() + term[1:]))
            else:
                folded.setdefault(label, []).append(pattern)
        matchers = []
        for attr, by_label in ((self.attr, folded), ("ORTH", exact)):
            if by_label:
                matcher = PhraseMatcher(vocab, attr=attr)
                for label, patterns in sorted(by_label.items()):
                    matcher.add(label, patterns)
                matchers.append(matcher)
        return matchers

    def __call__(self, doc: Doc) -> list[Span]:
        if not self.terms:
            return []
        if self._matchers is None or self._vocab is not doc.vocab:
            self._matchers, self._vocab = self._build(doc.vocab), doc.vocab
        spans = [span for matcher in self._matchers for span in matcher(doc, as_spans=True)]
        return filter_spans(spans) if self.longest else sorted(set(spans))

    def pipe(self, docs: Iterable[Doc]) -> Iterable[list[Span]]:
        for doc in docs:
            yield self(doc)


def has_cased_token(term: Doc) -> bool:
    """Whether a term's case is part of it: a token with a capital letter
    after its first character, or a token that is one capital letter."""
    return any(any(c.isupper() for c in t.text[1:]) or (len(t.text) == 1 and t.text.isupper()) for t in term)
