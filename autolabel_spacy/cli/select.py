"""``autolabel select``: the docs of a pool most worth labelling next."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ..workflow.select import select_file
from .errors import number_in


def select_cli(
    model: Annotated[str, typer.Argument(help="Current pipeline (with crf_ner)")],
    pool: Annotated[Path, typer.Argument(help="Unlabelled pool: .txt, .jsonl, .csv or a directory of .txt")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Selected docs, pre-annotated (format from the extension)")
    ],
    n: Annotated[int, typer.Option("-n", min=1, help="How many docs to select")] = 100,
    strategy: Annotated[
        Literal["least_confidence", "margin", "entropy", "random"],
        typer.Option(help="least_confidence, margin, entropy or random"),
    ] = "least_confidence",
    diversity: Annotated[
        float,
        typer.Option(
            parser=lambda v: number_in(v, 0.0, 1.0, high_open=True),
            help="0: pure uncertainty; up to <1: penalise near-duplicates",
        ),
    ] = 0.0,
    output_format: Annotated[Optional[str], typer.Option("--format", help="Output format")] = None,
    column: Annotated[str, typer.Option(help="Text field of .jsonl / column of .csv")] = "text",
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Seed for the random strategy")] = 0,
) -> None:
    """Select the N most informative docs for human labelling (active learning)."""
    summary = select_file(model, pool, output, n, strategy, diversity, output_format, column, seed)
    typer.echo(
        f"selected {summary['selected']} of {summary['pool']} docs ({summary['unreadable']} unreadable) -> "
        f"{summary['output']}"
    )
    if summary["unreadable"]:
        typer.echo(f"  unreadable records, with their line and reason -> {summary['errors']}")
