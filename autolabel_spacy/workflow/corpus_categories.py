"""A CSV of whole texts with one category each -> docs with ``doc.cats``,
split into train/dev/test in code: seeded, stratified by category.

For a corpus published as one labelled file (the medical abstracts corpus
of ``../shared/data/medical_abstracts_tc``: a ``condition_label`` number
and a ``medical_abstract`` text per row, the numbers' names in
``labels.csv``). Each category keeps its share in every split (scikit-learn's
stratified ``train_test_split``), and the same seed gives the same split on
any machine. A row without text or label, with a label the names file does
not know, or with the wrong number of fields goes to the errors file with
its line, and so do the rows of a category too small to stratify
(:data:`MIN_ROWS`). Shares too small for the categories are an error naming
the file, before anything is written.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Iterator, Optional, Sequence

from sklearn.model_selection import train_test_split

from ..confidences import top_category
from ..corpora.reader import to_docbin
from ..files import atomic_path
from ..formats.records import META_KEY, Record

DEFAULT_FRACTIONS = (0.6, 0.2, 0.2)  # train, dev, test
MIN_ROWS = 3  # rows a category needs to be in a stratified train/dev/test split (its rows go to the errors with fewer)


def read_label_names(path) -> dict[str, str]:
    """``label,name`` rows (a header first) -> {label: name}."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    names = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise ValueError(f"{path}:{lineno}: expected 'label,name'")
        names[row[0].strip()] = row[1].strip()
    return names


def read_category_records(
    path, nlp, text_column: str = "text", label_column: str = "label", label_names: Optional[dict] = None
) -> Iterator[Record]:
    """One record per row: a doc of its text with ``doc.cats`` one-hot over
    the categories (``label_names``' names, else the labels of the file), or
    the reason it cannot be read."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None) or []
        missing = [c for c in (text_column, label_column) if c not in header]
        if missing:
            raise ValueError(f"{path}:1: no column {missing[0]!r} in the header {header}")
        t, lab = header.index(text_column), header.index(label_column)
        rows = [(reader.line_num, row) for row in reader]
    known = (
        list(label_names.values())
        if label_names
        else sorted({row[lab].strip() for _, row in rows if len(row) == len(header)} - {""})
    )
    for lineno, row in rows:
        where = f"{path}:{lineno}"
        raw = ",".join(row)
        if len(row) != len(header):
            yield Record(where, error=f"{len(row)} fields, the header has {len(header)}", raw=raw)
            continue
        label = row[lab].strip()
        if not label:
            yield Record(where, error="no label", raw=raw)
            continue
        name = label_names.get(label) if label_names else label
        if name is None:
            yield Record(where, error=f"unknown label {label!r} (known: {sorted(label_names)})", raw=raw)
            continue
        if not row[t].strip():
            yield Record(where, error="no text", raw=raw)
            continue
        doc = nlp.make_doc(row[t])
        doc.cats = {category: float(category == name) for category in known}
        doc.user_data[META_KEY] = {"line": lineno}
        yield Record(where, doc=doc, raw=raw)


def stratified_split(docs: Sequence, fractions: Sequence[float] = DEFAULT_FRACTIONS, seed: int = 0) -> dict[str, list]:
    """``{"train", "dev", "test"}`` lists of ``docs`` in the given shares,
    each category in about its share of every split, the same for one seed."""
    if len(fractions) != 3 or any(f <= 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split fractions must be three positive shares summing to 1, got {list(fractions)}")
    labels = [top_category(doc.cats) for doc in docs]
    index = list(range(len(docs)))
    rest, test = train_test_split(index, test_size=fractions[2], stratify=labels, random_state=seed)
    train, dev = train_test_split(
        rest,
        test_size=fractions[1] / (fractions[0] + fractions[1]),
        stratify=[labels[i] for i in rest],
        random_state=seed,
    )
    return {name: [docs[i] for i in sorted(part)] for name, part in (("train", train), ("dev", dev), ("test", test))}


def convert_category_corpus(
    path: Path,
    output: Path,
    nlp,
    text_column: str,
    label_column: str,
    label_names: Optional[dict] = None,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    seed: int = 0,
) -> dict[str, int]:
    """Read, split and write ``train/dev/test.spacy`` (and the rows refused,
    to ``errors.jsonl``) under ``output``; returns the docs per split."""
    output = Path(output)
    records = list(read_category_records(path, nlp, text_column, label_column, label_names))
    sizes = Counter(top_category(r.doc.cats) for r in records if r.error is None)
    docs, errors = [], []
    for record in records:
        if record.error is None and sizes[top_category(record.doc.cats)] < MIN_ROWS:
            category = top_category(record.doc.cats)
            record = Record(
                record.where,
                error=f"category {category!r} has {sizes[category]} rows; a stratified "
                f"train/dev/test split needs at least {MIN_ROWS} of each",
                raw=record.raw,
            )
        if record.error is None:
            record.doc.cats = {
                c: p for c, p in record.doc.cats.items() if sizes[c] >= MIN_ROWS or c not in sizes
            }  # no category of refused rows
            docs.append(record.doc)
        else:
            errors.append(record.error_line())
    if not docs:
        raise ValueError(
            f"{path}: no labelled texts"
            + (f" ({len(errors)} rows refused, first: {json.loads(errors[0])['error']})" if errors else "")
        )
    try:
        splits = stratified_split(docs, fractions, seed)
    except ValueError as err:  # shares too small for the categories: scikit-learn's reason, with the file
        raise ValueError(
            f"{path}: {len(docs)} texts of {len({top_category(d.cats) for d in docs})} categories cannot be split in "
            f"the shares {list(fractions)}: {err}"
        ) from None
    output.mkdir(parents=True, exist_ok=True)  # nothing is written before the split is known to work
    counts = {}
    for split, part in splits.items():
        with atomic_path(output / f"{split}.spacy") as tmp:
            to_docbin(part, store_user_data=True).to_disk(tmp)
        counts[split] = len(part)
    with atomic_path(output / "errors.jsonl") as tmp:
        tmp.write_text("".join(errors), encoding="utf-8")
    counts["refused"] = len(errors)
    return counts
