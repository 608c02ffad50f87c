"""``autolabel pretrain``: domain assets (floret subword vectors) from raw text."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ..workflow.inputs import DEFAULT_MAX_CHARS, MAX_CHARS_LIMIT
from ..workflow.pretrain import VectorSettings, pretrain

DEFAULTS = VectorSettings()


def pretrain_cli(
    raw: Annotated[
        Path,
        typer.Argument(help="Raw domain text: .txt (one doc per line), .jsonl, .csv, .pubtator or a folder of .txt"),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder of the assets (vectors/, vectors.floret, manifest.json)")
    ],
    exclude: Annotated[
        Optional[list[Path]],
        typer.Option(
            help="An evaluation file (any readable format) whose sentences are kept out of the text; repeatable"
        ),
    ] = None,
    lang: Annotated[str, typer.Option(help="spaCy language code (its tokenizer)")] = "en",
    column: Annotated[str, typer.Option(help="Text field of .jsonl / column of .csv input")] = "text",
    max_chars: Annotated[
        int, typer.Option(min=1, max=MAX_CHARS_LIMIT, help="Longer texts go to the errors file")
    ] = DEFAULT_MAX_CHARS,
    dim: Annotated[int, typer.Option(min=1, help="Vector width")] = DEFAULTS.dim,
    epochs: Annotated[int, typer.Option(min=1, help="floret's passes over the text")] = DEFAULTS.epochs,
    min_count: Annotated[
        int, typer.Option(min=1, help="Words seen fewer times get a vector from their subwords only")
    ] = DEFAULTS.min_count,
    minn: Annotated[int, typer.Option(min=1, help="Shortest character n-gram")] = DEFAULTS.minn,
    maxn: Annotated[int, typer.Option(min=1, help="Longest character n-gram")] = DEFAULTS.maxn,
    bucket: Annotated[int, typer.Option(min=1, help="Rows of the hash table (the vectors' size)")] = DEFAULTS.bucket,
    hash_count: Annotated[
        int, typer.Option(min=1, max=4, help="Rows each word and n-gram is stored in")
    ] = DEFAULTS.hash_count,
    model: Annotated[Literal["cbow", "skipgram"], typer.Option(help="floret's objective")] = DEFAULTS.model,
    threads: Annotated[int, typer.Option(min=1, help="floret's threads")] = DEFAULTS.threads,
) -> None:
    """Train floret subword vectors on a domain's raw text, for a config's paths.vectors."""
    settings = VectorSettings(dim, epochs, min_count, minn, maxn, bucket, hash_count, model, threads)
    summary = pretrain(raw, output, exclude or (), lang, column, max_chars, settings)
    if summary.up_to_date:
        typer.echo(f"{output}: up to date (same inputs and settings as {output / 'manifest.json'})")
        return
    seconds = summary.manifest["seconds"]
    typer.echo(
        f"{summary.records} records: {summary.kept} used ({summary.tokens} tokens; {summary.excluded_sentences} of "
        f"{summary.sentences} sentences excluded) and {summary.errors} errors"
    )
    typer.echo(f"  vectors: {output / 'vectors'} ({seconds['vectors']:.0f} s; text {seconds['text']:.0f} s)")
    if summary.errors:
        typer.echo(f"  errors: {output / 'errors.jsonl'}")
