"""The CRF as a thinc layer: it owns the transition scores.

Its forward pass hands the emission scores through unchanged; the component
reads the layer's parameters with :func:`get_crf_params` to compute the CRF
loss (adding the transition gradients back with :func:`add_crf_grads`) and to
decode. Keeping the scores here means thinc's optimizer updates them and
thinc serialises them (msgpack, no pickle) like any other weight. The tag
scheme and labels live in ``attrs`` so the constraints can be rebuilt on load.
"""

from __future__ import annotations

import functools
from typing import List, Optional, Sequence

import torch
from thinc.api import Model
from thinc.types import Floats2d

from ..schemes import TagScheme
from .crf import CRFParams
from .torch_bridge import torch_params

PARAM_NAMES = ["transitions", "start", "end"]


def CRFLayer(scheme: str = "BILUO", nO: Optional[int] = None) -> Model[List[Floats2d], List[Floats2d]]:
    return Model(
        "crf",
        forward,
        init=init,
        dims={"nO": nO},
        attrs={"scheme": scheme, "labels": []},
    )


def set_labels(layer: Model, labels: Sequence[str]) -> None:
    layer.attrs["labels"] = list(labels)
    layer.set_dim("nO", len(get_scheme(layer).tags), force=True)


def get_scheme(layer: Model) -> TagScheme:
    return TagScheme(layer.attrs["scheme"], tuple(layer.attrs["labels"]))


def init(model: Model, X=None, Y=None) -> None:
    K = model.get_dim("nO")
    model.set_param("transitions", model.ops.alloc2f(K, K))
    model.set_param("start", model.ops.alloc1f(K))
    model.set_param("end", model.ops.alloc1f(K))


def forward(model: Model, X: List[Floats2d], is_train: bool):
    return X, lambda dY: dY


def get_crf_params(layer: Model, dtype=torch.float32) -> CRFParams:
    """The layer's CRF scores as torch tensors (sharing memory with the
    thinc parameters in float32), with the scheme's constraints."""
    leaves = torch_params(layer, PARAM_NAMES, is_train=False)
    allowed, allowed_start, allowed_end = _constraints(get_scheme(layer))
    return CRFParams(
        transitions=leaves["transitions"].to(dtype),
        start=leaves["start"].to(dtype),
        end=leaves["end"].to(dtype),
        allowed=allowed,
        allowed_start=allowed_start,
        allowed_end=allowed_end,
    )


@functools.lru_cache(maxsize=64)
def _constraints(scheme: TagScheme) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The scheme's constraint masks, built once per (scheme, labels): the
    K x K table is a Python loop, and this runs on every decoded batch."""
    return (
        torch.from_numpy(scheme.allowed_transitions()),
        torch.from_numpy(scheme.allowed_start()),
        torch.from_numpy(scheme.allowed_end()),
    )


def add_crf_grads(layer: Model, transitions: torch.Tensor, start: torch.Tensor, end: torch.Tensor) -> None:
    """Add the loss gradients of the CRF scores to the layer's parameters."""
    for name, grad in (("transitions", transitions), ("start", start), ("end", end)):
        layer.inc_grad(name, layer.ops.asarray(grad.detach().to(torch.float32).numpy()))
