"""``autolabel pretrain``: domain assets from the domain's raw text.

The raw text (any input ``annotate`` takes: .txt, .jsonl, .csv, .pubtator,
a folder of .txt) is streamed once: each record is tokenized with the
language's tokenizer and split into sentences (spaCy's sentencizer); a
sentence that occurs in one of the ``exclude`` files (the evaluation data:
compared by its characters without whitespace) is dropped, and the rest is
written, tokens separated by spaces, one record per line, to
``DIR/tokens.txt``. Records that cannot be used (invalid UTF-8, empty, over
``max_chars``) go to ``DIR/errors.jsonl`` with their reason, as in
``annotate``. Then:

- ``vectors.floret``: subword vectors trained by floret (fastText with
  Bloom embeddings: every word gets a vector, unseen ones too), and
  ``vectors/``, the spaCy pipeline that holds them (what ``spacy init
  vectors --mode floret`` writes), for a config's ``paths.vectors``;
- ``manifest.json``: what was read and kept (the counts add up), the
  settings, the time each step took, and the versions. A second run with the
  same inputs and settings finds the manifest up to date and does nothing.

Memory stays flat: records are tokenized in batches and written at once;
floret reads the token file from disk.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Iterable, Optional

import spacy
from spacy.training.initialize import convert_vectors

from .. import __version__
from ..checks import check_count
from ..files import atomic_path, atomic_write_text, check_apart, fingerprint
from ..format_io import read_docs
from ..loading import blank
from .inputs import DEFAULT_MAX_CHARS, Inputs

BATCH = 1000  # records tokenized at a time


@dataclass(frozen=True)
class VectorSettings:
    """floret's settings (its names: ``minn``/``maxn`` the character n-gram
    lengths, ``bucket`` the rows of the hash table, ``hash_count`` the rows
    each word and n-gram is stored in)."""

    dim: int = 300
    epochs: int = 5
    min_count: int = 5
    minn: int = 3
    maxn: int = 5
    bucket: int = 50_000
    hash_count: int = 2
    model: str = "cbow"
    threads: int = 2  # 1: the same vectors on every run (floret's threads race)

    def check(self) -> None:
        for name in ("dim", "epochs", "min_count", "minn", "maxn", "bucket", "threads"):
            check_count(name, getattr(self, name))
        if self.minn > self.maxn:
            raise ValueError(f"minn {self.minn} is longer than maxn {self.maxn}")
        if not 1 <= self.hash_count <= 4 or isinstance(self.hash_count, bool):
            raise ValueError(f"hash_count must be 1 to 4 (floret's range), got {self.hash_count!r}")
        if self.model not in ("cbow", "skipgram"):
            raise ValueError(f"model must be cbow or skipgram, got {self.model!r}")


@dataclass
class PretrainSummary:
    output: str
    up_to_date: bool
    records: int  # every record of the input: kept + errors
    kept: int  # a record all of whose sentences are excluded is kept, as an empty line
    errors: int
    sentences: int
    excluded_sentences: int
    tokens: int  # tokens written (of the sentences kept)
    manifest: dict


def pretrain(
    raw,
    output,
    exclude: Iterable = (),
    lang: str = "en",
    column: str = "text",
    max_chars: int = DEFAULT_MAX_CHARS,
    vectors: Optional[VectorSettings] = None,
) -> PretrainSummary:
    """Build the domain assets of ``raw`` in the folder ``output`` (see the
    module's text); ``exclude``: files in any readable format whose
    sentences are kept out of the text."""
    vectors = vectors or VectorSettings()
    vectors.check()
    check_count("max_chars", max_chars)
    raw, output = Path(raw), Path(output)
    exclude = [Path(p) for p in exclude]
    inputs = Inputs(raw, column, max_chars)
    for path in exclude:
        if not path.is_file():
            raise ValueError(f"{path}: no such file (--exclude)")
    check_apart([raw, *exclude], {"output folder": output})
    if output.exists() and not output.is_dir():
        raise ValueError(f"{output}: exists and is not a folder")
    wanted = {
        "input": {"path": str(raw), "sha256": fingerprint(raw), "column": column, "max_chars": max_chars},
        "exclude": [{"path": str(p), "sha256": fingerprint(p)} for p in exclude],
        "lang": lang,
        "vectors": asdict(vectors),
        "autolabel_spacy": __version__,
    }
    done = _manifest(output)
    if done is not None and {k: done.get(k) for k in wanted} == wanted and (output / "vectors").is_dir():
        return PretrainSummary(str(output), True, **done["counts"], manifest=done)

    output.mkdir(parents=True, exist_ok=True)
    (output / "manifest.json").unlink(missing_ok=True)  # a run that stops half-way is not up to date
    nlp = blank(lang)
    nlp.add_pipe("sentencizer")
    started = time.perf_counter()
    keys = _excluded_sentences(exclude, nlp)
    counts = _write_tokens(inputs, nlp, keys, output)
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    _train_vectors(output, vectors, lang)
    vector_seconds = time.perf_counter() - started
    manifest = {
        **wanted,
        "counts": counts,
        "excluded_from": len(keys),
        "seconds": {"text": round(read_seconds, 2), "vectors": round(vector_seconds, 2)},
        "words_per_second": {"vectors": round(counts["tokens"] * vectors.epochs / max(vector_seconds, 1e-9))},
        "assets": {"vectors": "vectors", "floret": "vectors.floret", "text": "tokens.txt", "errors": "errors.jsonl"},
        "versions": {"spacy": spacy.__version__, "floret": _floret_version(), "python": platform.python_version()},
        "made": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    atomic_write_text(output / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return PretrainSummary(str(output), False, **counts, manifest=manifest)


def _manifest(output: Path) -> Optional[dict]:
    try:
        return json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def sentence_key(text: str) -> str:
    """What two sentences are compared by: their characters without whitespace."""
    return "".join(text.split())


def _excluded_sentences(paths: list[Path], nlp) -> set[str]:
    """The sentences of the evaluation files (their own sentence boundaries
    where the format keeps them, else the sentencizer's)."""
    keys: set[str] = set()
    for path in paths:
        for doc in read_docs(path, nlp):
            sents = doc.sents if doc.has_annotation("SENT_START") else nlp.get_pipe("sentencizer")(doc).sents
            keys.update(sentence_key(s.text) for s in sents)
    keys.discard("")
    return keys


def _write_tokens(inputs: Inputs, nlp, excluded: set[str], output: Path) -> dict:
    counts = {"records": 0, "kept": 0, "errors": 0, "sentences": 0, "excluded_sentences": 0, "tokens": 0}
    sentencizer = nlp.get_pipe("sentencizer")
    with (
        atomic_path(output / "tokens.txt") as tokens_tmp,
        open(tokens_tmp, "w", encoding="utf-8") as tokens,
        atomic_path(output / "errors.jsonl") as errors_tmp,
        open(errors_tmp, "w", encoding="utf-8") as errors,
    ):
        batch = []

        def flush():
            for record, doc in zip(batch, nlp.tokenizer.pipe(r.text for r in batch)):
                kept = []
                for sent in sentencizer(doc).sents:
                    counts["sentences"] += 1
                    if excluded and sentence_key(sent.text) in excluded:
                        counts["excluded_sentences"] += 1
                        continue
                    kept += [t.text for t in sent if not t.is_space]
                counts["tokens"] += len(kept)
                tokens.write(" ".join(kept) + "\n")
            batch.clear()

        for record in inputs:
            counts["records"] += 1
            if record.error is not None:
                counts["errors"] += 1
                errors.write(
                    json.dumps({"id": record.id, "error": record.error, "raw": record.raw}, ensure_ascii=False) + "\n"
                )
                continue
            counts["kept"] += 1
            batch.append(record)
            if len(batch) >= BATCH:
                with nlp.memory_zone():
                    flush()
        with nlp.memory_zone():
            flush()
    if not counts["tokens"]:
        raise ValueError(
            f"{inputs.path}: no text to pretrain on ({counts['errors']} of {counts['records']} records unusable)"
        )
    return counts


def _train_vectors(output: Path, settings: VectorSettings, lang: str) -> None:
    import floret  # the [pretrain] extra

    model = floret.train_unsupervised(
        str(output / "tokens.txt"),
        model=settings.model,
        mode="floret",
        dim=settings.dim,
        epoch=settings.epochs,
        minCount=settings.min_count,
        minn=settings.minn,
        maxn=settings.maxn,
        bucket=settings.bucket,
        hashCount=settings.hash_count,
        thread=settings.threads,
        verbose=0,
    )
    with atomic_path(output / "vectors.floret") as tmp:
        model.save_floret_vectors(str(tmp))
    nlp = blank(lang)
    convert_vectors(nlp, output / "vectors.floret", truncate=0, prune=-1, mode="floret")
    staging = output / ".vectors-new"
    shutil.rmtree(staging, ignore_errors=True)
    nlp.to_disk(staging)
    shutil.rmtree(output / "vectors", ignore_errors=True)
    staging.rename(output / "vectors")


def _floret_version() -> str:
    try:
        return version("floret")
    except PackageNotFoundError:
        return ""
