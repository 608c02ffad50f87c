"""Linear-chain CRF math in PyTorch: batched, masked, constrained.

Pure torch: no spaCy or thinc imports, so it can be tested and reused on its own.
All functions take the CRF parameters explicitly (``CRFParams``) so that the
same code serves the thinc layer (whose parameters live in thinc) and tests.

Conventions
-----------
* ``emissions``: ``[B, T, K]`` float scores, batch first.
* ``mask``: ``[B, T]`` bool, left-aligned (every sequence is a prefix of True).
  Sequences of length 0 are allowed: their log partition is 0 and they have
  no tags.
* Forbidden transitions (from the tag scheme) are *added* as ``IMPOSSIBLE`` to
  the scores before every computation, so training (partition function),
  decoding (Viterbi) and marginals (forward-backward) all obey them.
* Computations run in float32 or float64 (whatever the emissions are); the CRF
  itself should be kept in fp32 or better.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

# Score added to a forbidden transition. Finite (not -inf) so that gradients
# and log-sum-exp stay NaN-free; exp(IMPOSSIBLE) underflows to exactly 0 in
# fp32 and fp64, so forbidden paths carry no probability mass.
IMPOSSIBLE = -1.0e4


@dataclass
class CRFParams:
    """Scores of a linear-chain CRF with K tags.

    ``transitions[i, j]`` scores moving from tag i to tag j; ``start``/``end``
    score the first/last tag. The ``allowed*`` bool tensors encode the tag
    scheme's constraints (None means everything is allowed).
    """

    transitions: torch.Tensor  # shape: [K, K]
    start: torch.Tensor  # shape: [K]
    end: torch.Tensor  # shape: [K]
    allowed: Optional[torch.Tensor] = None  # shape: [K, K] bool
    allowed_start: Optional[torch.Tensor] = None  # shape: [K] bool
    allowed_end: Optional[torch.Tensor] = None  # shape: [K] bool

    @property
    def num_tags(self) -> int:
        return self.transitions.shape[0]

    def constrained(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Transition, start and end scores with forbidden moves set to IMPOSSIBLE."""
        return (
            _apply(self.transitions, self.allowed),
            _apply(self.start, self.allowed_start),
            _apply(self.end, self.allowed_end),
        )


def _apply(scores: torch.Tensor, allowed: Optional[torch.Tensor]) -> torch.Tensor:
    if allowed is None:
        return scores
    penalty = torch.zeros_like(scores).masked_fill(~allowed, IMPOSSIBLE)
    return scores + penalty


class _LogMatmul:
    """``log(exp(x) @ exp(trans))`` for ``x`` ``[B, K]``, the step of the
    forward and backward algorithms, as one matrix product: each row of
    ``x`` is shifted by its maximum before ``exp`` (so no value exceeds 1)
    and the shift added back after ``log``. It costs a third of a
    ``logsumexp`` over a ``[B, K, K]`` tensor, and the CRF loops over every
    position. A forbidden move (``IMPOSSIBLE``) has ``exp`` exactly 0; a
    tag no allowed move reaches gets the log of the dtype's smallest normal
    number instead of minus infinity, so nothing downstream becomes NaN."""

    def __init__(self, trans: torch.Tensor) -> None:
        self.exp_trans = trans.exp()
        self.tiny = torch.finfo(trans.dtype).tiny

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shift = x.amax(dim=1, keepdim=True)
        return ((x - shift).exp() @ self.exp_trans).clamp_min(self.tiny).log() + shift

    def backward(self, x: torch.Tensor) -> torch.Tensor:
        """``log(exp(trans) @ exp(x))`` per row: the sum over the next tag."""
        shift = x.amax(dim=1, keepdim=True)
        return ((x - shift).exp() @ self.exp_trans.T).clamp_min(self.tiny).log() + shift


def _check(emissions: torch.Tensor, mask: torch.Tensor, params: CRFParams) -> None:
    if emissions.dim() != 3:
        raise ValueError(f"emissions must be [B, T, K], got shape {tuple(emissions.shape)}")
    if mask.shape != emissions.shape[:2]:
        raise ValueError(f"mask shape {tuple(mask.shape)} does not match emissions {tuple(emissions.shape[:2])}")
    if emissions.shape[2] != params.num_tags:
        raise ValueError(f"emissions have {emissions.shape[2]} tags but the CRF has {params.num_tags}")


def forward_scores(emissions: torch.Tensor, mask: torch.Tensor, params: CRFParams) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward algorithm in log space.

    Returns ``(alphas, log_z)``: alphas ``[B, T, K]`` are the log sums of all
    prefixes ending in tag k at position t (emission at t included; positions
    past a sequence's end repeat its last value) and ``log_z`` ``[B]`` the log
    partition function.
    """
    _check(emissions, mask, params)
    trans, start, end = params.constrained()
    B, T, K = emissions.shape
    if T == 0:
        return emissions.new_zeros(B, 0, K), emissions.new_zeros(B)
    alpha = start + emissions[:, 0]  # shape: [B, K]
    alphas = [alpha]
    step = _LogMatmul(trans)
    for t in range(1, T):
        # log sum_i exp(alpha(i) + trans(i, j)): [B, K(from)] -> [B, K(to)]
        nxt = step.forward(alpha) + emissions[:, t]
        alpha = torch.where(mask[:, t].unsqueeze(1), nxt, alpha)
        alphas.append(alpha)
    log_z = torch.logsumexp(alpha + end, dim=1)  # shape: [B]
    has_tokens = mask[:, 0]
    return torch.stack(alphas, dim=1), torch.where(has_tokens, log_z, torch.zeros_like(log_z))


@dataclass
class PartitionGradients:
    """log Z of each sequence and its exact gradients (see :func:`log_partition_gradients`)."""

    log_z: torch.Tensor  # shape: [B]
    emissions: torch.Tensor  # shape: [B, T, K], each sequence's scaled by its weight
    transitions: torch.Tensor  # shape: [K, K], weighted sum over the batch
    start: torch.Tensor  # shape: [K], weighted sum over the batch
    end: torch.Tensor  # shape: [K], weighted sum over the batch


# Largest number of elements of the [B, chunk, K, K] pair-posterior tensor
# built at once when the transition gradients are summed.
PAIR_CHUNK = 1 << 20


def log_partition_gradients(
    emissions: torch.Tensor, mask: torch.Tensor, params: CRFParams, weights: Optional[torch.Tensor] = None
) -> PartitionGradients:
    """log Z and its gradients from one forward-backward pass, with no
    autograd graph. The gradient of log Z is a posterior: with respect to
    ``emissions[b, t, k]`` it is ``P(y_t = k)``, to ``transitions[i, j]``
    the expected number of ``i -> j`` steps, to ``start[k]`` and
    ``end[k]`` the probability that the first or last tag is k. Each
    sequence's gradients are multiplied by its ``weights[b]`` (default 1)
    and the parameters' are summed over the batch, so a loss that is a
    weighted sum of log partitions (such as ``log Z - log Z(gold)``) gets
    its gradients from one call. The transition gradients are with respect
    to the unconstrained scores (a forbidden move has probability 0)."""
    _check(emissions, mask, params)
    trans, _, _ = params.constrained()
    B, T, K = emissions.shape
    w = emissions.new_ones(B) if weights is None else weights.to(emissions.dtype)
    if T == 0:
        zero = emissions.new_zeros
        return PartitionGradients(zero(B), zero(B, 0, K), zero(K, K), zero(K), zero(K))
    with torch.no_grad():
        alphas, log_z = forward_scores(emissions, mask, params)
        betas = backward_scores(emissions, mask, params)
        # sum_k exp(alpha_t(k) + beta_t(k)) is Z at every position t, so a
        # softmax per position is exact (as in :func:`marginals`)
        node = torch.softmax(alphas + betas, dim=2) * mask.unsqueeze(2)
        d_emissions = node * w.view(B, 1, 1)
        d_start = w @ node[:, 0]
        last = (mask.sum(1) - 1).clamp(min=0)
        d_end = w @ node[torch.arange(B), last]  # a sequence of no tokens has a zero row
        d_trans = emissions.new_zeros(K, K)
        # P(y_{t-1} = i, y_t = j) for t >= 1, also exact per position
        left, right = alphas[:, :-1], emissions[:, 1:] + betas[:, 1:]
        step_weights = mask[:, 1:] * w.view(B, 1)  # shape: [B, T-1]
        chunk = max(1, PAIR_CHUNK // max(1, B * K * K))
        for s in range(0, T - 1, chunk):
            scores = left[:, s : s + chunk].unsqueeze(3) + trans + right[:, s : s + chunk].unsqueeze(2)
            pairs = torch.softmax(scores.flatten(2), dim=2).view_as(scores)
            d_trans += torch.einsum("bt,btij->ij", step_weights[:, s : s + chunk], pairs)
    return PartitionGradients(log_z, d_emissions, d_trans, d_start, d_end)


def backward_scores(emissions: torch.Tensor, mask: torch.Tensor, params: CRFParams) -> torch.Tensor:
    """Backward algorithm: ``betas[b, t, k]`` = log sum of all suffixes after
    position t given tag k at t (emission at t excluded, end score included)."""
    trans, _, end = params.constrained()
    B, T, K = emissions.shape
    if T == 0:
        return emissions.new_zeros(B, 0, K)
    beta = end.expand(B, K)
    betas = [beta]
    step = _LogMatmul(trans)
    for t in range(T - 2, -1, -1):
        # log sum_j exp(trans(i, j) + emission(j) + beta(j)): [B, K(to)] -> [B, K(from)]
        nxt = step.backward(emissions[:, t + 1] + beta)
        beta = torch.where(mask[:, t + 1].unsqueeze(1), nxt, beta)
        betas.append(beta)
    betas.reverse()
    return torch.stack(betas, dim=1)


def viterbi(emissions: torch.Tensor, mask: torch.Tensor, params: CRFParams) -> tuple[torch.Tensor, torch.Tensor]:
    """Best tag sequence per batch item: ``(tags [B, T], best_scores [B])``.

    Positions past a sequence's end are filled with 0 and must be ignored.
    """
    _check(emissions, mask, params)
    trans, start, end = params.constrained()
    B, T, K = emissions.shape
    if T == 0:
        return torch.zeros(B, 0, dtype=torch.long), emissions.new_zeros(B)
    score = start + emissions[:, 0]  # shape: [B, K]
    identity = torch.arange(K, device=emissions.device).expand(B, K)
    pointers = []
    for t in range(1, T):
        # shape: [B, K(from), K(to)]
        cand = score.unsqueeze(2) + trans.unsqueeze(0)
        best, arg = cand.max(dim=1)  # shape: [B, K(to)]
        step_mask = mask[:, t].unsqueeze(1)
        score = torch.where(step_mask, best + emissions[:, t], score)
        # Past the end, point each tag to itself so the backtrace passes through.
        pointers.append(torch.where(step_mask, arg, identity))
    final = score + end
    best_scores, last = final.max(dim=1)  # shape: [B]
    tags = [last]
    for ptr in reversed(pointers):
        last = ptr.gather(1, last.unsqueeze(1)).squeeze(1)
        tags.append(last)
    tags.reverse()
    out = torch.stack(tags, dim=1).masked_fill(~mask, 0)
    best_scores = torch.where(mask[:, 0], best_scores, torch.zeros_like(best_scores))
    return out, best_scores


def marginals(emissions: torch.Tensor, mask: torch.Tensor, params: CRFParams) -> torch.Tensor:
    """Per-token tag posteriors ``P(y_t = k | x)``, shape ``[B, T, K]``; zero past the end."""
    alphas, _ = forward_scores(emissions, mask, params)
    betas = backward_scores(emissions, mask, params)
    # sum_k exp(alpha_t(k) + beta_t(k)) equals Z at every t, so normalising per
    # position is exact and avoids subtracting the (large) log Z in fp32.
    probs = torch.softmax(alphas + betas, dim=2)
    return torch.where(mask.unsqueeze(2), probs, torch.zeros_like(probs))


def _forward_backward(emissions, mask, params, alphas, betas, log_z):
    """The forward and backward scores a caller already has, the others computed."""
    if alphas is None or log_z is None:
        alphas, log_z = forward_scores(emissions, mask, params)
    if betas is None:
        betas = backward_scores(emissions, mask, params)
    return alphas, betas, log_z


def path_segment_log_probs(
    emissions: torch.Tensor,
    mask: torch.Tensor,
    params: CRFParams,
    tags: torch.Tensor,
    segments: torch.Tensor,
    alphas: Optional[torch.Tensor] = None,
    betas: Optional[torch.Tensor] = None,
    log_z: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """Log posterior probability that positions ``start .. end-1`` carry
    exactly the tags of ``tags`` ``[B, T]`` (for example the Viterbi path),
    whatever the tags elsewhere: how sure the model is of one sentence of a
    document. ``segments`` is a long tensor ``[N, 3]`` of rows ``(batch,
    start, end)``. Closed form from forward/backward scores:
    ``alpha_s(y_s) + sum_{s<t<e} (trans(y_{t-1}, y_t) + em_t(y_t)) +
    beta_{e-1}(y_{e-1}) - log Z``.
    """
    trans, _, _ = params.constrained()
    alphas, betas, log_z = _forward_backward(emissions, mask, params, alphas, betas, log_z)
    if segments.numel() == 0:
        return emissions.new_zeros(0)
    b, s, e = segments.unbind(1)
    B, T, K = emissions.shape
    if bool((e <= s).any()) or bool((e > mask.sum(1)[b]).any()):
        raise ValueError("segments must be non-empty and inside their sequence")
    # step[b, t]: what position t adds to the path score (t >= 1)
    emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)
    step = torch.zeros_like(emitted)
    if T > 1:
        step[:, 1:] = trans[tags[:, :-1], tags[:, 1:]] + emitted[:, 1:]
    cum = torch.cat([emissions.new_zeros(B, 1), step.cumsum(1)], dim=1)  # cum[b, t] = sum of step[b, :t]
    inside = cum[b, e] - cum[b, s + 1]
    return alphas[b, s, tags[b, s]] + inside + betas[b, e - 1, tags[b, e - 1]] - log_z[b]


def segment_log_probs(
    emissions: torch.Tensor,
    mask: torch.Tensor,
    params: CRFParams,
    segments: torch.Tensor,
    alphas: Optional[torch.Tensor] = None,
    betas: Optional[torch.Tensor] = None,
    log_z: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """Log posterior probability that a segment is labelled exactly as given.

    ``segments`` is a long tensor ``[N, 7]`` with rows
    ``(batch, start, end, first_tag, inside_tag, last_tag, stop_tag)``: the
    tags on positions ``start .. end-1`` are ``first_tag``, then
    ``inside_tag`` repeated, then ``last_tag`` (for one-token segments only
    ``first_tag`` is used, so first and last must agree). If ``stop_tag >= 0``
    the tag at position ``end`` (when it exists) must *not* be ``stop_tag``:
    this is how a BIO span "ends" (the next tag is not its I- tag). With BILUO
    the span is closed by its L-/U- tag and ``stop_tag`` is -1.

    Computed in closed form from forward/backward scores, so the cost is O(N)
    after one forward-backward pass.
    """
    trans, _, _ = params.constrained()
    alphas, betas, log_z = _forward_backward(emissions, mask, params, alphas, betas, log_z)
    if segments.numel() == 0:
        return emissions.new_zeros(0)
    b, s, e, first, inside, last, stop = segments.unbind(1)
    B, T, K = emissions.shape
    lengths = mask.sum(1)[b]
    n = e - s
    if bool((n < 1).any()) or bool((e > lengths).any()):
        raise ValueError("segments must be non-empty and inside their sequence")
    # Cumulative emissions, so the sum over the inside run is one subtraction.
    cum = torch.cat([emissions.new_zeros(B, 1, K), emissions.cumsum(1)], dim=1)  # shape: [B, T+1, K]
    one = n == 1
    score = alphas[b, s, first]
    # two or more tokens: first -> (inside * (n-2)) -> last
    n_inside = (n - 2).clamp(min=0).to(emissions.dtype)
    inside_emit = cum[b, (e - 1).clamp(min=0), inside] - cum[b, (s + 1).clamp(max=T), inside]
    inside_emit = torch.where(n > 2, inside_emit, torch.zeros_like(inside_emit))
    multi = torch.where(
        n > 2,
        trans[first, inside] + (n_inside - 1).clamp(min=0) * trans[inside, inside] + trans[inside, last],
        trans[first, last],
    )
    last_emit = emissions[b, (e - 1), last]
    score = score + torch.where(one, torch.zeros_like(score), multi + inside_emit + last_emit)
    # Close the segment.
    end_tag = torch.where(one, first, last)
    plain_close = betas[b, e - 1, end_tag]
    has_next = e < lengths
    nxt_pos = e.clamp(max=T - 1)
    # logsumexp over next tags k != stop of trans[end_tag, k] + emit[e, k] + beta[e, k]
    nxt_scores = trans[end_tag] + emissions[b, nxt_pos] + betas[b, nxt_pos]  # shape: [N, K]
    banned = torch.nn.functional.one_hot(stop.clamp(min=0), K).bool() & (stop >= 0).unsqueeze(1)
    nxt_scores = nxt_scores.masked_fill(banned, IMPOSSIBLE)
    stop_close = torch.logsumexp(nxt_scores, dim=1)
    close = torch.where((stop >= 0) & has_next, stop_close, plain_close)
    return score + close - log_z[b]
