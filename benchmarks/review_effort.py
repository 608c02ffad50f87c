"""Review effort: how much of a test set can be auto-accepted, and how right.

    python -m benchmarks.review_effort --model training/ncbi/model-best \
        --dev corpus/ncbi/dev.spacy --test corpus/ncbi/test.spacy

The auto-accept threshold is the one ``autolabel evaluate`` recommends on the
*dev* set (lowest threshold whose accepted dev docs reach ``--target``
exact-match accuracy); it is then applied to the test set, where the share
of sentences auto-accepted and their exact-match accuracy are reported.
"""
from __future__ import annotations

import argparse

from benchmarks.report import write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--dev", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--coverage", type=float, default=0.6, help="also report the most confident share of test docs")
    parser.add_argument("--out", default=None, help="write the result as JSON here")
    args = parser.parse_args()

    import spacy
    from spacy.tokens import DocBin

    from autolabel_spacy import evaluation

    nlp = spacy.load(args.model)

    def scored(path):
        gold = list(DocBin().from_disk(path).get_docs(nlp.vocab))
        return evaluation.scored_docs(nlp.pipe((d.text for d in gold), batch_size=256), gold)

    dev, test = scored(args.dev), scored(args.test)
    rec = evaluation.recommend_threshold(dev, args.target)
    if rec is None:
        raise SystemExit(f"no threshold reaches {args.target} on dev")
    row = evaluation.routing_curve(test, [rec["threshold"]])[0]
    # the most a threshold could accept on test if it were chosen on test
    # itself: what the confidences' ranking allows, whatever the dev split
    best_on_test = evaluation.recommend_threshold(test, args.target)
    result = {
        "model": args.model,
        "target": args.target,
        "threshold_from_dev": rec["threshold"],
        "dev": rec,
        "test": row,
        "test_docs": len(test),
        "test_docs_exactly_right": sum(d.correct for d in test) / len(test),
        "test_best_threshold": best_on_test,
        "test_most_confident": most_confident(test, args.coverage),
    }
    print(
        f"threshold {rec['threshold']:.6g} (dev: {rec['coverage']:.1%} accepted, {rec['accuracy']:.2%} right) -> "
        f"test: {row['coverage']:.1%} of {len(test)} sentences auto-accepted, "
        f"{(row['accuracy'] or 0):.2%} of them exactly right "
        f"(all test sentences exactly right: {result['test_docs_exactly_right']:.1%})"
    )
    if best_on_test is not None:
        print(
            f"best threshold chosen on test itself: {best_on_test['threshold']:.6g} -> "
            f"{best_on_test['coverage']:.1%} auto-accepted, {best_on_test['accuracy']:.2%} exactly right"
        )
    top = result["test_most_confident"]
    print(
        f"the {top['share']:.0%} most confident test sentences ({top['docs']}): {top['accuracy']:.2%} exactly right, "
        f"{top['wrong']} wrong"
    )
    if args.out:
        write_json(args.out, result)


def most_confident(docs, share: float) -> dict:
    """Exact-match accuracy of the ``share`` of ``docs`` with the highest confidence."""
    top = sorted(docs, key=lambda d: -d.confidence)[: max(1, round(share * len(docs)))]
    right = sum(d.correct for d in top)
    return {"share": share, "docs": len(top), "accuracy": right / len(top), "wrong": len(top) - right}


if __name__ == "__main__":
    main()
