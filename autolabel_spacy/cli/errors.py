"""The command line's error contract, in one place for every command.

- A mistake in what the user gave (a file that is not there or cannot be
  read, a record that does not fit its format, a model that is not a
  pipeline) prints one line ``error: <file>:<line or record>: <problem>``
  on stderr and exits with :data:`EXIT_USER` (1).
- A usage mistake (an unknown option, a value out of range, a missing
  argument) prints one line ``error: <problem>`` and exits with
  :data:`EXIT_USAGE` (2).
- Anything else is a bug in autolabel or a plugin: one line ``error:
  internal error: ...`` and :data:`EXIT_INTERNAL` (3); the traceback is
  printed only with ``AUTOLABEL_TRACEBACK=1``.

No Python traceback reaches a user. Commands raise ``ValueError``,
``LookupError`` or ``OSError`` (or let the library's raise) and
:class:`AutolabelGroup` turns them into the line above.
"""

from __future__ import annotations

import math
import os
import sys
import traceback

import typer
from typer.core import TyperGroup

EXIT_USER = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, LookupError, OSError)
TRACEBACK_ENV = "AUTOLABEL_TRACEBACK"


def one_line(text: str) -> str:
    """Whitespace runs (newlines included) become single spaces."""
    return " ".join(str(text).split())


def user_message(err: BaseException) -> str:
    """What went wrong, naming the file where the error knows it."""
    if isinstance(err, OSError) and err.filename is not None:
        where = str(err.filename) + (f" -> {err.filename2}" if err.filename2 is not None else "")
        return f"{where}: {err.strerror or type(err).__name__}"
    text = one_line(str(err))
    if isinstance(err, KeyError) and text.startswith("'"):
        text = text.strip("'")
    return text or type(err).__name__


def report(message: str) -> None:
    typer.echo(f"error: {one_line(message)}", err=True)


class AutolabelGroup(TyperGroup):
    """The ``autolabel`` command group: runs a command and applies the error
    contract, both from the shell and under ``typer.testing.CliRunner``."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            result = super().main(
                args=args, prog_name=prog_name or "autolabel", complete_var=complete_var, standalone_mode=False, **extra
            )
            code = result if isinstance(result, int) else 0
        except typer.TyperException as err:  # usage errors (exit code 2) and the like
            report(err.format_message())
            code = getattr(err, "exit_code", EXIT_USAGE)
        except typer.Abort:
            report("aborted")
            code = EXIT_USER
        except USER_ERRORS as err:
            report(user_message(err))
            code = EXIT_USER
        except Exception as err:  # a bug, not the user's mistake: still one line
            if os.environ.get(TRACEBACK_ENV):
                traceback.print_exc()
            report(
                f"internal error: {type(err).__name__}: {user_message(err)} (set {TRACEBACK_ENV}=1 for the traceback)"
            )
            code = EXIT_INTERNAL
        if standalone_mode:
            sys.exit(code)
        return code


def probability(value) -> float:
    """An option's value that must be a number in [0, 1] (nan is not)."""
    return number_in(value, 0.0, 1.0)


def number_in(value, low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise typer.BadParameter(f"{value!r} is not a number") from None
    below = number <= low if low_open else number < low
    above = number >= high if high_open else number > high
    if not math.isfinite(number) or below or above:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise typer.BadParameter(f"{value!r} is not in {interval}")
    return number
