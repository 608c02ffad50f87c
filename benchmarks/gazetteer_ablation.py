"""Do vocabulary (gazetteer) features help ``crf_ner``? One run, same config.

    python -m benchmarks.gazetteer_ablation --dataset ncbi_disease --config autolabel_spacy/configs/crf_fast.cfg
    python -m benchmarks.gazetteer_ablation --seeds 0,1,2 --jobs 2 --train-share 0.1 --epochs 30

Builds a vocabulary from the *training split only* (``autolabel vocab
build``'s function), then trains the config twice with the same seed and
budget: as is, and with a ``domain_vocab`` component before ``crf_ner`` whose
matches reach the tagger through ``autolabel.GazetteerFeatures.v1``. Prints
test P/R/F1, ECE and tagging speed of both and the F1 difference; writes JSON
and Markdown under ``--out`` (``...-gazetteer[-shareS]-seedN``). With
``--seeds``, one run per seed (``--jobs`` at a time) and a summary
``...-seeds.md`` with the differences, the bounds and their medians.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from benchmarks import compare_ner, report  # compare_ner: the shared train/eval/speed workers

ROOT = compare_ner.ROOT


def with_gazetteer(
    config_text: str,
    vocab_path: str,
    width: int = 16,
    match_dropout: float = 0.3,
    learn_no_match: bool = False,
    scale: float = 100.0,
    doc_dropout: float = 0.0,
    context: int = 0,
) -> str:
    """The same config with vocabulary features: ``domain_vocab`` (terms from
    ``vocab_path``) runs before ``crf_ner`` in training and inference, and the
    tagger's tok2vec is wrapped in ``autolabel.GazetteerFeatures.v1``."""
    from thinc.api import Config

    cfg = Config().from_str(config_text, interpolate=False)
    pipeline = cfg["nlp"]["pipeline"]
    pipeline.insert(pipeline.index("crf_ner"), "domain_vocab")
    cfg["components"]["domain_vocab"] = {
        "factory": "domain_vocab",
        "attr": "LOWER",
        "longest": True,
        "spans_key": "domain_vocab",
        "domain": None,
        "vocabularies": None,
    }
    model = cfg["components"]["crf_ner"]["model"]
    model["tok2vec"] = {
        "@architectures": "autolabel.GazetteerFeatures.v1",
        "spans_key": "domain_vocab",
        "width": width,
        "rows": 256,
        "match_dropout": match_dropout,
        "learn_no_match": learn_no_match,
        "scale": scale,
        "doc_dropout": doc_dropout,
        "context": context,
        "tok2vec": model["tok2vec"],
    }
    training = cfg["training"]
    training["annotating_components"] = list(training.get("annotating_components", [])) + ["domain_vocab"]
    init = cfg["initialize"].setdefault("components", {})
    init["domain_vocab"] = {"vocab_path": vocab_path}
    return cfg.to_str()


def build_train_vocab(train_spacy: str, lang: str, out: Path, folds: int = 0) -> dict:
    import spacy
    from spacy.tokens import DocBin

    from autolabel_spacy.workflow.vocab import build_vocabulary

    nlp = spacy.blank(lang)
    docs = list(DocBin().from_disk(train_spacy).get_docs(nlp.vocab))
    vocab = build_vocabulary(docs, nlp.make_doc, "train_vocab", f"the training split ({train_spacy})", folds=folds)
    vocab.to_tsv(out)
    return {"terms": len(vocab.terms), "provenance": vocab.provenance}


def domain_vocab_file(domain: str, labels: set, out: Path) -> dict:
    """A domain's vocabularies (a plugin's public terminologies and curated
    lists), the terms of ``labels`` only, as one term file: knowledge from
    outside the corpus, against :func:`build_train_vocab`'s from inside it."""
    from autolabel_spacy.domains import Vocabulary
    from autolabel_spacy.hooks.manager import get_domain

    spec = get_domain(domain)
    names = [v.name for v in spec.vocabularies if v.labels & labels]
    terms = {term: label for term, label in spec.all_terms(names).items() if label in labels}
    provenance = f"the {domain} domain's vocabularies {', '.join(names)} ({spec.plugin} {spec.version})"
    Vocabulary("domain_vocab", terms, provenance).to_tsv(out)
    return {"terms": len(terms), "provenance": provenance}


def train_subset(train_spacy: str, share: float, seed: int, lang: str, out_dir: Path) -> str:
    """A random ``share`` of the training docs (seeded), written next to them."""
    import random

    import spacy
    from spacy.tokens import DocBin

    if not 0.0 < share <= 1.0:
        raise SystemExit(f"--train-share must be in (0, 1], got {share}")
    docs = list(DocBin().from_disk(train_spacy).get_docs(spacy.blank(lang).vocab))
    chosen = random.Random(seed).sample(docs, max(1, round(share * len(docs))))
    path = out_dir / f"train-share{share:g}-seed{seed}.spacy"
    DocBin(docs=chosen, store_user_data=True).to_disk(path)
    print(f"training on {len(chosen)} of {len(docs)} training docs ({path})", flush=True)
    return str(path)


def vocab_coverage(vocab_path: Path, docbin: str, lang: str, training: bool = False) -> dict:
    """Share of gold entities the vocabulary matches exactly (recall) and
    share of matches that are gold entities (precision); ``training``: as the
    tagger sees it in training (a vocabulary with folds hides from each doc
    the terms only its own fold taught)."""
    import spacy
    from spacy.tokens import DocBin
    from spacy.util import filter_spans

    from autolabel_spacy.ml.gazetteer import visible_matches
    from autolabel_spacy.pipeline.domain_vocab import DomainVocab

    nlp = spacy.blank(lang)
    component = DomainVocab(nlp)
    component.initialize(vocab_path=str(vocab_path))
    n_gold = n_found = n_hit = 0
    for doc in DocBin().from_disk(docbin).get_docs(nlp.vocab):
        gold = {(e.start, e.end, e.label_) for e in doc.ents}
        group = component(doc).spans["domain_vocab"]
        spans = visible_matches(doc, group) if training else list(group)
        found = {(s.start, s.end, s.label_) for s in filter_spans(spans)}
        n_gold, n_found, n_hit = n_gold + len(gold), n_found + len(found), n_hit + len(gold & found)
    return {"recall": round(n_hit / max(1, n_gold), 3), "precision": round(n_hit / max(1, n_found), 3)}


def vocabulary_breakdown(model_dir: Path, test: str, vocab_path: Path) -> dict:
    """Where a model's test errors are: recall of the gold mentions whose
    text (lower-cased) is a vocabulary term and of the others, and the false
    positives of each kind. The vocabulary can only help with the first kind,
    so their misses bound what it can add."""
    import spacy
    from spacy.tokens import DocBin

    from autolabel_spacy.domains import Vocabulary

    terms = {t.lower() for t in Vocabulary.from_tsv(vocab_path).terms}
    nlp = spacy.load(model_dir)
    gold = list(DocBin().from_disk(test).get_docs(nlp.vocab))
    counts = {kind: {"gold": 0, "found": 0, "false_positives": 0} for kind in ("in_vocab", "not_in_vocab")}
    for ref, pred in zip(gold, nlp.pipe((d.text for d in gold), batch_size=256)):
        ref_spans = {(e.start_char, e.end_char, e.label_) for e in ref.ents}
        pred_spans = {(e.start_char, e.end_char, e.label_) for e in pred.ents}
        for spans, field in (
            (ref_spans, "gold"),
            (ref_spans & pred_spans, "found"),
            (pred_spans - ref_spans, "false_positives"),
        ):
            for start, end, _ in spans:
                counts["in_vocab" if ref.text[start:end].lower() in terms else "not_in_vocab"][field] += 1
    for c in counts.values():
        c["recall"] = round(c["found"] / max(1, c["gold"]), 3)
    return counts


def f1_if_vocab_misses_found(by_vocabulary: dict) -> float:
    """Test F1 (percent) of a model's breakdown if it had also found every
    gold mention whose text is a vocabulary term, with its other predictions
    unchanged: the gain a vocabulary can bring through recall on the mentions
    it knows."""
    c = by_vocabulary
    n_gold = c["in_vocab"]["gold"] + c["not_in_vocab"]["gold"]
    n_fp = c["in_vocab"]["false_positives"] + c["not_in_vocab"]["false_positives"]
    n_tp = c["in_vocab"]["gold"] + c["not_in_vocab"]["found"]
    return 100 * 2 * n_tp / max(1, n_gold + n_tp + n_fp)


def markdown(result: dict) -> str:
    lines = [
        f"### {result['dataset']} — gazetteer ablation, config `{result['config']}`, "
        f"{result['epochs']} epochs, seed {result['seed']}",
        "",
        f"vocabulary: {result['vocab']['terms']} terms, {result['vocab']['provenance']}; "
        f"exact-match coverage {result['vocab']['coverage']}; "
        f"folds {result.get('folds', 0)}, match_dropout {result['match_dropout']}, "
        f"doc_dropout {result.get('doc_dropout', 0.0)}, context {result.get('context', 0)}, scale {result['scale']}, "
        f"taggers trained on {result.get('train_share', 1.0):.0%} of the training sentences",
        "",
        "| model | P | R | F1 | train s | words/s | ECE | P@conf≥0.9 (share) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    fmt = compare_ner.fmt
    for r in result["rows"]:
        lines.append(
            f"| {compare_ner.row_name(r)} | {fmt(r['p'])} | {fmt(r['r'])} | {fmt(r['f'])} | "
            f"{fmt(r['train_seconds'], 0)} | "
            f"{fmt(r['words_per_second'], 0)} | {fmt(r.get('ece'), 3)} | "
            f"{fmt(r.get('precision_at_0_9'), 3)} ({fmt(r.get('share_at_0_9'), 2)}) |"
        )
    plain, gaz = result["rows"]
    lines += [
        "",
        f"with − without vocabulary: F1 {gaz['f'] - plain['f']:+.2f}; "
        f"speed ratio {gaz['words_per_second'] / plain['words_per_second']:.2f}",
    ]
    if "by_vocabulary" in plain:
        bound = f1_if_vocab_misses_found(plain["by_vocabulary"])
        lines += [
            "",
            f"{plain['model']} with every in-vocabulary test mention it missed found, nothing else changed: "
            f"F1 {bound:.2f} ({bound - plain['f']:+.2f}), the most the vocabulary adds through the recall of the "
            "mentions it knows",
        ]
    if all("by_vocabulary" in r for r in result["rows"]):
        lines += [
            "",
            "test mentions whose text is / is not a vocabulary term: recall (found/gold), false positives",
            "",
            "| model | in vocabulary: recall | FP | not in vocabulary: recall | FP |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in result["rows"]:
            cells = []
            for kind in ("in_vocab", "not_in_vocab"):
                c = r["by_vocabulary"][kind]
                cells += [f"{c['recall']:.3f} ({c['found']}/{c['gold']})", str(c["false_positives"])]
            lines.append(f"| {r['model']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def seeds_markdown(results: list[dict]) -> str:
    """Per seed: F1 without and with the vocabulary, the difference, and what
    the plain tagger would gain by finding every in-vocabulary mention (the
    most the vocabulary adds through that recall; it can also remove false
    positives); then the medians."""
    first = results[0]
    lines = [
        f"### {first['dataset']} — gazetteer ablation, config `{first['config']}`, {first['epochs']} epochs, "
        f"taggers trained on {first.get('train_share', 1.0):.0%} of the training sentences, seeds "
        + ", ".join(str(r["seed"]) for r in results),
        "",
        "| seed | without | with vocabulary | Δ | Δ if without had found every in-vocabulary mention | commit |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    row = "| {} | {:.2f} | {:.2f} | {:+.2f} | {:+.2f} | {} |".format
    per_seed = []
    for r in results:
        plain, gaz = r["rows"]
        gain = f1_if_vocab_misses_found(plain["by_vocabulary"]) - plain["f"]
        per_seed.append((plain["f"], gaz["f"], gaz["f"] - plain["f"], gain))
        lines.append(row(r["seed"], *per_seed[-1], compare_ner.commit_cell(r)))
    lines.append(row("median", *(statistics.median(column) for column in zip(*per_seed)), ""))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = compare_ner.argument_parser(__doc__)
    parser.add_argument(
        "--match-dropout",
        default="auto",
        help="share of vocabulary matches hidden in training; auto: 1 - dev coverage / train coverage (as trained)",
    )
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds of the vocabulary (0: none)")
    parser.add_argument(
        "--vocabulary",
        default="train",
        help="train: built from the training split's mentions; a domain's name (medical): that domain's vocabularies",
    )
    parser.add_argument(
        "--learn-no-match", action="store_true", help="a learned vector for unmatched tokens (default: zeros)"
    )
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--scale", type=float, default=100.0, help="GazetteerFeatures' scale of the match embedding")
    parser.add_argument("--doc-dropout", type=float, default=0.0, help="share of training docs shown no match at all")
    parser.add_argument("--context", type=int, default=0, help="match tags of this many neighbours on each side")
    parser.add_argument(
        "--train-share",
        type=float,
        default=1.0,
        help="train both taggers on this random share of the training sentences (seeded); the vocabulary "
        "still comes from the whole training split: a term list larger than the annotated data",
    )
    compare_ner.add_seed_options(parser)
    compare_ner.add_set_option(parser)
    args = parser.parse_args()

    share = f"-share{args.train_share:g}" if args.train_share < 1.0 else ""
    source = "" if args.vocabulary == "train" else f"-{args.vocabulary}"
    tag = f"{args.dataset}-{Path(args.config).stem}-gazetteer{source}{share}"
    if args.seeds is None:
        ablate(args, args.seed, f"{tag}-seed{args.seed}")
        return
    results = compare_ner.run_seeds(lambda seed, name: ablate(args, seed, name), args, tag)
    report.write_tables(args.out, f"{tag}-seeds", results, seeds_markdown(results))


def ablate(args, seed: int, tag: str) -> dict:
    """One ablation run at ``seed``: the vocabulary, both trainings and
    evaluations, written as JSON and Markdown under ``--out``/``tag``."""
    args = argparse.Namespace(**{**vars(args), "seed": seed})
    config_text = compare_ner.read_config(args)
    work = Path(args.out) / tag
    paths = compare_ner.convert(args.dataset, Path(args.data_dir), work / "corpus", args.unit)
    lang = compare_ner.DATASETS[args.dataset]
    if args.vocabulary == "train":
        vocab_path = work / "train_vocab.tsv"
        vocab = build_train_vocab(paths["train"], lang, vocab_path, args.folds)
    else:
        import spacy
        from spacy.tokens import DocBin

        vocab_path = work / f"{args.vocabulary}_vocab.tsv"
        labels = {e.label_ for d in DocBin().from_disk(paths["dev"]).get_docs(spacy.blank(lang).vocab) for e in d.ents}
        vocab = domain_vocab_file(args.vocabulary, labels, vocab_path)
    if args.train_share < 1.0:
        paths["train"] = train_subset(paths["train"], args.train_share, args.seed, lang, work / "corpus")
    coverage = {
        "train": vocab_coverage(vocab_path, paths["train"], lang),
        "train_as_trained": vocab_coverage(vocab_path, paths["train"], lang, training=True),
        "dev": vocab_coverage(vocab_path, paths["dev"], lang),
    }
    vocab["coverage"] = coverage
    if args.match_dropout == "auto":
        # Hide as many matches in training as the vocabulary misses on held-out
        # text, so the tagger sees "no match" on true entities as often as it
        # will at test time (it never sees the test split for this).
        seen = coverage["train_as_trained"]["recall"]
        match_dropout = round(max(0.0, 1.0 - coverage["dev"]["recall"] / seen), 2)
    else:
        match_dropout = float(args.match_dropout)
    print(
        f"vocabulary ({args.vocabulary}): {vocab['terms']} terms; coverage {coverage}; match_dropout {match_dropout}",
        flush=True,
    )
    gaz_text = with_gazetteer(
        config_text,
        str(vocab_path),
        args.width,
        match_dropout,
        args.learn_no_match,
        args.scale,
        args.doc_dropout,
        args.context,
    )
    rows = []
    for name, text in (("crf_ner", config_text), ("crf_ner+vocab", gaz_text)):
        rows.append(compare_ner.train_and_eval(name, text, paths, work, args, "crf_ner"))
        print(f"{name}: F1 {rows[-1]['f']:.2f}", flush=True)
    compare_ner.time_together(rows, work, paths["test"])
    for r in rows:
        r["by_vocabulary"] = vocabulary_breakdown(work / r["model"] / "model-best", paths["test"], vocab_path)
    result = {
        "dataset": args.dataset,
        "config": compare_ner.config_name(args),
        "epochs": args.epochs,
        "seed": args.seed,
        "match_dropout": match_dropout,
        "folds": args.folds,
        "learn_no_match": args.learn_no_match,
        "scale": args.scale,
        "doc_dropout": args.doc_dropout,
        "context": args.context,
        "train_share": args.train_share,
        "vocab": vocab,
        "rows": rows,
    }
    report.write_tables(args.out, tag, result, markdown(result))
    return result


if __name__ == "__main__":
    main()
