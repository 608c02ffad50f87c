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
from .importer import AlignOption, LabelMapOption, parse_label_map


def corpus_cli(
    folder: Annotated[Path, typer.Argument(help="Folder with train.* and optional dev.*, test.*, raw.txt")],
    output: Annotated[Path, typer.Argument(help="Output folder for train/dev/test.spacy and raw.txt")],
    lang: LangOption = "en",
    scheme: SchemeOption = "auto",
    dev_fraction: Annotated[
        float,
        typer.Option(parser=lambda v: number_in(v, 0.0, 1.0, high_open=True), help="Share of train held out as dev when there is no dev split"),
    ] = 0.1,
    align: AlignOption = "strict",
    label_map: LabelMapOption = None,
) -> None:
    """Convert every split of a corpus folder (token-per-line, or PubTator abstracts) to .spacy."""
    blank(lang)
    counts = convert_splits(
        folder, output, lang=lang, dev_fraction=dev_fraction, scheme=scheme, align=align, label_map=parse_label_map(label_map)
    )
    for split, c in counts.items():
        refused = f"; {c.errors} refused -> {output / (split + '.errors.jsonl')}" if c.errors else ""
        typer.echo(f"{split}: {c.docs} docs, {c.tokens} tokens, {c.entities} entities{refused}")
    typer.echo(f"wrote {output}")
