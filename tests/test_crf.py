"""CRF math against brute-force enumeration of every tag sequence."""

import itertools

import oracles
import pytest
import torch

from autolabel_spacy.ml import crf
from autolabel_spacy.schemes import TagScheme


@pytest.fixture(autouse=True)
def float64():
    """Brute-force comparisons in float64; restored afterwards for other tests."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def make_params(K, scheme=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    params = crf.CRFParams(
        transitions=torch.randn(K, K, generator=g),
        start=torch.randn(K, generator=g),
        end=torch.randn(K, generator=g),
    )
    if scheme is not None:
        params.allowed = torch.from_numpy(scheme.allowed_transitions())
        params.allowed_start = torch.from_numpy(scheme.allowed_start())
        params.allowed_end = torch.from_numpy(scheme.allowed_end())
    return params


def is_allowed(seq, params):
    if params.allowed is None:
        return True
    return bool(
        params.allowed_start[seq[0]]
        and params.allowed_end[seq[-1]]
        and all(params.allowed[a, b] for a, b in zip(seq, seq[1:]))
    )


def raw_score(em, seq, params):
    s = params.start[seq[0]] + params.end[seq[-1]] + sum(em[t, k] for t, k in enumerate(seq))
    return s + sum(params.transitions[a, b] for a, b in zip(seq, seq[1:]))


def enumerate_valid(em, params):
    """All allowed sequences with their (unconstrained) scores."""
    L, K = em.shape
    out = []
    for seq in itertools.product(range(K), repeat=L):
        if is_allowed(seq, params):
            out.append((seq, raw_score(em, seq, params)))
    return out


def batch(lengths, K, seed=0):
    g = torch.Generator().manual_seed(seed + 100)
    T = max(lengths)
    em = torch.randn(len(lengths), T, K, generator=g) * 2
    mask = torch.zeros(len(lengths), T, dtype=torch.bool)
    for i, n in enumerate(lengths):
        mask[i, :n] = True
        em[i, n:] = 1e3  # padding garbage must be ignored
    return em, mask


SCHEMES = [None, TagScheme("BIO", ("A", "B")), TagScheme("BILUO", ("A",))]


@pytest.mark.parametrize("scheme", SCHEMES, ids=["free", "BIO", "BILUO"])
def test_partition_viterbi_marginals_match_brute_force(scheme):
    K = 3 if scheme is None else len(scheme.tags)
    lengths = [4, 1, 3, 0] if K <= 5 else [3, 1, 2, 0]
    params = make_params(K, scheme)
    em, mask = batch(lengths, K)
    log_z = oracles.log_partition(em, mask, params)
    tags, best = crf.viterbi(em, mask, params)
    probs = crf.marginals(em, mask, params)
    for i, n in enumerate(lengths):
        if n == 0:
            assert log_z[i] == 0 and best[i] == 0
            assert probs[i].sum() == 0
            continue
        seqs = enumerate_valid(em[i, :n], params)
        scores = torch.stack([s for _, s in seqs])
        assert torch.allclose(log_z[i], torch.logsumexp(scores, 0), atol=1e-8)
        best_seq, best_score = max(seqs, key=lambda x: x[1].item())
        assert tuple(tags[i, :n].tolist()) == best_seq
        assert torch.allclose(best[i], best_score)
        # marginals: brute-force posterior of each tag at each position
        post = torch.softmax(scores, 0)
        expect = torch.zeros(n, K)
        for (seq, _), p in zip(seqs, post):
            for t, k in enumerate(seq):
                expect[t, k] += p
        assert torch.allclose(probs[i, :n], expect, atol=1e-8)
        assert torch.allclose(probs[i, :n].sum(1), torch.ones(n), atol=1e-8)
        assert probs[i, n:].abs().sum() == 0


@pytest.mark.parametrize("scheme", SCHEMES[1:], ids=["BIO", "BILUO"])
def test_decoding_never_outputs_invalid_sequences(scheme):
    K = len(scheme.tags)
    params = make_params(K, scheme, seed=3)
    # Strongly reward the forbidden moves: the constraint must still win.
    params.transitions = params.transitions + torch.from_numpy(~scheme.allowed_transitions()) * 50.0
    em, mask = batch([6, 5, 2, 1], K, seed=3)
    em = em * 10
    tags, _ = crf.viterbi(em, mask, params)
    probs = crf.marginals(em, mask, params)
    for i, n in enumerate([6, 5, 2, 1]):
        seq = [scheme.tags[k] for k in tags[i, :n].tolist()]
        assert oracles.is_valid(scheme, seq), seq
    # invalid first tags carry no probability mass
    bad_start = ~torch.from_numpy(scheme.allowed_start())
    assert probs[:, 0, bad_start].abs().max() == 0


def test_nll_matches_brute_force_and_is_constrained_in_training():
    scheme = TagScheme("BIO", ("A",))
    K = len(scheme.tags)
    params = make_params(K, scheme, seed=5)
    em, mask = batch([3, 2], K, seed=5)
    gold = torch.tensor([[1, 2, 0], [0, 1, 0]])
    loss = oracles.nll(em, gold, mask, params, reduction="none")
    for i, n in enumerate([3, 2]):
        seqs = enumerate_valid(em[i, :n], params)
        log_z = torch.logsumexp(torch.stack([s for _, s in seqs]), 0)
        expect = log_z - raw_score(em[i, :n], tuple(gold[i, :n].tolist()), params)
        assert torch.allclose(loss[i], expect)
    # The partition function only sums allowed sequences: an O -> I path
    # (forbidden) contributes nothing, so its "probability" is ~0.
    bad = torch.tensor([[0, 2, 0], [0, 2, 0]])
    assert (oracles.nll(em, bad, mask, params, reduction="none") > 1000).all()


def test_gradients_match_finite_differences():
    scheme = TagScheme("BILUO", ("A",))
    K = len(scheme.tags)
    params = make_params(K, scheme, seed=7)
    em, mask = batch([4, 2, 3], K, seed=7)
    em = em.clone().masked_fill(~mask.unsqueeze(2), 0.0).requires_grad_()
    trans = params.transitions.clone().requires_grad_()
    gold = torch.tensor([[0, 1, 3, 0], [4, 0, 0, 0], [1, 2, 3, 0]])

    def f(e, tr):
        p = crf.CRFParams(tr, params.start, params.end, params.allowed, params.allowed_start, params.allowed_end)
        return oracles.nll(e, gold, mask, p)

    assert torch.autograd.gradcheck(f, (em, trans), eps=1e-6, atol=1e-5)
    # d nll / d emissions == marginals - one-hot(gold) on real tokens
    loss = f(em, trans)
    (g,) = torch.autograd.grad(loss, em)
    onehot = torch.nn.functional.one_hot(gold, K).double() * mask.unsqueeze(2)
    assert torch.allclose(g, crf.marginals(em.detach(), mask, params) - onehot, atol=1e-8)


@pytest.mark.parametrize("scheme", SCHEMES, ids=["free", "BIO", "BILUO"])
def test_partition_gradients_match_brute_force(scheme):
    """log Z and its gradients from one forward-backward pass, with each
    sequence's weight, against autograd through brute-force enumeration."""
    K = 3 if scheme is None else len(scheme.tags)
    lengths = [4, 1, 0, 3] if K <= 5 else [3, 1, 0, 2]
    params = make_params(K, scheme, seed=13)
    em, mask = batch(lengths, K, seed=13)
    weights = torch.tensor([0.5, -1.0, 2.0, 1.5])
    got = crf.log_partition_gradients(em, mask, params, weights)
    leaves = [
        em.clone().requires_grad_(),
        params.transitions.clone().requires_grad_(),
        params.start.clone().requires_grad_(),
        params.end.clone().requires_grad_(),
    ]
    e, tr, st, en = leaves
    p = crf.CRFParams(tr, st, en, params.allowed, params.allowed_start, params.allowed_end)
    total = 0.0
    for i, n in enumerate(lengths):
        if n == 0:
            assert got.log_z[i] == 0
            continue
        log_z = torch.logsumexp(
            torch.stack([raw_score(e[i, :n], seq, p) for seq, _ in enumerate_valid(em[i, :n], params)]), 0
        )
        assert torch.allclose(got.log_z[i], log_z.detach(), atol=1e-8)
        total = total + weights[i] * log_z
    d_em, d_tr, d_st, d_en = torch.autograd.grad(total, leaves)
    assert torch.allclose(got.emissions, d_em, atol=1e-8)  # zero on padding too
    assert torch.allclose(got.transitions, d_tr, atol=1e-8)
    assert torch.allclose(got.start, d_st, atol=1e-8)
    assert torch.allclose(got.end, d_en, atol=1e-8)
    # a small chunk of the pair posteriors at a time gives the same sums
    old, crf.PAIR_CHUNK = crf.PAIR_CHUNK, 1
    try:
        assert torch.allclose(
            crf.log_partition_gradients(em, mask, params, weights).transitions, got.transitions, atol=1e-12
        )
    finally:
        crf.PAIR_CHUNK = old


@pytest.mark.parametrize("scheme", SCHEMES[1:], ids=["BIO", "BILUO"])
def test_segment_probabilities_match_brute_force(scheme):
    K = len(scheme.tags)
    params = make_params(K, scheme, seed=11)
    lengths = [5, 3]
    em, mask = batch(lengths, K, seed=11)
    rows, expect = [], []
    for i, n in enumerate(lengths):
        seqs = enumerate_valid(em[i, :n], params)
        scores = torch.stack([s for _, s in seqs])
        post = torch.softmax(scores, 0)
        for start in range(n):
            for end in range(start + 1, n + 1):
                for label in scheme.labels:
                    first, inside, last, stop = scheme.segment(start, end, label)
                    rows.append([i, start, end, first, inside, last, stop])
                    p = 0.0
                    for (seq, _), q in zip(seqs, post):
                        names = [scheme.tags[k] for k in seq]
                        if (start, end, label) in scheme.tags_to_spans(names):
                            p += q
                    expect.append(p)
    got = crf.segment_log_probs(em, mask, params, torch.tensor(rows)).exp()
    assert torch.allclose(got, torch.tensor(expect, dtype=got.dtype), atol=1e-7)


@pytest.mark.parametrize("scheme", SCHEMES, ids=["free", "BIO", "BILUO"])
def test_path_segment_probabilities_match_brute_force(scheme):
    """P(tags of positions s..e-1 are those of a given path), summed over
    every allowed sequence that agrees there: for the Viterbi path (the
    confidence of a sentence of a document) and for another path."""
    K = 3 if scheme is None else len(scheme.tags)
    params = make_params(K, scheme, seed=5)
    lengths = [6, 4, 1]
    em, mask = batch(lengths, K, seed=5)
    best, _ = crf.viterbi(em, mask, params)
    for paths in (best, torch.roll(best, 1, dims=1).masked_fill(~mask, 0)):
        rows, expect = [], []
        for i, n in enumerate(lengths):
            seqs = enumerate_valid(em[i, :n], params)
            post = torch.softmax(torch.stack([s for _, s in seqs]), 0)
            path = paths[i, :n].tolist()
            for start in range(n):
                for end in range(start + 1, n + 1):
                    rows.append([i, start, end])
                    expect.append(
                        sum(float(q) for (seq, _), q in zip(seqs, post) if list(seq[start:end]) == path[start:end])
                    )
        got = crf.path_segment_log_probs(em, mask, params, paths, torch.tensor(rows)).exp()
        assert torch.allclose(got, torch.tensor(expect, dtype=got.dtype), atol=1e-7)
    # the whole sequence: the Viterbi path's own probability
    whole = torch.tensor([[i, 0, n] for i, n in enumerate(lengths)])
    log_z = oracles.log_partition(em, mask, params)
    assert torch.allclose(
        crf.path_segment_log_probs(em, mask, params, best, whole),
        oracles.sequence_score(em, best, mask, params) - log_z,
    )


@pytest.mark.slow
def test_long_sequences_many_labels_are_stable():
    labels = tuple(f"L{i}" for i in range(20))
    scheme = TagScheme("BILUO", labels)
    K = len(scheme.tags)
    params = make_params(K, scheme, seed=1)
    torch.manual_seed(0)
    em = torch.randn(2, 1500, K) * 20
    mask = torch.ones(2, 1500, dtype=torch.bool)
    mask[1, 1200:] = False
    log_z = oracles.log_partition(em, mask, params)
    probs = crf.marginals(em, mask, params)
    tags, best = crf.viterbi(em, mask, params)
    assert torch.isfinite(log_z).all() and torch.isfinite(probs).all()
    assert torch.allclose(probs[0].sum(-1), torch.ones(1500), atol=1e-6)
    assert torch.allclose(probs[1, :1200].sum(-1), torch.ones(1200), atol=1e-6)
    assert (best <= log_z + 1e-6).all()
    for i, n in enumerate([1500, 1200]):
        assert oracles.is_valid(scheme, [scheme.tags[k] for k in tags[i, :n].tolist()])
    # fp32 agrees with fp64 on the decode and (to 1e-2) on the marginals
    p32 = crf.CRFParams(
        params.transitions.float(),
        params.start.float(),
        params.end.float(),
        params.allowed,
        params.allowed_start,
        params.allowed_end,
    )
    probs32 = crf.marginals(em.float(), mask, p32)
    assert (probs32.double() - probs).abs().max() < 1e-2
    assert torch.equal(crf.viterbi(em.float(), mask, p32)[0], tags)
