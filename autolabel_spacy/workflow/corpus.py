"""A corpus folder (``train.*``, ``dev.*``, ``test.*`` and an optional
``raw.txt``) -> ``train.spacy``, ``dev.spacy``, ``test.spacy`` and
``raw.txt`` in an output folder: what ``autolabel corpus``, the project's
``convert`` step and the benchmarks use.

A corpus without a dev split (SEC-filings has none upstream) gets the last
``dev_fraction`` of its training sentences held out as dev, so model
selection never sees the test split. ``raw.txt`` (unlabelled text, one doc
per line) is copied when the folder has one, and otherwise written from the
test split's text, so the annotation step always has input.

A split in a record format (the extension of an installed format with a
record reader: ``train.pubtator`` abstracts, one doc each with its
sentences; ``train.jsonl`` documents with their relations and categories;
Label Studio, Prodigy, doccano exports) is read record by record:
``align`` and ``label_map`` go to the reader, and a record it refuses goes
to ``<split>.errors.jsonl`` in the output folder with its line and reason
(the rest of the split is converted). Any other file is token-per-line.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..corpora.reader import docs_from_file, to_docbin
from ..format_io import reader_options
from ..formats import format_for_path
from ..formats.records import set_aside
from ..hooks.manager import get_plugins
from ..loading import blank

SPLIT_NAMES = {"train": ("train",), "dev": ("dev", "devel", "valid", "validation"), "test": ("test",)}


class CorpusFolderError(ValueError):
    pass


@dataclass
class SplitCounts:
    docs: int
    tokens: int
    entities: int
    errors: int = 0  # records refused (PubTator blocks), in <split>.errors.jsonl


def find_splits(folder: Path) -> dict[str, Path]:
    """The split files of a corpus folder: ``train.*`` is required, ``dev.*``
    (or ``devel.*``, ``valid.*``) and ``test.*`` are optional. Two candidate
    files for one split are an error, not a guess."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusFolderError(f"{folder}: corpus folder not found")
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        stem = path.name.split(".")[0].lower()
        for split, names in SPLIT_NAMES.items():
            if stem in names:
                if split in found:
                    raise CorpusFolderError(
                        f"{folder}: two files for the {split} split: {found[split].name}, {path.name}"
                    )
                found[split] = path
    found = {split: found[split] for split in SPLIT_NAMES if split in found}
    if "train" not in found:
        raise CorpusFolderError(
            f"{folder}: no train.* file (found: {', '.join(p.name for p in sorted(folder.iterdir()))})"
        )
    return found


def convert_splits(
    folder: Path,
    output: Path,
    lang: str = "en",
    dev_fraction: float = 0.1,
    scheme: str = "auto",
    align: str = "strict",
    label_map: Optional[dict] = None,
) -> dict[str, SplitCounts]:
    """Convert every split of ``folder`` into ``output``; returns counts per
    output split (``dev`` marked as held out when it came from train)."""
    files = find_splits(folder)
    if "dev" not in files and not 0 < dev_fraction < 1:
        raise CorpusFolderError(f"{folder}: no dev split, and dev_fraction={dev_fraction} cannot hold one out of train")
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    counts: dict[str, SplitCounts] = {}
    test_texts: list[str] = []
    for split, path in files.items():
        errors = 0
        spec = _record_format(path)
        if spec is not None:
            docs, errors = _record_docs(spec, path, lang, align, label_map, output / f"{split}.errors.jsonl")
        else:
            docs = list(docs_from_file(path, lang=lang, scheme=scheme))
        if split == "test":
            test_texts = [doc.text.replace("\n", " ") for doc in docs]
        if not docs and errors:
            raise CorpusFolderError(
                f"{path}: every record was refused ({errors}); the reasons are in {output / f'{split}.errors.jsonl'}"
            )
        if not docs:
            raise CorpusFolderError(f"{path}: no sentences")
        if split == "train" and "dev" not in files:
            cut = max(1, int(len(docs) * (1 - dev_fraction)))
            if cut >= len(docs):
                raise CorpusFolderError(f"{path}: {len(docs)} sentences are too few to hold out a dev split")
            counts["dev (held out of train)"] = _write(docs[cut:], output / "dev.spacy")
            docs = docs[:cut]
        counts[split] = _write(docs, output / f"{split}.spacy", errors)
    raw = Path(folder) / "raw.txt"
    if raw.is_file():
        shutil.copyfile(raw, output / "raw.txt")
    elif test_texts:
        (output / "raw.txt").write_text("".join(text + "\n" for text in test_texts), encoding="utf-8")
    return counts


def _record_format(path: Path):
    """The installed format with a record reader that ``path``'s extension
    names, or None (a token-per-line file)."""
    formats = get_plugins().formats()
    try:
        spec = formats[format_for_path(path, formats)]
    except ValueError:
        return None
    return spec if spec.read_records is not None else None


def _record_docs(
    spec, path: Path, lang: str, align: str, label_map: Optional[dict], errors_path: Path
) -> tuple[list, int]:
    """The records of a split in a record format as docs; the refused ones
    written to ``errors_path`` (as ``autolabel import`` writes them)."""
    try:
        options = reader_options(spec, align, label_map)
    except ValueError as e:
        raise CorpusFolderError(f"{path}: {e}") from None
    return set_aside(spec.read_records(path, blank(lang), **options), errors_path)


def _write(docs, path: Path, errors: int = 0) -> SplitCounts:
    # record docs keep their relations, PMID and composite parts (user_data)
    to_docbin(docs, store_user_data=any(d.user_data for d in docs)).to_disk(path)
    return SplitCounts(len(docs), sum(len(d) for d in docs), sum(len(d.ents) for d in docs), errors)
