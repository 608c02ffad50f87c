"""What a value given by a user, a file or a plugin must be: the checks
every command shares (a bool is never a number here, though Python's
``isinstance(True, int)`` says it is)."""

from __future__ import annotations


def is_number(value) -> bool:
    """Whether ``value`` is an int or a float."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_whole(value) -> bool:
    """Whether ``value`` is an int."""
    return isinstance(value, int) and not isinstance(value, bool)


def probability(value) -> bool:
    """Whether ``value`` is a number in [0, 1]."""
    return is_number(value) and 0.0 <= value <= 1.0


def check_count(name: str, value, none_ok: bool = False) -> None:
    """A ValueError unless ``value`` is a whole number of at least 1 (or,
    with ``none_ok``, None)."""
    if none_ok and value is None:
        return
    if not is_whole(value) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1{' or null' if none_ok else ''}, got {value!r}")
