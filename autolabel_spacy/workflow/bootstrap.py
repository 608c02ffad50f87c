"""``bootstrap``: from zero labelled examples to a trained ``crf_ner``.

1. Weak labels: a domain's vocabulary (or any ``term -> label`` list) is
   matched in raw text, longest match first.
2. Unknown, not O: a dictionary never lists every entity, so tokens that look
   like the head of an entity the dictionary missed — a word that ends
   dictionary terms ("syndrome", "cancer") or shares a frequent ending with
   them ("-itis", "-oma") — and the modifiers right before it are left
   *unannotated* instead of O. ``crf_ner`` trains with a partial-label CRF
   loss, which sums over every tag there, so a missed mention is not taught
   as O (the "unknown" tokens of AutoNER, Shang et al. 2018).
   Besides, a random share (``unknown_rate``) of the remaining unmatched
   tokens is left unannotated too — negative sampling for the
   unlabelled-entity problem (Li et al. 2021): the tagger still learns what O
   looks like from the rest, but is no longer taught that every mention the
   dictionary missed is O.
3. ``spacy train`` on the weak labels, then the model can annotate.
"""
from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Iterable, Optional

from spacy.tokens import Doc, DocBin, Span

SUFFIX_LEN = 4
MIN_SUFFIX_TERMS = 3
MAX_MODIFIERS = 3
# Endings of ordinary English nouns and verbs: never evidence of an entity.
GENERIC_SUFFIXES = {"tion", "sion", "ment", "ness", "ance", "ence", "ting", "ally", "ical", "able", "ated", "ized"}


class HeadCues:
    """Words and endings that mark a probable entity head, learned from the
    dictionary's own terms."""

    def __init__(self, terms: Iterable[str], make_doc) -> None:
        heads: set[str] = set()
        suffixes: Counter = Counter()
        for term in terms:
            words = [t.lower_ for t in make_doc(term) if t.is_alpha]
            if not words:
                continue
            heads.add(words[-1])
            if len(words[-1]) > SUFFIX_LEN + 2:
                suffixes[words[-1][-SUFFIX_LEN:]] += 1
        self.heads = heads
        self.suffixes = {s for s, n in suffixes.items() if n >= MIN_SUFFIX_TERMS and s not in GENERIC_SUFFIXES}

    def is_head(self, token) -> bool:
        if not token.is_alpha or token.is_stop:
            return False
        word = token.lower_
        return word in self.heads or (len(word) > SUFFIX_LEN + 2 and word[-SUFFIX_LEN:] in self.suffixes)


def weak_label(
    doc: Doc, matches: list[Span], cues: Optional[HeadCues], unknown_rate: float = 0.0, rng: Optional[random.Random] = None
) -> Doc:
    """Matches as entities, probable missed mentions and a random
    ``unknown_rate`` share of the other tokens unannotated, the rest O."""
    taken = {i for span in matches for i in range(span.start, span.end)}
    missing = []
    if unknown_rate > 0.0:
        rng = rng or random.Random(0)
        missing += [Span(doc, t.i, t.i + 1) for t in doc if t.i not in taken and rng.random() < unknown_rate]
    if cues is not None:
        for token in doc:
            if token.i in taken or not cues.is_head(token):
                continue
            start = token.i
            while (
                start > 0
                and token.i - start < MAX_MODIFIERS
                and start - 1 not in taken
                and doc[start - 1].is_alpha
                and not doc[start - 1].is_stop
            ):
                start -= 1
            missing.append(Span(doc, start, token.i + 1))
    doc.set_ents(list(matches), missing=_merge(missing), default="outside")
    return doc


def _merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if out and span.start <= out[-1].end:
            out[-1] = Span(span.doc, out[-1].start, max(out[-1].end, span.end))
        else:
            out.append(span)
    return out


def weak_corpus(
    nlp, texts: Iterable[str], terms: dict[str, str], attr: str = "LOWER", unknown: bool = True,
    unknown_rate: float = 0.0, seed: int = 0,
) -> list[Doc]:
    from ..vocab_matcher import VocabMatcher

    if not 0.0 <= unknown_rate < 1.0:
        raise ValueError(f"unknown_rate must be in [0, 1), got {unknown_rate}")
    matcher = VocabMatcher(nlp.make_doc, attr=attr)
    matcher.add(terms)
    cues = HeadCues(terms, nlp.make_doc) if unknown else None
    rng = random.Random(seed)
    return [weak_label(doc, matcher(doc), cues, unknown_rate, rng) for doc in nlp.tokenizer.pipe(texts)]


def bootstrap(
    texts: Iterable[str],
    terms: dict[str, str],
    output_dir,
    config,
    lang: str = "en",
    dev_fraction: float = 0.1,
    overrides: Optional[dict] = None,
    unknown: bool = True,
    seed: int = 0,
    unknown_rate: float = 0.0,
) -> dict:
    """Weak-label ``texts`` with ``terms`` and train ``config`` on them;
    returns paths and counts. The dev split is weak-labelled too (there is no
    gold), so it only guides checkpoint selection."""
    import spacy
    from spacy.cli.train import train

    output_dir = Path(output_dir)
    nlp = spacy.blank(lang)
    docs = weak_corpus(nlp, texts, terms, unknown=unknown, unknown_rate=unknown_rate, seed=seed)
    if len(docs) < 2:
        raise ValueError("bootstrap needs at least two texts")
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    n_dev = max(1, int(len(docs) * dev_fraction))
    corpus = output_dir / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    DocBin(docs=[docs[i] for i in order[n_dev:]]).to_disk(corpus / "train.spacy")
    DocBin(docs=[docs[i] for i in order[:n_dev]]).to_disk(corpus / "dev.spacy")
    settings = {"paths.train": str(corpus / "train.spacy"), "paths.dev": str(corpus / "dev.spacy"), "nlp.lang": lang}
    settings.update(overrides or {})
    train(Path(config), output_dir / "model", overrides=settings)
    n_missing = sum(1 for d in docs for t in d if t.ent_iob == 0)
    return {
        "docs": len(docs),
        "weak_entities": sum(len(d.ents) for d in docs),
        "unknown_tokens": n_missing,
        "tokens": sum(len(d) for d in docs),
        # the last checkpoint: the dev split is weak-labelled, so "best on dev"
        # would only mean "most like the dictionary"
        "model": str(output_dir / "model" / "model-last"),
    }


def dictionary_predictions(nlp, docs: Iterable[Doc], terms: dict[str, str], attr: str = "LOWER") -> list[Doc]:
    """Dictionary matching alone, as a baseline: longest matches as entities."""
    from ..vocab_matcher import VocabMatcher

    matcher = VocabMatcher(nlp.make_doc, attr=attr)
    matcher.add(terms)
    out = []
    for doc in docs:
        pred = nlp.make_doc(doc.text)
        pred.ents = matcher(pred)
        out.append(pred)
    return out
