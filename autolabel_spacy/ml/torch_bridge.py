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
from contextvars import ContextVar
from typing import Optional

import torch
from thinc.api import Model, torch2xp, xp2torch

from ..checks import check_count


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


# The number of torch intra-op threads the CRF and BiLSTM ops run on, as a
# component's ``torch_threads`` setting asks (None: torch's own setting).
# A context variable, so that only the ops of a component that asks are
# affected, and each of them puts torch's setting back when it is done.
_OP_THREADS: ContextVar[Optional[int]] = ContextVar("autolabel_op_threads", default=None)


def check_threads(threads) -> Optional[int]:
    check_count("torch_threads", threads, none_ok=True)
    return threads


@contextlib.contextmanager
def threads_for_ops(threads: Optional[int]):
    """Within this block, :func:`op_threads` ops run on ``threads`` torch
    threads (None: leave torch's setting alone)."""
    token = _OP_THREADS.set(check_threads(threads))
    try:
        yield
    finally:
        _OP_THREADS.reset(token)


@contextlib.contextmanager
def op_threads():
    """Run a block of small torch ops on the thread count set by
    :func:`threads_for_ops`, restoring torch's setting after. The CRF and
    BiLSTM ops are small ([batch, tags, tags] per step): a thread pool costs
    more than it gains there, and far more when the cores are busy with
    other work (measured: tagging 2-3x slower with 2 threads on a loaded
    2-core machine), so the shipped configs set ``torch_threads = 1``."""
    threads = _OP_THREADS.get()
    before = torch.get_num_threads()
    if threads is None or threads == before:
        yield
        return
    torch.set_num_threads(threads)
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
