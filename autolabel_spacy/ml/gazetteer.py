"""Gazetteer features: vocabulary matches as extra input to the tagger.

``autolabel.GazetteerFeatures.v1`` wraps any tok2vec: each token gets, next
to its tok2vec vector, an embedding of its position in a vocabulary match
(``B``/``I``/``L``/``U`` + the match's label, or "no match") read from
``doc.spans[spans_key]``, which the ``domain_vocab`` component writes. With
``match_dropout`` > 0 a share of the matches is hidden during training, so the
model learns to use the vocabulary without trusting it blindly (a vocabulary
built from the training data covers every training entity, but not every
entity at test time). The embedding is multiplied by ``scale`` (default
100, with its initial values divided by as much): Adam moves every parameter
at about the same rate, so an unscaled 16-wide embedding is learned far more
slowly than the encoder memorises the training words, and the tagger ends up
ignoring the vocabulary (a word the vocabulary knows but training never
showed got the same entity probability with and without its match).
A vocabulary built with folds (``autolabel vocab build --folds K``) hides
matches properly: in training, a match is hidden from a doc
when only the doc's own fold taught the vocabulary that term, so training
text sees the vocabulary as new text would (cross-validated gazetteer).
"""

from __future__ import annotations

from functools import partial
from typing import List

import numpy as np
from spacy.strings import hash_string
from spacy.tokens import Doc, Span
from spacy.util import filter_spans
from thinc.api import HashEmbed, Model, chain, concatenate, expand_window, with_array, with_ragged
from thinc.initializers import uniform_init
from thinc.types import Floats2d, Ints1d

from ..vocab_matcher import text_fold

NO_MATCH = 0


def build_gazetteer_features(
    tok2vec: Model[List[Doc], List[Floats2d]],
    spans_key: str = "domain_vocab",
    width: int = 16,
    rows: int = 256,
    match_dropout: float = 0.0,
    learn_no_match: bool = False,
    scale: float = 100.0,
    doc_dropout: float = 0.0,
    context: int = 0,
) -> Model[List[Doc], List[Floats2d]]:
    """``tok2vec`` output concatenated with ``scale`` times a ``width``-wide
    embedding of each token's vocabulary-match tag (hashed into ``rows``
    rows). Unmatched tokens get zeros (the vocabulary only ever adds
    evidence), or a learned vector of their own with ``learn_no_match``.
    The embedding starts as small as any thinc embedding, and ``scale`` sets
    how much faster than the encoder's embeddings it learns (1.0: as fast,
    and then the tagger ignores the vocabulary, see the module docstring)."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    # initialised at 1/scale of thinc's usual range, so the scaled output
    # starts as small as any embedding and only learns faster
    init = partial(uniform_init, lo=-0.1 / scale, hi=0.1 / scale)
    raw = HashEmbed(nO=width, nV=rows, seed=17, initializer=init)
    embed = scaled_match_embed(raw, scale, zero_unmatched=not learn_no_match)
    features = chain(match_tag_ids(spans_key, match_dropout, doc_dropout), with_array(embed))
    if context:
        features = chain(features, match_window(width, context))
    model = concatenate(tok2vec, features)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("gazetteer", features)
    return model


def scaled_match_embed(embed: Model, scale: float, zero_unmatched: bool = True) -> Model:
    """``embed`` times ``scale``, with the rows of unmatched tokens (id
    ``NO_MATCH``) zeroed if ``zero_unmatched``."""

    def forward(model: Model, ids, is_train: bool):
        vectors, backprop_embed = embed(ids, is_train)
        factor = scale
        if zero_unmatched:
            factor = model.ops.asarray((ids != NO_MATCH).astype("float32") * scale)[:, None]

        def backprop(d_vectors):
            return backprop_embed(d_vectors * factor)

        return vectors * factor, backprop

    def init(model: Model, X=None, Y=None) -> None:
        embed.initialize()

    return Model("scaled_match_embed", forward, init=init, layers=[embed], dims={"nO": embed.get_dim("nO")})


def match_window(width: int, context: int) -> Model[List[Floats2d], List[Floats2d]]:
    """Each token's match embedding next to those of ``context`` tokens on
    either side (zeros past the doc's edges), so the emissions of "familial"
    can see that a match starts at the next token."""
    if context < 0:
        raise ValueError(f"context must be >= 0, got {context}")
    window = with_ragged(expand_window(window_size=context))

    def forward(model: Model, Xs, is_train: bool):
        return window(Xs, is_train)

    return Model("match_window", forward, layers=[window], dims={"nO": width * (2 * context + 1)})


def match_tag_ids(
    spans_key: str, match_dropout: float = 0.0, doc_dropout: float = 0.0
) -> Model[List[Doc], List[Ints1d]]:
    for name, value in (("match_dropout", match_dropout), ("doc_dropout", doc_dropout)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value}")
    return Model(
        "match_tag_ids",
        _match_tag_ids_forward,
        attrs={"spans_key": spans_key, "match_dropout": match_dropout, "doc_dropout": doc_dropout},
    )


def _match_tag_ids_forward(model: Model, docs: List[Doc], is_train: bool):
    key = model.attrs["spans_key"]
    drop = model.attrs["match_dropout"] if is_train else 0.0
    doc_drop = model.attrs["doc_dropout"] if is_train else 0.0
    out = []
    for doc in docs:
        ids = np.full((len(doc),), NO_MATCH, dtype="uint64")
        group = doc.spans[key] if key in doc.spans else []
        if doc_drop and np.random.random() < doc_drop:
            group = []
        spans = visible_matches(doc, group) if is_train else list(group)
        for span in filter_spans(spans):
            if drop and np.random.random() < drop:
                continue
            ids[span.start : span.end] = match_tags(span.label_, len(span))
        out.append(model.ops.asarray(ids, dtype="uint64"))

    def backprop(d_ids):
        return []

    return out, backprop


def visible_matches(doc: Doc, group) -> List[Span]:
    """The matches training shows a doc (``group``: its span group, or [] if
    none): with a vocabulary built with folds, those of terms that some fold
    other than the doc's own taught."""
    n_folds = group.attrs.get("n_folds", 0) if len(group) else 0
    if not n_folds:
        return list(group)
    own = 1 << text_fold(doc.text, n_folds)
    return [span for span, mask in zip(group, group.attrs["folds"]) if mask == 0 or mask & ~own]


def match_tags(label: str, length: int) -> list[int]:
    """Hashed BILU tags of a match of ``length`` tokens."""
    if length == 1:
        return [hash_string(f"U-{label}")]
    inside = hash_string(f"I-{label}")
    return [hash_string(f"B-{label}")] + [inside] * (length - 2) + [hash_string(f"L-{label}")]
