"""Read and write annotation files in any installed format, by name or by the
file's extension (the formats come from the ``autolabel_formats`` hook)."""
from __future__ import annotations

from typing import Optional

from ..hooks.manager import get_plugins
from . import format_for_path


def read_docs(path, nlp, format: Optional[str] = None, **options):
    """Docs of an annotation file in any installed format (by name, or by the
    file's extension); ``options`` go to the format's reader."""
    plugins = get_plugins()
    spec = plugins.format(format or format_for_path(path, plugins.formats()))
    if spec.read is None:
        raise ValueError(f"format {spec.name!r} cannot be read")
    return spec.read(path, nlp, **options)


def write_docs(docs, path, format: Optional[str] = None) -> None:
    """Write ``docs`` to ``path`` in an installed format (by name, or by the
    file's extension)."""
    plugins = get_plugins()
    spec = plugins.format(format or format_for_path(path, plugins.formats()))
    if spec.write is None:
        raise ValueError(f"format {spec.name!r} cannot be written")
    spec.write(docs, path)
