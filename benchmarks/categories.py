"""Document categories on the medical abstracts corpus (5 condition classes).

    python -m benchmarks.categories --seeds 0,1,2

The corpus is one labelled CSV; ``autolabel corpus`` splits it (seeded,
stratified by category, 60/20/20, split seed 0 whatever the training seed:
1732 / 578 / 578 abstracts). Two pipelines train on it, each in a process of
its own, with the benchmark's budget (``--epochs``, no early stop) and seed:

- ``--config`` (default ``textcat_fast.cfg``): spaCy's ``TextCatEnsemble``
  on the fast tok2vec, temperature-scaled on dev before each save
  (``calibrated_textcat``). Its figures are also given at temperature 1,
  which is exactly the output of spaCy's ``textcat`` with the same weights
  (``calibrated_textcat`` trains as ``textcat`` does and only rescales).
- spaCy's efficiency textcat, as ``spacy init config -p textcat -o
  efficiency`` writes it: ``TextCatBOW`` alone, no tok2vec.

For each: accuracy and macro-F1 on test, the calibration error (ECE) of the
top category's probability, and routing as ``autolabel annotate`` does it:
the lowest threshold on that probability at which the dev documents it
accepts are at least ``--target-accuracy`` right (``evaluate``'s
recommendation, which needs 1 / (1 - target) accepted dev documents, 100
at 99%), applied to test: the share of test abstracts accepted and their
accuracy (none when dev supports no threshold). ``--retest`` tests models
already trained under ``--out`` again with this code. Also the training wall time and words per second.
With ``--seeds``, a summary with the medians.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from benchmarks import compare_ner
from benchmarks.report import write_tables

DATASET = "medical_abstracts_tc"
COLUMNS = ("accuracy", "macro_f", "ece", "accepted", "accepted_accuracy", "train_seconds", "words_per_second")
SPLIT_SEED = 0


def main() -> None:
    parser = compare_ner.argument_parser(__doc__)
    parser.set_defaults(
        config=str(compare_ner.ROOT / "autolabel_spacy" / "configs" / "textcat_fast.cfg"), eval_frequency=100
    )
    parser.add_argument("--target-accuracy", type=float, default=0.99)
    parser.add_argument("--no-baseline", action="store_true", help="train --config only")
    compare_ner.add_seed_options(parser)
    args = parser.parse_args()
    tag = f"categories-{DATASET}-{Path(args.config).stem}"
    if args.seeds is None:
        run(args, args.seed, tag)
        return
    results = compare_ner.run_seeds(lambda seed, name: run(args, seed, name), args, tag)
    write_tables(args.out, f"{tag}-seeds", results, seeds_markdown(results))


def convert(data_dir: Path, work: Path) -> dict:
    """The seeded stratified split of the corpus, as ``autolabel corpus
    FILE.csv`` writes it."""
    from autolabel_spacy.loading import blank
    from autolabel_spacy.workflow.corpus_categories import convert_category_corpus, read_label_names

    folder = data_dir / DATASET
    if not (work / "test.spacy").exists():
        csv, names = folder / "source_test.csv", folder / "labels.csv"
        if not csv.is_file():
            raise SystemExit(f"{csv}: not found (set --data-dir to the folder holding {DATASET}/)")
        counts = convert_category_corpus(
            csv, work, blank("en"), "medical_abstract", "condition_label", read_label_names(names), seed=SPLIT_SEED
        )
        print(f"{DATASET}: {counts}", file=sys.stderr)
    return {split: str(work / f"{split}.spacy") for split in ("train", "dev", "test")}


def efficiency_config(config_text: str) -> str:
    """spaCy's efficiency textcat (``spacy init config -p textcat -o
    efficiency``): the config's training settings, no tok2vec, spaCy's
    ``textcat`` with ``TextCatBOW`` alone, uncalibrated."""
    from thinc.api import Config

    cfg = Config().from_str(config_text, interpolate=False)
    textcat = cfg["components"]["textcat"]
    bow = dict(textcat["model"]["linear_model"])
    cfg["components"] = {"textcat": {"factory": "textcat", "threshold": 0.0, "scorer": textcat["scorer"], "model": bow}}
    cfg["nlp"]["pipeline"] = ["textcat"]
    cfg["training"]["before_to_disk"] = None
    return cfg.to_str()


def run(args, seed: int, name: str) -> dict:
    import argparse

    args = argparse.Namespace(**{**vars(args), "seed": seed})
    work = Path(args.out) / name
    paths = convert(Path(args.data_dir), work / "corpus")
    work.mkdir(parents=True, exist_ok=True)
    config_text = Path(args.config).read_text()
    models = [(Path(args.config).stem, config_text)]
    if not args.no_baseline:
        models.append(("spacy_textcat_bow", efficiency_config(config_text)))
    rows = []
    for model, text in models:
        cfg_path = work / f"{model}.cfg"
        trained = (
            compare_ner.retrained_row(model, text, work) if args.retest else None
        )  # refuses another config's model
        cfg_path.write_text(text)
        row = {"model": model, **(trained or compare_ner.train(cfg_path, work / model, paths, args))}
        row.update(
            compare_ner.run_worker(
                ["_eval", str(work / model / "model-best"), paths["dev"], paths["test"], str(args.target_accuracy)],
                work / f"{model}.eval.log",
                "benchmarks.categories",
            )
        )
        rows.append(row)
    result = {
        "config": Path(args.config).name,
        "epochs": args.epochs,
        "seed": seed,
        "target_accuracy": args.target_accuracy,
        "rows": rows,
    }
    write_tables(args.out, name, result, markdown(result))
    return result


def worker_eval(model: str, dev: str, test: str, target_accuracy: str) -> None:
    import spacy
    from spacy.scorer import Scorer
    from spacy.tokens import DocBin
    from spacy.training import Example

    from autolabel_spacy import evaluation
    from autolabel_spacy.routing import REVIEW_ALL

    nlp = spacy.load(model)
    target = float(target_accuracy)
    textcat = nlp.get_pipe("textcat")
    calibrated = "temperature" in getattr(textcat, "cfg", {})

    def report(path: str) -> tuple:
        gold = list(DocBin().from_disk(path).get_docs(nlp.vocab))
        predicted = list(nlp.pipe((d.text for d in gold), batch_size=64))
        scores = Scorer(nlp).score([Example(p, g) for p, g in zip(predicted, gold)])
        return evaluation.category_report(predicted, gold, scores, target), evaluation.scored_categories(
            predicted, gold
        )

    def routed(settings: str) -> dict:
        dev, _ = report(dev_path)
        test, docs = report(test_path)
        chosen = dev.recommended  # None: no threshold holds the target on enough dev docs; all go to review
        threshold = chosen.threshold if chosen else REVIEW_ALL
        [row] = evaluation.routing_curve(docs, [threshold])
        return {
            f"{settings}accuracy": 100 * test.accuracy,
            f"{settings}macro_f": 100 * test.macro_f,
            f"{settings}ece": test.ece,
            f"{settings}dev_threshold": threshold,
            f"{settings}accepted": 100 * row["coverage"],
            f"{settings}accepted_accuracy": None if row["accuracy"] is None else 100 * row["accuracy"],
        }

    dev_path, test_path = dev, test
    result = routed("")
    if calibrated:  # the same weights at temperature 1: spaCy's textcat's probabilities
        temperature = textcat.cfg["temperature"]
        textcat.cfg["temperature"] = 1.0
        result.update(routed("t1_"))
        textcat.cfg["temperature"] = temperature
        result["temperature"] = temperature
    texts = [d.text for d in DocBin().from_disk(test_path).get_docs(nlp.vocab)]
    n_words = sum(len(nlp.make_doc(t)) for t in texts)
    list(nlp.pipe(texts[:64], batch_size=64))  # warm-up
    times = []
    for _ in range(3):
        start = time.perf_counter()
        list(nlp.pipe(texts, batch_size=64))
        times.append(time.perf_counter() - start)
    result["words_per_second"] = n_words / statistics.median(times)
    print(json.dumps(result))


def _threshold(value: float) -> str:
    return f"{value:.4f}" if value <= 1.0 else "none: all to review"


def _cell(value, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(result: dict) -> str:
    lines = [
        f"### Medical abstracts (5 classes) on test — {result['epochs']} epochs, seed {result['seed']}, "
        f"routing for {100 * result['target_accuracy']:.0f}% accuracy (threshold chosen on dev)",
        "",
        "| model | accuracy | macro-F1 | ECE | dev-chosen threshold | test accepted % | their accuracy % | train s | "
        "words/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        for settings, label in (
            ("", compare_ner.row_name(row)),
            ("t1_", f"{row['model']} at temperature 1 (spaCy's textcat)"),
        ):
            if f"{settings}accuracy" not in row:
                continue
            lines.append(
                f"| {label} | {row[settings + 'accuracy']:.1f} | {row[settings + 'macro_f']:.1f} | "
                f"{row[settings + 'ece']:.3f} | "
                f"{_threshold(row[settings + 'dev_threshold'])} | {row[settings + 'accepted']:.1f} | "
                f"{_cell(row[settings + 'accepted_accuracy'])} | "
                f"{row['train_seconds']:.0f} | {row['words_per_second']:.0f} |"
            )
    return "\n".join(lines) + "\n"


def seeds_markdown(results: list[dict]) -> str:
    first = results[0]
    lines = [
        f"### Medical abstracts (5 classes) on test — config `{first['config']}`, {first['epochs']} epochs, seeds "
        + ", ".join(str(r["seed"]) for r in results)
        + f"; routing for {100 * first['target_accuracy']:.0f}% accuracy",
        "",
        "| model | seed | accuracy | macro-F1 | ECE | test accepted % | their accuracy % | train s | words/s | commit "
        "|",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for i, row in enumerate(first["rows"]):
        rows = [r["rows"][i] for r in results]
        for settings, label in (
            ("", compare_ner.row_name(row)),
            ("t1_", f"{row['model']} at temperature 1 (spaCy's textcat)"),
        ):
            if settings + "accuracy" not in row:
                continue
            keys = {k: settings + k if k not in ("train_seconds", "words_per_second") else k for k in COLUMNS}
            for r, row_ in zip(results, rows):
                lines.append(
                    f"| {label} | {r['seed']} | {row_[keys['accuracy']]:.1f} | {row_[keys['macro_f']]:.1f} | "
                    f"{row_[keys['ece']]:.3f} | "
                    f"{row_[keys['accepted']]:.1f} | {_cell(row_[keys['accepted_accuracy']])} | "
                    f"{row_['train_seconds']:.0f} | "
                    f"{row_['words_per_second']:.0f} | {compare_ner.commit_cell(r)} |"
                )
            med = {k: statistics.median(x[keys[k]] for x in rows) for k in COLUMNS if k != "accepted_accuracy"}
            lines.append(
                f"| {label} | median | {med['accuracy']:.1f} | {med['macro_f']:.1f} | {med['ece']:.3f} | "
                f"{med['accepted']:.1f} | | "
                f"{med['train_seconds']:.0f} | {med['words_per_second']:.0f} | |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_eval":
        worker_eval(*sys.argv[2:6])
    else:
        main()
