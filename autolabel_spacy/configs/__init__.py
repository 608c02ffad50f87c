"""The shipped training configs, package data found through
``importlib.resources`` so that they work wherever the package is installed
(``autolabel audit`` and ``bootstrap`` default to ``crf_fast.cfg``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Optional

DEFAULT_CONFIG = "crf_fast.cfg"


def shipped_configs() -> list[str]:
    return sorted(p.name for p in resources.files(__name__).iterdir() if p.name.endswith(".cfg"))


def config_path(config: Optional[Path] = None) -> Path:
    """``config`` if given (it must exist), else the shipped default; a bare
    name of a shipped config (``crf_accurate.cfg``) finds that one."""
    if config is None:
        config = DEFAULT_CONFIG
    path = Path(config)
    if path.is_file():
        return path
    if path.name == str(config) and path.name in shipped_configs():
        return Path(str(resources.files(__name__) / path.name))
    raise ValueError(f"{config}: no such config file (shipped configs: {', '.join(shipped_configs())})")
