"""``autolabel report``: an evaluate report or an annotate run as one HTML page."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..files import atomic_write_text, check_apart, check_output
from ..formats.io import read_docs
from ..loading import blank
from ..report import annotation_page, evaluation_page, read_run


def report_cli(
    run: Annotated[Path, typer.Argument(help="An `autolabel evaluate --output` report, or an annotate run's <name>.summary.json")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML page to write")],
    shown: Annotated[int, typer.Option(min=1, help="Annotate runs: how many documents of the review queue to show")] = 10,
    lang: Annotated[str, typer.Option(help="spaCy language of the annotated texts")] = "en",
) -> None:
    """One self-contained HTML page (plots, displaCy, no network when viewed)."""
    check_output(output)
    check_apart([run], {"output": output})
    data = read_run(run)
    if "outputs" in data:
        review = Path(data["outputs"].get("review") or "")
        if not review.is_file() and (run.parent / review.name).is_file():
            review = run.parent / review.name  # the summary moved with its files
        if not review.is_file():
            raise ValueError(f"{run}: its review file {review} is not there (annotate ran with --accept-threshold?)")
        check_apart([review], {"output": output})
        page = annotation_page(data, list(read_docs(review, blank(lang))), shown)
    else:
        try:
            page = evaluation_page(data)
        except (KeyError, TypeError, ValueError, AttributeError) as err:  # a report is often someone else's file
            what = f"it has no field {err}" if isinstance(err, KeyError) else " ".join(str(err).split())
            raise ValueError(f"{run}: not a report autolabel can show ({what})") from None
    atomic_write_text(output, page)
    typer.echo(f"wrote {output}")
