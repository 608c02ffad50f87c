"""``autolabel convert``: token-per-line corpora -> spaCy ``.spacy`` files."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..corpora import CorpusFormatError, docs_from_file, to_docbin


def convert(
    input_path: Path,
    output_path: Path,
    lang: str = "en",
    scheme: str = "auto",
    limit: int = 0,
    n_sents: int = 1,
    strict: bool = False,
) -> dict:
    """Convert one corpus file; returns counts of docs, tokens and entities."""
    docs = list(docs_from_file(input_path, lang=lang, scheme=scheme, limit=limit, n_sents=n_sents, strict=strict))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    to_docbin(docs).to_disk(output_path)
    return {
        "docs": len(docs),
        "tokens": sum(len(d) for d in docs),
        "entities": sum(len(d.ents) for d in docs),
    }


def convert_cli(
    input_path: Annotated[Path, typer.Argument(help="CoNLL/TSV file, one token per line")],
    output_path: Annotated[Path, typer.Argument(help="Output .spacy file")],
    lang: Annotated[str, typer.Option(help="spaCy language code (zh: character tokens, no spaces)")] = "en",
    scheme: Annotated[str, typer.Option(help="auto, iob2, iob1, io, biluo or bmes")] = "auto",
    limit: Annotated[int, typer.Option(help="Read only the first N sentences (0: all)")] = 0,
    n_sents: Annotated[int, typer.Option(help="Sentences per doc")] = 1,
    strict: Annotated[bool, typer.Option(help="Fail on tag-sequence violations instead of reading them leniently")] = False,
) -> None:
    """Convert a token-per-line NER corpus to a spaCy DocBin."""
    try:
        counts = convert(input_path, output_path, lang, scheme, limit, n_sents, strict)
    except CorpusFormatError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{output_path}: {counts['docs']} docs, {counts['tokens']} tokens, {counts['entities']} entities")
