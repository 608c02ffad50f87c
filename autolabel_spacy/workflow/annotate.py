"""``annotate``: raw text -> annotations with confidences, routed by confidence.

The run streams: each record is tagged and appended (one JSON line, flushed)
to a part file in ``<output>.parts/`` — ``accepted``, ``review`` or
``errors``. Memory stays constant however large the input. When every input
is accounted for, the parts are converted to the requested format and
written atomically (temporary file + rename):

- without ``accept_threshold``: ``<output>`` holds every annotated doc;
- with it: ``<name>.accepted.<ext>`` (docs whose whole annotation has
  probability ≥ threshold, i.e. ``crf_ner``'s ``sequence_prob``) and
  ``<name>.review.<ext>`` (the rest, most uncertain first);
- always: ``<name>.errors.jsonl`` (input records that could not be used, with
  their line and reason), ``<name>.decisions.jsonl`` (per record: decision,
  confidence, threshold, span confidences) and ``<name>.summary.json``.

A run that is killed leaves its parts; ``resume=True`` skips the records
already in them (an incomplete last line is discarded) and finishes with
exactly one output per input.

Engines: ``local`` tags in this process (``n_process`` > 1: spaCy's
multiprocessing); ``ray`` (``ray_engine.py``) tags shards on Ray Data actors.
Both feed the same part files through :func:`tag_records`, so their
outputs are identical.
"""
from __future__ import annotations

import functools
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from itertools import islice
from typing import Iterable, Iterator, Optional

from ..files import atomic_path, atomic_write_text, check_output, split_extension
from ..formats.jsonl import doc_to_record
from ..formats.records import META_KEY
from .inputs import DEFAULT_MAX_CHARS, Inputs, TextRecord

ROUTED_PARTS = ("accepted", "review")  # where tagged records go
PARTS = ROUTED_PARTS + ("errors",)
ENGINES = ("local", "ray")
# docs per spaCy memory zone (one process) and per set of worker processes (n_process > 1)
ZONE_DOCS = 10_000
ZONE_DOCS_MULTIPROCESS = 100_000


@dataclass
class AnnotateSummary:
    model: str
    input: str
    inputs: int
    annotated: int
    accepted: int
    review: int
    errors: int
    accept_threshold: Optional[float]
    resumed: int
    outputs: dict
    skipped: list  # files of an input folder that are not .txt


# the settings of a run that decide what its part files hold: a --resume
# with any of them changed would mix two runs in one output
RUN_SETTINGS = {"model": "MODEL", "input": "INPUT", "column": "--column", "max_chars": "--max-chars", "accept_threshold": "--accept-threshold"}


def output_paths(output: Path, routed: bool, extensions=(".jsonl",)) -> dict[str, Path]:
    """``x.v1.labelstudio.json`` -> ``x.v1.accepted.labelstudio.json``,
    ``x.v1.errors.jsonl`` etc.: the side files are named after the output
    without its format's extension (one of ``extensions``; the first one
    when the name has none of them)."""
    base, ext = split_extension(output, extensions)
    if not any(ext.lower() == e.lower() for e in extensions):
        base, ext = output.name, extensions[0] if extensions else ""
    at = output.parent
    paths = {
        "errors": at / f"{base}.errors.jsonl",
        "decisions": at / f"{base}.decisions.jsonl",
        "summary": at / f"{base}.summary.json",
        "parts": at / f"{base}.parts",
    }
    if routed:
        paths["accepted"] = at / f"{base}.accepted{ext}"
        paths["review"] = at / f"{base}.review{ext}"
    else:
        paths["all"] = output
    return paths


def check_options(**values) -> None:
    """The numeric options of a run, each checked before any work."""
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")


def annotate(
    model,
    input_path,
    output,
    output_format: Optional[str] = None,
    accept_threshold: Optional[float] = None,
    n_process: int = 1,
    batch_size: int = 64,
    resume: bool = False,
    column: str = "text",
    max_chars: int = DEFAULT_MAX_CHARS,
    progress: bool = True,
    engine: str = "local",
    address: Optional[str] = None,
    num_workers: int = 1,
    shard_size: int = 10_000,
) -> AnnotateSummary:
    """Tag every record of ``input_path`` and write the outputs described
    above. ``engine="local"`` tags in this process (``n_process`` > 1: spaCy's
    multiprocessing); ``engine="ray"`` writes the records to shards of
    ``shard_size`` and tags them with Ray Data on ``num_workers`` actors, each
    loading the pipeline once (``address``: an existing cluster; none: a local
    Ray started and stopped here). Both stream and give the same outputs."""
    from ..formats import format_for_path
    from ..hooks.manager import get_plugins
    from ..loading import check_sets_entities, load_pipeline

    # everything that can be checked is checked before any file is created
    output = Path(output)
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    check_options(batch_size=batch_size, n_process=n_process, max_chars=max_chars, num_workers=num_workers, shard_size=shard_size)
    if accept_threshold is not None and not (isinstance(accept_threshold, (int, float)) and 0.0 <= accept_threshold <= 1.0):
        raise ValueError(f"accept_threshold must be a number in [0, 1], got {accept_threshold!r}")
    formats = get_plugins().formats()
    spec = get_plugins().format(output_format or format_for_path(output, formats))
    if spec.write is None:
        raise ValueError(f"format {spec.name!r} cannot be written")
    inputs = Inputs(input_path, column, max_chars)
    paths = output_paths(output, accept_threshold is not None, spec.extensions or (f".{spec.name}",))
    for name, path in paths.items():
        if name != "parts":
            check_output(path)
    if engine == "ray":
        from .ray_engine import require_ray

        require_ray()  # before any work: a clear message if the extra is missing
        if not isinstance(model, (str, Path)):
            raise ValueError("engine 'ray' needs the pipeline as a name or path, which each worker loads")
        check_sets_entities(model, "annotate")

    @functools.cache
    def pipeline():  # the ray engine's driver only needs it for some output formats
        return load_pipeline(model, need_entities="annotate")

    if engine == "local":
        pipeline()
    settings = {
        "model": _model_id(model),
        "input": str(Path(input_path).resolve()),
        "column": column,
        "max_chars": max_chars,
        "accept_threshold": accept_threshold,
    }
    parts_dir = paths["parts"]
    if parts_dir.exists() and not resume:
        raise FileExistsError(f"{parts_dir} holds an unfinished run: pass --resume to finish it, or delete it")
    if parts_dir.exists():
        _check_resumable(parts_dir, settings)
    created = not parts_dir.exists()
    parts_dir.mkdir(parents=True, exist_ok=True)
    if created:
        atomic_write_text(parts_dir / "run.json", json.dumps(settings) + "\n")
    done = {name: _recover_part(parts_dir / f"{name}.jsonl") for name in PARTS}
    done_ids = set().union(*done.values())
    files = {name: open(parts_dir / f"{name}.jsonl", "a", encoding="utf-8") for name in PARTS}
    total = inputs.count() if progress else None
    try:
        if engine == "ray":
            from .ray_engine import annotate_stream_ray

            annotate_stream_ray(
                model, inputs, done_ids, files, accept_threshold, batch_size, progress,
                address=address, num_workers=num_workers, shard_size=shard_size, shard_dir=parts_dir / "shards",
                max_chars=max_chars, total=total,
            )
        else:
            _annotate_stream(pipeline(), inputs, done_ids, files, accept_threshold, n_process, batch_size, progress, max_chars, total)
    except BaseException:
        for f in files.values():
            f.close()
        if created and not any((parts_dir / f"{name}.jsonl").stat().st_size for name in PARTS):
            shutil.rmtree(parts_dir, ignore_errors=True)  # nothing was written: nothing to resume
        raise
    for f in files.values():
        f.close()

    counts = _finalize(pipeline, spec, paths, accept_threshold)
    summary = AnnotateSummary(
        model=str(model) if isinstance(model, (str, Path)) else pipeline().meta.get("name", "pipeline"),
        input=str(input_path),
        inputs=sum(counts.values()),
        annotated=sum(counts.values()) - counts["errors"],
        accepted=counts.get("accepted", 0),
        review=counts.get("review", 0),
        errors=counts["errors"],
        accept_threshold=accept_threshold,
        resumed=len(done_ids),
        outputs={k: str(v) for k, v in paths.items() if k != "parts"},
        skipped=inputs.skipped,
    )
    atomic_write_text(paths["summary"], json.dumps(asdict(summary), indent=2) + "\n")
    shutil.rmtree(parts_dir)
    return summary


def _annotate_stream(nlp, records, done_ids, files, threshold, n_process, batch_size, progress, max_chars, total) -> None:
    from tqdm import tqdm

    bar = tqdm(total=total, initial=len(done_ids) if total else 0, unit="doc", desc="annotate", disable=not progress, dynamic_ncols=True)
    nlp.max_length = max(nlp.max_length, max_chars)  # --max-chars decides which texts are too long

    # Each chunk runs in a spaCy memory zone: the strings and lexemes of its
    # texts are freed at its end, so the vocab does not grow with the input.
    # With n_process > 1 each chunk also gets fresh worker processes, whose
    # vocabs would otherwise grow.
    zone = ZONE_DOCS if n_process == 1 else ZONE_DOCS_MULTIPROCESS
    todo = skip_done_and_errors(records, done_ids, files["errors"], on_error=lambda: bar.update(1))
    for chunk in chunked(todo, zone):
        with nlp.memory_zone():
            for part, out in tag_records(nlp, chunk, threshold, batch_size, n_process):
                _append(files[part], out)
                bar.update(1)
    bar.close()


def tag_records(nlp, records: list, threshold: Optional[float], batch_size: int, n_process: int = 1) -> Iterator[tuple[str, dict]]:
    """(part, part-file line) for each record (``id``, ``text``, ``meta``),
    in order. A record the pipeline fails on goes to the errors part with
    the reason and the run goes on: after a failed batch its records are
    tagged one at a time, then batching resumes. Both engines use this."""
    start = 0
    while start < len(records):
        try:
            stream = nlp.pipe(((r.text, r) for r in records[start:]), as_tuples=True, batch_size=batch_size, n_process=n_process)
            for doc, record in stream:
                yield routed_record(doc, record.id, record.meta, threshold)
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
                    yield routed_record(doc, record.id, record.meta, threshold)
            start = end


def _model_id(model) -> Optional[str]:
    """The pipeline a run used, as its settings record it (a loaded pipeline
    passed in by a caller has none)."""
    if not isinstance(model, (str, Path)):
        return None
    return str(Path(model).resolve()) if Path(model).exists() else str(model)


def _check_resumable(parts_dir: Path, settings: dict) -> None:
    try:
        before = json.loads((parts_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ValueError(f"{parts_dir}: no readable run.json, so the unfinished run cannot be checked; delete the folder and rerun") from None
    for key, option in RUN_SETTINGS.items():
        if before.get(key) != settings[key]:
            raise ValueError(
                f"{parts_dir}: --resume with {option} {settings[key]!r}, but the unfinished run used {before.get(key)!r}; "
                "resuming would mix two runs in one output: rerun with the same value, or delete the folder"
            )


def chunked(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def routed_record(doc, record_id: str, meta: dict, threshold: Optional[float]) -> tuple[str, dict]:
    """The part a tagged doc goes to and its part-file line (the ``jsonl``
    format's record plus the input's id and, when routing, the decision).
    Every engine calls this, so their outputs are the same."""
    doc.user_data[META_KEY] = meta
    out = {"id": record_id, **doc_to_record(doc)}
    if threshold is None:
        return "accepted", out  # one output; "accepted" is just the part's name
    part = "accepted" if (out.get("score") is not None and out["score"] >= threshold) else "review"
    out["decision"] = {"route": part, "threshold": threshold}
    return part, out


def skip_done_and_errors(records, done_ids: set, errors_file, on_error=None) -> Iterator[TextRecord]:
    """The records still to tag: those already in the part files (a resumed
    run) are skipped, and those that cannot be used go to the errors part."""
    for record in records:
        if record.id in done_ids:
            continue
        if record.error is not None:
            _append(errors_file, {"id": record.id, "error": record.error, "raw": record.raw})
            if on_error is not None:
                on_error()
            continue
        yield record


def json_line(record: dict) -> str:
    """One record of a part or shard file: every engine writes through
    this, so their files are byte-identical."""
    return json.dumps(record, ensure_ascii=False) + "\n"


def _append(f, record: dict) -> None:
    f.write(json_line(record))
    f.flush()


def _recover_part(path: Path) -> set[str]:
    """Ids already in a part file; a torn last line (killed mid-write) is cut."""
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


def _part_records(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def _record_doc(nlp, record: dict):
    """The doc of a part record, entities and confidences restored."""
    from ..formats.records import make_doc, span_scores

    spans = record["spans"]
    doc = make_doc(
        nlp, record["text"], [(s["start"], s["end"], s["label"]) for s in spans], record["id"],
        scores=span_scores(spans), doc_score=record.get("score"),
    )
    doc.user_data[META_KEY] = _output_meta(record)
    return doc


def _output_record(record: dict) -> dict:
    """A part record as the ``jsonl`` format writes its doc (what
    ``doc_to_record(_record_doc(nlp, record))`` gives), without tokenizing."""
    scored = all(s.get("score") is not None for s in record["spans"])
    out = {
        "text": record["text"],
        "spans": [s if scored else {k: v for k, v in s.items() if k != "score"} for s in record["spans"]],
    }
    if record.get("score") is not None:
        out["score"] = record["score"]
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
    """Records of a part file, least confident first, holding only
    (confidence, file offset) pairs in memory."""
    index = []
    with open(path, "rb") as f:
        offset = 0
        for line in f:
            score = json.loads(line).get("score")
            index.append((score if score is not None else -1.0, offset))
            offset += len(line)
        for _, at in sorted(index):
            f.seek(at)
            yield json.loads(f.readline())


def _finalize(pipeline, spec, paths: dict, threshold: Optional[float]) -> dict:
    parts = paths["parts"]
    counts = {}
    if threshold is None:
        counts["all"] = _write_docs(pipeline, spec, _part_records(parts / "accepted.jsonl"), paths["all"])
    else:
        counts["accepted"] = _write_docs(pipeline, spec, _part_records(parts / "accepted.jsonl"), paths["accepted"])
        counts["review"] = _write_docs(pipeline, spec, _review_order(parts / "review.jsonl"), paths["review"])
    counts["errors"] = _copy_jsonl(_part_records(parts / "errors.jsonl"), paths["errors"])
    decisions = (
        {
            "id": r["id"],
            "decision": (r.get("decision") or {}).get("route", "annotated"),
            "score": r.get("score"),
            "threshold": threshold,
            "span_scores": [s.get("score") for s in r["spans"]],
        }
        for name in ("accepted", "review")
        for r in _part_records(parts / f"{name}.jsonl")
    )
    _copy_jsonl(decisions, paths["decisions"])
    return counts


def _write_docs(pipeline, spec, records, path: Path) -> int:
    """The part records in the output format; formats with ``write_records``
    take them as they are, the others as docs rebuilt with the pipeline's
    tokenizer (``pipeline``: a callable giving the pipeline)."""
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
                    yield _record_doc(nlp, record)

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


def threshold_from_report(path) -> tuple[float, str]:
    """The auto-accept threshold an ``evaluate`` report recommends, and a line
    saying where it came from. A report whose target accuracy no threshold
    reached gives 1.0: only docs the model is certain of are accepted."""
    import srsly

    try:
        report = srsly.read_json(path)
        recommended, target = report["recommended"], report["target_accuracy"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a report of `autolabel evaluate --output` ({e})") from e
    if recommended is None:
        return 1.0, f"{path}: no threshold reached accuracy {target}; only docs with probability 1.0 are accepted"
    return float(recommended["threshold"]), (
        f"{path}: threshold {recommended['threshold']:.6f} (accepted {recommended['coverage']:.1%} "
        f"of its docs at accuracy {recommended['accuracy']:.3f}, target {target})"
    )
