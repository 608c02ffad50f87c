"""``select``: the most informative docs of an unlabelled pool (active learning).

Uncertainty comes from ``crf_ner``'s CRF posteriors, length-normalised so
long docs are not picked just for being long:

- ``least_confidence``: ``1 - P(best tag sequence) ** (1 / n_tokens)``;
- ``margin``: mean over tokens of ``1 - (p1 - p2)``, the gap between the
  two most probable tags of each token's marginal;
- ``entropy``: mean over tokens of the entropy of the tag marginal.

A pipeline that also relates entities or categorises docs is as unsure of a
doc as of its weakest part: the uncertainty is the largest of the entities'
(above), the relations' (``1 -`` the probability that all the doc's pair
decisions are right) and the category's (by the same strategy: ``1 -`` the
top probability, ``1 - (p1 - p2)``, or the entropy of ``doc.cats``).

With ``diversity`` > 0 the batch is picked greedily by maximal marginal
relevance: each next doc maximises ``(1 - diversity) * uncertainty -
diversity * (max cosine similarity to the docs already picked)``, with bags of
hashed lowercase words as vectors, so one batch is not N near-duplicates.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import numpy as np

from ..checks import check_count
from ..confidences import doc_confidence, marginals, relation_confidence
from ..files import atomic_path, check_apart, check_output, split_extension
from ..format_io import write_docs
from ..formats import format_for_path
from ..formats.records import META_KEY
from ..hooks.manager import get_plugins
from ..loading import load_pipeline
from .inputs import Inputs

STRATEGIES = ("least_confidence", "margin", "entropy", "random")
HASH_DIM = 4096


@dataclass
class Candidate:
    index: int
    uncertainty: float
    doc: object


def uncertainty(doc, strategy: str) -> float:
    """The doc's uncertainty by ``strategy``: its weakest part's."""
    parts = [entity_uncertainty(doc, strategy)]
    relations = relation_confidence(doc)
    if relations is not None:
        parts.append(1.0 - relations)
    if doc.cats:
        probs = np.asarray([list(doc.cats.values())], dtype="float64")
        parts.append(
            float(1.0 - probs.max()) if strategy == "least_confidence" else distribution_uncertainty(probs, strategy)
        )
    return max(parts)


def entity_uncertainty(doc, strategy: str) -> float:
    n = len(doc)
    if n == 0:
        return 0.0
    if strategy == "least_confidence":
        p = doc_confidence(doc)
        return float(1.0 - max(p, 1e-300) ** (1.0 / n))
    return distribution_uncertainty(np.asarray(marginals(doc)["probs"], dtype="float64"), strategy)


def distribution_uncertainty(probs: np.ndarray, strategy: str) -> float:
    """``margin`` or ``entropy`` of each row of ``probs`` (a token's tag
    marginal, a doc's categories), averaged over the rows."""
    if strategy == "margin":
        top = np.sort(probs, axis=1)[:, -2:]
        if top.shape[1] == 1:  # one category: the runner-up has probability 0
            top = np.concatenate([np.zeros_like(top), top], axis=1)
        return float(np.mean(1.0 - (top[:, 1] - top[:, 0])))
    if strategy == "entropy":
        return float(np.mean(-(probs * np.log(np.clip(probs, 1e-12, 1.0))).sum(axis=1)))
    raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")


def bag_of_words(doc) -> np.ndarray:
    vec = np.zeros(HASH_DIM, dtype="float32")
    for token in doc:
        if not token.is_punct and not token.is_space:
            vec[zlib.crc32(token.lower_.encode("utf-8")) % HASH_DIM] += 1.0
    norm = np.linalg.norm(vec)
    return vec / norm if norm else vec


def score_pool(nlp, texts: Iterable[str], strategy: str, batch_size: int = 256) -> list[Candidate]:
    """Tag the pool and score every doc (marginals are stored only here)."""
    ner = nlp.get_pipe("crf_ner")
    stored = ner.cfg["store_marginals"]
    ner.cfg["store_marginals"] = strategy in ("margin", "entropy")
    try:
        return [
            Candidate(i, uncertainty(doc, strategy) if strategy != "random" else 0.0, doc)
            for i, doc in enumerate(nlp.pipe(texts, batch_size=batch_size))
        ]
    finally:
        ner.cfg["store_marginals"] = stored


def check_pick(n: int, diversity: float) -> None:
    check_count("n", n)
    if not 0.0 <= diversity < 1.0:
        raise ValueError(f"diversity must be in [0, 1), got {diversity}")


def pick(candidates: list[Candidate], n: int, diversity: float = 0.0, seed: int = 0) -> list[Candidate]:
    """The ``n`` docs to label next, most informative first."""
    check_pick(n, diversity)
    if n >= len(candidates):
        n = len(candidates)
    if all(c.uncertainty == 0.0 for c in candidates) or not candidates:
        rng = np.random.default_rng(seed)
        return [candidates[i] for i in rng.permutation(len(candidates))[:n]]
    ranked = sorted(candidates, key=lambda c: (-c.uncertainty, c.index))
    if diversity == 0.0:
        return ranked[:n]
    pool = ranked[: max(n * 10, n)]
    top = max(c.uncertainty for c in pool) or 1.0
    vectors = np.stack([bag_of_words(c.doc) for c in pool])
    chosen: list[int] = []
    max_sim = np.zeros(len(pool), dtype="float32")
    available = np.ones(len(pool), dtype=bool)
    gain = np.array([c.uncertainty / top for c in pool], dtype="float32")
    for _ in range(n):
        value = np.where(available, (1.0 - diversity) * gain - diversity * max_sim, -np.inf)
        best = int(np.argmax(value))
        chosen.append(best)
        available[best] = False
        max_sim = np.maximum(max_sim, vectors @ vectors[best])
    return [pool[i] for i in chosen]


def select(
    model,
    pool_texts: Iterable[str],
    n: int,
    strategy: str = "least_confidence",
    diversity: float = 0.0,
    seed: int = 0,
    batch_size: int = 256,
    nlp=None,
) -> list[Candidate]:

    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    check_pick(n, diversity)  # before the pool is scored
    nlp = nlp or load_pipeline(model)
    if "crf_ner" not in nlp.pipe_names:
        raise ValueError(f"{model or 'the pipeline'}: select needs a pipeline with a crf_ner component")
    return pick(score_pool(nlp, pool_texts, strategy, batch_size), n, diversity, seed)


def select_file(
    model,
    pool_path,
    output,
    n: int,
    strategy: str = "least_confidence",
    diversity: float = 0.0,
    output_format: Optional[str] = None,
    column: str = "text",
    seed: int = 0,
) -> dict:
    """Select from a raw-text pool file and write the picked docs (with the
    model's pre-annotations, rank and uncertainty in their meta) in any
    writable format. Pool records that cannot be read are counted, not used."""
    formats = get_plugins().formats()
    output = Path(output)
    output_format = output_format or format_for_path(output, formats)
    base, _ = split_extension(output, formats[output_format].extensions if output_format in formats else ())
    errors_path = output.with_name(f"{base}.errors.jsonl")
    check_output(output)
    check_output(errors_path, "errors file")
    check_apart([pool_path], {"output": output, "errors file": errors_path})
    inputs = Inputs(pool_path, column)
    records, errors = [], []
    for record in inputs:
        (errors if record.error else records).append(record)
    chosen = select(model, (r.text for r in records), n, strategy, diversity, seed)
    with atomic_path(errors_path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        for record in errors:
            out.write(
                json.dumps({"id": record.id, "error": record.error, "raw": record.raw}, ensure_ascii=False) + "\n"
            )
    docs = []
    for rank, c in enumerate(chosen, start=1):
        c.doc.user_data[META_KEY] = {
            **records[c.index].meta,
            "autolabel_id": records[c.index].id,
            "rank": rank,
            "strategy": strategy,
            "uncertainty": round(c.uncertainty, 6),
        }
        docs.append(c.doc)
    with atomic_path(output) as tmp:
        write_docs(docs, tmp, output_format)
    return {
        "pool": len(records) + len(errors),
        "unreadable": len(errors),
        "selected": len(docs),
        "output": str(output),
        "errors": str(errors_path),
    }
