"""``autolabel corpus``: a corpus folder's train/dev/test splits -> ``.spacy``
files (and ``raw.txt`` for the annotation step), as the project's
``convert`` step runs it; or one CSV of categorised texts, split in code."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..loading import blank
from ..workflow.corpus import convert_splits
from ..workflow.corpus_categories import DEFAULT_FRACTIONS, convert_category_corpus, read_label_names
from .convert import LangOption, SchemeOption
from .errors import number_in
from .importer import AlignOption, LabelMapOption, parse_label_map


def _fractions(value: str) -> tuple[float, ...]:
    try:
        parts = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise typer.BadParameter(f"expected three shares such as 0.6,0.2,0.2, got {value!r}") from None
    if len(parts) != 3 or not all(math.isfinite(p) and p > 0 for p in parts) or abs(sum(parts) - 1) > 1e-6:
        raise typer.BadParameter(f"expected three positive shares summing to 1, got {value!r}")
    return parts


def corpus_cli(
    folder: Annotated[
        Path,
        typer.Argument(
            help="Folder with train.* and optional dev.*, test.*, raw.txt; or a CSV of texts with one category each"
        ),
    ],
    output: Annotated[Path, typer.Argument(help="Output folder for train/dev/test.spacy and raw.txt")],
    lang: LangOption = "en",
    scheme: SchemeOption = "auto",
    dev_fraction: Annotated[
        float,
        typer.Option(
            parser=lambda v: number_in(v, 0.0, 1.0, high_open=True),
            help="Share of train held out as dev when there is no dev split",
        ),
    ] = 0.1,
    align: AlignOption = "strict",
    label_map: LabelMapOption = None,
    text_column: Annotated[str, typer.Option(help="CSV input: the column of the texts")] = "text",
    label_column: Annotated[str, typer.Option(help="CSV input: the column of the categories")] = "label",
    label_names: Annotated[
        Optional[Path], typer.Option(help="CSV input: a 'label,name' CSV naming the categories")
    ] = None,
    split: Annotated[
        str, typer.Option(callback=_fractions, help="CSV input: train,dev,test shares of the stratified split")
    ] = ",".join(str(f) for f in DEFAULT_FRACTIONS),
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="CSV input: seed of the split")] = 0,
) -> None:
    """Convert every split of a corpus folder (token-per-line, or PubTator
    abstracts) to .spacy; or split a CSV of categorised texts (seeded,
    stratified by category) into train/dev/test.spacy with doc.cats."""
    nlp = blank(lang)
    if folder.is_file() and folder.suffix.lower() == ".csv":
        names = read_label_names(label_names) if label_names else None
        found = convert_category_corpus(folder, output, nlp, text_column, label_column, names, split, seed)
        refused = found.pop("refused")
        for name, n in found.items():
            typer.echo(f"{name}: {n} docs")
        typer.echo(f"{refused} rows refused -> {output / 'errors.jsonl'}" if refused else "no rows refused")
        typer.echo(f"wrote {output}")
        return
    counts = convert_splits(
        folder,
        output,
        lang=lang,
        dev_fraction=dev_fraction,
        scheme=scheme,
        align=align,
        label_map=parse_label_map(label_map),
    )
    for split, c in counts.items():
        refused = f"; {c.errors} refused -> {output / (split + '.errors.jsonl')}" if c.errors else ""
        typer.echo(f"{split}: {c.docs} docs, {c.tokens} tokens, {c.entities} entities{refused}")
    typer.echo(f"wrote {output}")
