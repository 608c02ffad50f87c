"""Plugin hooks (pluggy): specs, the manager and the built-in plugin."""

from __future__ import annotations

import pluggy

from .hookspecs import PROJECT

hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["hookimpl", "PROJECT"]
