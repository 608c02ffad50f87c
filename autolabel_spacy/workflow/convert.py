"""``convert``: an annotation file from one format to another (any format an
installed plugin provides; ``autolabel formats`` lists them)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..files import atomic_path, check_output
from ..formats import format_for_path
from ..formats.io import read_docs, reader_options, write_docs
from ..hooks.manager import get_plugins
from ..loading import blank


def convert(
    input_path: Path,
    output_path: Path,
    lang: str = "en",
    scheme: str = "auto",
    limit: int = 0,
    n_sents: int = 1,
    strict: bool = False,
    input_format: Optional[str] = None,
    output_format: Optional[str] = None,
    align: str = "strict",
    label_map: Optional[dict] = None,
) -> dict:
    """Convert one file; returns counts of docs, tokens and entities, and the
    tag-sequence violations read leniently (``repairs``, token-per-line input).
    ``align`` (snap spans off token boundaries: ``expand`` or ``contract``)
    and ``label_map`` (rename types: ``{"SpecificDisease": "Disease"}``) go to
    a record format's reader (``pubtator``'s takes both); the first bad
    record stops the conversion (``autolabel import`` sets them aside)."""
    nlp = blank(lang)  # zh: spaCy's default character segmenter
    formats = get_plugins().formats()
    input_format = input_format or format_for_path(input_path, formats, option="--from")
    output_format = output_format or format_for_path(output_path, formats, option="--to")
    check_output(output_path)
    spec = get_plugins().format(input_format)
    options = {"scheme": scheme, "limit": limit, "n_sents": n_sents, "strict": strict} if input_format == "conll" else {}
    options.update(reader_options(spec, align, label_map))
    repairs: list[str] = []
    if input_format == "conll":
        options["repairs"] = repairs
    docs = list(read_docs(input_path, nlp, input_format, **options))
    with atomic_path(output_path) as tmp:
        write_docs(docs, tmp, output_format)
    return {
        "docs": len(docs),
        "tokens": sum(len(d) for d in docs),
        "entities": sum(len(d.ents) for d in docs),
        "repairs": repairs,
    }
