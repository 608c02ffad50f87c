"""Reference definitions that tests check the product against, kept out of
the package (nothing in it uses them): the CRF's log-likelihood from its
textbook definition, and what a valid tag sequence of a scheme is."""

from __future__ import annotations

from typing import Sequence

import torch

from autolabel_spacy.ml.crf import CRFParams, forward_scores


def log_partition(emissions: torch.Tensor, mask: torch.Tensor, params: CRFParams) -> torch.Tensor:
    """log Z for each sequence, shape ``[B]`` (the forward algorithm's)."""
    return forward_scores(emissions, mask, params)[1]


def sequence_score(emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor, params: CRFParams) -> torch.Tensor:
    """Unnormalised score of the given tag sequences, shape ``[B]``: their
    emissions, start, transitions and end, the scheme's constraints added."""
    trans, start, end = params.constrained()
    B, T, K = emissions.shape
    if T == 0:
        return emissions.new_zeros(B)
    maskf = mask.to(emissions.dtype)
    tags = tags.masked_fill(~mask, 0)
    emit = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # shape: [B, T]
    score = (emit * maskf).sum(1) + start[tags[:, 0]] * maskf[:, 0]
    if T > 1:
        step = trans[tags[:, :-1], tags[:, 1:]]  # shape: [B, T-1]
        score = score + (step * maskf[:, 1:]).sum(1)
    lengths = mask.sum(1)
    last = tags.gather(1, (lengths - 1).clamp(min=0).unsqueeze(1)).squeeze(1)
    return score + end[last] * maskf[:, 0]


def nll(
    emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor, params: CRFParams, reduction: str = "sum"
) -> torch.Tensor:
    """Negative log-likelihood of gold ``tags`` [B, T], by autograd-able
    torch ops: log Z minus the gold sequence's score."""
    losses = log_partition(emissions, mask, params) - sequence_score(emissions, tags, mask, params)
    return {"none": losses, "mean": losses.mean(), "sum": losses.sum()}[reduction]


def is_valid(scheme, tags: Sequence[str]) -> bool:
    """Whether ``tags`` is a sequence ``scheme`` allows: its first tag may
    start, its last may end, and each follows the one before."""
    if not tags:
        return True
    index = scheme.tag_index()
    ids = [index[t] for t in tags]
    allowed = scheme.allowed_transitions()
    return bool(
        scheme.allowed_start()[ids[0]]
        and scheme.allowed_end()[ids[-1]]
        and all(allowed[a, b] for a, b in zip(ids, ids[1:]))
    )
