"""The ``autolabel`` command line. Each command lives in its own module as a
thin typer wrapper around a plain, importable function; errors are turned
into one line each by :class:`errors.AutolabelGroup` (see ``errors.py``)."""

from __future__ import annotations

import typer

from . import (
    annotate,
    audit,
    bootstrap,
    convert,
    corpus,
    domains,
    evaluate,
    formats,
    importer,
    pretrain,
    report,
    select,
    serve,
    tag,
    vocab,
)
from .errors import AutolabelGroup


def build_app() -> typer.Typer:

    # plain help text: rich markup would swallow text in brackets such as "[ray]"
    app = typer.Typer(
        cls=AutolabelGroup,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        help="Automatic data annotation with neural-CRF spaCy pipelines.",
    )
    app.command("convert")(convert.convert_cli)
    app.command("corpus")(corpus.corpus_cli)
    app.command("tag")(tag.tag_cli)
    app.command("annotate")(annotate.annotate_cli)
    app.command("import")(importer.import_cli)
    app.command("evaluate")(evaluate.evaluate_cli)
    app.command("select")(select.select_cli)
    app.command("bootstrap")(bootstrap.bootstrap_cli)
    app.command("audit")(audit.audit_cli)
    app.command("formats")(formats.formats_cli)
    app.command("serve")(serve.serve_cli)
    app.command("report")(report.report_cli)
    app.command("pretrain")(pretrain.pretrain_cli)
    app.add_typer(domains.app, name="domains")
    app.add_typer(vocab.app, name="vocab")
    return app


def main() -> None:
    build_app()()
