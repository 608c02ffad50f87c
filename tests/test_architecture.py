"""The shape of the package: its import graph has no cycles, and imports
inside functions are kept for the optional extras (each says so)."""

import ast
from pathlib import Path

import autolabel_spacy

PACKAGE = Path(autolabel_spacy.__file__).parent
OPTIONAL_EXTRAS = {"ray", "transformers", "floret"}  # imported where used, so the core works without them


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imported(module: str, path: Path, node) -> list[str]:
    """The modules an import statement names (absolute)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".")
        if path.name != "__init__.py":
            base = base[:-1]
        base = base[: len(base) - node.level + 1]
        stem = ".".join(base + ([node.module] if node.module else []))
    else:
        stem = node.module
    return [stem] + [f"{stem}.{alias.name}" for alias in node.names]


def import_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports, at any depth of its code."""
    known = modules()
    graph = {}
    for module, path in known.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name in imported(module, path, node):
                    while name not in known and "." in name:
                        name = name.rsplit(".", 1)[0]
                    if name in known and name != module and name.startswith("autolabel_spacy."):
                        deps.add(name)
        graph[module] = deps
    return graph


def find_cycle(graph: dict[str, set[str]]):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                return stack[stack.index(dep) :] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_package_has_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 50 and graph["autolabel_spacy.workflow.annotate"] >= {"autolabel_spacy.workflow.run_files"}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_imports_inside_functions_are_only_the_optional_extras():
    found = []
    for module, path in modules().items():
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, (ast.Import, ast.ImportFrom)):
                        top = (node.module if isinstance(node, ast.ImportFrom) else node.names[0].name) or ""
                        if getattr(node, "level", 0) or top.split(".")[0] not in OPTIONAL_EXTRAS:
                            found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "imports inside functions (move them to the top of the module):\n" + "\n".join(found)


DEVELOPMENT = PACKAGE.parent / "docs" / "development.md"


def layer_table() -> dict[str, int]:
    """``autolabel_spacy.<name>`` -> its layer, from the table of docs/development.md."""
    text = DEVELOPMENT.read_text(encoding="utf-8").split("## Layers", 1)[1].split("\n## ", 1)[0]
    layers = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].isdigit():
            for name in cells[1].split("`")[1::2]:
                if name != "__init__":
                    layers["autolabel_spacy" if name == "autolabel_spacy" else f"autolabel_spacy.{name}"] = int(
                        cells[0]
                    )
    return layers


def unit(module: str) -> str:
    """The top-level module or package a module belongs to."""
    return ".".join(module.split(".")[:2])


def test_every_import_runs_down_the_layers_docs_development_writes():
    layers = layer_table()
    graph = import_graph()
    units = {unit(m) for m in graph}
    assert units == set(layers), (
        f"not in the layer table: {sorted(units - set(layers))}; gone from the package: {sorted(set(layers) - units)}"
    )
    wrong = sorted(
        f"{module} (layer {layers[unit(module)]}) imports {dep} (layer {layers[unit(dep)]})"
        for module, deps in graph.items()
        for dep in deps
        if unit(dep) != unit(module) and layers[unit(dep)] >= layers[unit(module)]
    )
    assert not wrong, "imports sideways or up the layers:\n" + "\n".join(wrong)


def test_the_layer_check_catches_an_import_up_the_layers(monkeypatch):
    """The check above can fail: formats importing the plugin manager again
    (the cycle this table replaced) is reported."""
    layers = layer_table()
    assert layers["autolabel_spacy.formats"] < layers["autolabel_spacy.hooks"] < layers["autolabel_spacy.format_io"]
    real = import_graph()
    monkeypatch.setattr(
        __import__(__name__),
        "import_graph",
        lambda: {
            **real,
            "autolabel_spacy.formats.jsonl": real["autolabel_spacy.formats.jsonl"] | {"autolabel_spacy.hooks.manager"},
        },
    )
    try:
        test_every_import_runs_down_the_layers_docs_development_writes()
    except AssertionError as err:
        assert "autolabel_spacy.formats.jsonl (layer 3) imports autolabel_spacy.hooks.manager (layer 4)" in str(err)
    else:
        raise AssertionError("an import up the layers passed the check")


def test_the_confidence_keys_are_written_in_confidences_py_only():
    """Where a Doc's confidences live is one module's business: no other
    module names a key (as a string) that ``confidences.py`` owns."""
    from autolabel_spacy import confidences

    keys = {
        confidences.SPAN_SCORES,
        confidences.SEQUENCE_PROB,
        confidences.SENTENCE_PROBS,
        confidences.MARGINALS_KEY,
        confidences.RELATIONS_KEY,
    }
    found = []
    for module, path in modules().items():
        if module == "autolabel_spacy.confidences":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and (node.value in keys or any(f'"{k}"' in node.value for k in keys))
            ):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.value[:60]!r}")
    assert not found, "confidence keys outside confidences.py:\n" + "\n".join(found)


def test_the_evaluate_report_keys_are_written_in_evaluate_report_py_only():
    """The evaluate report is read and written by one module: no other
    module names one of its fields as a string (they use the typed
    sections), so a change of the report's shape is a change of that file."""
    import dataclasses

    from autolabel_spacy import evaluate_report as er

    fields = {
        f.name
        for kind in (er.EvaluateReport, er.EntityReport, er.RelationReport, er.CategoryReport, er.Recommendation)
        for f in dataclasses.fields(kind)
    }
    # the names spaCy's scorer and the run summary share with the report are not the report's own
    shared = {
        "docs",
        "stamp",
        "unit",
        "units",
        "rank_by",
        "per_label",
        "routing",
        "reliability",
        "threshold",
        "coverage",
        "accuracy",
        "accepted",
        "p",
        "r",
        "f",
        "ents_p",
        "ents_r",
        "ents_f",
        "entities",
        "relations",
        "categories",
    }
    own = fields - shared
    assert {"span_ece", "recommended", "min_accepted", "target_accuracy", "doc_accuracy"} <= own
    found = []
    for module, path in modules().items():
        if module == "autolabel_spacy.evaluate_report":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in own:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.value!r}")
    assert not found, "evaluate report keys outside evaluate_report.py:\n" + "\n".join(found)
