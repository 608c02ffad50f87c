"""Neighbour bigrams as tok2vec input.

``autolabel.BigramEmbed.v1`` wraps any spaCy embedding layer and adds, for
every token, hashed embeddings of the two bigrams it is part of: (previous
token, token) and (token, next token), read from a token attribute (``NORM``
by default). For character-tokenised languages (Chinese) a character bigram
is close to a word, and bigram embeddings are the standard strong feature of
character-based Chinese NER (Zhang & Yang 2018); the window encoder only
mixes the two characters' own vectors, which is not the same as knowing the
pair. Doc boundaries are their own bigram half, so the first and last token
of a doc are marked too.
"""

from __future__ import annotations

from typing import List

import numpy as np
from spacy.attrs import IDS
from spacy.tokens import Doc
from thinc.api import HashEmbed, Model, chain, concatenate, with_array
from thinc.types import Floats2d, Ints2d

from .feature_mix import mix_features

# Odd 64-bit constants; bigram key = (left * A) ^ (right * B), wrapping.
_A = np.uint64(0x9E3779B97F4A7C15)
_B = np.uint64(0xC2B2AE3D27D4EB4F)
BOUNDARY = np.uint64(1)


def build_bigram_embed(
    embed: Model[List[Doc], List[Floats2d]],
    width: int,
    bigram_width: int = 64,
    rows: int = 20000,
    attr: str = "NORM",
    dropout: float = 0.0,
) -> Model[List[Doc], List[Floats2d]]:
    """``embed``'s output concatenated with the embeddings of each token's
    left and right bigrams (``bigram_width`` each, hashed into ``rows`` rows
    per side), mixed back to ``width`` by a maxout layer."""
    if attr not in IDS:
        raise ValueError(f"BigramEmbed: unknown token attribute {attr!r} (use e.g. ORTH, NORM, LOWER)")
    sides = concatenate(
        HashEmbed(nO=bigram_width, nV=rows, seed=23, column=0),
        HashEmbed(nO=bigram_width, nV=rows, seed=29, column=1),
    )
    bigrams = chain(bigram_keys(attr), with_array(sides))
    return mix_features(embed, bigrams, width, dropout=dropout, ref="bigrams")


def bigram_keys(attr: str = "NORM") -> Model[List[Doc], List[Ints2d]]:
    """Per doc, an ``(n_tokens, 2)`` uint64 array: the keys of each token's
    (previous, token) and (token, next) bigrams."""
    return Model("bigram_keys", _keys_forward, attrs={"attr": attr})


def bigram_key(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return (left * _A) ^ (right * _B)


def _keys_forward(model: Model, docs: List[Doc], is_train: bool):
    attr_id = IDS[model.attrs["attr"]]
    out = []
    for doc in docs:
        values = doc.to_array([attr_id]).astype("uint64").reshape(-1)
        padded = np.concatenate([[BOUNDARY], values, [BOUNDARY]]).astype("uint64")
        keys = np.empty((len(values), 2), dtype="uint64")
        keys[:, 0] = bigram_key(padded[:-2], padded[1:-1])
        keys[:, 1] = bigram_key(padded[1:-1], padded[2:])
        out.append(model.ops.asarray(keys, dtype="uint64"))

    def backprop(d_keys):
        return []

    return out, backprop
