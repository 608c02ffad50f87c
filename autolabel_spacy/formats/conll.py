"""Token-per-line tagged corpora (IOB2, IOB1, IO, BILUO, BMES; read by
:mod:`autolabel_spacy.corpora`), written back as two-column IOB2."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from spacy.tokens import Doc
from spacy.training.iob_utils import biluo_to_iob, doc_to_biluo_tags

from ..corpora import docs_from_file


def read_conll(path, nlp, scheme: str = "auto", limit: int = 0, n_sents: int = 1, strict: bool = False) -> Iterator[Doc]:
    yield from docs_from_file(
        path, lang=nlp.lang, vocab=nlp.vocab, scheme=scheme, limit=limit, n_sents=n_sents, strict=strict
    )


def write_conll(docs: Iterable[Doc], path) -> None:
    """One token and its IOB2 tag per line, a blank line after each doc.
    Whitespace tokens outside entities are left out (they are not tokens in
    CoNLL); one inside an entity is an error."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for n, doc in enumerate(docs):
            tags = biluo_to_iob(doc_to_biluo_tags(doc, missing="O"))
            for token, tag in zip(doc, tags):
                if not token.text.strip():
                    if tag != "O":
                        raise ValueError(f"doc {n}: whitespace token {token.i} lies inside an entity; cannot write CoNLL")
                    continue
                out.write(f"{token.text}\t{tag}\n")
            out.write("\n")
