"""``annotate``: raw text -> annotations with confidences, routed by confidence.

The run streams: each record is tagged and appended (one JSON line, flushed)
to a run file in ``<output>.run/`` — ``accepted``, ``review`` or
``errors``. Memory stays constant however large the input. When every input
is accounted for, the run files are converted to the requested format and
written atomically (temporary file + rename):

- without ``accept_threshold``: ``<output>`` holds every annotated doc;
- with it: ``<name>.accepted.<ext>`` (docs whose whole annotation has
  probability ≥ threshold, i.e. ``crf_ner``'s ``sequence_prob``; a doc of
  several sentences, such as an abstract, when each of its sentences has)
  and ``<name>.review.<ext>`` (the rest, most uncertain first; a document's
  decision lists the sentences left to review: ``routing.route``);
- always: ``<name>.errors.jsonl`` (input records that could not be used, with
  their line and reason), ``<name>.decisions.jsonl`` (per record: decision,
  confidence, threshold, span confidences) and ``<name>.summary.json``.

A run that is killed leaves its run files; ``resume=True`` skips the records
already in them (an incomplete last line is discarded) and finishes with
exactly one output per input.

Engines (``engines.py``): ``local`` (``local_engine.py``) tags in this
process (``n_process`` > 1: spaCy's multiprocessing); ``ray``
(``ray_engine.py``) tags shards on Ray Data actors. Both feed the same run
files (``run_files.py``) through the same functions, so their outputs are
identical.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from ..checks import check_count
from ..files import atomic_write_text, check_apart, check_output, fingerprint, remove_stale_temporaries, split_extension
from ..formats import format_for_path
from ..hooks.manager import get_plugins
from ..loading import load_pipeline, pipeline_assigns, with_sentences
from ..routing import Routing
from . import local_engine, ray_engine
from .engines import EngineRun
from .inputs import DEFAULT_MAX_CHARS, MAX_CHARS_LIMIT, Inputs
from .run_files import RunFiles

ENGINES = {"local": local_engine, "ray": ray_engine}


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
    rank_by: Optional[str]  # what units are routed by (routing.RANK_BY); None without a threshold
    # routing units (the sentences of a doc routed sentence by sentence,
    # otherwise docs) accepted and left to review; None without a threshold
    units_accepted: Optional[int]
    units_review: Optional[int]
    resumed: int
    outputs: dict
    skipped: list  # files of an input folder that are not .txt
    # docs whose relations or categories the output format cannot hold (not written)
    not_written: dict = field(default_factory=dict)
    # docs written without a part the output format refuses: {"docs": n, "reason": "id: why"}
    written_in_part: dict = field(default_factory=dict)


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
        "run": at / f"{base}.run",
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
        check_count(name, value)
    if values.get("max_chars", 0) > MAX_CHARS_LIMIT:
        raise ValueError(f"max_chars must be at most {MAX_CHARS_LIMIT}, got {values['max_chars']!r}")


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
    rank_by: str = "sentence",
    relation_threshold: Optional[float] = None,
    category_threshold: Optional[float] = None,
) -> AnnotateSummary:
    """Tag every record of ``input_path`` and write the outputs described
    above. ``engine="local"`` tags in this process (``n_process`` > 1: spaCy's
    multiprocessing); ``engine="ray"`` writes the records to shards of
    ``shard_size`` and tags them with Ray Data on ``num_workers`` actors, each
    loading the pipeline once (``address``: an existing cluster; none: a local
    Ray started and stopped here). Both stream and give the same outputs.
    ``rank_by``: what a unit's score is, compared with ``accept_threshold``
    (:func:`routing.routing_score`; use the one ``evaluate`` chose the
    threshold with). ``relation_threshold`` and ``category_threshold``: a
    routed doc is accepted only if its relations and its top category reach
    them too (:class:`routing.Routing`)."""
    # everything that can be checked is checked before any file is created
    output = Path(output)
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    check_options(
        batch_size=batch_size, n_process=n_process, max_chars=max_chars, num_workers=num_workers, shard_size=shard_size
    )
    thresholds = (accept_threshold, relation_threshold, category_threshold)
    if accept_threshold is None and thresholds != (None, None, None) and _sets_entities(model):
        raise ValueError("a relation or category threshold routes docs together with --accept-threshold: give that too")
    routing = (
        Routing(accept_threshold, rank_by, relation_threshold, category_threshold)
        if thresholds != (None, None, None)
        else None
    )
    formats = get_plugins().formats()
    spec = get_plugins().format(output_format or format_for_path(output, formats))
    if spec.write is None:
        raise ValueError(f"format {spec.name!r} cannot be written")
    inputs = Inputs(input_path, column, max_chars)
    paths = output_paths(output, routing is not None, spec.extensions or (f".{spec.name}",))
    check_apart([input_path], {("output" if name == "all" else f"{name} file"): path for name, path in paths.items()})
    earlier = paths["run"].with_suffix(".parts")
    if earlier.is_dir():  # where an earlier autolabel-spacy kept a run's files
        raise ValueError(
            f"{earlier} holds an unfinished run of an earlier autolabel-spacy: finish it with that version, or delete "
            "the folder"
        )
    for name, path in paths.items():
        if name != "run":
            check_output(path)
            remove_stale_temporaries(path)  # a run killed during its final write left them

    @functools.cache
    def pipeline():  # the ray engine's driver only needs it for some output formats
        return with_sentences(load_pipeline(model, need_annotations="annotate"))

    run = EngineRun(
        model=model,
        pipeline=pipeline,
        records=inputs,
        routing=routing,
        batch_size=batch_size,
        max_chars=max_chars,
        progress=progress,
        n_process=n_process,
        address=address,
        num_workers=num_workers,
        shard_size=shard_size,
    )
    chosen = ENGINES[engine]
    chosen.check(run)
    settings = {
        "model": _model_id(model),
        "input": str(Path(input_path).resolve()),
        "input_content": fingerprint(input_path),  # a resume of an input changed in place is refused
        "column": column,
        "max_chars": max_chars,
        "accept_threshold": accept_threshold,
        "rank_by": rank_by if routing else None,
        "relation_threshold": relation_threshold,
        "category_threshold": category_threshold,
    }
    run.files = files = RunFiles(paths["run"], settings, resume)
    run.total = inputs.count() if progress else None
    try:
        chosen.run(run)
    except BaseException:
        files.close(failed=True)
        raise
    files.close()

    counts, units = files.finalize(pipeline, spec, paths, routing)
    summary = AnnotateSummary(
        model=str(model) if isinstance(model, (str, Path)) else pipeline().meta.get("name", "pipeline"),
        input=str(input_path),
        inputs=sum(counts.values()),
        annotated=sum(counts.values()) - counts["errors"],
        accepted=counts.get("accepted", 0),
        review=counts.get("review", 0),
        errors=counts["errors"],
        accept_threshold=accept_threshold,
        rank_by=rank_by if routing else None,
        units_accepted=units["accepted"] if units else None,
        units_review=units["review"] if units else None,
        resumed=len(files.done_ids),
        outputs={k: str(v) for k, v in paths.items() if k != "run"},
        skipped=inputs.skipped,
        not_written=files.not_held(spec),
        written_in_part=files.written_in_part,
    )
    atomic_write_text(paths["summary"], json.dumps(asdict(summary), indent=2) + "\n")
    files.remove()
    return summary


def _sets_entities(model) -> bool:
    """Whether pipeline ``model`` may set entities (a pipeline whose
    components cannot be known from its config may)."""
    assigns = pipeline_assigns(model)
    return assigns is None or "doc.ents" in assigns


def _model_id(model) -> Optional[str]:
    """The pipeline a run used, as its settings record it (a loaded pipeline
    passed in by a caller has none)."""
    if not isinstance(model, (str, Path)):
        return None
    return str(Path(model).resolve()) if Path(model).exists() else str(model)
