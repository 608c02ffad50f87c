"""Plugin manager: built-ins through the hooks, discovery by entry point,
failure isolation and conflicts. Broken plugins here are real distributions
(a ``.dist-info`` with ``entry_points.txt`` on ``sys.path``), found exactly as
pip-installed ones are."""

import inspect
from pathlib import Path
from textwrap import dedent

import pluggy
import pytest
import spacy
from typer.testing import CliRunner

from autolabel_spacy import hookimpl
from autolabel_spacy.cli import build_app
from autolabel_spacy.domains import DomainSpec, LabelSpec, Vocabulary
from autolabel_spacy.formats import FormatSpec
from autolabel_spacy.hooks import hookspecs
from autolabel_spacy.hooks.manager import BUILTIN, DISABLE_ENV, PluginError, Plugins, reset_plugins
from autolabel_spacy.labelers import LabelerSpec


def make_dist(site: Path, dist: str, module: str, source: str, ep_name: str) -> None:
    """A minimal installed distribution: module + dist-info with an entry point."""
    (site / f"{module}.py").write_text(dedent(source))
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[autolabel_spacy]\n{ep_name} = {module}\n")


GOOD_DOMAIN = """
from autolabel_spacy import hookimpl
from autolabel_spacy.domains import DomainSpec, LabelSpec

@hookimpl
def autolabel_domains():
    return [DomainSpec(name="{name}", language="en", description="test",
                       labels=(LabelSpec("THING", "a thing"),))]
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    reset_plugins()
    yield tmp_path
    reset_plugins()


def test_builtin_formats_and_labelers_come_through_the_hooks():
    plugins = Plugins(entry_points=False)
    assert plugins.names == [BUILTIN]
    impls = {impl.plugin_name for impl in plugins.pm.hook.autolabel_formats.get_hookimpls()}
    assert impls == {BUILTIN}
    assert {"conll", "spacy", "jsonl"} <= set(plugins.formats())
    assert {"vocab", "patterns"} <= set(plugins.labelers())


def test_a_plugin_adds_a_format_and_a_domain():
    class Extra:
        @hookimpl
        def autolabel_formats(self):
            return [FormatSpec("tiny", "test format", (".tiny",), read=lambda path, nlp: iter(()))]

        @hookimpl
        def autolabel_labelers(self):
            def make(nlp, domain=None):
                return lambda doc: [doc[i : i + 1] for i, t in enumerate(doc) if t.is_upper]

            return [LabelerSpec("shouting", "all-caps tokens", make)]

        @hookimpl
        def autolabel_domains(self):
            vocab = Vocabulary("seeds", {"widget": "THING"}, "written for this test")
            return [DomainSpec("gadgets", "en", "test", (LabelSpec("THING", "a thing"),), (vocab,))]

    plugins = Plugins(entry_points=False, extra={"extra-plugin": Extra()})
    assert "tiny" in plugins.formats() and "conll" in plugins.formats()
    spec = plugins.domain("gadgets")
    assert spec.plugin == "extra-plugin" and spec.all_terms() == {"widget": "THING"}
    labeler = plugins.labeler("shouting").make(spacy.blank("en"))
    assert [s.text for s in labeler(spacy.blank("en")("the NASA and ESA plans"))] == ["NASA", "ESA"]
    assert "vocab" in plugins.labelers()


def test_broken_plugins_are_isolated_and_named(site):
    make_dist(site, "autolabel-broken-import", "broken_import_mod", "import no_such_module_anywhere\n", "broken")
    make_dist(
        site,
        "autolabel-raises",
        "raising_mod",
        """
        from autolabel_spacy import hookimpl

        @hookimpl
        def autolabel_domains():
            raise RuntimeError("vocabulary file missing")
        """,
        "raises",
    )
    make_dist(
        site,
        "autolabel-bad-spec",
        "bad_spec_mod",
        """
        from autolabel_spacy import hookimpl
        from autolabel_spacy.domains import DomainSpec, LabelSpec, Vocabulary

        @hookimpl
        def autolabel_domains():
            vocab = Vocabulary("v", {"x": "NOT_A_LABEL"}, "test")
            return [DomainSpec(name="Bad Name", language="xx-nope", description="", labels=(), vocabularies=(vocab,)),
                    "not a spec"]
        """,
        "badspec",
    )
    make_dist(site, "autolabel-fine", "fine_mod", GOOD_DOMAIN.format(name="fine"), "fine")
    plugins = Plugins()
    domains = plugins.domains()  # hooks are called (and fail) on first request
    problems = {str(p) for p in plugins.problems}
    by_plugin = {}
    for p in plugins.problems:
        by_plugin.setdefault(p.plugin, []).append(p.problem)
    assert "No module named 'no_such_module_anywhere'" in by_plugin["autolabel-broken-import"][0]
    assert by_plugin["autolabel-raises"] == ["hook autolabel_domains raised RuntimeError: vocabulary file missing"]
    bad = " | ".join(by_plugin["autolabel-bad-spec"])
    for fragment in ("'Bad Name'", "unknown spaCy language 'xx-nope'", "has no labels", "NOT_A_LABEL", "got str"):
        assert fragment in bad, problems
    # everything else keeps working
    assert plugins.domain("fine").plugin == "autolabel-fine"
    assert "medical" in domains  # the real plugin installed in this venv
    assert "conll" in plugins.formats()
    with pytest.raises(PluginError, match="autolabel-raises: hook autolabel_domains raised"):
        plugins.domain("raises")


def test_two_plugins_claiming_one_domain_is_a_reported_conflict(site, monkeypatch):
    make_dist(site, "autolabel-twin-a", "twin_a_mod", GOOD_DOMAIN.format(name="twin"), "twin_a")
    make_dist(site, "autolabel-twin-b", "twin_b_mod", GOOD_DOMAIN.format(name="twin"), "twin_b")
    plugins = Plugins()
    assert "twin" not in plugins.domains()
    with pytest.raises(PluginError, match="more than one plugin.*autolabel-twin-a, autolabel-twin-b"):
        plugins.domain("twin")
    assert any("both provide the domain 'twin'" in str(p) for p in plugins.problems)
    # disabling one resolves it
    monkeypatch.setenv(DISABLE_ENV, "autolabel-twin-b")
    assert Plugins().domain("twin").plugin == "autolabel-twin-a"


def test_cli_lists_domains_and_reports_broken_plugins(site):
    make_dist(site, "autolabel-broken-import", "broken_import_mod2", "raise ImportError('boom')\n", "broken")
    result = CliRunner().invoke(build_app(), ["domains", "list"])
    assert result.exit_code == 0, result.output
    assert "medical\ten\tautolabel-medical" in result.stdout
    assert "plugin autolabel-broken-import: failed to import" in result.stderr and "boom" in result.stderr
    shown = CliRunner().invoke(build_app(), ["domains", "show", "medical"])
    assert shown.exit_code == 0
    assert "Disease\t" in shown.stdout and "188 terms" in shown.stdout and "curated" in shown.stdout
    missing = CliRunner().invoke(build_app(), ["domains", "show", "no-such-domain"])
    assert missing.exit_code == 1 and "unknown domain 'no-such-domain'" in missing.stderr


def one_of_each_hook():
    """A plugin implementing every hook, and what each hook's accessor must
    then hold: (hook, accessor of Plugins, the name it adds)."""

    class Every:
        @hookimpl
        def autolabel_formats(self):
            return [FormatSpec("every_fmt", "test format", (".every",), read=lambda path, nlp: iter(()))]

        @hookimpl
        def autolabel_labelers(self):
            return [LabelerSpec("every_labeler", "no spans", lambda nlp, domain=None: lambda doc: [])]

        @hookimpl
        def autolabel_domains(self):
            return [DomainSpec("every_domain", "en", "test", (LabelSpec("THING", "a thing"),))]

    return Every(), [
        ("autolabel_formats", "formats", "every_fmt"),
        ("autolabel_labelers", "labelers", "every_labeler"),
        ("autolabel_domains", "domains", "every_domain"),
    ]


def test_every_hook_is_documented_and_reaches_its_accessor():
    """Each hookspec has a docstring, and what a plugin returns from it is
    what the manager's accessor for it gives (a new hook fails here until
    the test says which accessor serves it)."""
    hooks = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("autolabel_")]
    plugin, served = one_of_each_hook()
    assert sorted(hook for hook, _, _ in served) == hooks
    plugins = Plugins(entry_points=False, extra={"every": plugin})
    for hook, accessor, name in served:
        assert len(inspect.getdoc(getattr(hookspecs, hook)) or "") > 80, f"{hook} needs a docstring"
        items = getattr(plugins, accessor)()
        assert name in items, f"{hook}: {name} is not in Plugins.{accessor}()"
        assert getattr(plugins, accessor.rstrip("s"))(name) == items[name]
    assert plugins.problems == []


def test_results_come_in_pluggys_call_order_the_last_registered_first():
    """``Plugins.results`` yields what pluggy's own hook call returns, in
    the same order: the plugin registered last first, the built-in
    (registered first) last."""
    plugin, _ = one_of_each_hook()
    second, _ = one_of_each_hook()
    plugins = Plugins(entry_points=False, extra={"first": plugin, "second": second})
    assert plugins.names == [BUILTIN, "first", "second"]
    ours = [name for name, _ in plugins.results("autolabel_formats")]
    called = [len(result) for result in plugins.pm.hook.autolabel_formats()]
    expected = [name for name, n in zip(["second", "first", BUILTIN], called) for _ in range(n)]
    assert ours == expected and ours[0] == "second" and ours[-1] == BUILTIN


class ArgumentSpecs:
    """A hook with arguments, as a later version of the hookspecs may add."""

    @pluggy.HookspecMarker(hookspecs.PROJECT)
    def autolabel_test_hook(self, lang, labels):
        """(test) names for a language and a label set."""


def test_each_implementation_gets_the_arguments_it_names():
    class Both:
        @hookimpl
        def autolabel_test_hook(self, labels, lang):
            return [f"both:{lang}:{','.join(labels)}"]

    class LangOnly:
        @hookimpl
        def autolabel_test_hook(self, lang):
            return [f"lang:{lang}"]

    class Neither:  # written before the hook had arguments
        @hookimpl
        def autolabel_test_hook(self):
            return ["neither"]

    plugins = Plugins(entry_points=False)
    plugins.pm.add_hookspecs(ArgumentSpecs)
    for name, plugin in (("both", Both()), ("lang-only", LangOnly()), ("neither", Neither())):
        plugins._register(plugin, name)
    assert not plugins.problems
    got = dict(plugins.results("autolabel_test_hook", lang="en", labels=["DISEASE", "CHEMICAL"]))
    assert got == {"both": "both:en:DISEASE,CHEMICAL", "lang-only": "lang:en", "neither": "neither"}
    with pytest.raises(TypeError, match="takes \\['labels', 'lang'\\]"):
        list(plugins.results("autolabel_test_hook", lang="en"))


def test_the_shipped_hookspecs_declare_their_spec_types():
    for name, kind in (
        ("autolabel_domains", "DomainSpec"),
        ("autolabel_formats", "FormatSpec"),
        ("autolabel_labelers", "LabelerSpec"),
    ):
        assert inspect.signature(getattr(hookspecs, name)).return_annotation == f"list[{kind}]"
