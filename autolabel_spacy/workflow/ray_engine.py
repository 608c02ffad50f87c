"""The ``ray`` engine of ``annotate``: Ray Data with a pool of actors, each
loading the pipeline once.

The driver streams the input once: records already done (``--resume``) are
skipped, unusable ones go to the errors file exactly as in the local engine,
and the rest are written to shards of JSON lines under ``<output>.run/``.
The dataset Ray Data runs is the list of slices of those shards (file, byte
offset, number of lines; ``SLICE_BATCHES`` x ``batch_size`` records each), so no read tasks run
and the driver never holds the texts: each of the ``num_workers`` actors
reads its slice, tags it, and the results stream back in input order
(``preserve_order``); the driver appends each to its run file as it
arrives, so memory stays flat and ``--resume`` works the same. (Actors must
see the driver's files: on a multi-machine cluster, put the output on
shared storage.) An actor that dies is restarted by Ray and its
unfinished batch is run again; a batch's results reach the run files only
once it is complete, so every record is still accounted for exactly once.

Ray is an optional extra: ``pip install "autolabel-spacy[ray]"``, so it is
imported inside the functions that use it, and :func:`check` says how to
install it when it is missing.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Iterable, Optional

import spacy

from ..loading import check_annotates, with_sentences
from ..routing import Routing
from .engines import EngineRun
from .inputs import TextRecord
from .run_files import FILES, json_line, tag_records

# records per slice (the unit of work of one actor call), in nlp.pipe batches:
# big enough that Ray's per-task cost is small, small enough to balance actors
SLICE_BATCHES = 8
INSTALL_HINT = 'the ray engine needs Ray Data: pip install "autolabel-spacy[ray]"'


class MissingExtraError(LookupError):
    """An optional extra that a requested feature needs is not installed."""


def require_ray() -> None:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as e:
        raise MissingExtraError(f"{INSTALL_HINT} ({e})") from None


def check(run: EngineRun) -> None:
    """Before any work: Ray is installed, and the pipeline is one each worker
    can load (a name or path) and that sets entities."""
    require_ray()
    if not isinstance(run.model, (str, Path)):
        raise ValueError("engine 'ray' needs the pipeline as a name or path, which each worker loads")
    check_annotates(run.model, "annotate")


class Annotator:
    """A Ray Data actor: loads the pipeline once, tags batches of shard lines."""

    def __init__(self, model: str, routing: Optional[Routing], batch_size: int, max_chars: int) -> None:
        self.nlp = with_sentences(spacy.load(model))
        self.nlp.max_length = max(self.nlp.max_length, max_chars)  # --max-chars decides which texts are too long
        self.routing = routing
        self.batch_size = batch_size

    def __call__(self, batch: dict) -> dict:
        """Each row of ``batch`` is a slice; each row of the result holds the
        slice's run-file lines, joined per file, and its record count."""
        out: dict[str, list] = {name: [] for name in FILES}
        out["count"] = []
        for path, offset, count in zip(batch["path"], batch["offset"], batch["count"]):
            records = [TextRecord(**json.loads(line)) for line in read_slice(str(path), int(offset), int(count))]
            lines: dict[str, list[str]] = {name: [] for name in FILES}
            with self.nlp.memory_zone():  # the vocab does not grow with the input
                for name, line in tag_records(self.nlp, records, self.routing, self.batch_size):
                    lines[name].append(json_line(line))
            for name in FILES:
                out[name].append("".join(lines[name]))
            out["count"].append(len(records))
        return out


def write_shards(records: Iterable[TextRecord], shard_dir: Path, shard_size: int, slice_size: int) -> list[dict]:
    """The records as JSON lines, ``shard_size`` per file, in input order;
    returns the slices of the files (``path``, byte ``offset``, line
    ``count``), ``slice_size`` lines each, in input order."""
    if shard_size < 1 or slice_size < 1:
        raise ValueError(f"shard_size and slice_size must be at least 1, got {shard_size} and {slice_size}")
    shard_dir.mkdir(parents=True, exist_ok=True)
    for old in shard_dir.glob("shard-*.jsonl"):  # from an interrupted run: rewritten from what is left
        old.unlink()
    slices: list[dict] = []
    out = None
    n = offset = 0
    try:
        for record in records:
            if n % shard_size == 0:
                if out is not None:
                    out.close()
                path = shard_dir / f"shard-{n // shard_size:06d}.jsonl"
                out = open(path, "wb")
                offset = 0
            if n % shard_size % slice_size == 0:
                slices.append({"path": str(path), "offset": offset, "count": 0})
            line = json_line({"id": record.id, "text": record.text, "meta": record.meta}).encode("utf-8")
            out.write(line)
            offset += len(line)
            slices[-1]["count"] += 1
            n += 1
    finally:
        if out is not None:
            out.close()
    return slices


def read_slice(path: str, offset: int, count: int) -> list[str]:
    with open(path, "rb") as f:
        f.seek(offset)
        lines = [f.readline().decode("utf-8") for _ in range(count)]
    if len(lines) != count or not lines[-1].endswith("\n"):
        raise RuntimeError(f"{path}: expected {count} lines at byte {offset}, the shard is shorter (was it changed?)")
    return lines


def start_ray(address: Optional[str], num_workers: int) -> bool:
    """Join ``address``, or start a local Ray; returns whether it was started
    here (and so must be shut down here)."""
    import ray  # optional extra

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local, single-user cluster
    quiet = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address:
        ray.init(address=address, **quiet)
    else:
        # "local": a Ray of this run's own, even where `ray start` left a cluster
        # running (a bare ray.init() would join that one)
        ray.init(address="local", num_cpus=max(os.cpu_count() or 1, num_workers), **quiet)
    return True


def run(run: EngineRun) -> None:
    import ray  # optional extra

    files = run.files
    # a path the workers can open whatever their working directory; else a package name
    model = str(Path(run.model).resolve()) if Path(run.model).exists() else str(run.model)
    slices = write_shards(
        files.todo(run.records), files.folder / "shards", run.shard_size, SLICE_BATCHES * run.batch_size
    )
    if not slices:
        return
    started = start_ray(run.address, run.num_workers)
    bar = run.progress_bar("annotate (ray)")
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # results come back in input order
        ctx.enable_progress_bars = False  # our own bar counts docs
        ctx.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        # one block per slice, so every actor gets work however few slices
        ds = ray.data.from_items(slices, override_num_blocks=len(slices))
        ds = ds.map_batches(
            Annotator,
            fn_constructor_args=(model, run.routing, run.batch_size, run.max_chars),
            batch_size=1,  # one slice per actor call
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=run.num_workers),
            num_cpus=1,
        )
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            for i, count in enumerate(batch["count"]):
                for name in FILES:
                    files.write_lines(name, str(batch[name][i]))
                bar.update(int(count))
            files.flush()
    finally:
        bar.close()
        if started:
            ray.shutdown()
