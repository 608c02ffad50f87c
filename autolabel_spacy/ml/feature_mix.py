"""Adding a feature layer next to an embedding layer.

Every extra-feature architecture of autolabel (subword vectors, neighbour
bigrams) has the same shape: the wrapped embedding layer's output is
concatenated with the new features and a maxout layer mixes the two back to
the width the encoder expects, so the wrappers nest in a config.
"""

from __future__ import annotations

from typing import List

from spacy.tokens import Doc
from thinc.api import Maxout, Model, chain, concatenate, with_array
from thinc.types import Floats2d


def mix_features(
    embed: Model[List[Doc], List[Floats2d]],
    features: Model[List[Doc], List[Floats2d]],
    width: int,
    dropout: float = 0.0,
    ref: str = "features",
) -> Model[List[Doc], List[Floats2d]]:
    """``concatenate(embed, features) >> Maxout(width)``, with refs ``embed``
    and ``ref`` to the two parts."""
    mix = with_array(Maxout(width, nP=3, dropout=dropout, normalize=True))
    model = chain(concatenate(embed, features), mix)
    model.set_ref("embed", embed)
    model.set_ref(ref, features)
    return model
