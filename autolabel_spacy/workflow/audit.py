"""``audit``: probable label errors in a human-labelled corpus.

The corpus is split into k folds; for each fold a ``crf_ner`` is trained on
the other folds (so no doc is judged by a model that saw its labels), and its
calibrated CRF posteriors are compared with the given labels:

- a given span the model finds improbable (``P(span) = p``) is doubtful —
  a wrong label, a shifted boundary or a spurious span; score ``1 - p``;
- a span the model predicts, overlapping no given span, is probably missing;
  score ``1 - P(O)`` of its least-O token (the given annotation says O
  there, so the score is again one minus the probability of what was given,
  comparable with the doubtful spans' scores).

Confident-learning style, each label has its own threshold: the mean
probability the models give to the given spans of that label (its average
self-confidence). A doubtful span below it, or a missing span above it, is
*flagged*. Issues come ranked by score, with the reason.

A corpus with document categories (``doc.cats``) audited with a config
that has a category component (``textcat_fast.cfg``, the multi-task
configs) is judged the same way: a doc's given category whose held-out
probability ``p`` is below that category's average self-confidence is a
flagged ``category`` issue, score ``1 - p``, the reason naming the category
the model prefers. A config without ``crf_ner`` judges categories only.
"""

from __future__ import annotations

import random
import tempfile
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Optional

import spacy
import srsly
from spacy.cli.train import train
from spacy.tokens import Doc, DocBin

from ..confidences import marginals, scored_spans, top_category
from ..configs import config_path
from ..files import atomic_path, check_apart, check_output
from ..format_io import read_docs
from ..formats.records import META_KEY
from ..loading import blank


@dataclass
class Issue:
    doc: int  # index of the doc in the corpus
    record: str  # its id in the source, if the format had one
    # "doubtful" (a given span), "missing" (a predicted span), "unjudged" or "category" (a doc's given category)
    kind: str
    start: int  # token offsets
    end: int
    label: str
    text: str
    score: float  # how sure the audit is that this is an error
    flagged: bool  # beyond its label's confident-learning threshold
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def folds_of(n: int, k: int, seed: int = 0) -> list[int]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    fold = [0] * n
    for rank, i in enumerate(order):
        fold[i] = rank % k
    return fold


def audit(
    docs: list[Doc],
    config,
    k: int = 5,
    overrides: Optional[dict] = None,
    work_dir=None,
    seed: int = 0,
    record_ids: Optional[list[str]] = None,
) -> list[Issue]:
    if k < 2:
        raise ValueError("k must be at least 2")
    if len(docs) < k:
        raise ValueError(f"need at least k={k} docs, got {len(docs)}")
    if work_dir is None:  # the fold models are removed with the folder
        with tempfile.TemporaryDirectory(prefix="autolabel-audit-") as tmp:
            return audit(docs, config, k, overrides, tmp, seed, record_ids)
    work = Path(work_dir)
    fold = folds_of(len(docs), k, seed)
    judged: dict[int, tuple] = {}
    categories: dict[int, tuple[dict, str]] = {}  # doc -> (held-out probabilities, given category)
    for f in range(k):
        train_docs = [d for d, g in zip(docs, fold) if g != f]
        held_out = [i for i, g in enumerate(fold) if g == f]
        fold_dir = work / f"fold{f}"
        fold_dir.mkdir(parents=True, exist_ok=True)
        cut = max(1, len(train_docs) // 10)  # dev split for checkpoint selection and calibration
        DocBin(docs=train_docs[cut:]).to_disk(fold_dir / "train.spacy")
        DocBin(docs=train_docs[:cut]).to_disk(fold_dir / "dev.spacy")
        settings = {
            "paths.train": str(fold_dir / "train.spacy"),
            "paths.dev": str(fold_dir / "dev.spacy"),
            "system.seed": seed,
        }
        settings.update(overrides or {})
        train(Path(config), fold_dir / "model", overrides=settings)
        nlp = spacy.load(fold_dir / "model" / "model-last")  # after the full budget; dev is small
        ner = nlp.get_pipe("crf_ner") if "crf_ner" in nlp.pipe_names else None
        if ner is not None:
            ner.cfg["store_marginals"] = True
        # the corpus's own tokens, so every given span maps onto the model's input
        inputs = (
            Doc(nlp.vocab, words=[t.text for t in docs[i]], spaces=[bool(t.whitespace_) for t in docs[i]])
            for i in held_out
        )
        predicted = list(nlp.pipe(inputs, batch_size=256))
        for i, pred in zip(held_out, predicted):
            if docs[i].cats and pred.cats:
                categories[i] = (dict(pred.cats), top_category(docs[i].cats))
        if ner is None:
            continue
        given = [[(e.start, e.end, e.label_) for e in docs[i].ents if e.label_ in ner.labels] for i in held_out]
        unseen = [[e for e in docs[i].ents if e.label_ not in ner.labels] for i in held_out]
        probs = ner.span_probabilities(predicted, given)
        for i, pred, spans, p, rare in zip(held_out, predicted, given, probs, unseen):
            judged[i] = (pred, spans, p, rare)
    if not judged and not categories:
        raise ValueError(
            f"{config}: its pipeline judges neither entities (crf_ner) nor the corpus's categories (a textcat)"
        )
    issues = _issues(judged, record_ids) + _category_issues(categories, docs, record_ids)
    issues.sort(key=lambda x: (-x.score, x.doc, x.start))
    return issues


def _category_issues(judged: dict[int, tuple[dict, str]], docs: list[Doc], record_ids) -> list[Issue]:
    """One issue per doc with a given category: doubtful by one minus the
    held-out probability of that category, flagged below the category's
    average self-confidence."""
    threshold = _self_confidence((given, probs.get(given, 0.0)) for probs, given in judged.values())
    issues = []
    for i, (probs, given) in sorted(judged.items()):
        p = float(probs.get(given, 0.0))
        preferred = top_category(probs)
        if preferred != given:
            reason = (
                f"the model prefers the category {preferred!r} (p={probs[preferred]:.2f}) over the given {given!r} "
                f"(p={p:.2f})"
            )
        else:
            reason = f"the model gives the given category p={p:.2f}"
        rid = record_ids[i] if record_ids else str(i)
        text = docs[i].text[:80]
        issues.append(
            Issue(i, rid, "category", 0, len(docs[i]), given, text, 1.0 - p, bool(p < threshold[given]), reason)
        )
    return issues


def _issues(judged: dict, record_ids) -> list[Issue]:
    threshold = _self_confidence(
        (label, p) for _, spans, probs, _ in judged.values() for (_, _, label), p in zip(spans, probs)
    )
    issues = []
    for i, (pred, spans, probs, unseen) in sorted(judged.items()):
        rid = record_ids[i] if record_ids else str(i)
        for ent in unseen:
            reason = f"label {ent.label_!r} occurs in no other fold, so no model could judge it"
            issues.append(Issue(i, rid, "unjudged", ent.start, ent.end, ent.label_, ent.text, 0.0, False, reason))
        predicted = scored_spans(pred)
        for (s, e, label), p in zip(spans, probs):
            rival = [
                (sp, q)
                for sp, q in predicted
                if sp.start < e and s < sp.end and (sp.start, sp.end, sp.label_) != (s, e, label)
            ]
            if rival:
                sp, q = max(rival, key=lambda x: x[1])
                reason = f"the model prefers {sp.text!r} as {sp.label_} (p={q:.2f}) over the given span (p={p:.2f})"
            else:
                reason = f"the model gives the given span p={p:.2f} and finds no entity there"
            issues.append(
                Issue(
                    i,
                    rid,
                    "doubtful",
                    s,
                    e,
                    label,
                    pred[s:e].text,
                    float(1.0 - p),
                    bool(p < threshold.get(label, 0.5)),
                    reason,
                )
            )
        for sp, q in predicted:
            if any(sp.start < e and s < sp.end for s, e, _ in spans):
                continue  # judged with the given span it overlaps
            not_o = _not_outside(pred, sp, q)
            reason = (
                f"the model finds {sp.text!r} as {sp.label_} (p={q:.2f}; P(not O)={not_o:.2f}) where nothing is "
                "annotated"
            )
            issues.append(
                Issue(
                    i,
                    rid,
                    "missing",
                    sp.start,
                    sp.end,
                    sp.label_,
                    sp.text,
                    not_o,
                    bool(q >= threshold.get(sp.label_, 0.5)),
                    reason,
                )
            )
    return issues


def _self_confidence(given: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Each label's confident-learning threshold: the mean probability the
    held-out models give to what was given with that label."""
    by_label = defaultdict(list)
    for label, p in given:
        by_label[label].append(p)
    return {label: sum(ps) / len(ps) for label, ps in by_label.items()}


def _not_outside(doc, span, fallback: float) -> float:
    """Largest probability, over the span's tokens, of a tag other than O."""
    stored = marginals(doc)
    if not stored:
        return float(fallback)
    outside = stored["tags"].index("O")
    probs = stored["probs"][span.start : span.end, outside]
    return float(1.0 - probs.min()) if len(probs) else float(fallback)


def audit_file(
    data, output, config=None, k: int = 5, epochs: int = 5, data_format: Optional[str] = None, lang: str = "en"
) -> list[Issue]:
    """``autolabel audit``: :func:`audit` of an annotated file (any readable
    format) with ``config`` (default: the shipped ``crf_fast.cfg``) trained
    ``epochs`` per fold; the issues, ranked, are also written to ``output``
    as JSON lines."""
    check_output(output)  # before training every fold
    check_apart([data], {"output": output})
    config = config_path(config)
    docs = list(read_docs(data, blank(lang), data_format))
    if not any(d.ents or d.cats for d in docs):  # spaCy would stop on E923 while initialising the first fold
        raise ValueError(
            f"{data}: none of its {len(docs)} docs has an entity or a category, so there is nothing to audit"
        )
    ids = [str((d.user_data.get(META_KEY) or {}).get("id", i)) for i, d in enumerate(docs)]
    overrides = {"training.max_epochs": epochs, "training.max_steps": 0, "nlp.lang": lang}
    issues = audit(docs, config, k, overrides, record_ids=ids)
    with atomic_path(output) as tmp:
        srsly.write_jsonl(tmp, (issue.to_dict() for issue in issues))
    return issues
