"""spaCy's binary ``.spacy`` format (DocBin)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from spacy.tokens import Doc, DocBin


def read_docbin(path, nlp) -> Iterator[Doc]:
    """The docs of a ``.spacy`` file; one that is not a DocBin is an error
    naming the file (spaCy's own says neither which file nor what to do)."""
    try:
        docbin = DocBin().from_disk(path)
    except (ValueError, TypeError, KeyError) as err:
        code = str(err).split("]", 1)[0].lstrip("[") if str(err).startswith("[") else type(err).__name__
        raise ValueError(
            f"{path}: not a spaCy DocBin (.spacy) file ({code}); convert the annotations with `autolabel convert`"
        ) from None
    yield from docbin.get_docs(nlp.vocab)


def write_docbin(docs: Iterable[Doc], path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    DocBin(docs=docs, store_user_data=True).to_disk(path)
