"""``autolabel evaluate``: accuracy, calibration and routing of a pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ..evaluate_report import EntityReport, write_report
from ..files import check_apart, check_output
from ..workflow.evaluate import evaluate
from .errors import number_in
from .importer import AlignOption, LabelMapOption, parse_label_map

RankByOption = Annotated[
    Literal["sentence", "token"],
    typer.Option(
        help="What a doc or sentence is routed by: sentence (the probability its annotation is right) or token "
        "(that probability's geometric mean per token; ranks long sentences without mentions higher)",
    ),
]


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def evaluate_cli(
    model: Annotated[str, typer.Argument(help="Trained pipeline")],
    data: Annotated[Path, typer.Argument(help="Gold data in any readable format (.spacy, .conll, .jsonl…)")],
    data_format: Annotated[Optional[str], typer.Option("--format", help="Format of the data")] = None,
    target_accuracy: Annotated[
        float,
        typer.Option(
            parser=lambda v: number_in(v, 0.0, 1.0, low_open=True),
            help="Accuracy the auto-accepted docs must reach, in (0, 1]",
        ),
    ] = 0.99,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Also write the report as JSON")] = None,
    align: AlignOption = "strict",
    label_map: LabelMapOption = None,
    rank_by: RankByOption = "sentence",
    min_accepted: Annotated[
        int,
        typer.Option(
            min=0,
            help="Recommend a threshold only where it accepts at least this many docs or sentences "
            "(0: 1/(1 - target), 100 at 0.99: fewer all right is no evidence for the target)",
        ),
    ] = 0,
) -> None:
    """Per-label P/R/F1, span calibration (reliability, ECE) and the routing curve with a recommended threshold."""
    if output:
        check_output(output)  # before the pipeline runs
        check_apart([data, model], {"report": output})
    report = evaluate(
        model,
        data,
        data_format,
        target_accuracy,
        align=align,
        label_map=parse_label_map(label_map),
        rank_by=rank_by,
        min_accepted=min_accepted or None,
    )
    if report.entities is not None:
        _echo_entities(report.entities, report.docs, target_accuracy, rank_by)
    else:
        typer.echo(f"{report.docs} docs (the pipeline sets no entities)")
    if report.relations is not None:
        r = report.relations
        typer.echo(f"relations between the predicted entities: P {_pct(r.p)}  R {_pct(r.r)}  F1 {_pct(r.f)}")
        m = r.mention_pairs
        typer.echo(
            f"  between their mentions (every mention pair of a relation): P {_pct(m['p'])}  R {_pct(m['r'])}  F1 "
            f"{_pct(m['f'])}"
        )
        if r.recommended:
            typer.echo(
                f"  --relation-threshold {r.recommended.threshold:.6g}: {_pct(r.recommended.coverage)}% of docs, "
                f"{_pct(r.recommended.accuracy)}% of them with exactly the gold relations (target "
                f"{_pct(target_accuracy)}%)"
            )
        else:
            typer.echo(
                f"  no relation threshold reaches {_pct(target_accuracy)}% of docs with exactly the gold relations "
                f"on at least {r.min_accepted} docs (--min-accepted): annotate sends every doc to review"
            )
    if report.categories is not None:
        c = report.categories
        macro = f"{_pct(c.macro_f)}" if c.macro_f is not None else "-"
        typer.echo(f"categories of {c.docs} docs: accuracy {_pct(c.accuracy)}%  macro-F1 {macro}  ECE {c.ece:.3f}")
        if c.recommended:
            typer.echo(
                f"  --category-threshold {c.recommended.threshold:.6g}: {_pct(c.recommended.coverage)}% of docs, "
                f"{_pct(c.recommended.accuracy)}% of them right (target {_pct(target_accuracy)}%)"
            )
        else:
            typer.echo(
                f"  no threshold on the top category's probability reaches {_pct(target_accuracy)}% on at least "
                f"{c.min_accepted} docs (--min-accepted): annotate sends every doc to review"
            )
    if output:
        write_report(report, output)


def _echo_entities(report: EntityReport, docs: int, target_accuracy: float, rank_by: str) -> None:
    typer.echo(f"{docs} docs: P {_pct(report.ents_p)}  R {_pct(report.ents_r)}  F1 {_pct(report.ents_f)}")
    typer.echo("label\tP\tR\tF1")
    for label, s in sorted(report.per_label.items()):
        typer.echo(f"{label}\t{_pct(s['p'])}\t{_pct(s['r'])}\t{_pct(s['f'])}")
    typer.echo(
        f"span confidence ECE {report.span_ece:.3f}; reliability (confidence bin: count, mean confidence, accuracy):"
    )
    for row in report.reliability:
        if row["count"]:
            typer.echo(
                f"  ({row['low']:.1f}, {row['high']:.1f}]\t{row['count']}"
                f"\t{row['confidence']:.3f}\t{row['accuracy']:.3f}"
            )
    unit = report.unit
    if unit == "sentence":
        typer.echo(f"routed by sentence: {report.units} sentences in {docs} docs")
    if rank_by != "sentence":
        typer.echo(
            f"ranked by {rank_by}: thresholds are of the per-token geometric mean, not probabilities (annotate takes "
            f"--rank-by {rank_by} from the report)"
        )
    typer.echo(
        f"{unit}s exactly right: {_pct(report.doc_accuracy)}%; routing (threshold: auto-accepted share, their "
        "accuracy):"
    )
    for row in report.routing:
        typer.echo(f"  {row['threshold']:g}\t{_pct(row['coverage'])}%\t{_pct(row['accuracy'])}%")
    rec = report.recommended
    if rec:
        typer.echo(
            f"recommended --accept-threshold {rec.threshold:.6g}: {_pct(rec.coverage)}% of {unit}s auto-accepted, "
            f"{_pct(rec.accuracy)}% of them exactly right (target {_pct(target_accuracy)}%)"
        )
    else:
        typer.echo(
            f"no threshold reaches {_pct(target_accuracy)}% accuracy on at least {report.min_accepted} of these "
            f"{unit}s "
            f"(--min-accepted): annotate sends every {unit} to review"
        )
    typer.echo(
        f"by gold mentions per {unit} (mentions: {unit}s, exactly right, auto-accepted at the recommended threshold):"
    )
    for row in report.by_mentions:
        typer.echo(f"  {row['mentions']}\t{row['units']}\t{_pct(row['exactly_right'])}%\t{_pct(row.get('accepted'))}%")
