"""How every benchmark reports: the Markdown table on stdout and in
``NAME.md``, the data in ``NAME.json``, both stamped with the machine and the
software that produced them.

The stamp matters because a command's figures are bit-identical only with
the same package versions (constraints.txt pins them) on the same kind of
machine: another patch release of spaCy, thinc or numpy, or another CPU (other
SIMD kernels), trains a slightly different model, so two result files are
comparable digit for digit only when their stamps agree.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autolabel-spacy", "spacy", "thinc", "torch", "numpy", "spacy-transformers", "transformers")
SIMD = ("avx512f", "avx2", "avx", "neon", "asimd")


def cpu() -> dict:
    """CPU model (with the x86 family/model/stepping numbers), logical cores
    and the widest SIMD extension it reports."""
    fields = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    return {
        "model": fields.get("model name") or platform.processor() or platform.machine(),
        "family_model_stepping": "/".join(fields[k] for k in ("cpu family", "model", "stepping") if k in fields)
        or None,
        "cores": os.cpu_count(),
        "simd": next((f for f in SIMD if f in flags), None),
    }


def versions() -> dict:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def commit() -> str | None:
    """The project's git commit, with ``+dirty`` if the tree has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def environment() -> dict:
    try:
        import torch

        threads = torch.get_num_threads()
    except ImportError:
        threads = None
    return {
        "cpu": cpu(),
        "torch_threads": threads,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions(),
        "commit": commit(),
    }


def stamp(env: dict) -> str:
    """One Markdown line naming the machine and the software of ``env``."""
    c, p = env["cpu"], env["packages"]
    software = ", ".join(f"{name} {p[name]}" for name in ("spacy", "thinc", "torch") if name in p)
    simd = f", {c['simd']}" if c["simd"] else ""
    threads = f", {env['torch_threads']} torch threads" if env["torch_threads"] else ""
    return (
        f"_{c['model']} ({c['cores']} cores{simd}{threads}); Python {env['python']}, {software}; "
        f"commit {env['commit'] or 'unknown'}_"
    )


def write_json(path: str | Path, data) -> dict:
    """Write ``data`` to ``path`` as ``{"environment", "result"}``; returns the environment."""
    env = environment()
    Path(path).write_text(json.dumps({"environment": env, "result": data}, indent=2))
    return env


def read_table(out: str | Path, name: str) -> dict | None:
    """``{"environment", "result"}`` of a table written by :func:`write_tables`
    under ``out``, or None when there is none."""
    path = Path(out) / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def write_tables(out: str | Path, name: str, data, md: str) -> None:
    """Print a benchmark's Markdown table and write it to ``out``/``name``.md,
    and ``data`` to ``out``/``name``.json (``write_json``); both say which
    machine and software produced them."""
    Path(out).mkdir(parents=True, exist_ok=True)
    env = write_json(Path(out) / f"{name}.json", data)
    md = f"{md.rstrip()}\n\n{stamp(env)}\n"
    print(md, flush=True)
    (Path(out) / f"{name}.md").write_text(md)
