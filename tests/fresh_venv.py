"""A fresh venv for install tests that shares this venv's third-party
packages instead of installing them again.

The venv has no pip of its own and sees torch, spaCy and the rest through a
``.pth`` file listing a folder of links to this venv's site-packages; every
autolabel distribution is left out of that folder, so nothing of ours is
visible until pip installs it. With ``pip install --no-index`` nothing is
downloaded: the dependencies of what is installed are already there.
"""

import site
import subprocess
import sys
from pathlib import Path


def shared_dependencies(target: Path) -> Path:
    """Links to everything in this venv's site-packages except autolabel's own."""
    target.mkdir()
    for source in site.getsitepackages():
        for entry in Path(source).iterdir():
            name = entry.name.lower()
            if name.startswith(("autolabel", "__editable__", "_autolabel", "__pycache__")) or entry.suffix == ".pth":
                continue
            link = target / entry.name
            if not link.exists():
                link.symlink_to(entry)
    return target


def fresh_venv(venv: Path) -> Path:
    """Create ``venv`` with the shared dependencies; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    deps = shared_dependencies(venv.parent / f"{venv.name}-deps")
    (purelib / "_shared_deps.pth").write_text(f"{deps}\n")
    return python


def pip_install(python: Path, *args) -> list:
    """The command that installs ``args`` into the venv of ``python`` offline."""
    return [python, "-m", "pip", "--disable-pip-version-check", "--no-input", "install", "--quiet", "--no-index", *args]
