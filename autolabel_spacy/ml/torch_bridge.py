"""Run a PyTorch module inside thinc with its weights stored as thinc params.

thinc's ``PyTorchWrapper`` serialises weights with ``torch.save`` (pickle) and
needs every width at construction. This bridge keeps the weights as ordinary
thinc parameters instead: they serialise with msgpack like every other spaCy
weight, widths can be inferred in ``init``, and thinc's optimizer updates
them. The torch module is only a template evaluated with
``torch.func.functional_call`` on tensors that share memory with the thinc
arrays (no copies on CPU).
"""
from __future__ import annotations

import contextlib
import os

import torch
from thinc.api import Model, torch2xp, xp2torch


def torch_params(model: Model, names: list[str], is_train: bool) -> dict[str, torch.Tensor]:
    """thinc params as torch tensors (leaf tensors with grads when training)."""
    return {name: xp2torch(model.get_param(name), requires_grad=is_train) for name in names}


def push_grads(model: Model, tensors: dict[str, torch.Tensor]) -> None:
    """Add the torch gradients of ``tensors`` to the thinc params of the same name."""
    for name, tensor in tensors.items():
        if tensor.grad is not None:
            model.inc_grad(name, torch2xp(tensor.grad))


def init_params_from_module(model: Model, module: torch.nn.Module) -> list[str]:
    """Copy a freshly initialised torch module's weights into thinc params."""
    names = []
    for name, value in module.state_dict().items():
        key = name.replace(".", "__")
        model.set_param(key, model.ops.asarray(value.detach().cpu().numpy()))
        names.append(key)
    return names


def as_module_params(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name.replace("__", "."): value for name, value in tensors.items()}


def run_module(module: torch.nn.Module, tensors: dict[str, torch.Tensor], *args):
    """Call ``module(*args)`` with the module's weights replaced by ``tensors``."""
    return torch.func.functional_call(module, as_module_params(tensors), args)


@contextlib.contextmanager
def single_threaded():
    """Run torch ops on one intra-op thread. The CRF and BiLSTM ops are small
    ([batch, tags, tags] per step): handing them to a thread pool costs more
    than it gains, and far more when the cores are busy with other work
    (measured: tagging 2-3x slower with 2 threads on a loaded 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _single_thread_after_fork() -> None:
    # A forked child (spaCy's ``nlp.pipe(n_process=...)`` on Linux) inherits
    # torch's OpenMP pool in a broken state and hangs on its first parallel
    # op; one intra-op thread per child avoids the pool entirely, and the
    # processes are the parallelism there anyway.
    torch.set_num_threads(1)


os.register_at_fork(after_in_child=_single_thread_after_fork)
