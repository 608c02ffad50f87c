"""The run files of an ``annotate`` run: how every engine records its work.

A run appends each tagged record, as one JSON line flushed at once, to one
of its files under ``<output>.run/``: ``accepted`` or ``review`` (the
record's decision, :mod:`routing`) or ``errors``. ``run.json`` holds the
settings that decide what the files contain, so that ``--resume`` cannot mix
two runs. A run killed mid-write leaves a torn last line, which
:class:`RunFiles` cuts on resume; the ids already in the files are skipped.
When every input is accounted for, :meth:`RunFiles.finalize`
writes the outputs in the requested format. Both engines tag through
:func:`tag_records` and write through :func:`json_line`, so their outputs
are byte-identical.
"""

from __future__ import annotations

import json
import shutil
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from ..confidences import relation_confidence
from ..files import atomic_path, atomic_write_text
from ..formats.jsonl import doc_to_record
from ..formats.records import META_KEY, make_doc, span_scores
from ..formats.relation_items import read_relations
from ..processes import die_with_parent
from ..relations import set_relations
from ..routing import ACCEPTED, DECISIONS, Routing, decision_line, review_priority, route, units_decided
from .inputs import TextRecord

FILES = DECISIONS + ("errors",)  # a tagged record goes to its decision's file
# docs per spaCy memory zone (one process) and per set of worker processes (n_process > 1)
ZONE_DOCS = 10_000
ZONE_DOCS_MULTIPROCESS = 100_000
# the settings of a run that decide what its files hold: a --resume
# with any of them changed would mix two runs in one output
RUN_SETTINGS = {
    "model": "MODEL",
    "input": "INPUT",
    "column": "--column",
    "max_chars": "--max-chars",
    "accept_threshold": "--accept-threshold",
    "rank_by": "--rank-by",
    "relation_threshold": "--relation-threshold",
    "category_threshold": "--category-threshold",
}


class RunFiles:
    """The open files of one run (``folder``: ``<output>.run``).

    A new folder is created with ``run.json``; an existing one is an
    unfinished run, taken up only with ``resume`` and the same ``settings``.
    ``done_ids`` are the ids of the records already in the files."""

    def __init__(self, folder: Path, settings: dict, resume: bool) -> None:
        self.folder = folder
        if folder.exists() and not resume:
            raise FileExistsError(f"{folder} holds an unfinished run: pass --resume to finish it, or delete it")
        if folder.exists():
            _check_resumable(folder, settings)
        self.created = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        if self.created:
            atomic_write_text(folder / "run.json", json.dumps(settings) + "\n")
        self.done_ids: set[str] = set().union(*(_recover(self.path(name)) for name in FILES))
        self.annotated_with = {"relations": 0, "categories": 0}  # counted by finalize
        self.written_in_part: dict = {}  # docs the output format could not write whole, by finalize
        self.files = {name: open(self.path(name), "a", encoding="utf-8") for name in FILES}

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.jsonl"

    def append(self, name: str, record: dict) -> None:
        """One record, written and flushed at once."""
        self.files[name].write(json_line(record))
        self.files[name].flush()

    def write_lines(self, name: str, lines: str) -> None:
        """Lines already made by :func:`json_line` (flushed by :meth:`flush`)."""
        self.files[name].write(lines)

    def flush(self) -> None:
        for f in self.files.values():
            f.flush()

    def todo(
        self, records: Iterable[TextRecord], on_error: Optional[Callable[[], None]] = None
    ) -> Iterator[TextRecord]:
        """The records still to tag: those already in the files (a resumed
        run) are skipped, and those that cannot be used go to the errors file."""
        for record in records:
            if record.id in self.done_ids:
                continue
            if record.error is not None:
                self.append("errors", {"id": record.id, "error": record.error, "raw": record.raw})
                if on_error is not None:
                    on_error()
                continue
            yield record

    def not_held(self, spec) -> dict[str, int]:
        """After :meth:`finalize`: how many annotated docs have relations or
        categories that format ``spec`` cannot hold (so ``annotate`` can say so)."""
        return {what: n for what, n in self.annotated_with.items() if n and what not in spec.holds}

    def close(self, failed: bool = False) -> None:
        """Close the files; after a failed start that wrote nothing, remove
        the folder too (there is nothing to resume)."""
        for f in self.files.values():
            f.close()
        if failed and self.created and not any(self.path(name).stat().st_size for name in FILES):
            shutil.rmtree(self.folder, ignore_errors=True)

    def finalize(
        self, pipeline: Callable, spec, paths: dict, routing: Optional[Routing]
    ) -> tuple[dict, Optional[dict]]:
        """Write the outputs (``paths``, as ``annotate.output_paths`` names
        them) from the closed files; returns the record count of each and,
        when routing, the units decided each way (a sentence of a doc routed
        sentence by sentence, otherwise a doc: :func:`routing.route`)."""
        counts = {}
        threshold = routing.threshold if routing else None
        if routing is None:
            counts["all"] = _write_docs(
                pipeline, spec, _records(self.path("accepted")), paths["all"], self.written_in_part
            )
        else:
            counts["accepted"] = _write_docs(
                pipeline, spec, _records(self.path("accepted")), paths["accepted"], self.written_in_part
            )
            counts["review"] = _write_docs(
                pipeline, spec, _review_order(self.path("review")), paths["review"], self.written_in_part
            )
        counts["errors"] = _copy_jsonl(_records(self.path("errors")), paths["errors"])
        units = {"accepted": 0, "review": 0}
        self.annotated_with = {"relations": 0, "categories": 0}  # docs with them, for not_held

        def decisions():
            for decision in DECISIONS:
                for r in _records(self.path(decision)):
                    self.annotated_with["relations"] += bool(r.get("relations"))
                    self.annotated_with["categories"] += bool(r.get("cats"))
                    if routing is not None:
                        accepted, left = units_decided(r, decision)
                        units["accepted"] += accepted
                        units["review"] += left
                    yield decision_line(r, threshold)

        _copy_jsonl(decisions(), paths["decisions"])
        return counts, (units if routing is not None else None)

    def remove(self) -> None:
        shutil.rmtree(self.folder)


def tag_records(
    nlp, records: list, routing: Optional[Routing], batch_size: int, n_process: int = 1
) -> Iterator[tuple[str, dict]]:
    """(run file, its line) for each record (``id``, ``text``, ``meta``),
    in order. A record the pipeline fails on goes to the errors file with
    the reason and the run goes on: after a failed batch its records are
    tagged one at a time, then batching resumes. Both engines use this."""
    if n_process > 1:
        die_with_parent()  # spaCy's workers must not outlive a killed run, each holding a pipeline
    start = 0
    while start < len(records):
        try:
            stream = nlp.pipe(
                ((r.text, r) for r in records[start:]), as_tuples=True, batch_size=batch_size, n_process=n_process
            )
            for doc, record in stream:
                yield routed_record(doc, record.id, record.meta, routing)
                start += 1
        except Exception:
            end = min(len(records), start + batch_size)
            for record in records[start:end]:
                try:
                    doc = nlp(record.text)
                except Exception as err:
                    reason = " ".join(f"the pipeline failed on this record: {type(err).__name__}: {err}".split())
                    yield "errors", {"id": record.id, "error": reason[:500], "raw": record.text}
                else:
                    yield routed_record(doc, record.id, record.meta, routing)
            start = end


def chunked(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def routed_record(doc, record_id: str, meta: dict, routing: Optional[Routing]) -> tuple[str, dict]:
    """The run file a tagged doc goes to (its decision) and its line (the ``jsonl``
    format's record plus the input's id and, when routing, the decision).
    Every engine calls this, so their outputs are the same."""
    doc.user_data[META_KEY] = meta
    out = {"id": record_id, **doc_to_record(doc)}
    relations = relation_confidence(doc)
    if relations is not None:
        out["relation_score"] = round(relations, 6)
    if routing is None:
        return ACCEPTED, out  # one output; "accepted" is just the file's name
    decision, out["decision"] = route(doc, routing)
    return decision, out


def json_line(record: dict) -> str:
    """One record of a run or shard file: every engine writes through
    this, so their files are byte-identical."""
    return json.dumps(record, ensure_ascii=False) + "\n"


def _recover(path: Path) -> set[str]:
    """Ids already in a run file; a torn last line (killed mid-write) is cut."""
    if not path.exists():
        return set()
    ids, good_bytes = set(), 0
    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                break
            try:
                ids.add(json.loads(line)["id"])
            except (json.JSONDecodeError, KeyError, UnicodeDecodeError):
                break
            good_bytes += len(line)
    if good_bytes != path.stat().st_size:
        with open(path, "r+b") as f:
            f.truncate(good_bytes)
    return ids


def _records(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def _record_doc(nlp, record: dict):
    """The doc of a run-file record, entities and confidences restored."""
    spans = record["spans"]
    doc = make_doc(
        nlp,
        record["text"],
        [(s["start"], s["end"], s["label"], s.get("kb_id")) for s in spans],
        record["id"],
        scores=span_scores(spans),
        doc_score=record.get("score"),
    )
    if record.get("relations") is not None:
        set_relations(doc, read_relations(doc, record["relations"], record["id"]))
    doc.cats = record.get("cats") or {}
    doc.user_data[META_KEY] = _output_meta(record)
    return doc


def _output_record(record: dict) -> dict:
    """A run-file record as the ``jsonl`` format writes its doc (what
    ``doc_to_record(_record_doc(nlp, record))`` gives, plus the sentence
    scores a rebuilt doc does not carry), without tokenizing."""
    scored = all(s.get("score") is not None for s in record["spans"])
    out = {
        "text": record["text"],
        "spans": [s if scored else {k: v for k, v in s.items() if k != "score"} for s in record["spans"]],
    }
    if record.get("score") is not None:
        out["score"] = record["score"]
    if record.get("sentences"):
        out["sentences"] = record["sentences"]
    for key in ("relations", "cats"):  # what the pipeline found besides entities
        if record.get(key) is not None:
            out[key] = record[key]
    out["meta"] = _output_meta(record)
    return out


def _output_meta(record: dict) -> dict:
    """The input's meta plus the record id and, when routed, the decision."""
    meta = dict(record.get("meta") or {})
    meta["autolabel_id"] = record["id"]
    if record.get("decision"):
        meta["autolabel_decision"] = {**record["decision"], "score": record.get("score")}
    return meta


def _review_order(path: Path) -> Iterator[dict]:
    """Records of a run file, least sure first (:func:`routing.review_priority`), holding only
    (confidence, file offset) pairs in memory."""
    index = []
    with open(path, "rb") as f:
        offset = 0
        for line in f:
            index.append((review_priority(json.loads(line)), offset))
            offset += len(line)
        for _, at in sorted(index):
            f.seek(at)
            yield json.loads(f.readline())


def _write_docs(pipeline, spec, records, path: Path, in_part: dict) -> int:
    """The run-file records in the output format; formats with ``write_records``
    take them as they are, the others as docs rebuilt with the pipeline's
    tokenizer (``pipeline``: a callable giving the pipeline). A doc the
    format cannot write whole (``spec.refuses``: predicted relations of
    entities without concept ids, in PubTator) is written with what it can
    hold and counted in ``in_part`` (``docs``, and the first ``reason``)."""
    count = 0
    if spec.write_records is not None:

        def output_records():
            nonlocal count
            for record in records:
                count += 1
                yield _output_record(record)

        with atomic_path(path) as tmp:
            spec.write_records(output_records(), tmp)
        return count
    nlp = pipeline()

    def docs():
        nonlocal count
        for chunk in chunked(records, ZONE_DOCS):
            # the writers consume each doc before asking for the next, so the
            # zone can free a chunk's strings once its docs are written
            with nlp.memory_zone():
                for record in chunk:
                    count += 1
                    doc = _record_doc(nlp, record)
                    reason = spec.refuses(doc) if spec.refuses is not None else None
                    if reason:
                        in_part["docs"] = in_part.get("docs", 0) + 1
                        in_part.setdefault("reason", f"{record['id']}: {reason}")
                    yield doc

    with atomic_path(path) as tmp:
        spec.write(docs(), tmp)
    return count


def _copy_jsonl(records, path: Path) -> int:
    count = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json_line(record))
            count += 1
    return count


def _check_resumable(folder: Path, settings: dict) -> None:
    try:
        before = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ValueError(
            f"{folder}: no readable run.json, so the unfinished run cannot be checked; delete the folder and rerun"
        ) from None
    if "rank_by" not in before and before.get("accept_threshold") is not None:
        before["rank_by"] = "sentence"  # a run from before --rank-by routed by probability
    if "input_content" in before and before["input_content"] != settings.get(
        "input_content"
    ):  # runs before it was kept: not checked
        raise ValueError(
            f"{folder}: --resume, but INPUT changed since the unfinished run began (its content's sha256 is not the "
            "same); "
            "its files hold records of the old content at their old lines: rerun without --resume, or delete the folder"
        )
    for key, option in RUN_SETTINGS.items():
        if before.get(key) != settings[key]:
            raise ValueError(
                f"{folder}: --resume with {option} {settings[key]!r}, but the unfinished run used {before.get(key)!r}; "
                "resuming would mix two runs in one output: rerun with the same value, or delete the folder"
            )
