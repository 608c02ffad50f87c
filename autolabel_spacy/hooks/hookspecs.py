"""The hooks a plugin can implement (pluggy project name ``autolabel_spacy``).

A plugin is any module or object with functions decorated by
:data:`autolabel_spacy.hookimpl`, exposed through a setuptools entry point of
group ``autolabel_spacy``::

    [project.entry-points.autolabel_spacy]
    medical = "autolabel_medical"

Every hook returns a list; the host calls each implementation separately, so
one plugin that raises or returns something invalid is reported by name and
the others keep working. Built-in formats and labelers are registered through
these same hooks by :mod:`autolabel_spacy.hooks.builtin`. An implementation
may take fewer arguments than its spec (the host passes each one the
arguments it names, pluggy's convention), so a hook can gain an argument
without breaking the plugins written before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # the spec types, for readers and type checkers only
    from ..domains import DomainSpec
    from ..formats import FormatSpec
    from ..labelers import LabelerSpec

PROJECT = "autolabel_spacy"

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def autolabel_domains() -> list[DomainSpec]:
    """Vertical domains this plugin provides.

    Returns a list of :class:`autolabel_spacy.domains.DomainSpec`: name,
    spaCy language, description, label scheme (a description per label),
    vocabularies (term -> label, with provenance), tokenizer exceptions or
    normalisers, EntityRuler-style patterns and a recommended training
    config. Two plugins returning the same domain name is reported as a
    conflict; neither is used until one is uninstalled or disabled.
    """


@hookspec
def autolabel_formats() -> list[FormatSpec]:
    """Annotation file formats this plugin can read and/or write.

    Returns a list of :class:`autolabel_spacy.formats.FormatSpec`: a name,
    a description, file extensions, ``read(path, nlp) -> Iterator[Doc]``
    and/or ``write(docs, path) -> None``. Readers must raise an error naming
    the file and record for bad input, never skip it silently.
    """


@hookspec
def autolabel_labelers() -> list[LabelerSpec]:
    """Weak labelers: functions that propose entity spans without training.

    Returns a list of :class:`autolabel_spacy.labelers.LabelerSpec`: a name,
    a description and ``make(nlp, domain, **options) -> Callable[[Doc],
    list[Span]]``, where ``domain`` is a ``DomainSpec`` or None.
    """
