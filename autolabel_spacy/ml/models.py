"""The autolabel.CRFTagger.v1 architecture (its name: the spacy_architectures entry points of pyproject.toml)."""

from __future__ import annotations

from typing import List, Optional

from spacy.tokens import Doc
from thinc.api import Dropout, Linear, Maxout, Model, chain, with_array
from thinc.types import Floats2d

from .bilstm import BiLSTM
from .crf_layer import CRFLayer

# the encoder of a component's default model (a config of the project's
# shares one tok2vec through listeners instead)
DEFAULT_TOK2VEC_CONFIG = """
[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""


def build_crf_tagger(
    tok2vec: Model[List[Doc], List[Floats2d]],
    scheme: str = "BILUO",
    lstm_depth: int = 0,
    lstm_width: int = 256,
    dropout: float = 0.1,
    hidden_width: int = 0,
    nO: Optional[int] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """tok2vec -> optional BiLSTM -> linear emissions -> CRF.

    The output is the per-token emission scores ``[n_tokens, n_tags]`` of each
    doc; the CRF layer (``model.get_ref("crf")``) holds the transition scores
    and the tag scheme (``BILUO`` or ``BIO``) used for constraints.

    tok2vec (Model): any spaCy tok2vec, a ``Tok2VecListener`` or a
        ``TransformerListener``.
    lstm_depth (int): number of BiLSTM layers; 0 disables the BiLSTM.
    lstm_width (int): BiLSTM output width (both directions together).
    dropout (float): dropout before the BiLSTM and before the emission layer,
        used when the model is called outside spaCy's training loop. In
        ``spacy train`` (and ``nlp.update(drop=...)``) spaCy sets every dropout
        layer of the component to ``training.dropout``, as for any spaCy
        component, so that is the rate that counts there.
    hidden_width (int): width of a maxout hidden layer before the emissions;
        0 means the emissions are linear in the encoder output.
    nO (Optional[int]): number of tags; inferred from the labels if unset.
    """
    layers = [tok2vec]
    if lstm_depth > 0:
        layers += [with_array(Dropout(dropout)), BiLSTM(nO=lstm_width, depth=lstm_depth)]
    layers.append(with_array(Dropout(dropout)))
    if hidden_width > 0:
        layers.append(with_array(Maxout(hidden_width, nP=2, dropout=dropout, normalize=True)))
    output = Linear(nO=nO)
    crf = CRFLayer(scheme=scheme, nO=nO)
    model = chain(*layers, with_array(output), crf)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", output)
    model.set_ref("crf", crf)
    model.attrs["scheme"] = scheme
    return model
