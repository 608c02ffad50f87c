"""Load plugins from entry points and ask them for domains, formats and labelers.

Nothing happens at import time: :func:`get_plugins` builds the manager on
first use. Each failure — a plugin that does not import, a hook that raises,
a hook that returns an invalid spec, two plugins claiming one name — becomes
one :class:`PluginProblem` naming the plugin; everything else keeps working.
Set ``AUTOLABEL_DISABLE_PLUGINS=name,name`` to skip installed plugins.
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass, replace
from typing import Callable, Iterator, Optional

import pluggy

from .. import __version__
from ..domains import validate_domain
from ..formats import validate_format
from ..labelers import validate_labeler
from . import builtin, hookspecs
from .hookspecs import PROJECT

ENTRY_POINT_GROUP = PROJECT
DISABLE_ENV = "AUTOLABEL_DISABLE_PLUGINS"
BUILTIN = "autolabel-spacy (built-in)"


@dataclass(frozen=True)
class PluginProblem:
    plugin: str
    problem: str

    def __str__(self) -> str:
        return f"plugin {self.plugin}: {self.problem}"


class PluginError(LookupError):
    """A domain, format or labeler that cannot be used, with the reason."""


class Plugins:
    """The loaded plugins and what they provide."""

    def __init__(self, entry_points: bool = True, extra: Optional[dict[str, object]] = None) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.problems: list[PluginProblem] = []
        self.versions: dict[str, str] = {}
        self._register(builtin, BUILTIN, version=_core_version())
        if entry_points:
            self._load_entry_points()
        for name, plugin in (extra or {}).items():
            self._register(plugin, name)
        self._cache: dict[str, tuple[dict, dict]] = {}

    # -- loading -----------------------------------------------------------
    def _load_entry_points(self) -> None:
        disabled = {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = getattr(ep, "dist", None)
            name = dist.name if dist is not None else ep.name
            if name in disabled or ep.name in disabled:
                continue
            try:
                plugin = ep.load()
            except Exception as err:  # any import failure is isolated and reported
                self.problems.append(PluginProblem(name, f"failed to import {ep.value!r}: {type(err).__name__}: {err}"))
                continue
            self._register(plugin, name, version=dist.version if dist is not None else "")

    def _register(self, plugin: object, name: str, version: str = "") -> None:
        if self.pm.is_registered(plugin) or self.pm.get_plugin(name) is not None:
            self.problems.append(PluginProblem(name, "registered twice; the second registration is ignored"))
            return
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except pluggy.PluginValidationError as err:
            self.pm.unregister(name=name)
            self.problems.append(PluginProblem(name, f"invalid hook implementation: {err}"))
            return
        except Exception as err:
            if self.pm.get_plugin(name) is not None:
                self.pm.unregister(name=name)
            self.problems.append(PluginProblem(name, f"cannot be registered: {type(err).__name__}: {err}"))
            return
        self.versions[name] = version

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.pm.list_name_plugin()]

    # -- calling hooks -----------------------------------------------------
    def results(self, hook: str, **kwargs) -> Iterator[tuple[str, object]]:
        """(plugin name, item) for every item every implementation returns,
        in pluggy's own call order: the plugin registered last first, the
        built-in (registered first) last; failures become problems.

        ``kwargs`` are the hook's arguments, all of those its spec declares;
        each implementation gets the ones it names (pluggy's convention, so a
        spec can gain an argument without breaking older plugins)."""
        caller = getattr(self.pm.hook, hook)
        declared = set(caller.spec.argnames) if caller.spec is not None else set()
        if set(kwargs) != declared:
            raise TypeError(f"hook {hook} takes {sorted(declared)}, called with {sorted(kwargs)}")
        for impl in reversed(
            caller.get_hookimpls()
        ):  # get_hookimpls is in registration order; pluggy calls it reversed
            try:
                result = impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception as err:
                self.problems.append(PluginProblem(impl.plugin_name, f"hook {hook} raised {type(err).__name__}: {err}"))
                continue
            if result is None:
                continue
            if not isinstance(result, (list, tuple)):
                self.problems.append(
                    PluginProblem(impl.plugin_name, f"hook {hook} must return a list, got {type(result).__name__}")
                )
                continue
            for item in result:
                yield impl.plugin_name, item

    def _collect(self, hook: str, kind: str, validate: Callable[[object], list[str]]) -> tuple[dict, dict]:
        """name -> (plugin, item), plus name -> [plugins] for names claimed twice."""
        if hook in self._cache:
            return self._cache[hook]
        found: dict[str, list[tuple[str, object]]] = {}
        for plugin, item in self.results(hook):
            problems = validate(item)
            if problems:
                for problem in problems:
                    self.problems.append(PluginProblem(plugin, f"invalid {kind}: {problem}"))
                continue
            found.setdefault(item.name, []).append((plugin, item))
        items, conflicts = {}, {}
        for name, claims in found.items():
            if len(claims) == 1:
                items[name] = claims[0]
            else:
                conflicts[name] = [plugin for plugin, _ in claims]
                self.problems.append(
                    PluginProblem(
                        " and ".join(conflicts[name]),
                        f"both provide the {kind} {name!r}; uninstall one or disable it with {DISABLE_ENV}",
                    )
                )
        self._cache[hook] = (items, conflicts)
        return items, conflicts

    def domains(self) -> dict:
        """name -> DomainSpec, with the providing plugin and its version."""
        items, _ = self._collect("autolabel_domains", "domain", validate_domain)
        return {
            name: replace(spec, plugin=plugin, version=self.versions.get(plugin, ""))
            for name, (plugin, spec) in items.items()
        }

    def formats(self) -> dict:
        return {
            name: spec for name, (_, spec) in self._collect("autolabel_formats", "format", validate_format)[0].items()
        }

    def labelers(self) -> dict:
        items = self._collect("autolabel_labelers", "labeler", validate_labeler)[0]
        return {name: spec for name, (_, spec) in items.items()}

    # -- lookups -----------------------------------------------------------
    def domain(self, name: str):
        return self._lookup("autolabel_domains", "domain", name, self.domains())

    def format(self, name: str):
        return self._lookup("autolabel_formats", "format", name, self.formats())

    def labeler(self, name: str):
        return self._lookup("autolabel_labelers", "labeler", name, self.labelers())

    def _lookup(self, hook: str, kind: str, name: str, items: dict):
        if name in items:
            return items[name]
        conflicts = self._cache.get(hook, ({}, {}))[1]
        if name in conflicts:
            raise PluginError(
                f"{kind} {name!r} is provided by more than one plugin ({', '.join(conflicts[name])}); "
                f"uninstall one or disable it with {DISABLE_ENV}"
            )
        known = ", ".join(sorted(items)) or "none"
        message = f"unknown {kind} {name!r} (installed: {known})"
        if self.problems:
            message += "; plugin problems: " + "; ".join(str(p) for p in self.problems)
        raise PluginError(message)


def _core_version() -> str:
    try:
        return importlib.metadata.version("autolabel-spacy")
    except importlib.metadata.PackageNotFoundError:
        return __version__


_PLUGINS: Optional[Plugins] = None


def get_plugins() -> Plugins:
    """The process-wide plugin manager, built on first use."""
    global _PLUGINS
    if _PLUGINS is None:
        _PLUGINS = Plugins()
    return _PLUGINS


def reset_plugins() -> None:
    """Forget the loaded plugins (after installing one, or in tests)."""
    global _PLUGINS
    _PLUGINS = None


def get_domain(name: str):
    """The installed domain ``name`` (a :class:`PluginError` says why not)."""
    return get_plugins().domain(name)
