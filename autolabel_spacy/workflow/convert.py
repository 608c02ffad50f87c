"""``convert``: an annotation file from one format to another (any format an
installed plugin provides; ``autolabel formats`` lists them)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..files import atomic_path, check_apart, check_output, split_extension
from ..format_io import not_held, read_docs, reader_options, writable, write_docs
from ..formats import format_for_path
from ..formats.records import Record, set_aside
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
    errors_path: Optional[Path] = None,
) -> dict:
    """Convert one file; returns counts of docs, tokens and entities, and the
    tag-sequence violations read leniently (``repairs``, token-per-line input).
    ``align`` (snap spans off token boundaries: ``expand`` or ``contract``)
    and ``label_map`` (rename types: ``{"SpecificDisease": "Disease"}``) go to
    a record format's reader (``pubtator``'s takes both).

    A record format's input is read record by record: a record its reader
    refuses (a span off token boundaries, a relation naming an entity the
    record lacks, a self-relation or a repeated one, bad JSON...) goes to
    ``errors_path`` (default ``<output name>.convert-errors.jsonl``) with
    its line and reason, as ``autolabel import`` sets them aside, and the
    others are converted: ``refused`` counts them and ``errors`` names the
    file. A doc the output format cannot write whole (``FormatSpec.refuses``:
    a PubTator relation between entities without concept ids) is refused
    the same way. A whole-file format (conll, .spacy) converts entirely or
    raises. ``not_held``: how many docs had relations, categories or concept
    ids that the output format does not hold at all (conll), so the command
    says so."""
    nlp = blank(lang)  # zh: spaCy's default character segmenter
    formats = get_plugins().formats()
    input_format = input_format or format_for_path(input_path, formats, option="--from")
    output_format = output_format or format_for_path(output_path, formats, option="--to")
    output_path = Path(output_path)
    check_output(output_path)
    spec = get_plugins().format(input_format)
    out_spec = get_plugins().format(output_format)
    options = (
        {"scheme": scheme, "limit": limit, "n_sents": n_sents, "strict": strict} if input_format == "conll" else {}
    )
    options.update(reader_options(spec, align, label_map))
    repairs: list[str] = []
    if input_format == "conll":
        options["repairs"] = repairs
    refused = 0
    if spec.read_records is not None:
        if errors_path is None:
            base, _ = split_extension(output_path, [e for f in formats.values() for e in f.extensions])
            errors_path = output_path.with_name(f"{base}.convert-errors.jsonl")
        check_output(errors_path, "errors file")
        check_apart([input_path], {"output": output_path, "errors file": errors_path})
        with atomic_path(errors_path) as tmp_errors:
            docs, refused = set_aside(writable(spec.read_records(input_path, nlp, **options), out_spec), tmp_errors)
    else:
        errors_path = None
        check_apart([input_path], {"output": output_path})
        docs = []
        for record in writable(
            (
                Record(f"{input_path}#{i}", doc=doc)
                for i, doc in enumerate(read_docs(input_path, nlp, input_format, **options))
            ),
            out_spec,
        ):
            if record.error is not None:  # a whole-file format converts entirely or not at all
                raise ValueError(f"{record.where}: {record.error}")
            docs.append(record.doc)
    with atomic_path(output_path) as tmp:
        write_docs(docs, tmp, output_format)
    return {
        "refused": refused,
        "errors": str(errors_path) if errors_path else None,
        "docs": len(docs),
        "tokens": sum(len(d) for d in docs),
        "entities": sum(len(d.ents) for d in docs),
        "repairs": repairs,
        "not_held": not_held(out_spec, docs),  # what the output format cannot hold, per thing: docs that had it
    }
