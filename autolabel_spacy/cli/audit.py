"""``autolabel audit``: rank probable label errors of a labelled corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..workflow.audit import audit_file


def audit_cli(
    data: Annotated[Path, typer.Argument(help="Labelled corpus in any readable format")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Issues, ranked, as JSON lines")],
    config: Annotated[
        Optional[Path], typer.Option(help="Training config for the fold models (default: the shipped crf_fast.cfg)")
    ] = None,
    k: Annotated[int, typer.Option("-k", min=2, help="Cross-validation folds")] = 5,
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs per fold")] = 5,
    data_format: Annotated[Optional[str], typer.Option("--format", help="Format of the data")] = None,
    lang: Annotated[str, typer.Option(help="spaCy language")] = "en",
    top: Annotated[int, typer.Option(min=0, help="Issues to print")] = 20,
) -> None:
    """k-fold cross-validated posteriors (crf_ner spans, textcat categories) vs the given labels (confident "
    "learning)."""
    issues = audit_file(data, output, config, k=k, epochs=epochs, data_format=data_format, lang=lang)
    flagged = sum(issue.flagged for issue in issues)
    categories = sum(issue.kind == "category" for issue in issues)
    judged = [f"{len(issues) - categories} spans"] + ([f"{categories} categories"] if categories else [])
    typer.echo(f"{' and '.join(judged)} judged, {flagged} flagged -> {output}")
    for issue in issues[:top]:
        typer.echo(f"{issue.score:.2f}\t{issue.kind}\tdoc {issue.record}\t{issue.text!r} {issue.label}\t{issue.reason}")
