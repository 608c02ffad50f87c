"""Annotate at scale: throughput and peak memory of ``autolabel annotate``'s
engines on 10k, 100k and 1M short documents, in one run.

    python -m benchmarks.scale_annotate --model training/demo/model-best \
        --sizes 10000,100000,1000000 --engines local:1,local:2,ray:1,ray:2

The documents are the demo corpus's sentences (train, dev, test and raw
text; ``--source`` takes any token-per-line corpus or .txt file instead),
repeated and shuffled with a fixed seed, one per line of a .txt input, each
ending with its number so no two are the same. Every (size, engine) runs in
its own process, with routing on (``--accept-threshold``) and JSONL outputs.
With ``--repeats R`` each (size, engine) runs R times, interleaved, and
the row reports the median time. Reported: docs/s and words/s (whitespace words of the input, whole
run: reading, tagging, routing, writing the outputs), the peak RSS of the
annotating process itself, and the peak of the summed RSS of its whole
process tree (spaCy's worker processes, or Ray's raylet, GCS and actors),
sampled every 0.1 s. Outputs of all engines for one size are compared file
by file (accepted, review, errors, decisions): they must be identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.report import write_tables

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "assets" / "demo"
OUTPUTS = ("accepted.jsonl", "review.jsonl", "errors.jsonl", "decisions.jsonl")


def source_sentences(paths: list[Path]) -> list[str]:
    from autolabel_spacy.corpora import read_tagged

    sentences: list[str] = []
    for path in paths:
        if path.suffix == ".txt":
            sentences += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        else:
            sentences += [" ".join(s.tokens) for s in read_tagged(path)]
    if not sentences:
        raise SystemExit(f"no sentences in {', '.join(map(str, paths))}")
    return sentences


def write_input(sentences: list[str], n: int, path: Path, seed: int) -> int:
    """``n`` docs, the sentences repeated in shuffled rounds; returns the word count."""
    rng = random.Random(seed)
    words = 0
    with open(path, "w", encoding="utf-8") as out:
        written = 0
        while written < n:
            order = sentences[:]
            rng.shuffle(order)
            for sentence in order[: n - written]:
                line = f"{sentence} ({written})"
                words += len(line.split())
                out.write(line + "\n")
                written += 1
    return words


class TreeMemory:
    """Peak of the summed RSS of this process and all its descendants."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.interval)

    def sample(self) -> int:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                stat = (proc / "stat").read_text()
                statm = (proc / "statm").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            pid = int(proc.name)
            children.setdefault(ppid, []).append(pid)
            rss[pid] = int(statm.split()[1]) * self._page
        total, todo = 0, [os.getpid()]
        while todo:
            pid = todo.pop()
            total += rss.get(pid, 0)
            todo += children.get(pid, [])
        return total


def worker_run(
    engine: str, workers: int, model: str, input_path: str, out_dir: str, batch_size: int, threshold: float
) -> None:
    """One annotate run in this process; prints one JSON line."""
    from autolabel_spacy.workflow.annotate import annotate

    kwargs = {"n_process": workers} if engine == "local" else {"engine": "ray", "num_workers": workers}
    with TreeMemory() as tree:
        start = time.perf_counter()
        summary = annotate(
            model,
            input_path,
            Path(out_dir) / "out.jsonl",
            accept_threshold=threshold,
            batch_size=batch_size,
            progress=False,
            **kwargs,
        )
        seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "inputs": summary.inputs,
                "accepted": summary.accepted,
                "review": summary.review,
                "errors": summary.errors,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "peak_tree_mb": tree.peak / 2**20,
            }
        )
    )


def run(engine: str, workers: int, args, input_path: Path, out_dir: Path) -> dict:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.scale_annotate",
        "_run",
        engine,
        str(workers),
        args.model,
        str(input_path),
        str(out_dir),
        str(args.batch_size),
        str(args.accept_threshold),
    ]
    env = dict(os.environ, RAY_AUTH_MODE=os.environ.get("RAY_AUTH_MODE", "disabled"), PYTHONHASHSEED="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"run failed: {engine}:{workers} on {input_path}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def digest(out_dir: Path) -> str:
    h = hashlib.sha256()
    for name in OUTPUTS:
        h.update((out_dir / f"out.{name}").read_bytes())
    return h.hexdigest()


def markdown(result: dict) -> str:
    lines = [
        f"### annotate at scale: model `{result['model']}`, {result['cpus']} CPUs, batch {result['batch_size']}, "
        f"median of {result['repeats']} run(s)",
        "",
        "| docs | engine | docs/s | words/s | seconds | peak RSS MB (process) | peak RSS MB (process tree) | outputs "
        "= first engine's |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['docs']:,} | {r['engine']} | {r['docs_per_s']:.0f} | {r['words_per_s']:.0f} | {r['seconds']:.1f} "
            f"| {r['peak_rss_mb']:.0f} | {r['peak_tree_mb']:.0f} | {'yes' if r['identical'] else 'NO'} |"
        )
    lines.append("")
    for line in result["ratios"]:
        lines.append(f"- {line}")
    return "\n".join(lines) + "\n"


def ratios(rows: list[dict]) -> list[str]:
    by = {(r["docs"], r["engine"]): r for r in rows}
    out = []
    sizes = sorted({r["docs"] for r in rows})
    for n in sizes:
        if (n, "ray:2") in by and (n, "ray:1") in by:
            out.append(
                f"{n:,} docs: ray 2 workers / ray 1 worker throughput = "
                f"{by[n, 'ray:2']['docs_per_s'] / by[n, 'ray:1']['docs_per_s']:.2f}"
            )
        if (n, "ray:2") in by and (n, "local:2") in by:
            out.append(
                f"{n:,} docs: ray 2 workers / local 2 processes throughput = "
                f"{by[n, 'ray:2']['docs_per_s'] / by[n, 'local:2']['docs_per_s']:.2f}"
            )
    for engine in sorted({r["engine"] for r in rows}):
        have = [n for n in sizes if (n, engine) in by]
        if len(have) > 1:
            lo, hi = by[have[0], engine], by[have[-1], engine]
            out.append(
                f"{engine}: peak RSS at {have[-1]:,} docs / at {have[0]:,} docs = "
                f"{hi['peak_rss_mb'] / lo['peak_rss_mb']:.2f} (process), "
                f"{hi['peak_tree_mb'] / lo['peak_tree_mb']:.2f} (tree)"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--model", default=str(ROOT / "training" / "demo" / "model-best"), help="pipeline (make demo trains one)"
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--engines", default="local:1,local:2,ray:1,ray:2", help="engine:workers, comma-separated")
    parser.add_argument(
        "--source", nargs="*", default=[str(DEMO / n) for n in ("train.tsv", "dev.tsv", "test.tsv", "raw.txt")]
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--accept-threshold", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs per (size, engine), interleaved; rows report the median time"
    )
    parser.add_argument("--work", default=str(ROOT / "benchmarks" / "results" / "scale_annotate"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--keep", action="store_true", help="keep the generated inputs and outputs")
    args = parser.parse_args()
    if not Path(args.model).exists():
        raise SystemExit(f"{args.model}: no such pipeline (run `make demo`, or pass --model)")
    engines = [(e.split(":")[0], int(e.split(":")[1])) for e in args.engines.split(",")]
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    sentences = source_sentences([Path(p) for p in args.source])
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        input_path = work / f"input-{n}.txt"
        words = write_input(sentences, n, input_path, args.seed)
        first = None
        runs: dict[tuple[str, int], list[dict]] = {e: [] for e in engines}
        # the repeats are interleaved (engine A, B, ..., A, B, ...) so that
        # drifting machine load hits every engine alike; rows report medians
        for rep in range(args.repeats):
            for engine, workers in engines:
                out_dir = work / f"{n}-{engine}-{workers}"
                r = run(engine, workers, args, input_path, out_dir)
                d = digest(out_dir)
                first = first or d
                runs[engine, workers].append({**r, "identical": d == first})
                print(
                    json.dumps(
                        {"docs": n, "engine": f"{engine}:{workers}", "repeat": rep, **runs[engine, workers][-1]}
                    ),
                    flush=True,
                )
                if not args.keep:
                    shutil.rmtree(out_dir)
        for (engine, workers), rs in runs.items():
            seconds = statistics.median(r["seconds"] for r in rs)
            row = {
                "docs": n,
                "words": words,
                "engine": f"{engine}:{workers}",
                "repeats": len(rs),
                "seconds": seconds,
                "seconds_all": [r["seconds"] for r in rs],
                "inputs": rs[0]["inputs"],
                "accepted": rs[0]["accepted"],
                "review": rs[0]["review"],
                "errors": rs[0]["errors"],
                "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
                "peak_tree_mb": max(r["peak_tree_mb"] for r in rs),
                "docs_per_s": n / seconds,
                "words_per_s": words / seconds,
                "identical": all(r["identical"] for r in rs),
            }
            rows.append(row)
        if not args.keep:
            input_path.unlink()
    result = {
        "model": args.model,
        "cpus": os.cpu_count(),
        "batch_size": args.batch_size,
        "seed": args.seed,
        "repeats": args.repeats,
        "rows": rows,
        "ratios": ratios(rows),
    }
    write_tables(args.out, "scale_annotate", result, markdown(result))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_run":
        worker_run(sys.argv[2], int(sys.argv[3]), *sys.argv[4:7], int(sys.argv[7]), float(sys.argv[8]))
    else:
        main()
