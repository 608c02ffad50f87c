"""``autolabel.RelationScorer.v1``: a score per relation label for each
candidate pair of entities, from the token vectors of a shared encoder.

A candidate pair of entities (the mentions one concept id or text groups,
see ``autolabel_spacy/relations.py``) is scored mention pair by mention
pair, as BRAN does: a mention is the mean of its token vectors, a mention
pair is ``[head, child, head * child, features]`` with features the encoder
does not see (how many sentences lie between the two mentions, bucketed;
whether each is in the first sentence, a title; how often each entity is
mentioned), a maxout layer and a linear layer give it one logit per
relation label, and the pair's logit is the logsumexp of its mention pairs'.
A pair may hold several labels.

The pooling is written out with its gradient (cumulative sums,
scatter-adds, the softmax of the logsumexp; ``tests/test_relations.py``
checks it against finite differences) so that the gradient reaches the
encoder, a shared ``tok2vec`` through its listener included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc
from thinc.api import Dropout, Linear, Maxout, Model, chain, with_array
from thinc.types import Floats2d

from .bilstm import BiLSTM

DISTANCE_BUCKETS = (0, 1, 2, 4)  # sentences between two mentions: 0, 1, 2, 3-4, 5+
GAP_BUCKETS = (0, 3, 10)  # tokens between two mentions of one sentence: 0, 1-3, 4-10, 11+
SENTENCIZER = Sentencizer()
N_FEATURES = len(DISTANCE_BUCKETS) + 1 + 2 + 2 + len(GAP_BUCKETS) + 1 + 1


@dataclass
class Candidates:
    """The candidate pairs of one doc, as the model reads them.

    spans: ``[n_spans, 2]`` token start and end of each mention, then of
        the tokens between two mentions of one sentence.
    rows: ``[n_rows, 3]`` (head mention, child mention, the span between
        them or -1) of each mention pair of each candidate pair of entities.
    row_pair: ``[n_rows]`` the candidate pair each row belongs to, ascending.
    features: ``[n_rows, N_FEATURES]`` each row's own features.
    n_pairs: the number of candidate pairs of entities.
    """

    spans: np.ndarray
    rows: np.ndarray
    row_pair: np.ndarray
    features: np.ndarray
    n_pairs: int


def make_candidates(
    doc: Doc, entities: Sequence, pairs: Sequence[tuple[int, int]], sentence: Optional[np.ndarray] = None
) -> Candidates:
    """The model's input for ``pairs`` (indices into ``entities``, each with
    ``.mentions`` as token ranges) of ``doc``: every mention of the head
    with every mention of the child. ``sentence``: each token's sentence
    number (default :func:`sentence_ids` of the doc)."""
    index: dict[tuple[int, int], int] = {}
    for entity in entities:
        for mention in entity.mentions:
            index.setdefault(mention, len(index))
    sentence = sentence_ids(doc) if sentence is None else sentence
    rows, row_pair, features = [], [], []
    gap_at = len(DISTANCE_BUCKETS) + 1 + 4
    for p, (h, c) in enumerate(pairs):
        head, child = entities[h], entities[c]
        counts = (math.log1p(len(head.mentions)), math.log1p(len(child.mentions)))
        for hm in head.mentions:
            for cm in child.mentions:
                hs, cs = int(sentence[hm[0]]), int(sentence[cm[0]])
                row = np.zeros(N_FEATURES, dtype="float32")
                row[sum(abs(hs - cs) > b for b in DISTANCE_BUCKETS)] = 1.0
                row[gap_at - 4 : gap_at] = (hs == 0, cs == 0, *counts)
                between = -1
                if hs == cs:
                    gap = (min(hm[1], cm[1]), max(hm[0], cm[0]))  # the tokens between the two
                    row[gap_at + sum(max(gap[1] - gap[0], 0) > b for b in GAP_BUCKETS)] = 1.0
                    row[-1] = float(hm[0] < cm[0])  # the head comes first
                    if gap[1] > gap[0]:
                        between = index.setdefault(gap, len(index))
                rows.append((index[hm], index[cm], between))
                row_pair.append(p)
                features.append(row)
    return Candidates(
        spans=np.asarray(list(index), dtype="int64").reshape(-1, 2),
        rows=np.asarray(rows, dtype="int64").reshape(-1, 3),
        row_pair=np.asarray(row_pair, dtype="int64"),
        features=np.asarray(features, dtype="float32").reshape(-1, N_FEATURES),
        n_pairs=len(pairs),
    )


def build_relation_scorer(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 128,
    dropout: float = 0.1,
    nO: Optional[int] = None,
    lstm_depth: int = 0,
    lstm_width: int = 256,
    encoder_grad_scale: float = 1.0,
) -> Model:
    """``(docs, candidates) -> [n_pairs in all docs, n_labels]`` logits.

    tok2vec (Model): any spaCy tok2vec, a ``Tok2VecListener`` or a
        ``TransformerListener``.
    hidden_width (int): width of the maxout layer over a mention pair's vector.
    dropout (float): dropout of the maxout layer (``spacy train`` sets it
        to ``training.dropout``).
    nO (Optional[int]): number of relation labels; set from the labels.
    lstm_depth (int): BiLSTM layers of the head's own over the token vectors,
        so that a mention's vector carries the whole document's context (a
        window encoder sees a few tokens); 0: none.
    lstm_width (int): the BiLSTM's output width (both directions).
    encoder_grad_scale (float): the weight of this head's gradient on the
        token vectors it reads (a shared encoder's, through its listener):
        below 1 the relation loss moves a shared encoder less than the other
        heads' losses do; the head's own layers learn at full rate.
    """
    if encoder_grad_scale != 1.0:
        tok2vec = chain(tok2vec, scale_gradient(encoder_grad_scale))
    if lstm_depth > 0:
        tok2vec = chain(tok2vec, with_array(Dropout(dropout)), BiLSTM(nO=lstm_width, depth=lstm_depth))
    output = Linear(nO=nO)
    scorer = chain(Maxout(nO=hidden_width, nP=2, dropout=dropout, normalize=True), output)
    model = Model(
        "relation_scorer",
        _scorer_forward,
        init=_scorer_init,
        layers=[tok2vec, scorer],
        refs={"tok2vec": tok2vec, "output_layer": output, "scorer": scorer},
    )
    return model


def scale_gradient(factor: float) -> Model[List[Floats2d], List[Floats2d]]:
    """The identity on a list of arrays, whose backward pass multiplies the
    gradient by ``factor``."""
    if not factor >= 0.0:
        raise ValueError(f"encoder_grad_scale must be 0 or more, got {factor}")

    def forward(model: Model, X: List[Floats2d], is_train: bool):
        return X, lambda dY: [d * factor for d in dY]

    def init(model: Model, X=None, Y=None) -> None:
        widths = [x.shape[1] for x in X or [] if x.ndim == 2]
        if widths:
            model.set_dim("nI", widths[0])
            model.set_dim("nO", widths[0])

    return Model("scale_gradient", forward, init=init, dims={"nI": None, "nO": None}, attrs={"factor": factor})


def _scorer_init(model: Model, X=None, Y=None) -> None:
    tok2vec, scorer = model.get_ref("tok2vec"), model.get_ref("scorer")
    tok2vec.initialize(X=None if X is None else X[0])
    width = 4 * tok2vec.get_dim("nO") + N_FEATURES
    scorer.initialize(X=model.ops.alloc2f(2, width))


def _scorer_forward(model: Model, X, is_train: bool):
    """Mention-pair vectors -> logits per row -> logsumexp over each
    candidate pair's rows (a soft maximum: the mention pair that states the
    relation best decides, as in BRAN)."""
    docs, candidates = X
    tok2vec, scorer = model.get_ref("tok2vec"), model.get_ref("scorer")
    n_labels = model.get_ref("output_layer").get_dim("nO")
    tokvecs, backprop_tok2vec = tok2vec(docs, is_train)
    built = [_doc_rows(model.ops.to_numpy(v), c) for v, c in zip(tokvecs, candidates)]
    width = 4 * tok2vec.get_dim("nO") + N_FEATURES
    rows = np.concatenate([r for r, _ in built]) if built else np.zeros((0, width), dtype="float32")
    row_pair = np.concatenate(_offset_pairs(candidates)) if candidates else np.zeros(0, dtype="int64")
    n_pairs = sum(c.n_pairs for c in candidates)
    if not len(rows):
        return model.ops.alloc2f(n_pairs, n_labels), lambda d: backprop_tok2vec(
            [model.ops.alloc2f(*v.shape) for v in tokvecs]
        )
    row_logits, backprop_scorer = scorer(model.ops.asarray2f(rows), is_train)
    row_logits = model.ops.to_numpy(row_logits)
    top = np.full((n_pairs, n_labels), -np.inf, dtype="float32")
    np.maximum.at(top, row_pair, row_logits)
    weights = np.exp(row_logits - top[row_pair])
    sums = np.zeros((n_pairs, n_labels), dtype="float32")
    np.add.at(sums, row_pair, weights)
    logits = top + np.log(sums)
    softmax = weights / sums[row_pair]

    def backprop(d_logits):
        d_rows = backprop_scorer(model.ops.asarray2f(model.ops.to_numpy(d_logits)[row_pair] * softmax))
        d_rows = model.ops.to_numpy(d_rows)
        d_tokvecs, at = [], 0
        for (_, back), cands in zip(built, candidates):
            d_tokvecs.append(model.ops.asarray2f(back(d_rows[at : at + len(cands.rows)])))
            at += len(cands.rows)
        return backprop_tok2vec(d_tokvecs)

    return model.ops.asarray2f(logits), backprop


def _offset_pairs(candidates: Sequence[Candidates]) -> list:
    out, offset = [], 0
    for cands in candidates:
        out.append(cands.row_pair + offset)
        offset += cands.n_pairs
    return out


def _doc_rows(vectors: np.ndarray, cands: Candidates):
    """One doc's mention-pair rows ``[head, child, head * child, between,
    features]`` (a span is the mean of its tokens; ``between`` the tokens
    between two mentions of one sentence, zeros otherwise) and the function
    that takes their gradient back to its token vectors."""
    n, width = vectors.shape
    starts, ends = cands.spans[:, 0], cands.spans[:, 1]
    lengths = (ends - starts).astype("float32")[:, None]
    prefix = np.concatenate([np.zeros((1, width), dtype="float32"), np.cumsum(vectors, axis=0, dtype="float32")])
    # the span vectors, and a last row of zeros that index -1 (no span between) reads
    span_vecs = np.concatenate([(prefix[ends] - prefix[starts]) / lengths, np.zeros((1, width), dtype="float32")])
    heads, childs, between = span_vecs[cands.rows[:, 0]], span_vecs[cands.rows[:, 1]], span_vecs[cands.rows[:, 2]]
    out = np.concatenate([heads, childs, heads * childs, between, cands.features], axis=1).astype("float32")

    def backprop(d_out: np.ndarray) -> np.ndarray:
        d_prod = d_out[:, 2 * width : 3 * width]
        d_spans = np.zeros_like(span_vecs)
        np.add.at(d_spans, cands.rows[:, 0], d_out[:, :width] + d_prod * childs)
        np.add.at(d_spans, cands.rows[:, 1], d_out[:, width : 2 * width] + d_prod * heads)
        np.add.at(d_spans, cands.rows[:, 2], d_out[:, 3 * width : 4 * width])
        d_spans = d_spans[:-1]  # the zeros row has no tokens
        d_prefix = np.zeros((n + 1, width), dtype="float32")
        np.add.at(d_prefix, starts, d_spans / lengths)
        np.add.at(d_prefix, ends, -d_spans / lengths)
        return np.cumsum(d_prefix, axis=0)[:n]

    return out, backprop


def sentence_ids(doc: Doc) -> np.ndarray:
    """The sentence number of each token: from the doc's sentence boundaries,
    or, when it has none, from those spaCy's rule-based sentencizer would
    set (the doc is left as it is)."""
    if not len(doc):
        return np.zeros(0, dtype="int64")
    if doc.has_annotation("SENT_START"):
        starts = np.asarray([token.is_sent_start is True for token in doc])
    else:
        starts = np.asarray(SENTENCIZER.predict([doc])[0], dtype=bool)
    starts[0] = False
    return np.cumsum(starts).astype("int64")
