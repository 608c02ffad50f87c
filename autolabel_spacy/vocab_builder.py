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
from typing import Iterable

from spacy.tokens import Doc

from .domains import Vocabulary
from .vocab_matcher import VocabMatcher


def build_vocabulary(
    docs: Iterable[Doc],
    make_doc,
    name: str,
    source: str,
    attr: str = "LOWER",
    min_count: int = 1,
    min_precision: float = 0.5,
) -> Vocabulary:
    docs = list(docs)
    key = (lambda text: text.lower()) if attr.upper() == "LOWER" else (lambda text: text)
    labels: dict[str, Counter] = defaultdict(Counter)
    forms: dict[str, Counter] = defaultdict(Counter)
    for doc in docs:
        for ent in doc.ents:
            labels[key(ent.text)][ent.label_] += 1
            forms[key(ent.text)][ent.text] += 1
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
    terms = {}
    for k, label in candidates.items():
        n = occurrences[k] or 1
        if hits[k] / n >= min_precision:
            terms[forms[k].most_common(1)[0][0]] = label
    date = datetime.date.today().isoformat()
    provenance = (
        f"built by 'autolabel vocab build' from {source} on {date} "
        f"(attr={attr}, min_count={min_count}, min_precision={min_precision}): "
        f"{len(terms)} of {len(candidates)} entity strings kept"
    )
    return Vocabulary(name=name, terms=terms, provenance=provenance)
