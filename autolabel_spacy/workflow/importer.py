"""``import``: corrected annotations from a review tool -> DocBin for training.

Every record is accounted for: it becomes a training doc, or an entry in the
errors file with its record (line or task) and the problem — spans off token
boundaries (snapped only with an explicit ``align="expand"|"contract"``),
overlapping spans, labels outside the known label set, rejected answers,
invalid JSON or bytes.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from ..formats.records import Record


@dataclass
class ImportSummary:
    records: int
    imported: int
    errors: int
    entities: int
    output: str
    errors_path: str


def known_labels(labels: Optional[Iterable[str]] = None, model=None, domain: Optional[str] = None) -> Optional[list[str]]:
    """The label set to check imports against: given, a pipeline's (its
    ``crf_ner``/``ner`` labels) or a domain's; None means any label."""
    if labels:
        return list(labels)
    if model is not None:
        import spacy

        nlp = spacy.load(model)
        return sorted({label for name, pipe in nlp.pipeline if name in ("crf_ner", "ner") for label in pipe.labels})
    if domain is not None:
        from ..hooks.manager import get_domain

        return get_domain(domain).label_names
    return None


def import_annotations(
    input_path,
    output,
    input_format: Optional[str] = None,
    lang: str = "en",
    align: str = "strict",
    labels: Optional[Iterable[str]] = None,
    errors_path=None,
) -> ImportSummary:
    import spacy
    from spacy.tokens import DocBin

    from ..formats import format_for_path
    from ..hooks.manager import get_plugins

    plugins = get_plugins()
    spec = plugins.format(input_format or format_for_path(input_path, plugins.formats()))
    nlp = spacy.blank(lang)
    labels = list(labels) if labels is not None else None
    if spec.read_records is not None:
        records = spec.read_records(input_path, nlp, align=align, labels=labels)
    else:  # whole-file formats (conll, spacy): a malformed file raises
        records = (Record(f"{input_path}#{i}", doc=doc) for i, doc in enumerate(spec.read(input_path, nlp)))
    output = Path(output)
    errors_path = Path(errors_path) if errors_path else output.with_name(output.name.split(".")[0] + ".import-errors.jsonl")
    output.parent.mkdir(parents=True, exist_ok=True)
    docbin = DocBin(store_user_data=True)
    n = n_ok = n_ents = 0
    tmp_errors = errors_path.with_name(f".tmp-{os.getpid()}-{errors_path.name}")
    with open(tmp_errors, "w", encoding="utf-8") as errors:
        for record in records:
            n += 1
            if record.error is None and labels is not None:
                unknown = sorted({e.label_ for e in record.doc.ents} - set(labels))
                if unknown:
                    record = Record(record.where, error=f"unknown labels {unknown} (known: {sorted(labels)})", raw=record.raw)
            if record.error is not None:
                errors.write(json.dumps({"record": record.where, "error": record.error, "raw": record.raw}, ensure_ascii=False) + "\n")
                continue
            docbin.add(record.doc)
            n_ok += 1
            n_ents += len(record.doc.ents)
    tmp_out = output.with_name(f".tmp-{os.getpid()}-{output.name}")
    docbin.to_disk(tmp_out)
    os.replace(tmp_out, output)
    os.replace(tmp_errors, errors_path)
    return ImportSummary(n, n_ok, n - n_ok, n_ents, str(output), str(errors_path))
