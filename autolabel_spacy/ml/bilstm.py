"""Bidirectional LSTM layer for thinc, computed by PyTorch.

Input and output are lists of ``[n_tokens, width]`` arrays (one per doc), the
type every spaCy tok2vec produces. Widths may be left to ``init``:
``nI`` is read from the sample input, ``nO`` (= 2 x hidden) from the config.
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np
import torch
from thinc.api import Model
from thinc.types import Floats2d

from .torch_bridge import init_params_from_module, op_threads, push_grads, run_module, torch_params


def BiLSTM(
    nO: Optional[int] = None, nI: Optional[int] = None, depth: int = 1, dropout: float = 0.0
) -> Model[List[Floats2d], List[Floats2d]]:
    if nO is not None and nO % 2:
        raise ValueError(f"BiLSTM width must be even (two directions), got {nO}")
    return Model(
        "bilstm",
        forward,
        init=init,
        dims={"nO": nO, "nI": nI},
        attrs={"depth": depth, "dropout": dropout, "param_names": [], "template": None},
    )


def _template(model: Model) -> torch.nn.LSTM:
    if model.attrs["template"] is None:
        module = torch.nn.LSTM(
            model.get_dim("nI"),
            model.get_dim("nO") // 2,
            num_layers=model.attrs["depth"],
            dropout=model.attrs["dropout"] if model.attrs["depth"] > 1 else 0.0,
            bidirectional=True,
            batch_first=True,
        )
        # The template's own weights are never used: functional_call swaps in
        # the thinc params. Keep it on the meta device so it costs nothing.
        model.attrs["template"] = module.to("meta")
        model.attrs["param_names"] = [n for n in module.state_dict()]
    return model.attrs["template"]


def init(model: Model, X: Optional[List[Floats2d]] = None, Y=None) -> None:
    if X is not None and not model.has_dim("nI"):
        widths = [x.shape[1] for x in X if x.ndim == 2]
        if widths:
            model.set_dim("nI", widths[0])
    if not model.has_dim("nO"):
        raise ValueError("BiLSTM needs its output width nO")
    # Fresh weights with torch's default initialisation, stored in thinc.
    seed = int(model.ops.xp.random.randint(0, 2**31 - 1))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        fresh = torch.nn.LSTM(
            model.get_dim("nI"),
            model.get_dim("nO") // 2,
            num_layers=model.attrs["depth"],
            bidirectional=True,
            batch_first=True,
            dtype=torch.float32,
        )
    init_params_from_module(model, fresh)
    model.attrs["template"] = None


def forward(model: Model, X: List[Floats2d], is_train: bool):
    module = _template(model)
    module.train(is_train)
    names = [n.replace(".", "__") for n in model.attrs["param_names"]]
    lengths = [x.shape[0] for x in X]
    nO = model.get_dim("nO")
    nonempty = [i for i, n in enumerate(lengths) if n > 0]
    if not nonempty:
        empty = [model.ops.alloc2f(0, nO) for _ in X]
        return empty, lambda dY: [model.ops.alloc2f(0, model.get_dim("nI")) for _ in X]
    weights = torch_params(model, names, is_train)
    inputs = [torch.from_numpy(np.ascontiguousarray(X[i])).requires_grad_(is_train) for i in nonempty]
    padded = torch.nn.utils.rnn.pad_sequence(inputs, batch_first=True)
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        padded, torch.tensor([lengths[i] for i in nonempty]), batch_first=True, enforce_sorted=False
    )
    with torch.set_grad_enabled(is_train), op_threads():
        out_packed, _ = run_module(module, weights, packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out_packed, batch_first=True)
    Y: List[Floats2d] = [model.ops.alloc2f(n, nO) for n in lengths]
    for row, i in enumerate(nonempty):
        Y[i] = out[row, : lengths[i]].detach().numpy()

    def backprop(dY: List[Floats2d]) -> List[Floats2d]:
        d_out = torch.zeros_like(out)
        for row, i in enumerate(nonempty):
            d_out[row, : lengths[i]] = torch.from_numpy(np.ascontiguousarray(dY[i]))
        with op_threads():
            torch.autograd.backward(out, d_out)
        push_grads(model, weights)
        dX = [model.ops.alloc2f(n, x.shape[1] if x.ndim == 2 else 0) for n, x in zip(lengths, X)]
        for row, i in enumerate(nonempty):
            dX[i] = inputs[row].grad.numpy()
        return dX

    return Y, backprop
