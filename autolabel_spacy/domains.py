"""What a domain plugin provides: label scheme, vocabularies and defaults.

Plugins return :class:`DomainSpec` objects from the ``autolabel_domains``
hook (see :mod:`autolabel_spacy.hooks.hookspecs`); :func:`validate_domain`
lists everything wrong with one, so a bad spec is reported with its plugin's
name instead of failing later somewhere else. This module holds the types
and their validation only; looking a domain up in the installed plugins is
:func:`autolabel_spacy.hooks.manager.get_domain`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

import spacy.util

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class LabelSpec:
    """One entity label of a domain's scheme."""

    name: str
    description: str


@dataclass(frozen=True)
class Vocabulary:
    """Terms with the label they usually carry, and where the list comes from.

    ``terms`` maps a surface string to a label. ``provenance`` says who wrote
    the list or which command built it from which corpus; it is shown by
    ``autolabel domains show``. ``ids`` maps a term to the concept id of its
    terminology (``DOID:1612``, ``DB00515``), for the terms that have one.
    """

    name: str
    terms: dict[str, str]
    provenance: str
    # Cross-validation support, for vocabularies built from training data
    # (``autolabel vocab build --folds K``): term -> bitmask of the folds of
    # the training docs it was annotated in. See ``ml/gazetteer.py``.
    n_folds: int = 0
    folds: dict[str, int] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_tsv(cls, path, name: Optional[str] = None, provenance: Optional[str] = None) -> "Vocabulary":
        """Read ``term<TAB>label`` lines, or ``term<TAB>label<TAB>concept id``
        (``<TAB>fold bitmask`` after a ``# folds: K`` header); ``# provenance:
        ...`` header lines set the provenance, other ``#`` lines and blank
        lines are skipped."""
        path = Path(path)
        terms: dict[str, str] = {}
        folds: dict[str, int] = {}
        ids: dict[str, str] = {}
        n_folds = 0
        found_provenance = []
        for lineno, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
            if not line.strip():
                continue
            if line.startswith("#"):
                text = line[1:].strip()
                if text.lower().startswith("provenance:"):
                    found_provenance.append(text.split(":", 1)[1].strip())
                elif text.lower().startswith("folds:"):
                    n_folds = int(text.split(":", 1)[1])
                continue
            parts = line.split("\t")
            if len(parts) == 3 and n_folds and parts[2].strip().isdigit():
                folds[parts[0].strip()] = int(parts[2])
                parts = parts[:2]
            elif len(parts) == 3 and not n_folds and parts[2].strip():
                ids[parts[0].strip()] = parts[2].strip()
                parts = parts[:2]
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise ValueError(f"{path}:{lineno}: expected 'term<TAB>label[<TAB>id]', got {line!r}")
            term, label = parts[0].strip(), parts[1].strip()
            if term in terms and terms[term] != label:
                raise ValueError(f"{path}:{lineno}: term {term!r} has two labels, {terms[term]!r} and {label!r}")
            terms[term] = label
        return cls(
            name=name or path.stem,
            terms=terms,
            provenance=provenance or " ".join(found_provenance) or f"read from {path.name}",
            n_folds=n_folds,
            folds=folds,
            ids=ids,
        )

    def to_tsv(self, path) -> None:
        """``term<TAB>label`` lines (plus ``<TAB>fold bitmask`` with folds, or
        ``<TAB>concept id`` for the terms that have one)."""
        lines = [f"# provenance: {self.provenance}"]
        if self.n_folds:
            lines.append(f"# folds: {self.n_folds}")
            lines += [f"{term}\t{label}\t{self.folds.get(term, 0)}" for term, label in sorted(self.terms.items())]
        else:
            lines += [
                f"{term}\t{label}\t{self.ids[term]}" if term in self.ids else f"{term}\t{label}"
                for term, label in sorted(self.terms.items())
            ]
        Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")

    @property
    def labels(self) -> set[str]:
        return set(self.terms.values())


@dataclass(frozen=True)
class DomainSpec:
    """A vertical domain: what a plugin returns from ``autolabel_domains``.

    name: short identifier (``medical``), used in configs and on the CLI.
    language: spaCy language code of the domain's text.
    description: one line for ``autolabel domains list``.
    labels: the label scheme, with a description per label.
    vocabularies: term lists (term -> label) with their provenance.
    tokenizer_exceptions: special cases for the tokenizer, as spaCy takes
        them: ``{"mg/kg": [{"ORTH": "mg"}, {"ORTH": "/"}, {"ORTH": "kg"}]}``;
        an entry may set ``NORM`` to normalise a token.
    patterns: token or phrase patterns in spaCy's EntityRuler format
        (``{"label": ..., "pattern": ...}``), used by the ``patterns`` labeler.
    config: path of the recommended training config (a spaCy ``.cfg``).
    plugin, version: filled in by the plugin manager (the distribution that
        provided the domain and its installed version).
    """

    name: str
    language: str
    description: str
    labels: tuple[LabelSpec, ...]
    vocabularies: tuple[Vocabulary, ...] = ()
    tokenizer_exceptions: dict = field(default_factory=dict)
    patterns: tuple[dict, ...] = ()
    config: Optional[str] = None
    plugin: str = ""
    version: str = ""

    @property
    def label_names(self) -> list[str]:
        return [label.name for label in self.labels]

    def all_terms(self, vocabularies: Optional[Iterable[str]] = None) -> dict[str, str]:
        """Terms of the named vocabularies (all if None), later lists winning."""
        wanted = None if vocabularies is None else set(vocabularies)
        terms: dict[str, str] = {}
        for vocab in self.vocabularies:
            if wanted is None or vocab.name in wanted:
                terms.update(vocab.terms)
        return terms


def validate_domain(spec) -> list[str]:
    """Everything wrong with a domain spec (an empty list if it is valid)."""
    if not isinstance(spec, DomainSpec):
        return [f"expected a DomainSpec, got {type(spec).__name__}"]
    problems = []
    if not isinstance(spec.name, str) or not _NAME.match(spec.name):
        problems.append(f"domain name {spec.name!r} must be lowercase letters, digits, '-' or '_'")
    try:
        spacy.util.get_lang_class(spec.language)
    except Exception:
        problems.append(f"domain {spec.name!r}: unknown spaCy language {spec.language!r}")
    if not spec.labels:
        problems.append(f"domain {spec.name!r} has no labels")
    names = []
    for label in spec.labels:
        if not isinstance(label, LabelSpec):
            problems.append(f"domain {spec.name!r}: label {label!r} is not a LabelSpec")
            continue
        if not label.name or "-" in label.name or label.name == "O":
            problems.append(f"domain {spec.name!r}: invalid label name {label.name!r}")
        if not label.description:
            problems.append(f"domain {spec.name!r}: label {label.name!r} has no description")
        names.append(label.name)
    if len(set(names)) != len(names):
        problems.append(f"domain {spec.name!r}: duplicate label names")
    for vocab in spec.vocabularies:
        if not isinstance(vocab, Vocabulary):
            problems.append(f"domain {spec.name!r}: vocabulary {vocab!r} is not a Vocabulary")
            continue
        if not vocab.provenance:
            problems.append(f"domain {spec.name!r}: vocabulary {vocab.name!r} has no provenance")
        unknown = sorted(vocab.labels - set(names))
        if unknown:
            problems.append(f"domain {spec.name!r}: vocabulary {vocab.name!r} uses labels not in the scheme: {unknown}")
    for string, pieces in spec.tokenizer_exceptions.items():
        orth = "".join(piece.get("ORTH", "") for piece in pieces) if isinstance(pieces, list) else None
        if orth != string:
            problems.append(
                f"domain {spec.name!r}: tokenizer exception {string!r}: the ORTH pieces must join to the string"
            )
    for pattern in spec.patterns:
        if not isinstance(pattern, dict) or pattern.get("label") not in names or "pattern" not in pattern:
            problems.append(f"domain {spec.name!r}: pattern {pattern!r} needs 'pattern' and a 'label' of the scheme")
    if spec.config is not None and not Path(spec.config).is_file():
        problems.append(f"domain {spec.name!r}: recommended config {spec.config} does not exist")
    return problems


def add_tokenizer_exceptions(nlp, spec: DomainSpec) -> int:
    """Add the domain's tokenizer special cases to ``nlp``; returns how many."""
    for string, pieces in spec.tokenizer_exceptions.items():
        nlp.tokenizer.add_special_case(string, pieces)
    return len(spec.tokenizer_exceptions)
