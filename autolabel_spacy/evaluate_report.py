"""The report of ``autolabel evaluate``: one typed, versioned structure,
written and read here only.

``evaluate`` builds an :class:`EvaluateReport`; ``evaluate --output`` writes
it as JSON (:meth:`EvaluateReport.to_json`), and everything that reads one
back (``annotate --accept-threshold-from``, ``autolabel report``) goes
through :func:`read_report`, which checks the version and the shape and
names the first thing wrong. A report of another version, or a file that is
not a report, is one clear error: there are no fallbacks for old shapes.

The tables of a section (per-label scores, the reliability bins, the routing
curve, the rows by mentions, the commonest confident errors) are lists of
flat rows as ``evaluation`` computes them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Optional

from .checks import is_number, is_whole
from .files import atomic_write_text

KIND = "autolabel evaluate"
VERSION = 1


class ReportError(ValueError):
    """A file that is not a report this version reads; the message names
    the file and what is wrong."""


@dataclass(frozen=True)
class Recommendation:
    """The lowest threshold whose accepted units reach the target accuracy:
    the share of units it accepts (coverage), their accuracy and count."""

    threshold: float
    coverage: float
    accuracy: float
    accepted: int


@dataclass
class EntityReport:
    unit: str  # what is routed: "doc", or "sentence" for docs of several sentences
    units: int
    rank_by: str  # what a unit's score is (routing.RANK_BY)
    ents_p: Optional[float]  # spaCy's scorer: None without gold or predicted entities
    ents_r: Optional[float]
    ents_f: Optional[float]
    per_label: dict
    span_ece: float
    reliability: list
    doc_accuracy: float  # the share of units exactly right
    by_mentions: list
    confident_errors: list
    routing: list
    min_accepted: int
    recommended: Optional[Recommendation]


@dataclass
class RelationReport:
    p: Optional[float]
    r: Optional[float]
    f: Optional[float]
    per_label: dict
    mention_pairs: dict  # p, r, f between every mention pair of a relation
    docs_exactly_right: float
    routing: list
    min_accepted: int
    recommended: Optional[Recommendation]


@dataclass
class CategoryReport:
    docs: int
    accuracy: float
    macro_f: Optional[float]
    per_label: dict
    ece: float
    reliability: list
    routing: list
    min_accepted: int
    recommended: Optional[Recommendation]


SECTIONS = {"entities": EntityReport, "relations": RelationReport, "categories": CategoryReport}


@dataclass
class EvaluateReport:
    """What ``evaluate`` measured on gold data: a section per part of the
    annotation the pipeline sets (None for a part it does not)."""

    docs: int
    stamp: dict  # what the report was made from (workflow.evaluate.stamp)
    target_accuracy: float
    entities: Optional[EntityReport] = None
    relations: Optional[RelationReport] = None
    categories: Optional[CategoryReport] = None

    def to_json(self) -> dict:
        out = {"report": KIND, "version": VERSION}
        out.update(asdict(self))
        return {key: value for key, value in out.items() if value is not None}


def write_report(report: EvaluateReport, path) -> None:
    """The report as JSON, every float with all its digits: a threshold
    read back is the confidence it was chosen at, so ``annotate`` accepts
    exactly the units ``evaluate`` counted (srsly's JSON, which wrote
    reports before, keeps 10 decimals and can round a threshold up past it)."""
    atomic_write_text(path, json.dumps(report.to_json(), indent=2) + "\n")


def read_report(path) -> EvaluateReport:
    """The report in ``path``, or a :class:`ReportError` naming the file and
    what is wrong (the json module keeps every digit of a threshold)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ReportError(
            f"{path}: not a report of `autolabel evaluate --output` ({' '.join(str(err).split())})"
        ) from None
    return from_json(data, str(path))


def _unversioned(data) -> bool:
    """An evaluate report from before reports had a version."""
    return isinstance(data, dict) and "report" not in data and "target_accuracy" in data


def is_report(data) -> bool:
    """Whether parsed JSON ``data`` is meant as an evaluate report, of any version."""
    return isinstance(data, dict) and (data.get("report") == KIND or _unversioned(data))


def from_json(data, where: str) -> EvaluateReport:
    """The report that parsed JSON ``data`` (from ``where``) holds."""
    unversioned = _unversioned(data)
    if not is_report(data):
        raise ReportError(f"{where}: not a report of `autolabel evaluate --output`")
    version = data.get("version")
    if version != VERSION:
        made = "of no version (made before reports had one)" if unversioned else f"of version {version!r}"[:100]
        raise ReportError(
            f"{where}: an evaluate report {made}; this autolabel-spacy reads version {VERSION}: run `autolabel "
            "evaluate --output` again"
        )
    report = EvaluateReport(
        docs=_whole(data, "docs", where),
        stamp=_of(data, "stamp", dict, where),
        target_accuracy=_number(data, "target_accuracy", where),
    )
    for name, kind in SECTIONS.items():
        if data.get(name) is not None:
            setattr(report, name, _section(kind, _of(data, name, dict, where), f"{where}: {name}"))
    if report.entities is None and report.categories is None:
        raise ReportError(f"{where}: a report with neither entities nor categories")
    return report


def _section(kind, data: dict, where: str):
    values = {}
    for f in fields(kind):
        if f.name == "recommended":
            values[f.name] = _recommendation(data.get(f.name), f"{where}.recommended")
        elif f.type in ("float", "Optional[float]"):
            values[f.name] = (
                None if f.type.startswith("Optional") and data.get(f.name) is None else _number(data, f.name, where)
            )
        elif f.type == "int":
            values[f.name] = _whole(data, f.name, where)
        elif f.type == "str":
            values[f.name] = _of(data, f.name, str, where)
        else:  # the tables
            values[f.name] = _of(data, f.name, {"dict": dict, "list": list}[f.type], where)
    return kind(**values)


def _recommendation(value, where: str) -> Optional[Recommendation]:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ReportError(f"{where} must be an object or null, got {type(value).__name__}")
    return Recommendation(
        threshold=_number(value, "threshold", where),
        coverage=_number(value, "coverage", where),
        accuracy=_number(value, "accuracy", where),
        accepted=_whole(value, "accepted", where),
    )


def _of(data: dict, key: str, kind: type, where: str):
    if key not in data:
        raise ReportError(f"{where}: the report has no field {key!r}")
    value = data[key]
    if not isinstance(value, kind):
        raise ReportError(
            f"{where}: {key} must be {'an object' if kind is dict else 'a ' + kind.__name__}, got {value!r}"[:300]
        )
    return value


def _number(data: dict, key: str, where: str) -> float:
    value = data.get(key)
    if not is_number(value) or value != value:
        raise ReportError(f"{where}: {key} must be a number, got {value!r}"[:300])
    return float(value)


def _whole(data: dict, key: str, where: str) -> int:
    value = data.get(key)
    if not is_whole(value):
        raise ReportError(f"{where}: {key} must be a whole number, got {value!r}"[:300])
    return int(value)
