"""Review effort: how much of a test set can be auto-accepted, and how right.

    python -m benchmarks.review_effort --model training/ncbi/model-best \
        --dev corpus/ncbi/dev.spacy --test corpus/ncbi/test.spacy

    python -m benchmarks.review_effort --model .../ncbi_disease_docs-.../crf_ner/model-best \
        --dev .../corpus/dev.spacy --test .../corpus/test.spacy

The auto-accept threshold is the one ``autolabel evaluate`` recommends on the
*dev* set (lowest threshold whose accepted dev units reach ``--target``
exact-match accuracy); it is then applied to the test set, where the share
of units auto-accepted and their exact-match accuracy are reported, with the
exact-match rate by number of gold mentions per unit. The unit is the
sentence: a corpus of whole abstracts (``compare_ner --dataset *_docs``) is
tagged abstract by abstract and routed sentence by sentence, with the
sentence confidences of ``crf_ner``.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import asdict

from benchmarks.report import write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--dev", default=None)
    parser.add_argument("--test", default=None)
    parser.add_argument(
        "--runs",
        nargs="+",
        default=[],
        metavar="DIR",
        help="instead of --model/--dev/--test: compare_ner run folders (DIR/crf_ner/model-best, DIR/corpus/dev.spacy "
        "and test.spacy), e.g. the seeds of one benchmark; each is measured, then the medians",
    )
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--coverage", type=float, default=0.6, help="also report the most confident share of test docs")
    parser.add_argument("--out", default=None, help="write the result as JSON here")
    parser.add_argument(
        "--agree-with",
        default=[],
        nargs="+",
        metavar="MODEL",
        help="other models (other seeds, or model-last beside model-best): a sentence's confidence is the geometric "
        "mean of all where they agree, and zero where any disagrees",
    )
    parser.add_argument(
        "--rank-by",
        choices=("sentence", "token"),
        default="sentence",
        help="sentence: the sentence's probability; token: its geometric mean per token (routing.routing_score)",
    )
    args = parser.parse_args()
    if args.runs and (args.model or args.dev or args.test or args.agree_with):
        parser.error("--runs replaces --model, --dev, --test and --agree-with")
    if not args.runs and not (args.model and args.dev and args.test):
        parser.error("give --model, --dev and --test, or --runs")

    if not args.runs:
        result = measure([args.model, *args.agree_with], args.dev, args.test, args)
        show(result)
        if args.out:
            write_json(args.out, result)
        return
    results = []
    for run in args.runs:
        print(f"== {run}")
        results.append(
            measure([f"{run}/crf_ner/model-best"], f"{run}/corpus/dev.spacy", f"{run}/corpus/test.spacy", args)
        )
        show(results[-1])
    median = medians(results)
    print(
        f"median of {len(results)} runs: {median['accepted']:.1%} of test sentences auto-accepted, "
        f"{median['exactly_right']:.2%} of them exactly right (each median taken on its own)"
    )
    if args.out:
        write_json(args.out, {"runs": results, "median": median})


def measure(model_paths: list[str], dev_path: str, test_path: str, args) -> dict:
    """The threshold chosen on dev for ``--target``, and what it does on test."""
    import spacy
    from spacy.tokens import DocBin

    from autolabel_spacy import evaluation, routing

    models = [spacy.load(path) for path in model_paths]

    def scored(path):
        runs = []
        for nlp in models:
            gold = list(DocBin().from_disk(path).get_docs(nlp.vocab))
            runs.append(
                evaluation.scored_sentences(nlp.pipe((evaluation.unannotated(d) for d in gold), batch_size=64), gold)
            )
        units = runs[0] if len(runs) == 1 else evaluation.agreement(*runs)
        return routing.ranked(units, args.rank_by)

    dev, test = scored(dev_path), scored(test_path)
    rec = evaluation.recommend_threshold(dev, args.target)
    threshold = rec.threshold if rec else None
    row = evaluation.routing_curve(test, [threshold])[0] if rec else None
    # the most a threshold could accept on test if it were chosen on test
    # itself: what the confidences' ranking allows, whatever the dev split
    best_on_test = evaluation.recommend_threshold(test, args.target)
    return {
        "model": model_paths[0],
        "agree_with": model_paths[1:],
        "rank_by": args.rank_by,
        "target": args.target,
        "threshold_from_dev": threshold,
        "dev": asdict(rec) if rec else None,
        "dev_docs": len(dev),
        "test": row,
        "test_docs": len(test),
        "test_docs_exactly_right": sum(d.correct for d in test) / len(test),
        "test_best_threshold": asdict(best_on_test) if best_on_test else None,
        "test_most_confident": most_confident(test, args.coverage),
        "test_by_mentions": evaluation.by_mentions(test, threshold),
        "test_curve": [most_confident(test, k / 10) for k in range(1, 11)],
    }


def show(result: dict) -> None:
    rec, row, best_on_test = result["dev"], result["test"], result["test_best_threshold"]
    if rec is None:
        print(f"no threshold reaches {result['target']:.0%} on dev ({result['dev_docs']} sentences)")
    else:
        print(
            f"threshold {rec['threshold']:.6g} (dev: {rec['coverage']:.1%} accepted, {rec['accuracy']:.2%} right) -> "
            f"test: {row['coverage']:.1%} of {result['test_docs']} sentences auto-accepted, "
            f"{(row['accuracy'] or 0):.2%} of them exactly right"
        )
    print(f"all test sentences exactly right: {result['test_docs_exactly_right']:.1%}")
    if best_on_test is not None:
        print(
            f"best threshold chosen on test itself: {best_on_test['threshold']:.6g} -> "
            f"{best_on_test['coverage']:.1%} auto-accepted, {best_on_test['accuracy']:.2%} exactly right"
        )
    print("gold mentions per sentence: sentences, exactly right, auto-accepted")
    for r in result["test_by_mentions"]:
        print(f"  {r['mentions']}\t{r['units']}\t{pct(r['exactly_right'])}\t{pct(r.get('accepted'))}")
    print("coverage/accuracy curve (the most confident share of test sentences: exactly right)")
    print("  " + "  ".join(f"{c['share']:.0%}: {c['accuracy']:.2%}" for c in result["test_curve"]))


def medians(results: list[dict]) -> dict:
    """Medians over runs of the test share auto-accepted at the dev-chosen
    threshold and of its exact-match accuracy (a run whose dev reached no
    threshold accepts nothing), and of the share of test sentences right."""
    accepted = [r["test"]["coverage"] if r["test"] else 0.0 for r in results]
    right = [r["test"]["accuracy"] for r in results if r["test"] and r["test"]["accuracy"] is not None]
    return {
        "runs": len(results),
        "accepted": statistics.median(accepted),
        "exactly_right": statistics.median(right) if right else None,
        "test_docs_exactly_right": statistics.median(r["test_docs_exactly_right"] for r in results),
    }


def pct(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def most_confident(docs, share: float) -> dict:
    """Exact-match accuracy of the ``share`` of ``docs`` with the highest confidence."""
    top = sorted(docs, key=lambda d: -d.confidence)[: max(1, round(share * len(docs)))]
    right = sum(d.correct for d in top)
    return {"share": share, "docs": len(top), "accuracy": right / len(top), "wrong": len(top) - right}


if __name__ == "__main__":
    main()
