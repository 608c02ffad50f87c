"""Batch glue between a component and the CRF math: padding, loss, decoding.

The CRF runs in float64: it is cheap next to the encoder (K is small) and
keeps log-partition values of long documents exact. Every function takes
the CRF layer (``crf_layer.py``) and the emissions of a batch of docs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
import torch
from thinc.api import Model
from thinc.types import Floats2d

from . import crf
from .crf_layer import add_crf_grads, get_crf_params, get_scheme
from .torch_bridge import op_threads

DTYPE = torch.float64


@dataclass
class DocPrediction:
    """The decoding of one doc."""

    spans: list  # [(start, end, label, confidence)]
    sequence_prob: float  # posterior probability of the whole decoded tag sequence
    marginals: Optional[np.ndarray] = None  # [n_tokens, n_tags]
    # [(start, end, probability that the decoded tags of tokens start..end-1 are right)]
    segment_probs: Optional[list] = None


def _pad(arrays: Sequence[np.ndarray], K: int, dtype="float32") -> tuple[np.ndarray, torch.Tensor]:
    """``[n_i, K]`` arrays as one zero-padded ``[B, T, K]`` array (one
    scatter, no loop over the docs) and the ``[B, T]`` mask of real tokens."""
    lengths = np.fromiter((a.shape[0] for a in arrays), dtype=np.int64, count=len(arrays))
    T = int(lengths.max(initial=0))
    padded = np.zeros((len(arrays), T, K), dtype=dtype)
    mask = np.arange(T)[None, :] < lengths[:, None]
    if lengths.sum():
        padded[mask] = np.concatenate([np.asarray(a) for a in arrays], axis=0)
    return padded, torch.from_numpy(mask)


def _unpad(padded: np.ndarray, mask: torch.Tensor) -> List[np.ndarray]:
    """The inverse of :func:`_pad`: one ``[n_i, K]`` array per doc (views
    of one contiguous array)."""
    lengths = mask.sum(1).numpy()
    return np.split(np.ascontiguousarray(padded[mask.numpy()]), np.cumsum(lengths)[:-1])


@op_threads()
def crf_loss(
    layer: Model, emissions: List[Floats2d], gold: List[np.ndarray], per_token: bool = False
) -> tuple[float, List[Floats2d]]:
    """NLL of the gold tag sets (one bool ``[n_tokens, n_tags]`` per doc,
    several True values where the gold tag is unknown), summed over the docs,
    or divided by the batch's number of tokens if ``per_token``; the emission
    gradients, and the transition gradients added to ``layer``.

    The loss is ``log Z - log Z(gold)``, the second partition function over
    the paths the gold allows (the other tags' emissions made impossible).
    Both come from one forward-backward pass over the batch stacked twice,
    and so do their gradients (posteriors: see
    :func:`crf.log_partition_gradients`), without an autograd graph."""
    K = layer.get_dim("nO")
    padded, mask = _pad(emissions, K)
    allowed, _ = _pad(gold, K, dtype=bool)
    em = torch.from_numpy(padded).to(DTYPE)
    clamped = em.masked_fill(~torch.from_numpy(allowed), crf.IMPOSSIBLE)
    B = len(emissions)
    scale = 1.0 / max(1, int(mask.sum())) if per_token else 1.0
    weights = torch.cat([em.new_full((B,), scale), em.new_full((B,), -scale)])
    params = get_crf_params(layer, dtype=DTYPE)
    grads = crf.log_partition_gradients(torch.cat([em, clamped]), torch.cat([mask, mask]), params, weights)
    loss = scale * float((grads.log_z[:B] - grads.log_z[B:]).sum())
    # the gold's partition depends on the emissions it allows only
    d_em = grads.emissions[:B] + grads.emissions[B:] * torch.from_numpy(allowed)
    add_crf_grads(layer, grads.transitions, grads.start, grads.end)
    return loss, _unpad(d_em.to(torch.float32).numpy(), mask)


def _scaled(params: crf.CRFParams, temperature: float) -> crf.CRFParams:
    if temperature == 1.0:
        return params
    return crf.CRFParams(
        params.transitions / temperature,
        params.start / temperature,
        params.end / temperature,
        params.allowed,
        params.allowed_start,
        params.allowed_end,
    )


@op_threads()
def viterbi_spans(layer: Model, emissions: List[Floats2d]):
    """Best tag sequence of each doc as spans, its unnormalised score and
    the tags themselves ``[B, T]`` (padded)."""
    scheme = get_scheme(layer)
    padded, mask = _pad(emissions, len(scheme.tags))
    em = torch.from_numpy(padded).to(DTYPE)
    params = get_crf_params(layer, dtype=DTYPE)
    with torch.no_grad():
        best, best_score = crf.viterbi(em, mask, params)
    spans = [
        scheme.tags_to_spans([scheme.tags[k] for k in best[i, : e.shape[0]].tolist()]) for i, e in enumerate(emissions)
    ]
    return spans, best_score, best


@op_threads()
def posteriors(
    layer: Model,
    emissions: List[Floats2d],
    spans,
    best_score: Optional[torch.Tensor],
    temperature: float = 1.0,
    with_marginals: bool = False,
    best: Optional[torch.Tensor] = None,
    ranges: Optional[Sequence] = None,
):
    """Posterior probability of each span, of each doc's decoded sequence
    (given its Viterbi ``best_score``; None: no sequence probabilities),
    (optionally) per-token marginals and, given the decoded tags ``best``
    and token ranges per doc (``ranges``, e.g. its sentences), the
    probability that each range's decoded tags are all right; all CRF scores
    divided by ``temperature`` (the calibration; it never changes the Viterbi
    path)."""
    scheme = get_scheme(layer)
    padded, mask = _pad(emissions, len(scheme.tags))
    em = torch.from_numpy(padded).to(DTYPE) / temperature
    params = _scaled(get_crf_params(layer, dtype=DTYPE), temperature)
    rows = [[i, s, t, *scheme.segment(s, t, label)] for i, doc_spans in enumerate(spans) for s, t, label in doc_spans]
    with torch.no_grad():
        alphas, log_z = crf.forward_scores(em, mask, params)
        betas = crf.backward_scores(em, mask, params)
        segments = torch.tensor(rows, dtype=torch.long).reshape(-1, 7)
        probs = crf.segment_log_probs(em, mask, params, segments, alphas, betas, log_z).exp().tolist()
        seq_probs = (
            torch.exp(best_score / temperature - log_z).clamp(max=1.0).tolist() if best_score is not None else None
        )
        marginals = torch.softmax(alphas + betas, dim=2).float().numpy() if with_marginals else None
        range_probs = None
        if best is not None and ranges is not None:
            rows = [[i, s, e] for i, doc_ranges in enumerate(ranges) for s, e in doc_ranges]
            segments = torch.tensor(rows, dtype=torch.long).reshape(-1, 3)
            flat = (
                crf.path_segment_log_probs(em, mask, params, best, segments, alphas, betas, log_z)
                .exp()
                .clamp(max=1.0)
                .tolist()
            )
            range_probs, pos = [], 0
            for doc_ranges in ranges:
                range_probs.append([(s, e, p) for (s, e), p in zip(doc_ranges, flat[pos : pos + len(doc_ranges)])])
                pos += len(doc_ranges)
    span_probs, pos = [], 0
    for doc_spans in spans:
        span_probs.append(probs[pos : pos + len(doc_spans)])
        pos += len(doc_spans)
    return span_probs, seq_probs, marginals, range_probs


def clamp(layer: Model, emissions: List[Floats2d], constraints: Sequence) -> List[Floats2d]:
    """Emissions that allow only the given tags: per doc, ``(start, end,
    label)`` ranges that must be one entity of ``label``; the scores of
    every other tag at those tokens become impossible."""
    scheme = get_scheme(layer)
    out = []
    for em, doc_constraints in zip(emissions, constraints):
        if not doc_constraints:
            out.append(em)
            continue
        em = np.array(em, copy=True)
        for start, end, label in doc_constraints:
            first, inside, last, _ = scheme.segment(start, end, label)
            tags = [first] + [inside] * (end - start - 2) + ([last] if end - start > 1 else [])
            for t, k in zip(range(start, end), tags):
                keep = em[t, k]
                em[t] = crf.IMPOSSIBLE
                em[t, k] = keep
        out.append(em)
    return out


# Docs are decoded in groups of similar length: the CRF loops over the
# longest doc of a group, so sorting first avoids running every short doc
# through the padding of the longest one in the batch.
DECODE_GROUP = 32


def decode(
    layer: Model,
    emissions: List[Floats2d],
    with_marginals: bool,
    temperature: float = 1.0,
    ranges: Optional[Sequence] = None,
) -> List[DocPrediction]:
    """Viterbi tags -> spans with their posterior probabilities; with
    ``ranges`` (token ranges per doc, such as its sentences), also the
    probability that each range is tagged exactly right."""
    out: list = [None] * len(emissions)
    order = sorted(range(len(emissions)), key=lambda i: emissions[i].shape[0])
    step = DECODE_GROUP or len(order) or 1
    for g in range(0, len(order), step):
        idx = order[g : g + step]
        group = [emissions[i] for i in idx]
        spans, best_score, best = viterbi_spans(layer, group)
        group_ranges = [ranges[i] for i in idx] if ranges is not None else None
        span_probs, seq_probs, marginals, range_probs = posteriors(
            layer, group, spans, best_score, temperature, with_marginals, best, group_ranges
        )
        for j, i in enumerate(idx):
            scored = [(s, t, label, p) for (s, t, label), p in zip(spans[j], span_probs[j])]
            doc_marg = marginals[j, : group[j].shape[0]].copy() if marginals is not None else None
            out[i] = DocPrediction(scored, seq_probs[j], doc_marg, range_probs[j] if range_probs is not None else None)
    return out
