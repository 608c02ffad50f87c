"""Simulated active learning on NCBI-disease train (the gold labels play the
human annotator).

    python -m benchmarks.active_learning --config autolabel_spacy/configs/crf_fast.cfg --epochs 6 --budget 0.4

Starts from ``--start`` random sentences; each round trains ``crf_ner`` on the
labelled set, scores test F1, and adds ``--batch`` sentences chosen by each
strategy from the rest of the pool — ``least_confidence`` (``autolabel
select``) and ``random`` — same seed, same start, same training budget, in
one run. Stops when ``--budget`` of the training sentences are labelled.
Reports both learning curves, the full-data F1 (trained in the same run with
the same settings unless ``--full-f1`` is given) and the number of sentences
each strategy needs to reach 95% of it.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from benchmarks import compare_ner, report


def train_eval(docs, dev_path: str, test_docs, config: str, out: Path, args):
    import spacy
    from spacy.cli.train import train
    from spacy.scorer import get_ner_prf
    from spacy.tokens import DocBin
    from spacy.training import Example

    out.mkdir(parents=True, exist_ok=True)
    DocBin(docs=docs).to_disk(out / "train.spacy")
    overrides = {
        "paths.train": str(out / "train.spacy"),
        "paths.dev": dev_path,
        "training.max_epochs": args.epochs,
        "training.max_steps": 0,
        "training.eval_frequency": args.eval_frequency,
        "system.seed": args.seed,
        "training.logger.progress_bar": False,
    }
    train(Path(config), out / "model", overrides=overrides)
    nlp = spacy.load(out / "model" / "model-last")  # fixed budget: small sets reach few dev evaluations
    predicted = list(nlp.pipe((d.text for d in test_docs), batch_size=256))
    f = get_ner_prf([Example(p, g) for p, g in zip(predicted, test_docs)])["ents_f"] * 100
    return nlp, f


def main() -> None:
    parser = compare_ner.argument_parser(__doc__)
    parser.add_argument("--start", type=int, default=100)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--budget", type=float, default=0.4)
    parser.add_argument("--strategies", default="least_confidence,random")
    parser.add_argument("--full-f1", type=float, default=None)
    parser.set_defaults(epochs=6, eval_frequency=100)
    args = parser.parse_args()

    import spacy
    from spacy.tokens import DocBin

    from autolabel_spacy.workflow.select import pick, score_pool

    work = Path(args.out) / f"active_learning-ncbi_disease-{Path(args.config).stem}"
    paths = compare_ner.convert("ncbi_disease", Path(args.data_dir), work / "corpus")
    vocab_nlp = spacy.blank("en")
    pool = list(DocBin().from_disk(paths["train"]).get_docs(vocab_nlp.vocab))
    test = list(DocBin().from_disk(paths["test"]).get_docs(vocab_nlp.vocab))
    limit = int(len(pool) * args.budget)
    result = {"pool": len(pool), "limit": limit, "epochs": args.epochs, "seed": args.seed, "curves": {}}
    if args.full_f1 is None:
        _, full = train_eval(pool, paths["dev"], test, args.config, work / "full", args)
        result["full_f1"], result["full_f1_source"] = full, "trained in this run on all training sentences"
    else:
        result["full_f1"], result["full_f1_source"] = args.full_f1, "given with --full-f1"
    print(f"full-data F1 {result['full_f1']:.2f}", flush=True)
    start = random.Random(args.seed).sample(range(len(pool)), args.start)
    for strategy in args.strategies.split(","):
        labelled = list(start)
        curve = []
        rnd = 0
        while True:
            t0 = time.perf_counter()
            nlp, f = train_eval(
                [pool[i] for i in labelled], paths["dev"], test, args.config, work / strategy / f"round{rnd}", args
            )
            curve.append({"labelled": len(labelled), "f1": f, "seconds": time.perf_counter() - t0})
            print(f"{strategy} round {rnd}: {len(labelled)} sentences, test F1 {f:.2f}", flush=True)
            if len(labelled) + args.batch > limit:
                break
            taken = set(labelled)
            rest = [i for i in range(len(pool)) if i not in taken]
            candidates = score_pool(nlp, (pool[i].text for i in rest), strategy)
            chosen = pick(candidates, args.batch, seed=args.seed + rnd)
            labelled += [rest[c.index] for c in chosen]
            rnd += 1
        result["curves"][strategy] = curve
    goal = 0.95 * result["full_f1"]
    result["goal_f1"] = goal
    result["sentences_to_goal"] = {
        s: next((p["labelled"] for p in c if p["f1"] >= goal), None) for s, c in result["curves"].items()
    }
    lines = [
        f"### active learning on NCBI-disease — `{Path(args.config).name}`, {args.epochs} epochs per round, seed "
        f"{args.seed}",
        "",
        f"full-data test F1 {result['full_f1']:.2f} ({result['full_f1_source']}); goal 95% = {goal:.2f}",
        "",
        "| labelled | " + " | ".join(result["curves"]) + " |",
        "|---:|" + "---:|" * len(result["curves"]),
    ]
    curves = list(result["curves"].values())
    for row in range(max(len(c) for c in curves)):
        cells = [f"{c[row]['f1']:.2f}" if row < len(c) else "-" for c in curves]
        lines.append(f"| {curves[0][min(row, len(curves[0]) - 1)]['labelled']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "sentences to reach the goal: " + ", ".join(f"{s}: {n}" for s, n in result["sentences_to_goal"].items()),
    ]
    md = "\n".join(lines) + "\n"
    report.write_tables(args.out, work.name, result, md)


if __name__ == "__main__":
    main()
