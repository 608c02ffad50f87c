"""Audit benchmark: plant errors in NCBI-disease train, see if audit finds them.

    python -m benchmarks.audit_ncbi --config autolabel_spacy/configs/crf_fast.cfg --epochs 5 --share 0.05

Corrupts ``--share`` of the training entities, in equal parts: label dropped
(the entity removed), boundary shifted (one token added or removed at one
end), spurious span added (a random non-entity token of another sentence
labelled as an entity). Then runs ``audit`` (k-fold) on the corrupted corpus
and reports the precision of the top-k issues, k = number of corruptions (an
issue hits if it overlaps a corrupted span in the same sentence).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from benchmarks import compare_ner, report


def corrupt(docs, share: float, seed: int):
    from spacy.tokens import Span

    rng = random.Random(seed)
    entities = [(i, j) for i, d in enumerate(docs) for j in range(len(d.ents))]
    n = int(len(entities) * share)
    chosen = rng.sample(entities, n)
    planted = []  # (doc index, start, end, kind)
    by_doc: dict[int, list[int]] = {}
    for i, j in chosen:
        by_doc.setdefault(i, []).append(j)
    kinds = ["dropped", "shifted", "spurious"]
    k = 0
    for i, js in sorted(by_doc.items()):
        doc = docs[i]
        ents = list(doc.ents)
        new = []
        for j, ent in enumerate(ents):
            if j not in js:
                new.append(ent)
                continue
            kind = kinds[k % 3]
            k += 1
            if kind == "dropped":
                planted.append((i, ent.start, ent.end, kind))
                continue
            if kind == "shifted":
                taken = {t for e in ents for t in range(e.start, e.end) if e is not ent}
                options = [
                    (ent.start - 1, ent.end),
                    (ent.start, ent.end + 1),
                    (ent.start + 1, ent.end),
                    (ent.start, ent.end - 1),
                ]
                options = [(s, e) for s, e in options if 0 <= s < e <= len(doc) and not taken & set(range(s, e))]
                if options:
                    s, e = rng.choice(options)
                    new.append(Span(doc, s, e, ent.label_))
                    planted.append((i, min(s, ent.start), max(e, ent.end), kind))
                    continue
                new.append(ent)
                continue
            # spurious: keep this entity, label a free token of this doc
            new.append(ent)
            free = [t.i for t in doc if t.is_alpha and not any(e.start <= t.i < e.end for e in ents)]
            if free:
                t = rng.choice(free)
                new.append(Span(doc, t, t + 1, ent.label_))
                planted.append((i, t, t + 1, kind))
        doc.set_ents(sorted(new, key=lambda s: s.start), default="outside")
    return planted


def main() -> None:
    parser = compare_ner.argument_parser(__doc__)
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("-k", type=int, default=5)
    parser.set_defaults(epochs=5)
    args = parser.parse_args()

    import spacy
    from spacy.tokens import DocBin

    from autolabel_spacy.workflow.audit import audit

    work = Path(args.out) / f"audit-ncbi_disease-{Path(args.config).stem}"
    paths = compare_ner.convert("ncbi_disease", Path(args.data_dir), work / "corpus")
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(paths["train"]).get_docs(nlp.vocab))
    n_entities = sum(len(d.ents) for d in docs)
    planted = corrupt(docs, args.share, args.seed)
    start = time.perf_counter()
    overrides = {
        "training.max_epochs": args.epochs,
        "training.max_steps": 0,
        "training.eval_frequency": args.eval_frequency,
    }
    issues = audit(docs, args.config, args.k, overrides, work_dir=work / "folds", seed=args.seed)
    seconds = time.perf_counter() - start
    top = issues[: len(planted)]
    planted_at = {}
    for i, s, e, kind in planted:
        planted_at.setdefault(i, []).append((s, e, kind))

    def hit(issue) -> bool:
        return any(issue.start < e and s < issue.end for s, e, _ in planted_at.get(issue.doc, []))

    found = sum(hit(issue) for issue in top)
    per_kind = {}
    for kind in ("dropped", "shifted", "spurious"):
        spans = [(i, s, e) for i, s, e, k in planted if k == kind]
        caught = sum(any(x.doc == i and x.start < e and s < x.end for x in top) for i, s, e in spans)
        per_kind[kind] = {"planted": len(spans), "in_top_k": caught}
    result = {
        "entities": n_entities,
        "planted": len(planted),
        "k": len(planted),
        "precision_at_k": found / max(1, len(top)),
        "per_kind": per_kind,
        "issues": len(issues),
        "flagged": sum(x.flagged for x in issues),
        "folds": args.k,
        "epochs": args.epochs,
        "seconds": seconds,
    }
    print(json.dumps(result, indent=2))
    md = (
        f"### audit on NCBI-disease train, {args.share:.0%} of {n_entities} entities corrupted "
        f"({len(planted)}), {args.k} folds × {args.epochs} epochs of `{Path(args.config).name}`\n\n"
        f"precision of the top {len(planted)} issues: **{result['precision_at_k']:.3f}**; "
        + ", ".join(f"{k}: {v['in_top_k']}/{v['planted']} in the top k" for k, v in per_kind.items())
        + "\n"
    )
    report.write_tables(args.out, work.name, result, md)


if __name__ == "__main__":
    main()
