"""The ``autolabel`` command line. Each command lives in its own module as a
thin typer wrapper around a plain, importable function."""
from __future__ import annotations

import typer


def build_app() -> typer.Typer:
    from . import convert, tag

    app = typer.Typer(no_args_is_help=True, help="Automatic data annotation with neural-CRF spaCy pipelines.")
    app.command("convert")(convert.convert_cli)
    app.command("tag")(tag.tag_cli)
    return app


def main() -> None:
    build_app()()
