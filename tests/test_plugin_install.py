"""``pip install ./plugins/autolabel-medical`` in a fresh venv makes
``autolabel domains list`` show it with no other step; uninstalling removes it.

The fresh venv gets autolabel-spacy installed by pip from this checkout and
the plugin from ``plugins/``. Its *third-party* dependencies (torch, spaCy…)
are shared read-only from the test venv through a ``.pth`` file listing a
folder of links to them; every autolabel distribution is left out of that
folder, so nothing of ours is visible until pip installs it. pip runs with
``--no-index``: the test never touches the network.
"""
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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


def run(*args, venv: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, cwd=venv.parent)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.slow
def test_pip_install_and_uninstall_a_plugin_in_a_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(subprocess.check_output([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    deps = shared_dependencies(tmp_path / "deps")
    (purelib / "_shared_deps.pth").write_text(f"{deps}\n")
    python = venv / "bin" / "python"
    pip = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    install = [*pip, "install", "--quiet", "--no-index", "--no-build-isolation"]

    probe = subprocess.run([python, "-c", "import autolabel_spacy"], capture_output=True, text=True, cwd=tmp_path)
    assert "No module named 'autolabel_spacy'" in probe.stderr
    run(*install, ROOT, venv=venv)
    assert "no domains installed" in run(venv / "bin" / "autolabel", "domains", "list", venv=venv)

    run(*install, ROOT / "plugins" / "autolabel-medical", venv=venv)
    listed = run(venv / "bin" / "autolabel", "domains", "list", venv=venv)
    assert listed.startswith("medical\ten\tautolabel-medical 0.1.0\t"), listed
    assert "188 terms" in run(venv / "bin" / "autolabel", "domains", "show", "medical", venv=venv)

    run(*pip, "uninstall", "--yes", "autolabel-medical", venv=venv)
    assert "no domains installed" in run(venv / "bin" / "autolabel", "domains", "list", venv=venv)
