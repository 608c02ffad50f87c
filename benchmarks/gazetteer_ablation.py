"""Do vocabulary (gazetteer) features help ``crf_ner``? One run, same config.

    python benchmarks/gazetteer_ablation.py --dataset ncbi_disease --config configs/crf_fast.cfg

Builds a vocabulary from the *training split only* (``autolabel vocab
build``'s function), then trains the config twice with the same seed and
budget: as is, and with a ``domain_vocab`` component before ``crf_ner`` whose
matches reach the tagger through ``autolabel.GazetteerFeatures.v1``. Prints
test P/R/F1, ECE and tagging speed of both and the F1 difference; writes JSON
and Markdown under ``--out``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare_ner  # noqa: E402  (the shared train/eval/speed workers)

ROOT = compare_ner.ROOT


def with_gazetteer(
    config_text: str, vocab_path: str, width: int = 16, match_dropout: float = 0.3, learn_no_match: bool = False,
    scale: float = 100.0,
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

    from autolabel_spacy.vocab_builder import build_vocabulary

    nlp = spacy.blank(lang)
    docs = list(DocBin().from_disk(train_spacy).get_docs(nlp.vocab))
    vocab = build_vocabulary(docs, nlp.make_doc, "train_vocab", f"the training split ({train_spacy})", folds=folds)
    vocab.to_tsv(out)
    return {"terms": len(vocab.terms), "provenance": vocab.provenance}


def vocab_coverage(vocab_path: Path, docbin: str, lang: str, training: bool = False) -> dict:
    """Share of gold entities the vocabulary matches exactly (recall) and
    share of matches that are gold entities (precision); ``training``: as the
    tagger sees it in training (a vocabulary with folds hides from each doc
    the terms only its own fold taught)."""
    import spacy
    from spacy.tokens import DocBin

    from autolabel_spacy.ml.gazetteer import match_tag_ids
    from autolabel_spacy.pipeline.domain_vocab import DomainVocab

    nlp = spacy.blank(lang)
    component = DomainVocab(nlp)
    component.initialize(vocab_path=str(vocab_path))
    visible = match_tag_ids("domain_vocab")
    n_gold = n_found = n_hit = 0
    for doc in DocBin().from_disk(docbin).get_docs(nlp.vocab):
        gold = {(e.start, e.end, e.label_) for e in doc.ents}
        ids = visible([component(doc)], is_train=training)[0][0]
        found = {(s.start, s.end, s.label_) for s in doc.spans["domain_vocab"] if ids[s.start] != 0}
        n_gold, n_found, n_hit = n_gold + len(gold), n_found + len(found), n_hit + len(gold & found)
    return {"recall": round(n_hit / max(1, n_gold), 3), "precision": round(n_hit / max(1, n_found), 3)}


def markdown(result: dict) -> str:
    lines = [
        f"### {result['dataset']} — gazetteer ablation, config `{result['config']}`, "
        f"{result['epochs']} epochs, seed {result['seed']}",
        "",
        f"vocabulary: {result['vocab']['terms']} terms, {result['vocab']['provenance']}; "
        f"exact-match coverage {result['vocab']['coverage']}; "
        f"folds {result.get('folds', 0)}, match_dropout {result['match_dropout']}, scale {result['scale']}",
        "",
        "| model | P | R | F1 | train s | words/s | ECE | P@conf≥0.9 (share) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    fmt = compare_ner.fmt
    for r in result["rows"]:
        lines.append(
            f"| {r['model']} | {fmt(r['p'])} | {fmt(r['r'])} | {fmt(r['f'])} | {fmt(r['train_seconds'], 0)} | "
            f"{fmt(r['words_per_second'], 0)} | {fmt(r.get('ece'), 3)} | "
            f"{fmt(r.get('precision_at_0_9'), 3)} ({fmt(r.get('share_at_0_9'), 2)}) |"
        )
    plain, gaz = result["rows"]
    lines += [
        "",
        f"with − without vocabulary: F1 {gaz['f'] - plain['f']:+.2f}; "
        f"speed ratio {gaz['words_per_second'] / plain['words_per_second']:.2f}",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = compare_ner.argument_parser(__doc__)
    parser.add_argument(
        "--match-dropout",
        default="auto",
        help="share of vocabulary matches hidden in training; auto: 1 - dev coverage / train coverage (as trained)",
    )
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds of the vocabulary (0: none)")
    parser.add_argument("--learn-no-match", action="store_true", help="a learned vector for unmatched tokens (default: zeros)")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--scale", type=float, default=100.0, help="GazetteerFeatures' scale of the match embedding")
    args = parser.parse_args()

    config_text = Path(args.config).read_text()
    tag = f"{args.dataset}-{Path(args.config).stem}-gazetteer"
    work = Path(args.out) / tag
    paths = compare_ner.convert(args.dataset, Path(args.data_dir), work / "corpus")
    vocab_path = work / "train_vocab.tsv"
    lang = compare_ner.DATASETS[args.dataset]
    vocab = build_train_vocab(paths["train"], lang, vocab_path, args.folds)
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
    print(f"vocabulary from the training split: {vocab['terms']} terms; coverage {coverage}; "
          f"match_dropout {match_dropout}", flush=True)
    gaz_text = with_gazetteer(config_text, str(vocab_path), args.width, match_dropout, args.learn_no_match, args.scale)
    rows = []
    for name, text in (("crf_ner", config_text), ("crf_ner+vocab", gaz_text)):
        rows.append(compare_ner.train_and_eval(name, text, paths, work, args, "crf_ner"))
        print(f"{name}: F1 {rows[-1]['f']:.2f}", flush=True)
    compare_ner.time_together(rows, work, paths["test"])
    result = {
        "dataset": args.dataset,
        "config": Path(args.config).name,
        "epochs": args.epochs,
        "seed": args.seed,
        "match_dropout": match_dropout,
        "folds": args.folds,
        "learn_no_match": args.learn_no_match,
        "scale": args.scale,
        "vocab": vocab,
        "rows": rows,
    }
    md = markdown(result)
    print(md)
    (Path(args.out) / f"{tag}.json").write_text(json.dumps(result, indent=2))
    (Path(args.out) / f"{tag}.md").write_text(md)


if __name__ == "__main__":
    main()
