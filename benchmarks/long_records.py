"""One long record against many short ones: ``autolabel annotate``'s
seconds per MB of text must not grow with a record's length.

    python -m benchmarks.long_records --model training/demo/model-best --sizes 100000,250000

For each size (characters), the same text is annotated twice in this one
process: as one line of a .txt input (one record), and cut into the demo's
sentence-length lines (many records). The text is the demo corpus's raw
sentences repeated. Reported per size: seconds per MB of both, their ratio
(target: at most 2), and the same for the two writers a long doc passes
through on the way out (JSONL records and Label Studio predictions, which
``serve`` answers with), timed on the tagged long doc. Every figure is the
median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.report import write_tables

ROOT = Path(__file__).resolve().parent.parent
DEMO_RAW = ROOT / "assets" / "demo" / "raw.txt"


def texts_of(size: int) -> tuple[str, list[str]]:
    sentences = [line.strip() for line in DEMO_RAW.read_text(encoding="utf-8").splitlines() if line.strip()]
    short, total, i = [], 0, 0
    while total < size:
        sentence = f"{sentences[i % len(sentences)]} {i}"
        short.append(sentence)
        total += len(sentence) + 1
        i += 1
    return " ".join(short), short


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--sizes", default="100000,250000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()

    import spacy

    from autolabel_spacy.formats.jsonl import doc_to_record
    from autolabel_spacy.formats.labelstudio import doc_to_prediction
    from autolabel_spacy.workflow.annotate import annotate

    nlp = spacy.load(args.model)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        long_text, short = texts_of(size)
        mb = len(long_text.encode("utf-8")) / 1e6
        work = Path(tempfile.mkdtemp(prefix="long-records-"))
        (work / "long.txt").write_text(long_text + "\n", encoding="utf-8")
        (work / "short.txt").write_text("\n".join(short) + "\n", encoding="utf-8")
        runs = {"long": [], "short": [], "jsonl": [], "labelstudio": []}
        doc = nlp(long_text)
        for r in range(args.repeats):
            for kind in ("long", "short"):
                runs[kind].append(
                    timed(
                        lambda: annotate(
                            nlp,
                            work / f"{kind}.txt",
                            work / f"{kind}-{r}" / "out.jsonl",
                            accept_threshold=0.9,
                            progress=False,
                        )
                    )
                )
            runs["jsonl"].append(timed(lambda: doc_to_record(doc)))
            runs["labelstudio"].append(timed(lambda: doc_to_prediction(doc)))
        med = {k: statistics.median(v) for k, v in runs.items()}
        rows.append(
            {
                "chars": len(long_text),
                "mb": mb,
                "records": len(short),
                "entities": len(doc.ents),
                "long_s_per_mb": med["long"] / mb,
                "short_s_per_mb": med["short"] / mb,
                "ratio": med["long"] / med["short"],
                "jsonl_s": med["jsonl"],
                "labelstudio_s": med["labelstudio"],
            }
        )
    lines = [
        f"### One long record against many short ones: `annotate` with `{args.model}`, medians of {args.repeats}",
        "",
        "| characters | short records | entities | one record s/MB | short records s/MB | ratio (target ≤ 2) | JSONL "
        "writer s | Label Studio writer s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['chars']:,} | {row['records']:,} | {row['entities']:,} | {row['long_s_per_mb']:.1f} | "
            f"{row['short_s_per_mb']:.1f} | {row['ratio']:.2f} | {row['jsonl_s']:.3f} | {row['labelstudio_s']:.3f} |"
        )
    write_tables(args.out, "long_records", rows, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
