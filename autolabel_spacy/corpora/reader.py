"""Tagged corpora -> spaCy ``Doc``s, ``DocBin`` files and a registered reader."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Corpus, Example
from spacy.util import filter_spans

from .conll import Sentence, read_tagged

# Languages written without spaces between tokens: tokens are joined directly.
NO_SPACE_LANGS = {"zh", "ja", "th"}


def sentence_to_doc(vocab, sent: Sentence, lang: str) -> Doc:
    spaces = [lang not in NO_SPACE_LANGS] * len(sent.tokens)
    if spaces:
        spaces[-1] = False
    doc = Doc(vocab, words=sent.tokens, spaces=spaces)
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in sent.spans]
    return doc


def docs_from_file(
    path,
    lang: str = "en",
    scheme: str = "auto",
    limit: int = 0,
    n_sents: int = 1,
    vocab=None,
    strict: bool = False,
    repairs: Optional[list] = None,
) -> Iterator[Doc]:
    """Docs of a token-per-line corpus: one doc per ``n_sents`` sentences
    (never across a ``-DOCSTART-`` boundary), the first ``limit`` sentences
    only if ``limit`` > 0. ``repairs`` (a list) receives ``file:line:
    problem`` for every tag-sequence violation read leniently."""
    if limit < 0 or n_sents < 1:
        raise ValueError(f"limit must be 0 or more and n_sents 1 or more, got {limit} and {n_sents}")
    if vocab is None:
        vocab = spacy.blank(lang).vocab
    batch: list[Doc] = []
    doc_index = None
    for i, sent in enumerate(read_tagged(path, scheme, strict=strict)):
        if limit and i >= limit:
            break
        if repairs is not None:
            repairs.extend(f"{sent.path}:{r}" for r in sent.repairs)
        doc = sentence_to_doc(vocab, sent, lang)
        if batch and (len(batch) >= n_sents or sent.doc_index != doc_index):
            yield _join(batch)
            batch = []
        batch.append(doc)
        doc_index = sent.doc_index
    if batch:
        yield _join(batch)


def _join(docs: list[Doc]) -> Doc:
    if len(docs) == 1:
        return docs[0]
    return Doc.from_docs(docs, ensure_whitespace=True)


def to_docbin(docs: Iterable[Doc], store_user_data: bool = False) -> DocBin:
    db = DocBin(store_user_data=store_user_data)
    for doc in docs:
        db.add(doc)
    return db


def create_tagged_corpus_reader(
    path: Path,
    lang: str = "en",
    scheme: str = "auto",
    limit: int = 0,
    n_sents: int = 1,
    shuffle: bool = False,
    seed: int = 0,
) -> Callable[[Language], Iterable[Example]]:
    """``autolabel.TaggedCorpus.v1``: read a token-per-line corpus directly in
    a training config (``[corpora.train] @readers = ...``)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"corpus file not found: {path}")

    def read(nlp: Language) -> Iterator[Example]:
        docs = list(docs_from_file(path, lang, scheme, limit, n_sents, vocab=nlp.vocab))
        if shuffle:
            random.Random(seed).shuffle(docs)
        for ref in docs:
            # The corpus tokenisation is the gold one (like spaCy's gold_preproc).
            words = [t.text for t in ref]
            spaces = [bool(t.whitespace_) for t in ref]
            yield Example(Doc(nlp.vocab, words=words, spaces=spaces), ref)

    return read


def create_gold_entities_corpus_reader(path: Path, limit: int = 0) -> Callable[[Language], Iterable[Example]]:
    """``autolabel.GoldEntitiesCorpus.v1``: spaCy's ``Corpus`` of a DocBin
    whose predicted docs carry the gold entities (with their concept ids)
    and sentence boundaries, so that a pipeline that relates entities
    without finding them (``rel_fast.cfg``) trains and is scored on dev on
    the entities the corpus gives."""
    corpus = Corpus(path, limit=limit)

    def read(nlp: Language) -> Iterator[Example]:
        for eg in corpus(nlp):
            yield Example(with_gold_entities(eg.predicted, eg.reference), eg.reference)

    return read


def with_gold_entities(doc: Doc, ref: Doc) -> Doc:
    """``doc`` (a doc of ``ref``'s text) given ``ref``'s entities, with their
    concept ids (snapped to ``doc``'s tokens), and its sentence boundaries
    when the two are tokenized alike."""
    spans = [
        doc.char_span(e.start_char, e.end_char, label=e.label_, kb_id=e.kb_id_, alignment_mode="expand")
        for e in ref.ents
    ]
    doc.ents = filter_spans([s for s in spans if s is not None])
    if ref.has_annotation("SENT_START") and [t.idx for t in doc] == [t.idx for t in ref]:
        for token, gold in zip(doc, ref):
            token.is_sent_start = gold.is_sent_start
    return doc
