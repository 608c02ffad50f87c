"""spaCy's binary ``.spacy`` format (DocBin)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from spacy.tokens import Doc, DocBin


def read_docbin(path, nlp) -> Iterator[Doc]:
    yield from DocBin().from_disk(path).get_docs(nlp.vocab)


def write_docbin(docs: Iterable[Doc], path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    DocBin(docs=docs, store_user_data=True).to_disk(path)
