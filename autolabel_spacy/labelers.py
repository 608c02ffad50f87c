"""Weak labelers: what the ``autolabel_labelers`` hook returns.

A labeler proposes entity spans without a trained model. The core ships
``vocab`` (the domain's vocabularies, longest match) and ``patterns`` (the
domain's EntityRuler-style patterns); both are registered by
:mod:`autolabel_spacy.hooks.builtin` through the same hook as a plugin's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from spacy.pipeline import SpanRuler
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from .vocab_matcher import VocabMatcher

Labeler = Callable[[Doc], list]


@dataclass(frozen=True)
class LabelerSpec:
    """make(nlp, domain, **options) -> Callable[[Doc], list[Span]]"""

    name: str
    description: str
    make: Callable[..., Labeler]


def validate_labeler(spec) -> list[str]:
    if not isinstance(spec, LabelerSpec):
        return [f"expected a LabelerSpec, got {type(spec).__name__}"]
    problems = []
    if not spec.name:
        problems.append("labeler has no name")
    if not callable(spec.make):
        problems.append(f"labeler {spec.name!r}: make is not callable")
    return problems


def make_vocab_labeler(
    nlp, domain=None, terms: Optional[dict] = None, vocabularies=None, attr: str = "LOWER"
) -> Labeler:
    """Longest matches of the domain's vocabularies (or of ``terms``)."""
    if domain is None and terms is None:
        raise ValueError("the vocab labeler needs a domain or terms")
    matcher = VocabMatcher(nlp.make_doc, attr=attr)
    if domain is not None:
        matcher.add(domain.all_terms(vocabularies))
    if terms:
        matcher.add(terms)
    return matcher


def make_pattern_labeler(nlp, domain=None, patterns: Optional[list] = None) -> Labeler:
    """Matches of EntityRuler-style patterns (the domain's, or ``patterns``)."""
    patterns = list(patterns if patterns is not None else (domain.patterns if domain is not None else []))
    if not patterns:
        raise ValueError("the patterns labeler needs patterns (the domain defines none)")
    ruler = SpanRuler(nlp, name="autolabel_patterns", spans_key=None, annotate_ents=False)
    ruler.add_patterns(patterns)

    def label(doc: Doc) -> list[Span]:
        return filter_spans(ruler.match(doc))

    return label
