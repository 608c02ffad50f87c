"""Bootstrapping from dictionaries alone, with zero labelled sentences (the
labels of the training text are ignored; only the test labels are used, for
scoring).

    python -m benchmarks.bootstrap_dictionaries --dataset ncbi_disease_docs --epochs 10
    python -m benchmarks.bootstrap_dictionaries --dataset bc5cdr_docs --epochs 10 --seeds 0,1,2 --only 0

(a) the medical plugin's vocabularies (the public terminologies and the
curated lists), of the dataset's labels; (b) a partial dictionary: the
mention strings of a random 30% of the training docs. For each, prints the
test F1 of dictionary matching alone and of ``crf_ner`` bootstrapped on the
raw training text, and writes JSON and Markdown. With ``--seeds``, one run
per seed (``...-seedN``) and a summary ``...-seeds.md`` with the medians.
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

from benchmarks import compare_ner, report

ROOT = compare_ner.ROOT


def prf(predicted, gold) -> dict:
    from spacy.scorer import get_ner_prf
    from spacy.training import Example

    scores = get_ner_prf([Example(p, g) for p, g in zip(predicted, gold)])
    return {"p": scores["ents_p"] * 100, "r": scores["ents_r"] * 100, "f": scores["ents_f"] * 100}


def partial_dictionary(train_docs, share: float, seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    chosen = rng.sample(range(len(train_docs)), int(len(train_docs) * share))
    return {ent.text: ent.label_ for i in chosen for ent in train_docs[i].ents}


def main() -> None:
    parser = compare_ner.argument_parser(__doc__)
    parser.add_argument("--share", type=float, default=0.3, help="share of training sentences for dictionary (b)")
    parser.add_argument("--unknown-rate", type=float, default=0.0, help="share of unmatched tokens left unannotated")
    parser.add_argument("--no-abbreviations", action="store_true", help="do not add the terms the text defines")
    parser.add_argument(
        "--no-head-cues",
        action="store_true",
        help="tag every unmatched token O (default: probable mentions that the terms' heads and endings hint at "
        "are left unknown)",
    )
    parser.add_argument("--only", type=int, default=None, help="run only dictionary setting 0 (a) or 1 (b)")
    compare_ner.add_seed_options(parser)
    args = parser.parse_args()
    if args.jobs != 1:
        parser.error("--jobs: bootstrap trains in this process, one seed at a time")

    tag = f"bootstrap-{args.dataset}-{Path(args.config).stem}{'-no-head-cues' if args.no_head_cues else ''}"
    if args.seeds is None:
        run(args, args.seed, tag)
        return
    results = compare_ner.run_seeds(lambda seed, name: run(args, seed, name), args, tag)
    report.write_tables(args.out, f"{tag}-seeds", results, seeds_markdown(results))


def run(args, seed: int, name: str) -> dict:
    """One bootstrap run at ``seed`` under ``--out``/``name``: both
    dictionary settings (or ``--only`` one), each matched alone and
    bootstrapped into a trained ``crf_ner``; writes the table."""
    import spacy
    from spacy.tokens import DocBin

    from autolabel_spacy.hooks.manager import get_domain
    from autolabel_spacy.workflow.bootstrap import bootstrap, dictionary_predictions

    work = Path(args.out) / name
    paths = compare_ner.convert(args.dataset, Path(args.data_dir), work / "corpus", args.unit)
    nlp = spacy.blank("en")
    train_docs = list(DocBin().from_disk(paths["train"]).get_docs(nlp.vocab))
    test_docs = list(DocBin().from_disk(paths["test"]).get_docs(nlp.vocab))
    raw = [d.text for d in train_docs]
    gold_of = {d.text: d for d in train_docs}
    labels = {e.label_ for d in test_docs for e in d.ents}
    medical = get_domain("medical")
    vocabularies = [v.name for v in medical.vocabularies if v.labels & labels]
    settings = {
        f"medical plugin vocabularies ({', '.join(vocabularies)})": {
            term: label for term, label in medical.all_terms(vocabularies).items() if label in labels
        },
        f"mentions of {args.share:.0%} of train docs": partial_dictionary(train_docs, args.share, seed),
    }
    rows = []
    for i, (setting, terms) in enumerate(settings.items()):
        if args.only is not None and i != args.only:
            continue
        dictionary = prf(dictionary_predictions(nlp, test_docs, terms), test_docs)
        start = time.perf_counter()
        overrides = {
            "training.max_epochs": args.epochs,
            "training.max_steps": 0,
            "system.seed": seed,
            "training.eval_frequency": args.eval_frequency,
        }
        result = bootstrap(
            raw,
            terms,
            work / f"setting{i}",
            args.config,
            overrides=overrides,
            seed=seed,
            unknown_rate=args.unknown_rate,
            abbreviations=not args.no_abbreviations,
            unknown=not args.no_head_cues,
        )
        seconds = time.perf_counter() - start
        # how good the weak labels are, against the training text's gold labels (never used in training)
        weak = [
            d
            for part in ("train", "dev")
            for d in DocBin().from_disk(Path(result["corpus"]) / f"{part}.spacy").get_docs(nlp.vocab)
        ]
        weak_quality = prf(weak, [gold_of[d.text] for d in weak])
        model = spacy.load(result["model"])
        boot = prf(list(model.pipe((d.text for d in test_docs), batch_size=256)), test_docs)
        counts = {k: result[k] for k in ("defined_terms", "weak_entities", "unknown_tokens", "tokens")}
        rows.append(
            {
                "dictionary": setting,
                "terms": len(terms),
                "dictionary_only": dictionary,
                "weak_labels_on_train": weak_quality,
                "bootstrapped": boot,
                "train_seconds": seconds,
                **counts,
            }
        )
        print(f"{setting}: dictionary F1 {dictionary['f']:.2f} -> bootstrapped F1 {boot['f']:.2f}", flush=True)
    lines = [
        f"### {args.dataset} test — bootstrapped from dictionaries, config `{Path(args.config).name}`, "
        f"{args.epochs} epochs, seed {seed}, unknown rate {args.unknown_rate}, "
        f"terms defined in the text {'off' if args.no_abbreviations else 'on'}, head cues "
        f"{'off' if args.no_head_cues else 'on'}",
        "",
        "| dictionary | terms | dictionary P/R/F1 | bootstrapped P/R/F1 | Δ F1 | terms defined in the text | "
        "weak labels P/R/F1 (train text) | weak entities | unknown tokens |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        d, b, w = r["dictionary_only"], r["bootstrapped"], r["weak_labels_on_train"]
        lines.append(
            f"| {r['dictionary']} | {r['terms']} | {d['p']:.1f}/{d['r']:.1f}/{d['f']:.1f} | "
            f"{b['p']:.1f}/{b['r']:.1f}/{b['f']:.1f} | {b['f'] - d['f']:+.1f} | {r['defined_terms']} | "
            f"{w['p']:.1f}/{w['r']:.1f}/{w['f']:.1f} | {r['weak_entities']} | "
            f"{r['unknown_tokens']}/{r['tokens']} |"
        )
    data = {
        "dataset": args.dataset,
        "config": Path(args.config).name,
        "epochs": args.epochs,
        "seed": seed,
        "rows": rows,
    }
    report.write_tables(args.out, name, data, "\n".join(lines) + "\n")
    return data


def seeds_markdown(results: list[dict]) -> str:
    """Per dictionary setting and seed: dictionary matching alone and the
    bootstrapped tagger (P/R/F1), the difference, the commit; then the
    medians of each setting."""
    first = results[0]
    lines = [
        f"### {first['dataset']} test — bootstrapped from dictionaries, config `{first['config']}`, "
        f"{first['epochs']} epochs, seeds " + ", ".join(str(r["seed"]) for r in results),
        "",
        "| dictionary | seed | dictionary P/R/F1 | bootstrapped P/R/F1 | Δ F1 | commit |",
        "|---|---:|---:|---:|---:|---|",
    ]
    prf_cell = "{:.1f}/{:.1f}/{:.1f}".format
    for i, setting in enumerate(first["rows"]):
        runs = [r["rows"][i] for r in results]
        for r, row in zip(results, runs):
            d, b = row["dictionary_only"], row["bootstrapped"]
            lines.append(
                f"| {setting['dictionary']} | {r['seed']} | {prf_cell(d['p'], d['r'], d['f'])} | "
                f"{prf_cell(b['p'], b['r'], b['f'])} | {b['f'] - d['f']:+.1f} | {compare_ner.commit_cell(r)} |"
            )
        med = {
            part: [statistics.median(row[part][k] for row in runs) for k in "prf"]
            for part in ("dictionary_only", "bootstrapped")
        }
        diff = statistics.median(row["bootstrapped"]["f"] - row["dictionary_only"]["f"] for row in runs)
        lines.append(
            f"| {setting['dictionary']} | median | {prf_cell(*med['dictionary_only'])} | "
            f"{prf_cell(*med['bootstrapped'])} | {diff:+.1f} | |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
