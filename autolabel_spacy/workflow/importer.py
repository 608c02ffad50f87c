"""``import``: corrected annotations from a review tool -> DocBin for training.

Every record is accounted for: it becomes a training doc, or an entry in the
errors file with its record (line or task) and the problem — spans off token
boundaries (snapped only with an explicit ``align="expand"|"contract"``),
overlapping spans, labels outside the known label set, rejected answers,
invalid JSON or bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from ..files import atomic_path, check_apart, check_output, split_extension
from ..format_io import not_held, reader_options, writable
from ..formats import format_for_path
from ..formats.detect import RECORD_FORMATS, detect_format
from ..formats.records import Record, set_aside
from ..hooks.manager import get_domain, get_plugins
from ..loading import blank, load_pipeline
from ..relations import get_relations


@dataclass
class ImportSummary:
    records: int
    imported: int
    errors: int
    entities: int
    output: str
    errors_path: str
    detected: str = ""  # how the input's format was told from its content, if it was
    not_held: dict = field(default_factory=dict)  # docs with what the output format does not hold (relations...)


def known_labels(
    labels: Optional[Iterable[str]] = None, model=None, domain: Optional[str] = None
) -> Optional[list[str]]:
    """The label set to check imports against: given, a pipeline's (its
    ``crf_ner``/``ner`` labels) or a domain's; None means any label."""
    if labels:
        return list(labels)
    if model is not None:
        nlp = load_pipeline(model)
        return sorted({label for name, pipe in nlp.pipeline if name in ("crf_ner", "ner") for label in pipe.labels})
    if domain is not None:
        return get_domain(domain).label_names
    return None


def known_other_labels(model=None) -> dict[str, Optional[list[str]]]:
    """A pipeline's relation labels and categories, to check imports
    against (None: the pipeline has no such component, or no pipeline)."""
    out: dict[str, Optional[list[str]]] = {"relations": None, "categories": None}
    if model is None:
        return out
    nlp = load_pipeline(model)
    for name, pipe in nlp.pipeline:
        if getattr(pipe, "factory_name", name) == "entity_relations":
            out["relations"] = sorted(pipe.labels)
        if "doc.cats" in (nlp.get_pipe_meta(name).assigns or []):
            out["categories"] = sorted(pipe.labels)
    return out


def check_other_labels(record: Record, relation_labels: Optional[list], categories: Optional[list]) -> Record:
    """The record, or an error naming a relation label or a category
    outside the known ones."""
    if record.error is not None:
        return record
    if relation_labels is not None:
        unknown = sorted({r.label for r in get_relations(record.doc)} - set(relation_labels))
        if unknown:
            return Record(
                record.where, error=f"unknown relation labels {unknown} (known: {relation_labels})", raw=record.raw
            )
    if categories is not None:
        unknown = sorted(set(record.doc.cats) - set(categories))
        if unknown:
            return Record(record.where, error=f"unknown categories {unknown} (known: {categories})", raw=record.raw)
    return record


def import_annotations(
    input_path,
    output,
    input_format: Optional[str] = None,
    lang: str = "en",
    align: str = "strict",
    labels: Optional[Iterable[str]] = None,
    errors_path=None,
    label_map: Optional[dict] = None,
    relation_labels: Optional[Iterable[str]] = None,
    categories: Optional[Iterable[str]] = None,
    names=None,
) -> ImportSummary:
    """Read ``input_path`` (format: ``input_format``, else what its content
    shows, else its extension) and write the good records to ``output`` in
    the format of its extension (``.spacy`` for training), the others to
    ``errors_path`` (default ``<output name>.import-errors.jsonl``).
    ``label_map`` renames the input's types for a reader that takes one
    (``pubtator``: ``{"SpecificDisease": "Disease", ...}``); ``labels`` are
    checked after it, and ``relation_labels`` and ``categories`` (when
    given) against the records' relations and categories; ``names``: a
    Label Studio project's tag names (its labeling config)."""
    plugins = get_plugins()
    formats = plugins.formats()
    input_path = Path(input_path)
    if not input_path.is_file():
        raise ValueError(f"{input_path}: no such file")
    detected = ""
    if input_format is None:
        try:
            by_extension = format_for_path(input_path, formats)
        except ValueError:
            by_extension = None
        by_content = detect_format(input_path)
        if (
            by_content
            and by_content[0] in formats
            and by_content[0] != by_extension
            and (by_extension is None or by_extension in RECORD_FORMATS)
        ):
            input_format = by_content[0]
            detected = f"note: {input_path}: read as {input_format}, since {by_content[1]}" + (
                f" (its extension says {by_extension})" if by_extension else ""
            )
        elif by_extension is None:
            format_for_path(input_path, formats)  # raises, naming --format
        else:
            input_format = by_extension
    spec = plugins.format(input_format)
    if spec.read is None:
        raise ValueError(f"format {spec.name!r} cannot be read")
    output = Path(output)
    out_spec = plugins.format(format_for_path(output, formats, option="an output extension such as .spacy"))
    if out_spec.write is None:
        raise ValueError(f"{output}: format {out_spec.name!r} cannot be written")
    if errors_path is None:
        base, _ = split_extension(output, [e for f in formats.values() for e in f.extensions])
        errors_path = output.with_name(f"{base}.import-errors.jsonl")
    errors_path = Path(errors_path)
    check_output(output)
    check_output(errors_path, "errors file")
    check_apart([input_path], {"output": output, "errors file": errors_path})
    nlp = blank(lang)
    labels = list(labels) if labels is not None else None
    options = {"align": align, "labels": labels, **reader_options(spec, label_map=label_map or None, names=names)}
    if spec.read_records is not None:
        records = spec.read_records(input_path, nlp, **options)
    else:  # whole-file formats (conll, spacy): a malformed file raises
        records = (Record(f"{input_path}#{i}", doc=doc) for i, doc in enumerate(spec.read(input_path, nlp)))
    relation_labels = sorted(relation_labels) if relation_labels is not None else None
    categories = sorted(categories) if categories is not None else None

    def checked(records):
        for record in records:
            if record.error is None and labels is not None:
                unknown = sorted({e.label_ for e in record.doc.ents} - set(labels))
                if unknown:
                    record = Record(
                        record.where, error=f"unknown labels {unknown} (known: {sorted(labels)})", raw=record.raw
                    )
            yield check_other_labels(record, relation_labels, categories)

    with atomic_path(errors_path) as tmp_errors:
        docs, refused = set_aside(writable(checked(records), out_spec), tmp_errors)
        with atomic_path(output) as tmp_out:
            out_spec.write(docs, tmp_out)
    n_ents = sum(len(doc.ents) for doc in docs)
    return ImportSummary(
        len(docs) + refused,
        len(docs),
        refused,
        n_ents,
        str(output),
        str(errors_path),
        detected,
        not_held(out_spec, docs),
    )
