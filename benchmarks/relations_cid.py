"""BC5CDR chemical-induced disease (CID) relations: the official document-level measure on test.

    python -m benchmarks.relations_cid --config autolabel_spacy/configs/crf_rel_fast.cfg --seeds 0,1,2
    python -m benchmarks.relations_cid --config autolabel_spacy/configs/rel_fast.cfg --seeds 0,1,2 \\
        --ner-runs benchmarks/results/bc5cdr_docs-crf_fast-documents

Trains the config on BC5CDR's training abstracts (``--epochs``, the seed;
as ``compare_ner`` trains) and scores the set of (PMID, chemical id, disease
id) triples it predicts on the test abstracts against the gold CID lines
(``relations.score_relations``):

- **given the gold entities**: each test abstract with its gold mentions,
  their MeSH ids and its gold sentence boundaries, related by the pipeline's
  relation component alone;
- **end to end**: from the raw text, the entities of the pipeline's own
  ``crf_ner`` (a multi-task config), or of the NER model of the same seed
  under ``--ner-runs`` (``compare_ner``'s ``crf_ner/model-best``: separate
  pipelines), sentence boundaries from spaCy's rule-based sentencizer; a
  predicted mention takes the MeSH id of the gold mention at exactly its
  characters and label, and one that matches none keeps its text and counts
  as wrong (no normalisation of our own).

Each at the component's threshold (0.5) and at the threshold that gives the
best F1 on dev given the gold entities (chosen on dev, applied to test).
Also: training wall time, and the words per second of the end-to-end
pipeline (median of 3 runs). With ``--seeds``, a summary with the medians.
Published, given gold entities: BRAN 62.1, ATLOP (SciBERT) 69.4.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from benchmarks import compare_ner
from benchmarks.report import write_tables

DATASET = "bc5cdr_docs"
THRESHOLDS = [round(0.05 * i, 2) for i in range(1, 20)]


def main() -> None:
    parser = compare_ner.argument_parser(__doc__)
    parser.set_defaults(dataset=DATASET)
    parser.add_argument(
        "--ner-runs",
        default=None,
        help="for a config without crf_ner: the compare_ner runs (NAME for NAME-seedN) whose crf_ner/model-best "
        "finds the entities end to end",
    )
    compare_ner.add_seed_options(parser)
    args = parser.parse_args()
    if args.dataset != DATASET:
        parser.error(f"--dataset: CID relations are in {DATASET} only")
    tag = f"relations-{DATASET}-{Path(args.config).stem}"
    if args.seeds is None:
        run(args, args.seed, tag)
        return
    results = compare_ner.run_seeds(lambda seed, name: run(args, seed, name), args, tag)
    write_tables(args.out, f"{tag}-seeds", results, seeds_markdown(results))


def run(args, seed: int, name: str) -> dict:
    import argparse

    args = argparse.Namespace(**{**vars(args), "seed": seed})
    work = Path(args.out) / name
    paths = compare_ner.convert(DATASET, Path(args.data_dir), work / "corpus")
    cfg_path = work / "model.cfg"
    work.mkdir(parents=True, exist_ok=True)
    cfg_path.write_text(Path(args.config).read_text())
    row = compare_ner.train(cfg_path, work / "model", paths, args)
    ner_model = ""
    if args.ner_runs:
        ner_model = str(Path(f"{args.ner_runs}-seed{seed}") / "crf_ner" / "model-best")
        if not Path(ner_model).is_dir():
            raise SystemExit(
                f"--ner-runs: no model at {ner_model} (run compare_ner --dataset {DATASET} --seeds ... first)"
            )
    module = "benchmarks.relations_cid"
    row.update(
        compare_ner.run_worker(
            ["_cid", str(work / "model" / "model-best"), paths["dev"], paths["test"], ner_model],
            work / "cid.log",
            module,
        )
    )
    result = {
        "config": Path(args.config).name,
        "epochs": args.epochs,
        "seed": seed,
        "ner_model": ner_model or None,
        **row,
    }
    write_tables(args.out, name, result, markdown(result))
    return result


def worker_cid(model: str, dev: str, test: str, ner_model: str) -> None:
    import spacy
    from spacy.tokens import DocBin
    from spacy.util import filter_spans

    from autolabel_spacy import relations as rel
    from autolabel_spacy.corpora.reader import with_gold_entities as gold_entities

    nlp = spacy.load(model)
    relations = nlp.get_pipe("entity_relations")
    relations.cfg["threshold"] = THRESHOLDS[0]  # keep the scores of (nearly) every pair; thresholds applied below
    gold = {split: list(DocBin().from_disk(path).get_docs(nlp.vocab)) for split, path in (("dev", dev), ("test", test))}

    def with_gold_entities(docs):
        return [gold_entities(nlp.make_doc(ref.text), ref) for ref in docs]

    def relate(docs):
        for name, proc in nlp.pipeline:
            if name != "crf_ner":
                docs = list(proc.pipe(docs, batch_size=64))
        return docs

    def scores_at(predicted, refs, threshold):
        kept = []
        for doc in predicted:
            doc = doc.copy()
            rel.set_relations(doc, [r for r in doc._.relations if r.score >= threshold])
            kept.append(doc)
        s = rel.score_relations(zip(kept, refs))
        return {"p": 100 * s["rel_p"], "r": 100 * s["rel_r"], "f": 100 * s["rel_f"]}

    dev_pred = relate(with_gold_entities(gold["dev"]))
    best = max(THRESHOLDS, key=lambda t: scores_at(dev_pred, gold["dev"], t)["f"])
    test_pred = relate(with_gold_entities(gold["test"]))
    result = {
        "dev_threshold": best,
        "gold_at_0_5": scores_at(test_pred, gold["test"], 0.5),
        "gold_at_dev": scores_at(test_pred, gold["test"], best),
    }

    texts = [d.text for d in gold["test"]]
    ner = spacy.load(ner_model) if ner_model else None

    def end_to_end():
        if ner is None:
            return list(nlp.pipe(texts, batch_size=64))
        docs = []
        for found in ner.pipe(texts, batch_size=64):
            doc = nlp.make_doc(found.text)
            doc.ents = filter_spans(
                [
                    s
                    for e in found.ents
                    if (s := doc.char_span(e.start_char, e.end_char, label=e.label_, alignment_mode="expand"))
                ]
            )
            docs.append(doc)
        return relate(docs)

    end_to_end()  # warm-up
    times = []
    for _ in range(3):
        start = time.perf_counter()
        predicted = end_to_end()
        times.append(time.perf_counter() - start)
    n_words = sum(len(d) for d in gold["test"])
    result.update(
        end_to_end_at_0_5=scores_at(predicted, gold["test"], 0.5),
        end_to_end_at_dev=scores_at(predicted, gold["test"], best),
        words_per_second=n_words / statistics.median(times),
    )
    if "crf_ner" in nlp.pipe_names or ner is not None:
        from spacy.scorer import Scorer
        from spacy.training import Example

        examples = [Example(p, g) for p, g in zip(predicted, gold["test"])]
        result["ner_f"] = 100 * Scorer.score_spans(examples, "ents")["ents_f"]
    print(json.dumps(result))


def _prf(d: dict) -> str:
    return f"{d['p']:.1f} / {d['r']:.1f} / {d['f']:.1f}"


def markdown(result: dict) -> str:
    if result.get("ner_model"):
        source = f"`{result['ner_model']}`"
    else:
        source = "its own crf_ner" if "ner_f" in result else "none: the pipeline finds no entities"
    return (
        "\n".join(
            [
                f"### BC5CDR CID on test — config `{result['config']}`, {result['epochs']} epochs, seed "
                f"{result['seed']}",
                "",
                "| entities | P / R / F1 at 0.5 | P / R / F1 at the dev-chosen threshold |",
                "|---|---|---|",
                f"| gold | {_prf(result['gold_at_0_5'])} | {_prf(result['gold_at_dev'])} |",
                f"| predicted ({source}; NER F1 {result.get('ner_f', float('nan')):.1f}) | "
                f"{_prf(result['end_to_end_at_0_5'])} | {_prf(result['end_to_end_at_dev'])} |",
                "",
                f"dev-chosen threshold {result['dev_threshold']}; training {result['train_seconds']:.0f} s; "
                f"end to end {result['words_per_second']:.0f} words/s",
            ]
        )
        + "\n"
    )


def seeds_markdown(results: list[dict]) -> str:
    def med(key: str, part: str = "f") -> float:
        return statistics.median(r[key][part] for r in results)

    lines = [
        f"### BC5CDR CID on test — config `{results[0]['config']}`, {results[0]['epochs']} epochs, seeds "
        + ", ".join(str(r["seed"]) for r in results),
        "",
        "| seed | F1 given gold entities (dev-chosen threshold) | F1 end to end (dev-chosen) | NER F1 | train s | "
        "words/s | commit |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['seed']} | {r['gold_at_dev']['f']:.2f} | {r['end_to_end_at_dev']['f']:.2f} | "
            f"{r.get('ner_f', float('nan')):.2f} | "
            f"{r['train_seconds']:.0f} | {r['words_per_second']:.0f} | {compare_ner.commit_cell(r)} |"
        )
    lines.append(
        f"| median | {med('gold_at_dev'):.2f} | {med('end_to_end_at_dev'):.2f} | "
        f"{statistics.median(r.get('ner_f', float('nan')) for r in results):.2f} | "
        f"{statistics.median(r['train_seconds'] for r in results):.0f} | "
        f"{statistics.median(r['words_per_second'] for r in results):.0f} | |"
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_cid":
        worker_cid(*sys.argv[2:6])
    else:
        main()
