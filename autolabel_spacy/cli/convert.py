"""``autolabel convert``: annotation files from one format to another
(any format an installed plugin provides; ``autolabel formats`` lists them)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Optional

import srsly
import typer

from ..workflow.convert import convert
from .formats import warn_not_held
from .importer import AlignOption, LabelMapOption, parse_label_map

# options that `autolabel corpus` shares, reading the same token-per-line files
LangOption = Annotated[str, typer.Option("--lang", help="spaCy language code (zh: character tokens, no spaces)")]
SchemeOption = Annotated[
    str, typer.Option("--scheme", help="tag scheme of token-per-line input: auto, iob2, iob1, io, biluo or bmes")
]


def convert_cli(
    input_path: Annotated[Path, typer.Argument(help="Input file (format from its extension or --from)")],
    output_path: Annotated[Path, typer.Argument(help="Output file (format from its extension or --to)")],
    lang: LangOption = "en",
    scheme: SchemeOption = "auto",
    limit: Annotated[int, typer.Option(min=0, help="conll input: read only the first N sentences (0: all)")] = 0,
    n_sents: Annotated[int, typer.Option(min=1, help="conll input: sentences per doc")] = 1,
    strict: Annotated[bool, typer.Option(help="conll input: fail on tag-sequence violations")] = False,
    input_format: Annotated[Optional[str], typer.Option("--from", help="Input format name")] = None,
    output_format: Annotated[Optional[str], typer.Option("--to", help="Output format name")] = None,
    align: AlignOption = "strict",
    label_map: LabelMapOption = None,
    errors: Annotated[
        Optional[Path],
        typer.Option(help="Record formats: where refused records go (default: <output name>.convert-errors.jsonl)"),
    ] = None,
) -> None:
    """Convert an annotated corpus between formats (CoNLL/TSV, .spacy, JSONL, PubTator, plugins').
    A record it cannot read is set aside in the errors file with its line and
    reason, and the others are converted (as import does)."""
    counts = convert(
        input_path,
        output_path,
        lang,
        scheme,
        limit,
        n_sents,
        strict,
        input_format,
        output_format,
        align,
        parse_label_map(label_map),
        errors,
    )
    typer.echo(f"{output_path}: {counts['docs']} docs, {counts['tokens']} tokens, {counts['entities']} entities")
    warn_not_held(output_path, counts["not_held"])
    if counts["repairs"]:
        shown = "; ".join(counts["repairs"][:3])
        typer.echo(
            f"warning: {len(counts['repairs'])} tag-sequence violations read leniently (--strict refuses them), "
            f"first: {shown}",
            err=True,
        )
    if counts["refused"]:
        # as import: the records that could not be used are in the errors file, with their line and reason
        first = "; ".join(
            f"{e['record']}: {e['error']}" for e in itertools.islice(srsly.read_jsonl(counts["errors"]), 3)
        )
        typer.echo(f"{counts['refused']} records refused -> {counts['errors']}")
        typer.echo(f"warning: {counts['refused']} records refused, first: {first}", err=True)
