"""constraints.txt pins every package `make setup` installs; the pins must
satisfy what the pyproject.toml files ask for, and the environment the tests
run in is the pinned one (a setup on another day gets the same versions)."""

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECTS = [ROOT / "pyproject.toml", *sorted((ROOT / "plugins").glob("*/pyproject.toml"))]
# the packages of this repository, installed from their folders, not pinned
OURS = {canonicalize_name(tomllib.loads(p.read_text())["project"]["name"]) for p in PYPROJECTS}


def pins() -> dict[str, str]:
    found = {}
    for n, line in enumerate((ROOT / "constraints.txt").read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version and " " not in line, f"constraints.txt line {n}: not NAME==VERSION: {line!r}"
        found[canonicalize_name(name)] = version
    return found


def requirements():
    for path in PYPROJECTS:
        project = tomllib.loads(path.read_text())["project"]
        for text in project.get("dependencies", []) + sum(project.get("optional-dependencies", {}).values(), []):
            yield path, Requirement(text)


def test_every_requirement_of_the_pyprojects_is_pinned_to_a_version_it_allows():
    pinned = pins()
    for path, req in requirements():
        name = canonicalize_name(req.name)
        if name in OURS:
            continue
        assert name in pinned, (
            f"{path.relative_to(ROOT)} requires {req}, which constraints.txt does not pin: run make lock"
        )
        assert req.specifier.contains(pinned[name], prereleases=True), (
            f"{path.relative_to(ROOT)} requires {req}, constraints.txt pins {pinned[name]}: run make lock"
        )


def test_the_tests_run_on_the_pinned_versions():
    pinned = pins()
    for name in ("spacy", "thinc", "torch", "numpy", "pluggy", "typer", "srsly"):
        installed = metadata.version(name).split("+")[0]
        assert installed == pinned[name], (
            f"{name} {installed} installed, constraints.txt pins {pinned[name]}: make setup"
        )
