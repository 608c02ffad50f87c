"""Pretrained subword vectors distilled from a transformer, as tok2vec input.

``autolabel.PretrainedSubwordEmbed.v1`` wraps any spaCy embedding layer
(``MultiHashEmbed``, ``CharacterEmbed``...) and adds, for every token, a
static vector built from a pretrained transformer: each WordPiece of the
transformer's vocabulary gets one vector, distilled once at ``initialize``
by running the transformer on that piece alone and mean-pooling its output
(the Model2Vec recipe), reduced by PCA; a word's vector is the mean of its
pieces' vectors. Unlike a static word-vector table, every word gets a vector,
including words never seen in training ("adrenoleukodystrophy" ->
``ad ##ren ##ole ##uk ##ody ##st ##rop ##hy``), and tagging costs a table
lookup instead of a transformer pass.

The table and the piece vocabulary are stored in the model, so a trained
pipeline loads and tags without the transformer package; only initialising
(training) needs ``autolabel-spacy[transformers]``.
"""

from __future__ import annotations

import unicodedata
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from spacy.tokens import Doc
from thinc.api import Model
from thinc.types import Floats2d

from .feature_mix import mix_features
from .transformer import transformer_name

UNK = "[UNK]"


def build_pretrained_subword_embed(
    embed: Model[List[Doc], List[Floats2d]],
    width: int,
    name: str = "all-MiniLM-L6-v2",
    pieces_width: int = 128,
    dropout: float = 0.0,
) -> Model[List[Doc], List[Floats2d]]:
    """``embed``'s output concatenated with the distilled subword vectors of
    each token, mixed back to ``width`` by a maxout layer.

    embed (Model): any spaCy embedding layer (its own width is free).
    width (int): output width, the width the encoder expects.
    name (str): a Hugging Face model name or local path of a BERT-style
        WordPiece model; names in ``OFFLINE_PACKAGES`` resolve to an
        installed package.
    pieces_width (int): dimensions kept by PCA of the distilled vectors.
    """
    pieces = SubwordVectors(name=name, nO=pieces_width)
    return mix_features(embed, pieces, width, dropout=dropout, ref="subword_vectors")


def SubwordVectors(name: str, nO: int) -> Model[List[Doc], List[Floats2d]]:
    return Model(
        "subword_vectors",
        _forward,
        init=_init,
        dims={"nO": nO},
        params={"E": None},
        attrs={"name": name, "pieces": [], "lowercase": True},
    )


# model.id -> its WordPieceSplitter, built on first use (attrs must stay
# serialisable, so the splitter and its cache live outside the model).
_SPLITTERS: Dict[int, "WordPieceSplitter"] = {}


def _init(model: Model, X=None, Y=None) -> None:
    if model.has_param("E") and model.attrs["pieces"]:
        return
    pieces, table, lowercase = distill_piece_vectors(model.attrs["name"], model.get_dim("nO"))
    model.attrs["pieces"] = pieces
    model.attrs["lowercase"] = lowercase
    _SPLITTERS.pop(model.id, None)
    model.set_param("E", model.ops.asarray2f(table))


def _splitter(model: Model) -> "WordPieceSplitter":
    splitter = _SPLITTERS.get(model.id)
    if splitter is None or splitter.pieces is not model.attrs["pieces"]:
        if not model.attrs["pieces"]:
            raise ValueError("subword_vectors is not initialised: call nlp.initialize() first")
        splitter = WordPieceSplitter(model.attrs["pieces"], lowercase=model.attrs["lowercase"])
        _SPLITTERS[model.id] = splitter
    return splitter


def _forward(model: Model, docs: List[Doc], is_train: bool):
    splitter = _splitter(model)
    table = model.get_param("E")
    ops = model.ops
    ids: List[int] = []
    counts: List[int] = []
    doc_lengths = []
    for doc in docs:
        for token in doc:
            piece_ids = splitter(token.text)
            ids.extend(piece_ids)
            counts.append(len(piece_ids))
        doc_lengths.append(len(doc))
    if ids:
        rows = table[ops.asarray1i(np.asarray(ids, dtype="int32"))]
        vectors = ops.reduce_mean(rows, ops.asarray1i(np.asarray(counts, dtype="int32")))
    else:
        vectors = ops.alloc2f(0, model.get_dim("nO"))
    out = []
    start = 0
    for n in doc_lengths:
        out.append(vectors[start : start + n])
        start += n

    def backprop(d_out):
        return []  # the distilled table is frozen

    return out, backprop


class WordPieceSplitter:
    """BERT's tokenisation of one word: lowercase and strip accents (uncased
    models), split off punctuation and CJK characters, then greedy
    longest-match-first WordPiece. Results are cached per word."""

    def __init__(self, pieces: Sequence[str], lowercase: bool = True, max_chars: int = 100):
        self.pieces = pieces
        self.index: Dict[str, int] = {p: i for i, p in enumerate(pieces)}
        self.unk = self.index.get(UNK, 0)
        self.lowercase = lowercase
        self.max_chars = max_chars
        self.cache: Dict[str, Tuple[int, ...]] = {}

    def __call__(self, word: str) -> Tuple[int, ...]:
        ids = self.cache.get(word)
        if ids is None:
            ids = tuple(i for chunk in self.basic(word) for i in self.wordpiece(chunk)) or (self.unk,)
            self.cache[word] = ids
        return ids

    def basic(self, word: str) -> List[str]:
        word = "".join(c for c in word if not _is_control(c))
        if self.lowercase:
            word = "".join(c for c in unicodedata.normalize("NFD", word.lower()) if unicodedata.category(c) != "Mn")
        chunks: List[str] = []
        current = ""
        for char in word:
            if char.isspace() or _is_punctuation(char) or _is_cjk(char):
                if current:
                    chunks.append(current)
                    current = ""
                if not char.isspace():
                    chunks.append(char)
            else:
                current += char
        if current:
            chunks.append(current)
        return chunks

    def wordpiece(self, chunk: str) -> List[int]:
        if len(chunk) > self.max_chars:
            return [self.unk]
        ids: List[int] = []
        start = 0
        while start < len(chunk):
            end = len(chunk)
            found = None
            while start < end:
                piece = chunk[start:end] if start == 0 else "##" + chunk[start:end]
                found = self.index.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids


def _is_control(char: str) -> bool:
    """Characters BERT's tokenizer deletes: NUL, U+FFFD and every "other"
    (C*) character but whitespace: controls, format characters such as the
    soft hyphen, unassigned code points."""
    if char in "\t\n\r":
        return False
    return ord(char) in (0, 0xFFFD) or unicodedata.category(char).startswith("C")


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def distill_piece_vectors(name: str, dims: int, batch_size: int = 1024) -> Tuple[List[str], np.ndarray, bool]:
    """One vector per WordPiece of the model ``name``: the model's output on
    ``[CLS] piece [SEP]``, mean-pooled, centred and reduced to ``dims`` by
    PCA, scaled to unit variance per dimension. Returns the pieces, the
    ``[n_pieces, dims]`` table and whether the model lowercases."""
    try:  # the optional extra [transformers]
        from transformers import AutoModel, AutoTokenizer
    except ImportError:
        raise ValueError(
            "distilling subword vectors needs the transformers package: pip install 'autolabel-spacy[transformers]'"
        ) from None
    path = transformer_name(name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot load the tokenizer of {name!r} for subword vectors: {e}") from None
    if not any(piece.startswith("##") for piece in getattr(tokenizer, "vocab", {})):
        raise ValueError(f"{name!r} is not a WordPiece (BERT-style) model; subword vectors need one")
    vocab = tokenizer.vocab
    pieces = [""] * len(vocab)
    for piece, index in vocab.items():
        pieces[index] = piece
    model = AutoModel.from_pretrained(path)
    model.eval()
    if dims > model.config.hidden_size:
        raise ValueError(
            f"pieces_width {dims} is wider than {name!r}'s vectors, which have only {model.config.hidden_size} "
            "dimensions"
        )
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    pooled = np.zeros((len(pieces), model.config.hidden_size), dtype="float32")
    with torch.inference_mode():
        for start in range(0, len(pieces), batch_size):
            ids = torch.arange(start, min(start + batch_size, len(pieces)))
            inputs = torch.stack([torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1)
            hidden = model(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state
            pooled[start : start + len(ids)] = hidden.mean(dim=1).numpy()
    centred = pooled - pooled.mean(axis=0, keepdims=True)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[:dims].T
    reduced /= reduced.std(axis=0, keepdims=True) + 1e-6
    lowercase = bool(getattr(tokenizer, "do_lower_case", True))
    return pieces, reduced.astype("float32"), lowercase
