"""Build a vocabulary (term -> label) from an annotated corpus.

Every entity string of the corpus becomes a candidate term with its most
frequent label. A term is kept if it occurs at least ``min_count`` times as an
entity and if, of all its occurrences in the corpus text (matched the way the
``domain_vocab`` component matches, case-insensitively by default), at least
``min_precision`` are annotated as that entity: words that are usually not
entities ("cancer" in "cancer centre", say) are left out.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Optional

from spacy.tokens import Doc

from ..domains import Vocabulary
from ..files import atomic_path, check_output
from ..format_io import read_docs
from ..hooks.manager import get_domain
from ..loading import blank
from ..vocab_matcher import VocabMatcher, text_fold


def build_vocabulary(
    docs: Iterable[Doc],
    make_doc,
    name: str,
    source: str,
    attr: str = "LOWER",
    min_count: int = 1,
    min_precision: float = 0.5,
    folds: int = 0,
) -> Vocabulary:
    """With ``folds`` = K > 1 each term also records the folds (by
    :func:`text_fold` of the doc text) it was annotated in, so that training on
    these same docs can hide a term from the docs of the only folds that
    taught it — the vocabulary then covers training text about as well as it
    covers new text (cross-validated gazetteer)."""
    docs = list(docs)
    key = (lambda text: text.lower()) if attr.upper() == "LOWER" else (lambda text: text)
    labels: dict[str, Counter] = defaultdict(Counter)
    forms: dict[str, Counter] = defaultdict(Counter)
    fold_masks: dict[str, int] = defaultdict(int)
    for doc in docs:
        fold_bit = 1 << text_fold(doc.text, folds) if folds > 1 else 0
        for ent in doc.ents:
            labels[key(ent.text)][ent.label_] += 1
            forms[key(ent.text)][ent.text] += 1
            fold_masks[key(ent.text)] |= fold_bit
    candidates = {k: c.most_common(1)[0][0] for k, c in labels.items() if sum(c.values()) >= min_count}
    matcher = VocabMatcher(make_doc, attr=attr, longest=False)
    matcher.add({forms[k].most_common(1)[0][0]: label for k, label in candidates.items()})
    occurrences: Counter = Counter()
    hits: Counter = Counter()
    for doc in docs:
        gold = {(e.start, e.end, e.label_) for e in doc.ents}
        for span in matcher(doc):
            k = key(span.text)
            occurrences[k] += 1
            hits[k] += (span.start, span.end, span.label_) in gold
    terms, term_folds = {}, {}
    for k, label in candidates.items():
        n = occurrences[k] or 1
        if hits[k] / n >= min_precision:
            form = forms[k].most_common(1)[0][0]
            terms[form] = label
            if folds > 1:
                term_folds[form] = fold_masks[k]
    date = datetime.date.today().isoformat()
    provenance = (
        f"built by 'autolabel vocab build' from {source} on {date} "
        f"(attr={attr}, min_count={min_count}, min_precision={min_precision}, folds={folds}): "
        f"{len(terms)} of {len(candidates)} entity strings kept"
    )
    return Vocabulary(
        name=name, terms=terms, provenance=provenance, n_folds=folds if folds > 1 else 0, folds=term_folds
    )


def build_vocabulary_file(
    input_path: Path,
    output_path: Path,
    lang: str = "en",
    input_format: Optional[str] = None,
    attr: str = "LOWER",
    min_count: int = 1,
    min_precision: float = 0.5,
    folds: int = 0,
    domain: Optional[str] = None,
) -> Vocabulary:
    """The vocabulary of an annotated corpus file (any readable format),
    written to ``output_path`` as ``term<TAB>label`` lines; with ``domain``,
    its labels must be that installed domain's."""
    if folds == 1:
        raise ValueError("folds must be 0 (none) or at least 2")
    check_output(output_path)
    nlp = blank(lang)
    docs = read_docs(input_path, nlp, input_format)
    vocab = build_vocabulary(
        docs,
        nlp.make_doc,
        output_path.stem,
        input_path.name,
        attr=attr,
        min_count=min_count,
        min_precision=min_precision,
        folds=folds,
    )
    if domain:
        check_domain_labels(vocab, domain)
    with atomic_path(output_path) as tmp:
        vocab.to_tsv(tmp)
    return vocab


def check_domain_labels(vocab, domain: str) -> None:
    """A vocabulary meant for a domain may only use that domain's labels."""
    labels = set(get_domain(domain).label_names)
    unknown = sorted(set(vocab.terms.values()) - labels)
    if unknown:
        raise ValueError(
            f"the corpus has labels {unknown} that domain {domain!r} does not define (its labels: {sorted(labels)})"
        )
