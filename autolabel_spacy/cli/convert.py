"""``autolabel convert``: annotation files from one format to another
(any format an installed plugin provides; ``autolabel formats`` lists them)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


# options that `autolabel corpus` shares, reading the same token-per-line files
LangOption = Annotated[str, typer.Option("--lang", help="spaCy language code (zh: character tokens, no spaces)")]
SchemeOption = Annotated[str, typer.Option("--scheme", help="tag scheme of token-per-line input: auto, iob2, iob1, io, biluo or bmes")]


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
) -> dict:
    """Convert one file; returns counts of docs, tokens and entities."""
    from ..files import atomic_path, check_output
    from ..formats import format_for_path, read_docs, write_docs
    from ..hooks.manager import get_plugins
    from ..loading import blank

    nlp = blank(lang)  # zh: spaCy's default character segmenter
    formats = get_plugins().formats()
    input_format = input_format or format_for_path(input_path, formats, option="--from")
    output_format = output_format or format_for_path(output_path, formats, option="--to")
    check_output(output_path)
    options = {"scheme": scheme, "limit": limit, "n_sents": n_sents, "strict": strict} if input_format == "conll" else {}
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
) -> None:
    """Convert an annotated corpus between formats (CoNLL/TSV, .spacy, JSONL, plugins')."""
    counts = convert(input_path, output_path, lang, scheme, limit, n_sents, strict, input_format, output_format)
    typer.echo(f"{output_path}: {counts['docs']} docs, {counts['tokens']} tokens, {counts['entities']} entities")
    if counts["repairs"]:
        shown = "; ".join(counts["repairs"][:3])
        typer.echo(
            f"warning: {len(counts['repairs'])} tag-sequence violations read leniently (--strict refuses them), "
            f"first: {shown}", err=True,
        )
