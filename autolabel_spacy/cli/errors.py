"""How commands report the errors a user can fix: one ``error: ...`` line on
stderr and exit status 1, no traceback."""
from __future__ import annotations

from contextlib import contextmanager

import typer

USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, LookupError, OSError)


@contextmanager
def reported(errors: tuple[type[BaseException], ...] = USER_ERRORS):
    try:
        yield
    except errors as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1)
