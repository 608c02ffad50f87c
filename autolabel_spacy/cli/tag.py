"""``autolabel tag``: print the entities a pipeline finds, with confidences."""

from __future__ import annotations

from typing import Annotated

import srsly
import typer

from ..workflow.tag import tag


def tag_cli(
    model: Annotated[str, typer.Argument(help="Pipeline name or path")],
    texts: Annotated[list[str], typer.Argument(help="Texts to tag")],
) -> None:
    """Tag texts and print one JSON line per text."""
    for record in tag(model, texts):
        typer.echo(srsly.json_dumps(record))
