"""``autolabel formats``: annotation formats and weak labelers on offer."""

from __future__ import annotations

import typer

from ..hooks.manager import get_plugins


def warn_not_held(output, not_held: dict) -> None:
    """One warning per thing the output format does not hold (``not_held``:
    how many docs had it), naming the installed formats that do."""
    formats = get_plugins().formats()
    for what, n in not_held.items():
        holders = ", ".join(
            sorted(name for name, spec in formats.items() if what in spec.holds and spec.write is not None)
        )
        typer.echo(
            f"warning: {output}: this format holds no {what}: the {what} of {n} docs are not written ({holders} hold "
            "them)",
            err=True,
        )


def formats_cli() -> None:
    """List the annotation formats and weak labelers of the core and installed plugins."""
    plugins = get_plugins()
    typer.echo("formats:")
    for name, spec in sorted(plugins.formats().items()):
        modes = "/".join(m for m, fn in (("read", spec.read), ("write", spec.write)) if fn is not None)
        typer.echo(f"  {name}\t{modes}\t{' '.join(spec.extensions)}\t{spec.description}")
    typer.echo("labelers:")
    for name, spec in sorted(plugins.labelers().items()):
        typer.echo(f"  {name}\t{spec.description}")
    for problem in plugins.problems:
        typer.echo(f"warning: {problem}", err=True)
