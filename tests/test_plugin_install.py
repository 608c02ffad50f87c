"""``pip install ./plugins/autolabel-medical`` in a fresh venv makes
``autolabel domains list`` show it with no other step; uninstalling removes it.
The installed (not editable) package runs ``audit`` and ``bootstrap`` from
another folder with its shipped configs.

pip builds from copies of the sources in a temporary folder, so the test
writes nothing into the checkout, and it checks that the test venv's
site-packages is the same before and after.

The fresh venv (``fresh_venv.py``) gets autolabel-spacy installed by pip
from this checkout and the plugin from ``plugins/``; its third-party
dependencies are shared read-only from the test venv, and pip runs with
``--no-index``: the test never touches the network.
"""

import json
import os
import shutil
import site
import subprocess
from pathlib import Path

import pytest
from fresh_venv import fresh_venv, pip_install

ROOT = Path(__file__).resolve().parent.parent


def site_listing() -> list[str]:
    return sorted(f"{source}/{entry.name}" for source in site.getsitepackages() for entry in Path(source).iterdir())


def source_copy(target: Path) -> Path:
    """The project and its plugins without build outputs, venvs or data."""
    ignore = shutil.ignore_patterns(
        ".venv",
        ".git",
        "build",
        "dist",
        "*.egg-info",
        "training",
        "corpus",
        "packages",
        "metrics",
        "review",
        "__pycache__",
    )
    shutil.copytree(ROOT, target, ignore=ignore)
    return target


def run(*args, venv: Path, cwd=None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd or venv.parent)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.slow
def test_pip_install_and_uninstall_a_plugin_in_a_fresh_venv(tmp_path):
    before = site_listing()
    src = source_copy(tmp_path / "src")
    venv = tmp_path / "venv"
    python = fresh_venv(venv)
    pip = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    install = pip_install(python, "--no-build-isolation")

    probe = subprocess.run([python, "-c", "import autolabel_spacy"], capture_output=True, text=True, cwd=tmp_path)
    assert "No module named 'autolabel_spacy'" in probe.stderr
    run(*install, src, venv=venv)
    assert "no domains installed" in run(venv / "bin" / "autolabel", "domains", "list", venv=venv)

    run(*install, src / "plugins" / "autolabel-medical", venv=venv)
    listed = run(venv / "bin" / "autolabel", "domains", "list", venv=venv)
    assert listed.startswith("medical\ten\tautolabel-medical 0.1.0\t"), listed
    assert "188 terms" in run(venv / "bin" / "autolabel", "domains", "show", "medical", venv=venv)

    # the installed package's shipped configs, used from a folder with none
    work = tmp_path / "elsewhere"
    work.mkdir()
    texts = [
        "Aspirin relieved the migraine .",
        "Migraine returned after warfarin .",
        "Warfarin and aspirin were stopped .",
        "No migraine was seen .",
        "Aspirin is cheap .",
        "Warfarin thins blood .",
    ]
    (work / "raw.txt").write_text("\n".join(texts) + "\n")
    (work / "terms.tsv").write_text("aspirin\tChemical\nwarfarin\tChemical\nmigraine\tDisease\n")
    out = run(
        venv / "bin" / "autolabel",
        "bootstrap",
        "raw.txt",
        "--vocab",
        "terms.tsv",
        "-o",
        "boot",
        "--epochs",
        "1",
        venv=venv,
        cwd=work,
    )
    assert "annotations" in out and (work / "boot" / "annotations.jsonl").is_file()
    gold = [
        {
            "text": t,
            "spans": [
                {"start": t.lower().index(w), "end": t.lower().index(w) + len(w), "label": label}
                for w, label in (("aspirin", "Chemical"), ("warfarin", "Chemical"), ("migraine", "Disease"))
                if w in t.lower()
            ],
        }
        for t in texts
    ]
    (work / "gold.jsonl").write_text("".join(json.dumps(g) + "\n" for g in gold))
    out = run(
        venv / "bin" / "autolabel",
        "audit",
        "gold.jsonl",
        "-o",
        "issues.jsonl",
        "-k",
        "2",
        "--epochs",
        "1",
        venv=venv,
        cwd=work,
    )
    assert "spans judged" in out and (work / "issues.jsonl").is_file()

    run(*pip, "uninstall", "--yes", "autolabel-medical", venv=venv)
    assert "no domains installed" in run(venv / "bin" / "autolabel", "domains", "list", venv=venv)
    assert site_listing() == before  # the test venv is as it was
