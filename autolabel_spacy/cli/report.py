"""``autolabel report``: an evaluate report or an annotate run as one HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..workflow.report import write_report


def report_cli(
    run: Annotated[
        Path, typer.Argument(help="An `autolabel evaluate --output` report, or an annotate run's <name>.summary.json")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML page to write")],
    shown: Annotated[
        int, typer.Option(min=1, help="Annotate runs: how many documents of the review queue to show")
    ] = 10,
    lang: Annotated[str, typer.Option(help="spaCy language of the annotated texts")] = "en",
) -> None:
    """One self-contained HTML page (plots, displaCy, no network when viewed)."""
    write_report(run, output, shown, lang)
    typer.echo(f"wrote {output}")
