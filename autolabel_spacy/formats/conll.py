"""Token-per-line tagged corpora (IOB2, IOB1, IO, BILUO, BMES; read by
:mod:`autolabel_spacy.corpora`), written back as two-column IOB2."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, Optional

from spacy.tokens import Doc

from ..corpora import docs_from_file
from .records import META_KEY


def read_conll(
    path,
    nlp,
    scheme: str = "auto",
    limit: int = 0,
    n_sents: int = 1,
    strict: bool = False,
    repairs: Optional[list] = None,
) -> Iterator[Doc]:
    """``repairs``: a list that receives ``file:line: problem`` for each
    tag-sequence violation read leniently."""
    yield from docs_from_file(
        path,
        lang=nlp.lang,
        vocab=nlp.vocab,
        scheme=scheme,
        limit=limit,
        n_sents=n_sents,
        strict=strict,
        repairs=repairs,
    )


def write_conll(docs: Iterable[Doc], path) -> None:
    """One token and its IOB2 tag per line, a blank line after each doc.
    Whitespace tokens are left out: they are not tokens in CoNLL. An entity
    keeps its other tokens (``"heart  "`` is written as ``heart``; one with
    a line break inside keeps its words on both sides); an entity of
    whitespace alone cannot be written and is an error naming the record."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for n, doc in enumerate(docs):
            tags = ["O"] * len(doc)
            for ent in doc.ents:
                words = [t.i for t in ent if not t.is_space]
                if not words:
                    raise ValueError(
                        f"{_record(doc, n)}: entity {ent.text!r} ({ent.label_}) is whitespace alone; CoNLL cannot "
                        "hold it"
                    )
                tags[words[0]] = f"B-{ent.label_}"
                for i in words[1:]:
                    tags[i] = f"I-{ent.label_}"
            for token, tag in zip(doc, tags):
                if token.text == DOCSTART:
                    raise ValueError(
                        f"{_record(doc, n)}: token {token.i} [{token.idx}:{token.idx + len(token.text)}] is "
                        f"{DOCSTART}, which CoNLL readers take for the start of a "
                        "document: this text cannot be written as CoNLL (write it as .jsonl or .spacy)"
                    )
                if not token.is_space:
                    out.write(f"{token.text}\t{tag}\n")
            out.write("\n")


DOCSTART = "-DOCSTART-"  # a line that starts with it separates documents


def _record(doc: Doc, n: int) -> str:
    """The record a doc came from, for an error that names it."""
    meta = doc.user_data.get(META_KEY) or {}
    return meta.get("autolabel_id") or meta.get("source") or f"doc {n}"
