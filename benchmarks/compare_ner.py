"""Train ``crf_ner`` and spaCy's ``ner`` on one corpus, same tok2vec, seed and budget.

    python -m benchmarks.compare_ner --dataset ncbi_disease --config autolabel_spacy/configs/crf_fast.cfg
    python -m benchmarks.compare_ner --dataset ncbi_disease --seeds 0,1,2 --jobs 2

Prints a table (test P/R/F1 by exact span match, training wall time, tagging
words/s with ``nlp.pipe(batch_size=256)`` in one process as the median of 3
runs after a warm-up — with a baseline, both pipelines are timed in one
process with their runs interleaved — and peak memory) plus the calibration of ``crf_ner``'s span
confidences, and writes it as JSON and Markdown under ``--out``. With
``--seeds``, each seed is a run of its own (folder and table ``...-seedN``)
and a summary table ``...-seeds.md`` gives the F1 difference, the training
time ratio and the tagging speed ratio per seed and their medians. Run the
seeds one at a time (``--jobs 1``, the default) for training times: two
trainings at once on a small machine slow each other unevenly.

The spaCy ``ner`` config is derived from the ``crf_ner`` config by swapping
the component, so everything else (tok2vec, training loop, batches, seed,
epochs) is identical. Each training and each evaluation runs in its own
process so peak memory (max RSS) is measured per step.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.report import commit, read_table, write_tables

ROOT = Path(__file__).resolve().parent.parent

# name -> spaCy language; each is a folder of --data-dir with train.*, dev.*
# (sec_fin has none upstream: autolabel's corpus conversion holds one out of
# train) and test.*.
DATASETS = {"ncbi_disease": "en", "wnut17": "en", "resume_zh": "zh", "sec_fin": "en"}
# whole abstracts in PubTator (train.pubtator, ...), read as `autolabel import`
# reads them (--align expand, and this label map); --unit sentence cuts each
# abstract into its sentences, same text and mentions
NCBI_TYPES = ("SpecificDisease", "DiseaseClass", "Modifier", "CompositeMention")
DOC_DATASETS = {"ncbi_disease_docs": {kind: "Disease" for kind in NCBI_TYPES}, "bc5cdr_docs": {}}
DATASETS.update({name: "en" for name in DOC_DATASETS})

NER_COMPONENT = """[components]

[components.ner]
factory = "ner"
moves = null
update_with_oracle_cut_size = 100
incorrect_spans_key = null

[components.ner.model]
@architectures = "spacy.TransitionBasedParser.v2"
state_type = "ner"
extra_state_tokens = false
hidden_width = 64
maxout_pieces = 2
use_upper = true
nO = null

[components.ner.scorer]
@scorers = "spacy.ner_scorer.v1"
"""


def baseline_config(crf_config: str) -> str:
    """The same config with ``crf_ner`` replaced by spaCy's ``ner``, which
    reads the same tok2vec (listener or its own copy of it)."""
    from thinc.api import Config

    cfg = Config().from_str(crf_config, interpolate=False)
    crf = cfg["components"].pop("crf_ner")
    tok2vec = crf["model"]["tok2vec"]
    ner = Config().from_str(NER_COMPONENT)["components"]["ner"]
    ner["model"]["tok2vec"] = tok2vec
    cfg["components"]["ner"] = ner
    cfg["nlp"]["pipeline"] = ["ner" if p == "crf_ner" else p for p in cfg["nlp"]["pipeline"]]
    cfg["training"]["before_to_disk"] = None  # crf_ner's calibration hook
    return cfg.to_str()


def for_language(config_text: str, lang: str) -> str:
    """Set the pipeline language; Chinese gets spaCy's character segmenter."""
    from thinc.api import Config

    cfg = Config().from_str(config_text, interpolate=False)
    cfg["nlp"]["lang"] = lang
    if lang == "zh":
        cfg["nlp"]["tokenizer"] = {"@tokenizers": "spacy.zh.ChineseTokenizer", "segmenter": "char"}
    return cfg.to_str()


def convert(dataset: str, data_dir: Path, work: Path, unit: str = "document") -> dict:
    """``autolabel corpus`` on one benchmark corpus (``autolabel import`` on
    a PubTator one); returns the .spacy path per split."""
    from autolabel_spacy.workflow.corpus import CorpusFolderError, convert_splits

    if dataset in DOC_DATASETS:
        return convert_documents(dataset, data_dir, work, unit)
    try:
        convert_splits(data_dir / dataset, work, lang=DATASETS[dataset])
    except CorpusFolderError as e:
        raise SystemExit(f"{e} (set --data-dir to the folder holding {dataset}/)")
    return {split: str(work / f"{split}.spacy") for split in ("train", "dev", "test")}


def convert_documents(dataset: str, data_dir: Path, work: Path, unit: str) -> dict:
    """Each split's abstracts as docs (``unit="document"``, as ``autolabel
    corpus --align expand --label-map ...`` converts them) or as one doc per
    sentence; the blocks the reader refuses (overlapping mentions, a mention
    that is not its text) are left out and counted on stderr."""
    import spacy
    from spacy.tokens import DocBin

    from autolabel_spacy.workflow.corpus import CorpusFolderError, convert_splits

    if not (work / "test.spacy").exists():
        try:
            counts = convert_splits(data_dir / dataset, work, align="expand", label_map=DOC_DATASETS[dataset] or None)
        except CorpusFolderError as e:
            raise SystemExit(f"{e} (set --data-dir to the folder holding {dataset}/)")
        for split, c in counts.items():
            print(f"{dataset} {split}: {c.docs} abstracts ({c.errors} refused)", file=sys.stderr)
    paths = {split: str(work / f"{split}.spacy") for split in ("train", "dev", "test")}
    if unit == "sentence":
        nlp = spacy.blank("en")
        for split in paths:
            docs = DocBin().from_disk(paths[split]).get_docs(nlp.vocab)
            paths[split] = str(work / f"{split}.sentences.spacy")
            DocBin(docs=[sent.as_doc() for doc in docs for sent in doc.sents]).to_disk(paths[split])
    return paths


def run_worker(args: list[str], log: Path, module: str = "benchmarks.compare_ner") -> dict:
    """Run one step of ``module`` in a fresh process (its output also goes
    to ``log``); it prints one JSON line last."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-5000:] + proc.stderr[-5000:])
        raise SystemExit(f"step failed: {' '.join(args)}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_train(config: str, output: str, overrides: str) -> None:
    from spacy.cli.train import train

    start = time.perf_counter()
    train(Path(config), Path(output), overrides=json.loads(overrides))
    print(json.dumps({"train_seconds": time.perf_counter() - start, "train_peak_mb": peak_rss_mb()}))


def worker_eval(model: str, test: str, spans_key: str) -> None:
    import spacy
    from spacy.tokens import DocBin
    from spacy.training import Example

    from autolabel_spacy import evaluation

    nlp = spacy.load(model)
    gold = list(DocBin().from_disk(test).get_docs(nlp.vocab))
    examples = [Example(nlp.make_doc(d.text), d) for d in gold]
    scores = nlp.evaluate(examples, batch_size=256)
    texts = [d.text for d in gold]
    n_words = sum(len(d) for d in gold)
    list(nlp.pipe(texts[:512], batch_size=256))  # warm-up
    times = []
    for _ in range(3):
        start = time.perf_counter()
        predicted = list(nlp.pipe(texts, batch_size=256))
        times.append(time.perf_counter() - start)
    result = {
        "p": scores["ents_p"] * 100,
        "r": scores["ents_r"] * 100,
        "f": scores["ents_f"] * 100,
        "per_type": {k: {m: v * 100 for m, v in d.items()} for k, d in (scores.get("ents_per_type") or {}).items()},
        "words_per_second": n_words / statistics.median(times),
        "eval_peak_mb": peak_rss_mb(),
    }
    crf = nlp.get_pipe("crf_ner") if "crf_ner" in nlp.pipe_names else None
    if crf is not None and crf.cfg.get("abbreviations"):
        # the same model without the abbreviation constraint, for its share of the F1
        crf.cfg["abbreviations"] = False
        without = nlp.evaluate(examples, batch_size=256)
        crf.cfg["abbreviations"] = True
        result["f_without_abbreviations"] = without["ents_f"] * 100
    if spans_key:
        spans = evaluation.scored_spans(predicted, gold, spans_key)
        high, n_high = evaluation.precision_above(spans, 0.9)
        result.update(
            ece=evaluation.expected_calibration_error(spans),
            precision_at_0_9=high,
            share_at_0_9=n_high / max(1, len(spans)),
            reliability=evaluation.reliability_table(spans),
        )
    print(json.dumps(result))


def worker_speed(models: str, test: str) -> None:
    """Tagging speed of several pipelines, measured in one process with the
    runs interleaved (A B A B A B) so machine noise hits all of them alike."""
    import spacy
    from spacy.tokens import DocBin

    nlps = {name: spacy.load(path) for name, path in json.loads(models).items()}
    any_nlp = next(iter(nlps.values()))
    gold = list(DocBin().from_disk(test).get_docs(any_nlp.vocab))
    texts = [d.text for d in gold]
    n_words = sum(len(d) for d in gold)
    for nlp in nlps.values():
        list(nlp.pipe(texts[:512], batch_size=256))  # warm-up
    times = {name: [] for name in nlps}
    for _ in range(3):
        for name, nlp in nlps.items():
            start = time.perf_counter()
            for _doc in nlp.pipe(texts, batch_size=256):
                pass
            times[name].append(time.perf_counter() - start)
    print(json.dumps({name: n_words / statistics.median(t) for name, t in times.items()}))


def train_and_eval(name: str, config_text: str, paths: dict, work: Path, args, spans_key: str) -> dict:
    """Train ``name`` under ``work`` (or, with ``--retest``, take the model
    already trained there) and test it; returns its table row."""
    cfg_path = work / f"{name}.cfg"
    config_text = for_language(config_text, DATASETS[args.dataset])
    trained = retrained_row(name, config_text, work) if getattr(args, "retest", False) else None
    cfg_path.write_text(config_text)
    out_dir = work / name
    row = {"model": name}
    row.update(trained if trained is not None else train(cfg_path, out_dir, paths, args))
    row.update(run_worker(["_eval", str(out_dir / "model-best"), paths["test"], spans_key], work / f"{name}.eval.log"))
    return row


def train(cfg_path: Path, out_dir: Path, paths: dict, args) -> dict:
    """``spacy train`` of the config at ``cfg_path`` into ``out_dir`` in a
    process of its own, the benchmark's budget (``--epochs`` epochs, no early
    stop) and seed; returns its wall time and peak memory."""
    overrides = json.dumps(training_overrides(paths, args))
    return run_worker(["_train", str(cfg_path), str(out_dir), overrides], out_dir.parent / f"{out_dir.name}.train.log")


def training_overrides(paths: dict, args) -> dict:
    """The ``spacy train`` settings of a benchmark run: its corpus, seed and
    budget (``--epochs`` epochs, no early stop, an evaluation every
    ``--eval-frequency`` steps)."""
    return {
        "paths.train": paths["train"],
        "paths.dev": paths["dev"],
        "system.seed": args.seed,
        "training.max_epochs": args.epochs,
        "training.max_steps": 0,
        "training.patience": 0,
        "training.eval_frequency": args.eval_frequency,
    }


def retrained_row(name: str, config_text: str, work: Path) -> dict | None:
    """``--retest``: the training figures of the model already trained
    under ``work`` (from its training log), marked ``retested``, or None when
    there is none to test again. A model trained from another config is
    refused: only the code that tags may differ."""
    log, model = work / f"{name}.train.log", work / name / "model-best"
    if not (log.is_file() and model.is_dir()):
        return None
    cfg_path = work / f"{name}.cfg"
    if cfg_path.is_file() and cfg_path.read_text() != config_text:
        raise SystemExit(f"--retest: {work / name} was trained from another config than {name}.cfg would be now")
    for line in reversed(log.read_text().splitlines()):
        if line.startswith("{") and "train_seconds" in line:
            return {**json.loads(line), "retested": True}
    return None


def time_together(rows: list[dict], work: Path, test: str) -> None:
    """Replace each row's ``words_per_second`` by a timing of all the rows'
    pipelines (``work/<model>/model-best``) in one process, runs interleaved."""
    models = {r["model"]: str(work / r["model"] / "model-best") for r in rows}
    speeds = run_worker(["_speed", json.dumps(models), test], work / "speed.log")
    for r in rows:
        r["words_per_second"] = speeds[r["model"]]


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def row_name(row: dict) -> str:
    """A table row's model, marked when ``--retest`` tested an earlier training."""
    return row["model"] + (" (retested: trained earlier, tested by this commit)" if row.get("retested") else "")


def markdown(result: dict) -> str:
    lines = [
        f"### {result['dataset']} — config `{result['config']}`, {result['epochs']} epochs, seed {result['seed']}",
        "",
        "| model | P | R | F1 | F1 without abbreviations | train s | words/s | peak MB (train/tag) | ECE | P@conf≥0.9 "
        "(share) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {row_name(r)} | {fmt(r['p'])} | {fmt(r['r'])} | {fmt(r['f'])} | "
            f"{fmt(r.get('f_without_abbreviations'))} | "
            f"{fmt(r['train_seconds'], 0)} | "
            f"{fmt(r['words_per_second'], 0)} | {fmt(r['train_peak_mb'], 0)}/{fmt(r['eval_peak_mb'], 0)} | "
            f"{fmt(r.get('ece'), 3)} | {fmt(r.get('precision_at_0_9'), 3)} ({fmt(r.get('share_at_0_9'), 2)}) |"
        )
    if len(result["rows"]) == 2:
        crf, ner = result["rows"]
        lines += [
            "",
            f"crf_ner − ner: F1 {crf['f'] - ner['f']:+.2f}; training time ratio crf_ner/ner "
            f"{crf['train_seconds'] / ner['train_seconds']:.2f}; tagging speed ratio crf_ner/ner "
            f"{crf['words_per_second'] / ner['words_per_second']:.2f}",
        ]
    return "\n".join(lines) + "\n"


def argument_parser(doc: str) -> argparse.ArgumentParser:
    """The options every benchmark here shares."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--dataset", default="ncbi_disease", choices=sorted(DATASETS))
    parser.add_argument(
        "--unit",
        default="document",
        choices=("document", "sentence"),
        help="PubTator datasets (*_docs): a doc is a whole abstract, or one sentence of it",
    )
    parser.add_argument("--config", default=str(ROOT / "autolabel_spacy" / "configs" / "crf_fast.cfg"))
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--eval-frequency", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument(
        "--retest",
        action="store_true",
        help="a model already trained under --out (same config) is tested again with this code instead of trained "
        "again (after a change of decoding); its training figures come from its training log",
    )
    return parser


def add_set_option(parser: argparse.ArgumentParser) -> None:
    """``--set``, for the benchmarks that read ``--config`` with ``read_config``."""
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="change a setting of --config before anything is derived from it (repeatable), "
        "e.g. components.crf_ner.normalize_loss=false",
    )


def config_name(args) -> str:
    """``--config``'s file name, followed by the ``--set`` changes if any."""
    return " ".join([Path(args.config).name] + list(args.set))


def read_config(args) -> str:
    """The text of ``--config`` with each ``--set SECTION.KEY=VALUE`` applied
    (VALUE read as JSON when it parses, else as a string); a key the config
    does not have is an error, not a new setting."""
    from thinc.api import Config

    text = Path(args.config).read_text()
    if not args.set:
        return text
    cfg = Config().from_str(text, interpolate=False)
    for item in args.set:
        key, sep, raw = item.partition("=")
        *sections, name = key.strip().split(".")
        node = cfg
        for section in sections:
            node = node.get(section) if isinstance(node, dict) else None
        if not sep or not sections or not isinstance(node, dict) or name not in node:
            raise SystemExit(f"--set {item!r}: {args.config} has no setting {key!r}")
        try:
            node[name] = json.loads(raw)
        except json.JSONDecodeError:
            node[name] = raw
    return cfg.to_str()


def compare(args, seed: int, tag: str) -> dict:
    """One benchmark run at ``seed``: train and evaluate both models, time
    their tagging together, write the table as JSON and Markdown."""
    args = argparse.Namespace(**{**vars(args), "seed": seed})
    config_text = read_config(args)
    work = Path(args.out) / tag
    paths = convert(args.dataset, Path(args.data_dir), work / "corpus", args.unit)
    spans_key = re.search(r'spans_key\s*=\s*"([^"]+)"', config_text)
    rows = [train_and_eval("crf_ner", config_text, paths, work, args, spans_key.group(1) if spans_key else "crf_ner")]
    if not args.no_baseline:
        rows.append(train_and_eval("spacy_ner", baseline_config(config_text), paths, work, args, ""))
    if len(rows) > 1:
        time_together(rows, work, paths["test"])
    result = {
        "dataset": args.dataset + (f" ({args.unit}s)" if args.dataset in DOC_DATASETS else ""),
        "config": config_name(args),
        "epochs": args.epochs,
        "seed": seed,
        "rows": rows,
    }
    write_tables(args.out, tag, result, markdown(result))
    return result


def seeds_markdown(results: list[dict]) -> str:
    """Per-seed F1 of ``crf_ner`` (and of spaCy's ``ner``, their difference
    and speed ratio when the baseline ran), the commit each seed ran at, and
    the medians of each column."""
    first = results[0]
    baseline = len(first["rows"]) > 1
    lines = [
        f"### {first['dataset']} — config `{first['config']}`, {first['epochs']} epochs, seeds "
        + ", ".join(str(r["seed"]) for r in results),
        "",
    ]
    if baseline:
        lines += [
            "| seed | crf_ner F1 | spacy_ner F1 | crf_ner − ner | training time ratio crf_ner/ner | "
            "tagging speed ratio crf_ner/ner | commit |",
            "|---:|---:|---:|---:|---:|---:|---|",
        ]
    else:
        lines += ["| seed | crf_ner P | R | F1 | commit |", "|---:|---:|---:|---:|---|"]
    table = []
    for r in results:
        crf = r["rows"][0]
        if baseline:
            ner = r["rows"][1]
            table.append(
                (
                    crf["f"],
                    ner["f"],
                    crf["f"] - ner["f"],
                    crf["train_seconds"] / ner["train_seconds"],
                    crf["words_per_second"] / ner["words_per_second"],
                )
            )
        else:
            table.append((crf["p"], crf["r"], crf["f"]))
    for r, values in zip(results, table):
        lines.append(f"| {r['seed']} | {format_values(values, baseline)} | {commit_cell(r)} |")
    medians = tuple(statistics.median(column) for column in zip(*table))
    lines.append(f"| median | {format_values(medians, baseline)} | |")
    return "\n".join(lines) + "\n"


def commit_cell(result: dict) -> str:
    """The commit a seed's run was tested at, and whether its models were
    trained earlier (``--retest``)."""
    retested = any(row.get("retested") for row in result.get("rows", []))
    return (result.get("commit") or "unknown") + (" (models trained earlier)" if retested else "")


def format_values(values: tuple, baseline: bool) -> str:
    if not baseline:
        return " | ".join(f"{v:.2f}" for v in values)
    crf_f, ner_f, diff, train_ratio, speed_ratio = values
    return f"{crf_f:.2f} | {ner_f:.2f} | {diff:+.2f} | {train_ratio:.2f} | {speed_ratio:.2f}"


def add_seed_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seeds",
        default=None,
        help="comma-separated seeds (overrides --seed): one run per seed, then a summary with the medians",
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs of --seeds at a time (each run is its own processes)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="a seed whose table (NAME-seedN.json) is already under --out is read, not run again, so seeds run "
        "apart (at other times, on other commits: each keeps its own stamp) end in one summary",
    )


def run_seeds(run, args, tag: str) -> list:
    """``run(seed, name)`` for each of ``--seeds`` (``name`` is
    ``tag-seedN``), ``--jobs`` at a time (threads: every training and
    evaluation is a process of its own), in seed order. With ``--reuse`` a
    seed whose table is under ``--out`` is read instead. Each result carries
    the commit it ran at."""
    from concurrent.futures import ThreadPoolExecutor

    seeds = [int(s) for s in args.seeds.split(",")]
    done = {}
    for seed in seeds:
        stored = read_table(args.out, f"{tag}-seed{seed}") if getattr(args, "reuse", False) else None
        if stored is not None:
            done[seed] = {**stored["result"], "commit": stored["environment"].get("commit")}
            print(f"seed {seed}: reusing {args.out}/{tag}-seed{seed}.json", flush=True)

    def fresh(seed: int) -> dict:
        return {**run(seed, f"{tag}-seed{seed}"), "commit": commit()}

    todo = [seed for seed in seeds if seed not in done]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        done.update(zip(todo, pool.map(fresh, todo)))
    return [done[seed] for seed in seeds]


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--no-baseline", action="store_true", help="train crf_ner only")
    add_seed_options(parser)
    add_set_option(parser)
    args = parser.parse_args()

    tag = f"{args.dataset}-{Path(args.config).stem}" + (f"-{args.unit}s" if args.dataset in DOC_DATASETS else "")
    if args.seeds is None:
        compare(args, args.seed, tag)
        return
    results = run_seeds(lambda seed, name: compare(args, seed, name), args, tag)
    write_tables(args.out, f"{tag}-seeds", results, seeds_markdown(results))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_train":
        worker_train(*sys.argv[2:5])
    elif len(sys.argv) > 1 and sys.argv[1] == "_speed":
        worker_speed(*sys.argv[2:4])
    elif len(sys.argv) > 1 and sys.argv[1] == "_eval":
        worker_eval(*sys.argv[2:5])
    else:
        main()
