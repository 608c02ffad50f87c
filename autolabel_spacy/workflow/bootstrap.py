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
3. Terms the text defines: an abbreviation in brackets right after a match
   or a probable mention ("Angelman syndrome ( AS )"), checked the Schwartz &
   Hearst (2003) way, adds both forms to the terms before matching, so
   every later "AS" of the text is labelled too.
4. ``spacy train`` on the weak labels, then the model can annotate.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Iterable, Optional

import spacy
from spacy.cli.train import train
from spacy.tokens import Doc, DocBin, Span

from ..abbreviations import is_abbreviation_of
from ..configs import config_path
from ..domains import Vocabulary
from ..files import check_output_dir
from ..hooks.manager import get_domain
from ..loading import blank
from ..vocab_matcher import VocabMatcher
from .annotate import AnnotateSummary, annotate
from .inputs import Inputs

SUFFIX_LEN = 4
MIN_SUFFIX_TERMS = 3
MIN_HEAD_TERMS = 2
MAX_MODIFIERS = 3
# Endings of ordinary English nouns and verbs: never evidence of an entity.
GENERIC_SUFFIXES = {"tion", "sion", "ment", "ness", "ance", "ence", "ting", "ally", "ical", "able", "ated", "ized"}


class HeadCues:
    """Words and endings that mark a probable entity head, learned from the
    dictionary's own terms, with the label they usually head."""

    def __init__(self, terms: dict[str, str], make_doc) -> None:
        heads: dict[str, Counter] = {}
        suffixes: dict[str, Counter] = {}
        for term, label in terms.items():
            words = [t.lower_ for t in make_doc(term) if t.is_alpha]
            if "of" in words[1:]:  # "deficiency of glucose - 6 - phosphate dehydrogenase"
                words = words[: words.index("of", 1)]
            if not words:
                continue
            heads.setdefault(words[-1], Counter())[label] += 1
            if len(words[-1]) > SUFFIX_LEN + 2:
                suffixes.setdefault(words[-1][-SUFFIX_LEN:], Counter())[label] += 1
        # a head that ends one term only may be a one-off ("X chromosome")
        self.heads = {
            word: labels.most_common(1)[0][0]
            for word, labels in heads.items()
            if sum(labels.values()) >= MIN_HEAD_TERMS
        }
        self.suffixes = {
            s: labels.most_common(1)[0][0]
            for s, labels in suffixes.items()
            if sum(labels.values()) >= MIN_SUFFIX_TERMS and s not in GENERIC_SUFFIXES
        }

    def label(self, token) -> Optional[str]:
        """The label ``token`` probably heads, or None."""
        if not token.is_alpha or token.is_stop:
            return None
        for word in singular_forms(token.lower_):
            if word in self.heads:
                return self.heads[word]
            if len(word) > SUFFIX_LEN + 2 and word[-SUFFIX_LEN:] in self.suffixes:
                return self.suffixes[word[-SUFFIX_LEN:]]
        return None

    def probable_mentions(self, doc: Doc, matches: list[Span]) -> list[Span]:
        """Spans the dictionary missed: a probable head outside the matches
        and up to ``MAX_MODIFIERS`` content words before it, with the label
        the head usually has."""
        taken = {i for span in matches for i in range(span.start, span.end)}
        out = []
        for token in doc:
            label = None if token.i in taken else self.label(token)
            if label is None:
                continue
            start, n_modifiers = token.i, 0
            while n_modifiers < MAX_MODIFIERS:
                # a hyphen between words joins them ("Prader - Willi syndrome")
                step = 2 if start > 1 and doc[start - 1].text == "-" else 1
                word = start - step
                if word < 0 or word in taken or not doc[word].is_alpha or doc[word].is_stop:
                    break
                start, n_modifiers = word, n_modifiers + 1
            out.append(Span(doc, start, token.i + 1, label=label))
        return out


def singular_forms(word: str) -> list[str]:
    """``word`` and the singulars it may be the plural of (tumors, tumours ->
    tumor, tumour; carcinomas -> carcinoma; deficiencies -> deficiency)."""
    forms = [word]
    if len(word) > 4 and word.endswith("ies"):
        forms.append(word[:-3] + "y")
    elif len(word) > 4 and word.endswith("es"):
        forms += [word[:-2], word[:-1]]
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        forms.append(word[:-1])
    return forms


def defined_abbreviations(docs: Iterable[Doc], spans_of, max_length: int = 8) -> dict[str, str]:
    """Terms that the text itself defines: in "Angelman syndrome ( AS )" a
    mention is followed by an abbreviation in brackets whose letters all
    appear, in order, in the mention, the first one starting one of its words
    (the Schwartz & Hearst 2003 check). Both forms become terms of the
    mention's label: the abbreviation, and the shortest end of the mention
    that fits it (the mention may have been only a probable one).
    ``spans_of``: doc -> the mentions and candidates to look behind."""
    found: dict[str, Counter] = {}  # key -> labels
    surface: dict[str, Counter] = {}  # key -> written forms
    for doc in docs:
        for span in spans_of(doc):
            end = span.end
            if end + 2 >= len(doc) or doc[end].text != "(" or doc[end + 2].text != ")":
                continue
            short = doc[end + 1].text
            # the shortest long form that fits: "gene causing Pendred syndrome
            # ( PDS )" defines "Pendred syndrome"
            for start in range(end - 1, span.start - 1, -1):
                long = doc[start:end]
                if is_abbreviation_of(short, long.text, max_length):
                    # an abbreviation is its exact text; a long form is one
                    # term whatever its case, written as most often
                    for key, form in ((short, short), (long.text.lower(), long.text)):
                        found.setdefault(key, Counter())[span.label_] += 1
                        surface.setdefault(key, Counter())[form] += 1
                    break
    return {surface[key].most_common(1)[0][0]: labels.most_common(1)[0][0] for key, labels in found.items()}


def weak_label(
    doc: Doc,
    matches: list[Span],
    cues: Optional[HeadCues],
    unknown_rate: float = 0.0,
    rng: Optional[random.Random] = None,
) -> Doc:
    """Matches as entities, probable missed mentions and a random
    ``unknown_rate`` share of the other tokens unannotated, the rest O."""
    taken = {i for span in matches for i in range(span.start, span.end)}
    missing = []
    if unknown_rate > 0.0:
        rng = rng or random.Random(0)
        missing += [Span(doc, t.i, t.i + 1) for t in doc if t.i not in taken and rng.random() < unknown_rate]
    if cues is not None:
        missing += cues.probable_mentions(doc, matches)
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
    nlp,
    texts: Iterable[str],
    terms: dict[str, str],
    attr: str = "LOWER",
    unknown: bool = True,
    unknown_rate: float = 0.0,
    seed: int = 0,
    defined: Optional[dict[str, str]] = None,
) -> list[Doc]:
    """Weak-labelled docs of ``texts``: matches of ``terms`` and of the
    ``defined`` terms (:func:`text_defined_terms`) as entities; with
    ``unknown``, probable mentions that ``terms`` hint at left unannotated."""
    if not 0.0 <= unknown_rate < 1.0:
        raise ValueError(f"unknown_rate must be in [0, 1), got {unknown_rate}")
    matcher = VocabMatcher(nlp.make_doc, attr=attr)
    matcher.add({**(defined or {}), **terms})
    cues = HeadCues(terms, nlp.make_doc) if unknown else None
    rng = random.Random(seed)
    return [weak_label(doc, matcher(doc), cues, unknown_rate, rng) for doc in nlp.tokenizer.pipe(texts)]


def text_defined_terms(nlp, texts: Iterable[str], terms: dict[str, str], attr: str = "LOWER") -> dict[str, str]:
    """Terms that ``texts`` define (:func:`defined_abbreviations`: an
    abbreviation and its long form) right after a match of ``terms`` or a
    probable mention that ``terms`` hint at; terms and parts of terms are left out."""
    matcher = VocabMatcher(nlp.make_doc, attr=attr)
    matcher.add(terms)
    cues = HeadCues(terms, nlp.make_doc)

    def mentions(doc: Doc) -> list[Span]:
        matches = matcher(doc)
        return matches + cues.probable_mentions(doc, matches)

    # a form that is part of a longer term is not a mention of its own: the
    # dictionary says the entity is "G6PD deficiency", so "G6PD ( ... )" in
    # "glucose - 6 - phosphate dehydrogenase ( G6PD )" names the enzyme
    parts = set()
    for term in terms:
        words = tuple(t.lower_ for t in nlp.make_doc(term))
        parts.update(words[i:j] for i in range(len(words)) for j in range(i + 1, len(words) + 1))
    found = defined_abbreviations(nlp.tokenizer.pipe(texts), mentions)
    return {form: label for form, label in found.items() if tuple(t.lower_ for t in nlp.make_doc(form)) not in parts}


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
    abbreviations: bool = True,
) -> dict:
    """Weak-label ``texts`` with ``terms`` (plus, with ``abbreviations``, the
    terms the texts define: written to ``defined_terms.tsv`` for review) and
    train ``config`` on them; returns paths and counts. The dev split is
    weak-labelled too (there is no gold), so it only guides checkpoint
    selection."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    nlp = spacy.blank(lang)
    texts = list(texts)
    if len(texts) < 2:
        raise ValueError("bootstrap needs at least two texts")
    defined = text_defined_terms(nlp, texts, terms) if abbreviations else {}
    Vocabulary(
        name="defined_terms",
        terms=defined,
        provenance="abbreviations and long forms defined in the bootstrap text next to a dictionary match "
        "or a probable mention (autolabel bootstrap)",
    ).to_tsv(output_dir / "defined_terms.tsv")
    docs = weak_corpus(nlp, texts, terms, unknown=unknown, unknown_rate=unknown_rate, seed=seed, defined=defined)
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
        "defined_terms": len(defined),
        "weak_entities": sum(len(d.ents) for d in docs),
        "unknown_tokens": n_missing,
        "tokens": sum(len(d) for d in docs),
        # the last checkpoint: the dev split is weak-labelled, so "best on dev"
        # would only mean "most like the dictionary"
        "model": str(output_dir / "model" / "model-last"),
        "corpus": str(corpus),
    }


def dictionary_predictions(nlp, docs: Iterable[Doc], terms: dict[str, str], attr: str = "LOWER") -> list[Doc]:
    """Dictionary matching alone, as a baseline: longest matches as entities."""
    matcher = VocabMatcher(nlp.make_doc, attr=attr)
    matcher.add(terms)
    out = []
    for doc in docs:
        pred = nlp.make_doc(doc.text)
        pred.ents = matcher(pred)
        out.append(pred)
    return out


def bootstrap_raw(
    raw,
    output_dir,
    domain: Optional[str] = None,
    vocab=None,
    config=None,
    lang: Optional[str] = None,
    epochs: int = 10,
    unknown: bool = True,
    column: str = "text",
    abbreviations: bool = True,
) -> tuple[dict, AnnotateSummary]:
    """``autolabel bootstrap``: weak-label the raw text of a file or folder
    with a domain's vocabularies and/or a ``term<TAB>label`` file, train
    ``config`` (default: the shipped ``crf_fast.cfg``) on it, and annotate the
    text into ``output_dir/annotations.jsonl``. Returns :func:`bootstrap`'s
    result and the annotation summary."""
    terms, language = {}, lang or "en"
    if domain:
        spec = get_domain(domain)
        terms.update(spec.all_terms())
        language = lang or spec.language
    if vocab:
        terms.update(Vocabulary.from_tsv(vocab).terms)
    if not terms:
        raise ValueError("no terms to bootstrap from: give a domain with vocabularies or a vocabulary file")
    blank(language)  # an unknown language fails here, not after training
    config = config_path(config)
    check_output_dir(Path(output_dir))
    texts = [r.text for r in Inputs(raw, column) if r.error is None]
    if not texts:
        raise ValueError(f"{raw}: no usable text to bootstrap from")
    overrides = {"training.max_epochs": epochs, "training.max_steps": 0}
    result = bootstrap(
        texts,
        terms,
        output_dir,
        config,
        lang=language,
        overrides=overrides,
        unknown=unknown,
        abbreviations=abbreviations,
    )
    summary = annotate(result["model"], raw, Path(output_dir) / "annotations.jsonl", column=column, progress=False)
    return result, summary
