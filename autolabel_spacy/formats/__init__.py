"""Annotation file formats: what the ``autolabel_formats`` hook returns.

The core's own formats (``conll``, ``spacy``, ``jsonl``) are registered by
:mod:`autolabel_spacy.hooks.builtin` through the same hook as any plugin's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional


@dataclass(frozen=True)
class FormatSpec:
    """An annotation format.

    read: ``read(path, nlp) -> Iterator[Doc]`` with gold entities in
        ``doc.ents``; raises an error naming the file and record on bad input.
    write: ``write(docs, path) -> None``.
    """

    name: str
    description: str
    extensions: tuple[str, ...] = ()
    read: Optional[Callable] = None
    write: Optional[Callable] = None


def validate_format(spec) -> list[str]:
    if not isinstance(spec, FormatSpec):
        return [f"expected a FormatSpec, got {type(spec).__name__}"]
    problems = []
    if not spec.name:
        problems.append("format has no name")
    if spec.read is None and spec.write is None:
        problems.append(f"format {spec.name!r} can neither read nor write")
    for fn in (spec.read, spec.write):
        if fn is not None and not callable(fn):
            problems.append(f"format {spec.name!r}: {fn!r} is not callable")
    return problems


def format_for_path(path, formats: dict) -> str:
    """The name of the format whose extension ``path`` ends with."""
    name = str(path).lower()
    for spec in formats.values():
        if any(name.endswith(ext) for ext in spec.extensions):
            return spec.name
    raise ValueError(f"cannot tell the format of {path} from its extension; name one with --format")


def read_docs(path, nlp, format: Optional[str] = None, **options):
    """Docs of an annotation file in any installed format (by name, or by the
    file's extension); ``options`` go to the format's reader."""
    from ..hooks.manager import get_plugins

    plugins = get_plugins()
    spec = plugins.format(format or format_for_path(path, plugins.formats()))
    if spec.read is None:
        raise ValueError(f"format {spec.name!r} cannot be read")
    return spec.read(path, nlp, **options)


def write_docs(docs, path, format: Optional[str] = None) -> None:
    from ..hooks.manager import get_plugins

    plugins = get_plugins()
    spec = plugins.format(format or format_for_path(path, plugins.formats()))
    if spec.write is None:
        raise ValueError(f"format {spec.name!r} cannot be written")
    spec.write(docs, path)
