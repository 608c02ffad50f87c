"""``autolabel vocab build``: a term list from an annotated corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ..workflow.vocab import build_vocabulary_file
from .errors import probability

app = typer.Typer(no_args_is_help=True, help="Build vocabularies (term -> label) for domain_vocab and plugins.")


@app.command("build")
def build_cli(
    input_path: Annotated[Path, typer.Argument(help="Annotated corpus (any readable format)")],
    output_path: Annotated[Path, typer.Argument(help="Output term<TAB>label file")],
    lang: Annotated[str, typer.Option(help="spaCy language code")] = "en",
    input_format: Annotated[
        Optional[str], typer.Option("--from", help="Input format (default: from extension)")
    ] = None,
    attr: Annotated[Literal["LOWER", "ORTH"], typer.Option(help="LOWER (case-insensitive) or ORTH")] = "LOWER",
    min_count: Annotated[int, typer.Option(min=1, help="Keep terms annotated at least this often")] = 1,
    min_precision: Annotated[
        float, typer.Option(parser=probability, help="Keep terms annotated in at least this share of their occurrences")
    ] = 0.5,
    folds: Annotated[
        int,
        typer.Option(
            min=0,
            help="Record K (0 or at least 2) cross-validation folds per term, for gazetteer features trained on "
            "this same corpus",
        ),
    ] = 0,
    domain: Annotated[
        Optional[str], typer.Option(help="Installed domain whose labels the corpus must use ('null': no check)")
    ] = None,
) -> None:
    """Build a vocabulary from a corpus's annotated entities."""
    vocab = build_vocabulary_file(
        input_path,
        output_path,
        lang,
        input_format,
        attr,
        min_count,
        min_precision,
        folds,
        None if domain in (None, "", "null") else domain,
    )
    typer.echo(f"{output_path}: {len(vocab.terms)} terms; {vocab.provenance}")
