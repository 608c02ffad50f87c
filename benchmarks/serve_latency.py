"""``autolabel serve`` under load: latency of one task per request and
throughput with concurrent clients, against ``autolabel annotate`` on the
same texts in the same run.

    python -m benchmarks.serve_latency --model training/demo/model-best --texts assets/demo/raw.txt --tasks 400

Starts the backend (``autolabel serve``, waitress with ``--clients``
threads) on a free local port and, ``--rounds`` times (figures are medians):

- one client sends the tasks one per ``/predict`` request, as Label Studio
  does when a reviewer opens a task: the 50th and 95th percentile of the
  latency per task, from request to parsed response;
- ``--clients`` clients send them concurrently, one task per request: tasks
  per second;
- ``annotate`` (the workflow function, one process, routing on) writes the
  same texts to a JSONL file: docs per second, its pipeline load included
  as a user pays it; and the ratio of the backend's concurrent throughput
  to it.

The texts are ``--texts`` (one per line) repeated up to ``--tasks``.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.report import write_tables

CONFIG_TEMPLATE = '<View><Labels name="label" toName="text">{labels}</Labels><Text name="text" value="$text"/></View>'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def predict(url: str, text: str, config: str) -> float:
    body = json.dumps({"tasks": [{"id": 0, "data": {"text": text}}], "label_config": config}).encode()
    request = urllib.request.Request(url + "/predict", data=body, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        json.load(response)
    return time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="training/demo/model-best")
    parser.add_argument("--texts", default="assets/demo/raw.txt")
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()

    import spacy

    from autolabel_spacy.loading import entity_components
    from autolabel_spacy.workflow.annotate import annotate

    lines = [line.strip() for line in Path(args.texts).read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = (lines * (args.tasks // len(lines) + 1))[: args.tasks]
    nlp = spacy.load(args.model)
    labels = sorted({label for name in entity_components(nlp) for label in nlp.get_pipe(name).labels})
    config = CONFIG_TEMPLATE.format(labels="".join(f'<Label value="{label}"/>' for label in labels))
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autolabel_spacy",
            "serve",
            args.model,
            "--port",
            str(port),
            "--threads",
            str(args.clients),
            "--work-dir",
            tempfile.mkdtemp(prefix="serve-bench-"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/health", timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        for text in texts[:20]:  # warm-up
            predict(url, text, config)
        rounds = []
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "texts.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
            for r in range(args.rounds):
                latencies = [predict(url, text, config) for text in texts]
                start = time.perf_counter()
                with ThreadPoolExecutor(args.clients) as pool:
                    list(pool.map(lambda t: predict(url, t, config), texts))
                concurrent = len(texts) / (time.perf_counter() - start)
                start = time.perf_counter()
                annotate(
                    args.model,
                    Path(tmp) / "texts.txt",
                    Path(tmp) / f"out{r}.jsonl",
                    accept_threshold=0.9,
                    progress=False,
                )
                annotated = len(texts) / (time.perf_counter() - start)
                rounds.append(
                    {
                        "p50_ms": 1000 * percentile(latencies, 0.5),
                        "p95_ms": 1000 * percentile(latencies, 0.95),
                        "sequential_tasks_per_s": len(texts) / sum(latencies),
                        "concurrent_tasks_per_s": concurrent,
                        "annotate_docs_per_s": annotated,
                        "ratio": concurrent / annotated,
                    }
                )
    finally:
        server.terminate()
        server.wait(timeout=60)
    median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    result = {
        "model": args.model,
        "texts": args.texts,
        "tasks": len(texts),
        "clients": args.clients,
        "rounds": rounds,
        "median": median,
    }
    lines = [
        f"### `autolabel serve`: {len(texts)} tasks of `{args.texts}`, one per request, model `{args.model}` "
        f"(medians of {args.rounds} rounds)",
        "",
        "| latency p50 | latency p95 | 1 client | "
        + f"{args.clients} clients | `annotate` | {args.clients} clients / `annotate` |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {median['p50_ms']:.1f} ms | {median['p95_ms']:.1f} ms | {median['sequential_tasks_per_s']:.0f} tasks/s | "
        f"{median['concurrent_tasks_per_s']:.0f} tasks/s | {median['annotate_docs_per_s']:.0f} docs/s | "
        f"{median['ratio']:.2f} |",
    ]
    write_tables(args.out, "serve_latency", result, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
