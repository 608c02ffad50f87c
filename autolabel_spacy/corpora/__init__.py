"""Readers for annotated corpora."""

from .conll import CorpusFormatError, Sentence, read_tagged
from .reader import docs_from_file, to_docbin

__all__ = ["CorpusFormatError", "Sentence", "read_tagged", "docs_from_file", "to_docbin"]
