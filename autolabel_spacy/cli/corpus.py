"""``autolabel corpus``: a corpus folder's train/dev/test splits -> ``.spacy``
files (and ``raw.txt`` for the annotation step), as the project's
``convert`` step runs it."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..corpora.splits import convert_splits
from ..loading import blank
from .convert import LangOption, SchemeOption
from .errors import number_in


def corpus_cli(
    folder: Annotated[Path, typer.Argument(help="Folder with train.* and optional dev.*, test.*, raw.txt")],
    output: Annotated[Path, typer.Argument(help="Output folder for train/dev/test.spacy and raw.txt")],
    lang: LangOption = "en",
    scheme: SchemeOption = "auto",
    dev_fraction: Annotated[
        float,
        typer.Option(parser=lambda v: number_in(v, 0.0, 1.0, high_open=True), help="Share of train held out as dev when there is no dev split"),
    ] = 0.1,
) -> None:
    """Convert every split of a token-per-line corpus folder to .spacy."""
    blank(lang)
    counts = convert_splits(folder, output, lang=lang, dev_fraction=dev_fraction, scheme=scheme)
    for split, c in counts.items():
        typer.echo(f"{split}: {c.docs} docs, {c.tokens} tokens, {c.entities} entities")
    typer.echo(f"wrote {output}")
