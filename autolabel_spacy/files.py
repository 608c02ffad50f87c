"""Output files: checked before any work, written atomically, named after
the output file without cutting at the wrong dot.

Every command that writes checks its outputs with :func:`check_output`
before it reads or trains anything, so a run never fails at its last step
because of a path; every final file is written through :func:`atomic_path`
(a temporary file beside it, renamed into place, removed if the write fails).
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator


def check_output(path, what: str = "output") -> Path:
    """``path`` can be created or replaced as a file; raises ``ValueError``
    naming the path otherwise. Creates nothing."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; the {what} must be a file name")
    parent = path.parent
    while not parent.exists():
        if parent == parent.parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{path}: cannot create the {what}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"{path}: cannot write the {what} here (permission denied)")
    return path


def check_apart(inputs: Iterable, outputs: dict) -> None:
    """Refuse, before anything is written, an output (``{what: path}``)
    that is one of the ``inputs``, lies inside an input folder, or is
    another output: writing it would replace what is being read, or what
    another output holds. Paths are compared resolved (links, ``..``)."""
    read = [Path(p).resolve() for p in inputs if p is not None]
    seen: dict[Path, str] = {}
    for what, path in outputs.items():
        if path is None:
            continue
        target = Path(path).resolve()
        for source in read:
            if target == source or (source.is_dir() and source in target.parents):
                raise ValueError(f"{path}: the {what} would overwrite the input {source}; give another output name")
        if target in seen:
            raise ValueError(f"{path}: the {what} and the {seen[target]} are the same file; give another output name")
        seen[target] = what


def check_output_dir(path, what: str = "output folder") -> Path:
    """``path`` is or can become a writable folder; creates nothing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path}: is a file; the {what} must be a folder")
    check_output(path / "probe", what)
    return path


def tmp_path_for(path: Path) -> Path:
    # the extension stays last so writers that look at it still recognise it
    return path.with_name(f".tmp-{os.getpid()}-{path.name}")


def remove_stale_temporaries(path) -> list[Path]:
    """Remove the temporary files of ``path`` (:func:`tmp_path_for`) that a
    process killed mid-write left behind: those whose process is gone."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".tmp-*-{path.name}"):
        pid = tmp.name[len(".tmp-") :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@contextmanager
def atomic_path(path) -> Iterator[Path]:
    """A temporary path to write ``path``'s content to; renamed to ``path``
    when the block ends, removed if it raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def json_lines(text: str) -> list[str]:
    """The lines of a JSON Lines text: split at newlines only, a carriage
    return before one dropped. (``str.splitlines`` also splits at U+2028,
    U+2029, U+0085 and the vertical tab and form feed, which a JSON string
    may hold as they are: it would cut such a record in two.)"""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def fingerprint(path) -> str:
    """sha256 of a file's bytes, or of a folder's files (their relative
    paths and bytes, in order): what a resume or a restart compares."""
    digest = hashlib.sha256()
    root = Path(path)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for file in files:
        digest.update(str(file.relative_to(root) if file != root else "").encode("utf-8") + b"\0")
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def split_extension(path, extensions: Iterable[str]) -> tuple[str, str]:
    """``(base, extension)`` of a file name, the extension being the longest
    of ``extensions`` it ends with (``run.v1.labelstudio.json`` ->
    ``("run.v1", ".labelstudio.json")``), else its last suffix."""
    name = Path(path).name
    lowered = name.lower()
    matches = [ext for ext in extensions if ext and lowered.endswith(ext.lower()) and len(ext) < len(name)]
    if matches:
        ext = max(matches, key=len)
        return name[: -len(ext)], name[-len(ext) :]
    suffix = Path(name).suffix
    return (name[: -len(suffix)], suffix) if suffix else (name, "")
