"""``autolabel import``: corrections from Label Studio, Prodigy, doccano -> .spacy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ..formats.labelstudio_config import LabelingConfigError, parse_labeling_config
from ..workflow.importer import import_annotations, known_labels, known_other_labels
from .formats import warn_not_held

# options that convert and evaluate share, for the readers that take them
AlignOption = Annotated[
    Literal["strict", "expand", "contract"],
    typer.Option(help="strict: report spans off token boundaries; expand or contract: snap them"),
]
LabelMapOption = Annotated[
    Optional[str],
    typer.Option(help="Rename the input's types, for pubtator: 'SpecificDisease=Disease,DiseaseClass=Disease'"),
]


def import_cli(
    input_path: Annotated[Path, typer.Argument(help="Export of the review tool")],
    output: Annotated[
        Path, typer.Argument(help="Output file for training: .spacy, or any writable format by its extension")
    ],
    input_format: Annotated[
        Optional[str],
        typer.Option(
            "--format", help="labelstudio, prodigy, doccano, jsonl… (default: from the content, then the extension)"
        ),
    ] = None,
    lang: Annotated[str, typer.Option(help="spaCy language of the texts")] = "en",
    align: AlignOption = "strict",
    labels: Annotated[Optional[str], typer.Option(help="Comma-separated known labels")] = None,
    model: Annotated[
        Optional[str], typer.Option(help="Take the known labels (entities, relations, categories) from this pipeline")
    ] = None,
    domain: Annotated[Optional[str], typer.Option(help="Take the known labels from this domain")] = None,
    label_map: LabelMapOption = None,
    label_config: Annotated[
        Optional[Path],
        typer.Option(help="labelstudio: the project's labeling config (XML), which names the text field and the tags"),
    ] = None,
) -> None:
    """Import corrected annotations; bad records go to an errors file with the reason."""
    given = [label.strip() for label in labels.split(",") if label.strip()] if labels is not None else None
    if labels is not None and not given:
        raise typer.BadParameter(f"--labels {labels!r} names no label")
    label_set = known_labels(given, model, domain)
    others = known_other_labels(model)
    summary = import_annotations(
        input_path,
        output,
        input_format,
        lang,
        align,
        label_set,
        label_map=parse_label_map(label_map),
        relation_labels=others["relations"],
        categories=others["categories"],
        names=read_names(label_config),
    )
    if summary.detected:
        typer.echo(summary.detected, err=True)
    typer.echo(
        f"{summary.records} records: {summary.imported} imported ({summary.entities} entities) -> {summary.output}; "
        f"{summary.errors} errors -> {summary.errors_path}"
    )
    warn_not_held(output, summary.not_held)


def read_names(path: Optional[Path]):
    """The tag names of a Label Studio labeling config file, or None."""
    if path is None:
        return None
    try:
        xml = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: cannot read the labeling config ({err})") from None
    try:
        return parse_labeling_config(xml).names
    except LabelingConfigError as err:
        raise ValueError(f"{path}: {err}") from None


def parse_label_map(text: Optional[str]) -> Optional[dict]:
    """``'A=X,B=X'`` as ``{"A": "X", "B": "X"}``; empty text: no map."""
    if text is None or not text.strip():
        return None
    pairs = [item.split("=") for item in text.split(",") if item.strip()]
    if not pairs or any(len(pair) != 2 or not pair[0].strip() or not pair[1].strip() for pair in pairs):
        raise typer.BadParameter(f"--label-map {text!r}: expected TYPE=LABEL pairs joined by commas")
    return {source.strip(): target.strip() for source, target in pairs}
