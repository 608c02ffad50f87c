"""Neighbour-bigram features: the keys against a brute-force pairing, and a
pipeline with the layer that trains, saves and reloads."""

import random

import numpy as np
import pytest
import spacy
from test_crf_ner import TINY_EMBED, assert_reloads_the_same, train_tiny

from autolabel_spacy.ml.bigram_embed import bigram_keys, build_bigram_embed


def test_keys_are_equal_exactly_when_the_bigrams_are():
    nlp = spacy.blank("zh")  # one token per character
    rng = random.Random(0)
    texts = ["".join(rng.choice("北京大学简历工程师") for _ in range(rng.randint(1, 30))) for _ in range(40)]
    docs = [nlp.make_doc(t) for t in texts]
    keys, _ = bigram_keys("ORTH")(docs, is_train=False)
    seen = {}
    for doc, k in zip(docs, keys):
        chars = ["<s>"] + [t.text for t in doc] + ["</s>"]
        assert k.shape == (len(doc), 2) and k.dtype == np.uint64
        for i in range(len(doc)):
            for side, pair in ((0, (chars[i], chars[i + 1])), (1, (chars[i + 1], chars[i + 2]))):
                # (previous, this) and (this, next); the doc's edges are their own symbol
                pair = tuple("|" if c in ("<s>", "</s>") else c for c in pair)
                assert seen.setdefault(pair, int(k[i, side])) == int(k[i, side])
    assert len(set(seen.values())) == len(seen)  # different bigrams, different keys
    # a token's right bigram is its right neighbour's left bigram
    k = keys[0]
    assert np.array_equal(k[:-1, 1], k[1:, 0])


def test_unknown_attribute_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown token attribute 'NOPE'"):
        build_bigram_embed(embed=None, width=8, attr="NOPE")


def test_pipeline_trains_saves_and_reloads(tmp_path):
    embed = {
        "@architectures": "autolabel.BigramEmbed.v1",
        "width": 32,
        "bigram_width": 8,
        "rows": 500,
        "embed": TINY_EMBED,
    }
    nlp, _ = train_tiny(embed)
    texts = ["aspirin is used to treat migraine .", "ibuprofen", "", "   "]
    layer = nlp.get_pipe("crf_ner").model.get_ref("tok2vec").get_ref("embed").get_ref("bigrams")
    vectors, _ = layer([nlp.make_doc(t) for t in texts], is_train=False)
    assert [v.shape for v in vectors] == [(7, 16), (1, 16), (0, 16), (1, 16)]
    assert_reloads_the_same(nlp, texts, tmp_path / "m")
