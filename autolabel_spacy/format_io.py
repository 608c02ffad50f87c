"""Read and write annotation files in any installed format, by name or by the
file's extension (the formats come from the ``autolabel_formats`` hook)."""

from __future__ import annotations

import inspect
from typing import Optional

from .formats import HELD, FormatSpec, format_for_path
from .formats.records import Record
from .hooks.manager import get_plugins
from .relations import get_relations


def read_docs(path, nlp, format: Optional[str] = None, **options):
    """Docs of an annotation file in any installed format (by name, or by the
    file's extension); ``options`` go to the format's reader."""
    plugins = get_plugins()
    spec = plugins.format(format or format_for_path(path, plugins.formats()))
    if spec.read is None:
        raise ValueError(f"format {spec.name!r} cannot be read")
    return spec.read(path, nlp, **options)


OPTION_NAMES = {"align": "alignment option", "label_map": "label map", "names": "labeling config"}


def reader_options(spec, align: Optional[str] = None, label_map: Optional[dict] = None, names=None) -> dict:
    """The reading options a command was given (``--align``, ``--label-map``,
    ``--label-config``) for format ``spec``'s record reader; a format whose
    reader does not take one refuses it, by name."""
    options = {}
    for name, value in (("align", align), ("label_map", label_map), ("names", names)):
        if value is None or (name == "align" and value == "strict"):
            continue
        if spec.read_records is None or name not in inspect.signature(spec.read_records).parameters:
            raise ValueError(f"format {spec.name!r} takes no {OPTION_NAMES[name]}")
        options[name] = dict(value) if name == "label_map" else value
    return options


def write_docs(docs, path, format: Optional[str] = None) -> None:
    """Write ``docs`` to ``path`` in an installed format (by name, or by the
    file's extension)."""
    plugins = get_plugins()
    spec = plugins.format(format or format_for_path(path, plugins.formats()))
    if spec.write is None:
        raise ValueError(f"format {spec.name!r} cannot be written")
    spec.write(docs, path)


def has(doc) -> set[str]:
    """Which of :data:`HELD` a doc has."""
    found = set()
    if get_relations(doc):
        found.add("relations")
    if doc.cats:
        found.add("categories")
    if any(ent.kb_id_ not in ("", "-1") for ent in doc.ents):
        found.add("concept ids")
    return found


def not_held(spec: FormatSpec, docs) -> dict[str, int]:
    """How many of ``docs`` have each thing format ``spec`` does not hold."""
    counts = dict.fromkeys(HELD, 0)
    for doc in docs:
        for what in has(doc) - set(spec.holds):
            counts[what] += 1
    return {what: n for what, n in counts.items() if n}


def writable(records, spec: FormatSpec):
    """``records``, each doc that ``spec`` refuses (``spec.refuses``) made
    its record's error with the reason."""
    for record in records:
        if record.error is None and spec.refuses is not None:
            reason = spec.refuses(record.doc)
            if reason:
                record = Record(record.where, error=f"{spec.name} cannot hold it: {reason}", raw=record.raw)
        yield record
