"""``autolabel annotate``: tag raw text, route by confidence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ..routing import RoutingOptionError, Thresholds, chosen_thresholds
from ..workflow.annotate import annotate
from ..workflow.inputs import DEFAULT_MAX_CHARS, MAX_CHARS_LIMIT
from .errors import probability
from .formats import warn_not_held


def annotate_cli(
    model: Annotated[str, typer.Argument(help="Trained pipeline (name or path)")],
    input_path: Annotated[Path, typer.Argument(help=".txt (one doc per line), .jsonl, .csv or a directory of .txt")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file; its extension picks the format")],
    output_format: Annotated[Optional[str], typer.Option("--format", help="Output format (autolabel formats)")] = None,
    accept_threshold: Annotated[
        Optional[float],
        typer.Option(
            parser=probability, help="Auto-accept docs whose annotation has at least this probability (0 to 1)"
        ),
    ] = None,
    accept_threshold_from: Annotated[
        Optional[Path],
        typer.Option(
            help="Use the threshold that `autolabel evaluate --output` recommended in this report (run it on dev data)"
        ),
    ] = None,
    n_process: Annotated[int, typer.Option(min=1, help="Processes for nlp.pipe")] = 1,
    batch_size: Annotated[int, typer.Option(min=1, help="Docs per batch")] = 64,
    resume: Annotated[bool, typer.Option(help="Finish an interrupted run")] = False,
    column: Annotated[str, typer.Option(help="Text field of .jsonl / column of .csv input")] = "text",
    max_chars: Annotated[
        int, typer.Option(min=1, max=MAX_CHARS_LIMIT, help="Longer texts go to the errors file")
    ] = DEFAULT_MAX_CHARS,
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
    engine: Annotated[
        Literal["local", "ray"],
        typer.Option(help="local (this machine, --n-process) or ray (Ray Data actors; extra [ray])"),
    ] = "local",
    address: Annotated[
        Optional[str], typer.Option(help="ray: address of a running cluster (default: start a local Ray)")
    ] = None,
    num_workers: Annotated[int, typer.Option(min=1, help="ray: actors, each loading the pipeline once")] = 1,
    shard_size: Annotated[int, typer.Option(min=1, help="ray: records per input shard")] = 10_000,
    rank_by: Annotated[
        Optional[Literal["sentence", "token"]],
        typer.Option(
            help="With --accept-threshold: what is compared with it, sentence (probability, the default) or token "
            "(per-token geometric mean); --accept-threshold-from takes it from the report",
        ),
    ] = None,
    relation_threshold: Annotated[
        Optional[float],
        typer.Option(
            parser=probability,
            help="With --accept-threshold: a doc's relation decisions must all be right with at least this probability",
        ),
    ] = None,
    category_threshold: Annotated[
        Optional[float],
        typer.Option(
            parser=probability, help="With --accept-threshold: a doc's top category must have at least this probability"
        ),
    ] = None,
) -> None:
    """Annotate raw text with confidences; with --accept-threshold, split into accepted and review sets."""
    try:
        chosen = chosen_thresholds(
            Thresholds(accept_threshold, rank_by, relation_threshold, category_threshold), accept_threshold_from
        )
    except RoutingOptionError as err:
        raise typer.BadParameter(str(err)) from None
    if chosen.why:
        typer.echo(chosen.why)
    summary = annotate(
        model,
        input_path,
        output,
        output_format,
        chosen.accept_threshold,
        n_process,
        batch_size,
        resume,
        column,
        max_chars,
        progress,
        engine=engine,
        address=address,
        num_workers=num_workers,
        shard_size=shard_size,
        rank_by=chosen.rank_by or "sentence",
        relation_threshold=chosen.relation_threshold,
        category_threshold=chosen.category_threshold,
    )
    routed = ""
    if chosen.accept_threshold is not None:
        routed = f"({summary.accepted} accepted, {summary.review} to review"
        if (summary.units_accepted, summary.units_review) != (summary.accepted, summary.review):
            # documents routed sentence by sentence: the reviewers' work is the sentences left
            total = summary.units_accepted + summary.units_review
            routed += f"; {summary.units_accepted} of {total} sentences accepted"
        routed += ") "
    typer.echo(f"{summary.inputs} records: {summary.annotated} annotated {routed}and {summary.errors} errors")
    for name, path in summary.outputs.items():
        typer.echo(f"  {name}: {path}")
    warn_not_held(output, summary.not_written)
    if summary.written_in_part:
        part = summary.written_in_part
        typer.echo(
            f"warning: {output}: {part['docs']} docs are written without what this format cannot hold, the first "
            f"{part['reason']}",
            err=True,
        )
    if summary.skipped:
        shown = ", ".join(summary.skipped[:5]) + (", …" if len(summary.skipped) > 5 else "")
        typer.echo(f"note: {input_path}: skipped {len(summary.skipped)} files that are not .txt: {shown}", err=True)
