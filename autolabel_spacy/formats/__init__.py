"""Annotation file formats: what the ``autolabel_formats`` hook returns.

The core's own formats (``conll``, ``spacy``, ``jsonl``, ``labelstudio``,
``prodigy``, ``doccano``, ``pubtator``) are registered by :mod:`autolabel_spacy.hooks.builtin`
through the same hook as any plugin's. This module holds the spec type and its
validation; reading and writing a file in an installed format by name is
:mod:`autolabel_spacy.format_io`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Optional

from .records import read_strictly

HELD = ("relations", "categories", "concept ids")  # what a format may hold besides entities


@dataclass(frozen=True)
class FormatSpec:
    """An annotation format.

    read: ``read(path, nlp, **options) -> Iterator[Doc]`` with the entities
        in ``doc.ents``; raises an error naming the file and record on bad input.
        Derived from ``read_records`` when only that is given.
    write: ``write(docs, path) -> None``; consumes ``docs`` as a stream.
    read_records: optional ``read_records(path, nlp, align=, labels=) ->
        Iterator[Record]`` yielding a doc or the reason per record, so that
        one bad record does not stop an import (see ``formats/records.py``).
    write_records: optional ``write_records(records, path) -> None`` for a
        format whose records are the ``jsonl`` format's records (``text``,
        ``spans`` with character offsets, ``score``, ``meta``): it writes
        them without tokenizing, and must write exactly what ``write`` writes
        for the docs of those records. ``annotate`` uses it when present.
    holds: what the format holds besides entities (:data:`HELD`):
        ``"relations"`` (``doc._.relations``), ``"categories"``
        (``doc.cats``), ``"concept ids"`` (``kb_id_``); ``annotate``,
        ``convert`` and ``import`` say when docs have what their output
        format cannot hold (:func:`not_held`).
    refuses: optional ``refuses(doc) -> Optional[str]``: why the format
        cannot write this doc without losing part of what it holds (PubTator
        relations need concept ids), or None; such a doc is its record's
        error (:func:`writable`), never written with a part missing.
    """

    name: str
    description: str
    extensions: tuple[str, ...] = ()
    read: Optional[Callable] = None
    write: Optional[Callable] = None
    read_records: Optional[Callable] = None
    write_records: Optional[Callable] = None
    holds: tuple[str, ...] = ()
    refuses: Optional[Callable] = None

    def __post_init__(self) -> None:
        if self.read is None and callable(self.read_records):
            object.__setattr__(self, "read", partial(read_strictly, self.read_records))


def validate_format(spec) -> list[str]:
    if not isinstance(spec, FormatSpec):
        return [f"expected a FormatSpec, got {type(spec).__name__}"]
    problems = []
    if not spec.name:
        problems.append("format has no name")
    if spec.read is None and spec.write is None:
        problems.append(f"format {spec.name!r} can neither read nor write")
    for fn in (spec.read, spec.write, spec.read_records, spec.write_records, spec.refuses):
        if fn is not None and not callable(fn):
            problems.append(f"format {spec.name!r}: {fn!r} is not callable")
    return problems


def format_for_path(path, formats: dict, option: str = "--format") -> str:
    """The name of the format whose extension ``path`` ends with (the longest
    match: ``x.prodigy.jsonl`` is prodigy, ``x.jsonl`` is jsonl); ``option``
    is the command's option that names a format, for the error message."""
    name = str(path).lower()
    matches = [
        (len(ext), spec.name) for spec in formats.values() for ext in spec.extensions if name.endswith(ext.lower())
    ]
    if matches:
        return max(matches)[1]
    raise ValueError(
        f"{path}: cannot tell the format from the extension; name one with {option} (autolabel formats lists them)"
    )
