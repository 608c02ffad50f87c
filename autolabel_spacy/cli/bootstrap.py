"""``autolabel bootstrap``: train crf_ner from a vocabulary alone, then annotate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..workflow.bootstrap import bootstrap_raw


def bootstrap_cli(
    raw: Annotated[Path, typer.Argument(help="Raw text: .txt, .jsonl, .csv or a directory of .txt")],
    output_dir: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the weak corpus, the model and annotations")
    ],
    domain: Annotated[Optional[str], typer.Option(help="Domain whose vocabularies give the weak labels")] = None,
    vocab: Annotated[
        Optional[Path], typer.Option(help="A term<TAB>label file instead of (or besides) a domain")
    ] = None,
    config: Annotated[
        Optional[Path],
        typer.Option(help="Training config without gazetteer features (default: the shipped crf_fast.cfg)"),
    ] = None,
    lang: Annotated[Optional[str], typer.Option(help="Language (default: the domain's, else en)")] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs")] = 10,
    unknown: Annotated[bool, typer.Option(help="Leave probable missed mentions unannotated instead of O")] = True,
    column: Annotated[str, typer.Option(help="Text field of .jsonl / column of .csv")] = "text",
    abbreviations: Annotated[
        bool,
        typer.Option(
            help="Add the abbreviations (and long forms) the text defines next to a match: 'Angelman syndrome (AS)'"
        ),
    ] = True,
) -> None:
    """Weak-label raw text with a domain vocabulary, train crf_ner on it, and annotate the text."""
    if not domain and not vocab:
        raise typer.BadParameter("give --domain or --vocab")
    result, summary = bootstrap_raw(
        raw,
        output_dir,
        domain=domain,
        vocab=vocab,
        config=config,
        lang=lang,
        epochs=epochs,
        unknown=unknown,
        column=column,
        abbreviations=abbreviations,
    )
    typer.echo(
        f"terms defined in the text: {result['defined_terms']} (defined_terms.tsv); "
        f"weak labels: {result['weak_entities']} entities in {result['docs']} docs, "
        f"{result['unknown_tokens']} of {result['tokens']} tokens left unknown; model {result['model']}; "
        f"annotations {summary.outputs['all']} ({summary.annotated} docs, {summary.errors} errors)"
    )
