"""Every name autolabel-spacy registers with spaCy is written in one place:
the ``spacy_*`` entry points of ``pyproject.toml`` (as spacy-curated-transformers
does). Architectures, readers, scorers, callbacks and misc functions carry no
decorator; a factory also needs spaCy's ``@Language.factory`` (which holds its
default config), and these tests check that the two name it alike. Each name
resolves through spaCy's registry in a process that never imports the package
by hand."""

import ast
import importlib
import json
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from spacy.language import Language
from spacy.util import registry

import autolabel_spacy

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(autolabel_spacy.__file__).parent


def declared() -> dict[str, dict[str, str]]:
    """spaCy registry name -> {registered name: "module:function"}, from pyproject.toml."""
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["entry-points"]
    return {group.removeprefix("spacy_"): names for group, names in groups.items() if group.startswith("spacy_")}


def load(target: str):
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


ENTRIES = [
    (registry_name, name, target)
    for registry_name, names in sorted(declared().items())
    for name, target in sorted(names.items())
]


def test_the_installed_entry_points_are_the_ones_pyproject_declares():
    """A stale install (pyproject changed, make setup not rerun) would
    resolve names the source no longer declares."""
    for registry_name, names in declared().items():
        installed = {
            ep.name: ep.value
            for ep in entry_points(group=f"spacy_{registry_name}")
            if ep.value.startswith("autolabel_spacy.")
        }
        assert installed == names, f"spacy_{registry_name}: installed {installed}, pyproject.toml declares {names}"


@pytest.mark.parametrize("registry_name,name,target", ENTRIES, ids=[name for _, name, _ in ENTRIES])
def test_every_declared_name_resolves_to_its_function(registry_name, name, target):
    func = load(target)
    assert callable(func)
    if registry_name == "factories":
        # the decorator registered the same function under the same name
        assert Language.has_factory(name) and Language.get_factory_meta(name).factory == name
        assert registry.factories.get(name) is func
    else:
        assert registry.get(registry_name, name) is func


def test_names_resolve_through_spacy_in_a_process_that_does_not_import_the_package():
    script = (
        "import json, sys\n"
        "import spacy\n"
        "from spacy.util import registry\n"
        "entries = json.loads(sys.argv[1])\n"
        "assert 'autolabel_spacy' not in sys.modules\n"
        "def found(reg, name):\n"
        "    if reg == 'factories':  # spaCy finds a factory's entry point when a pipeline adds it\n"
        "        return spacy.blank('en').add_pipe(name).name == name\n"
        "    return callable(registry.get(reg, name))\n"
        "print(json.dumps([name for reg, name, _ in entries if not found(reg, name)]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, json.dumps(ENTRIES)], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def _string_arg(call: ast.Call):
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def test_no_name_is_registered_in_the_source_except_a_factory_by_its_decorator():
    """No ``@registry.architectures("…")`` (or any other registry call) in
    the package, and the ``@Language.factory`` names are exactly the
    factories' entry points: a name is never written in a third place."""
    factory_names, registry_calls = set(), []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "Language" and node.func.attr in ("factory", "component"):
                factory_names.add(_string_arg(node))
            elif (
                isinstance(owner, ast.Name)
                and owner.id == "registry"
                and node.func.attr not in ("get", "resolve", "fill", "has", "find")
            ):
                registry_calls.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: registry.{node.func.attr}(…)")
            elif (
                isinstance(owner, ast.Attribute)
                and isinstance(owner.value, ast.Name)
                and owner.value.id == "registry"
                and node.func.attr == "register"
            ):
                registry_calls.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: registry.{owner.attr}.register(…)")
    assert registry_calls == []
    assert factory_names == set(declared()["factories"])
