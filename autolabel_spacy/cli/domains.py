"""``autolabel domains list|show``: the installed domain plugins."""

from __future__ import annotations

from typing import Annotated

import typer

from ..hooks.manager import get_plugins

app = typer.Typer(no_args_is_help=True, help="Domain plugins: label schemes, vocabularies, defaults.")


def _report_problems(plugins) -> None:
    for problem in plugins.problems:
        typer.echo(f"warning: {problem}", err=True)


@app.command("list")
def list_cli() -> None:
    """List installed domains (and any plugin that failed to load)."""
    plugins = get_plugins()
    domains = plugins.domains()
    for name, spec in sorted(domains.items()):
        typer.echo(f"{name}\t{spec.language}\t{spec.plugin} {spec.version}\t{spec.description}")
    if not domains:
        typer.echo("no domains installed (pip install a plugin, e.g. ./plugins/autolabel-medical)")
    _report_problems(plugins)


@app.command("show")
def show_cli(name: Annotated[str, typer.Argument(help="Domain name")]) -> None:
    """Labels, vocabularies (size, provenance), tokenizer exceptions and config of a domain."""
    plugins = get_plugins()
    spec = plugins.domain(name)
    typer.echo(f"domain: {spec.name}  (language {spec.language}; plugin {spec.plugin} {spec.version})")
    typer.echo(spec.description)
    typer.echo("labels:")
    for label in spec.labels:
        typer.echo(f"  {label.name}\t{label.description}")
    typer.echo("vocabularies:")
    for vocab in spec.vocabularies:
        by_label = {}
        for label in vocab.terms.values():
            by_label[label] = by_label.get(label, 0) + 1
        counts = ", ".join(f"{k} {v}" for k, v in sorted(by_label.items()))
        if vocab.ids:
            counts += f"; {len(vocab.ids)} with a concept id"
        typer.echo(f"  {vocab.name}\t{len(vocab.terms)} terms ({counts})\t{vocab.provenance}")
    if spec.tokenizer_exceptions:
        typer.echo(f"tokenizer exceptions: {len(spec.tokenizer_exceptions)}")
    if spec.patterns:
        typer.echo(f"patterns: {len(spec.patterns)}")
    typer.echo(f"recommended config: {spec.config or '-'}")
    _report_problems(plugins)
