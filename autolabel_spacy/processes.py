"""Worker processes die with the process that started them.

spaCy's ``nlp.pipe(n_process=...)`` forks workers that wait on a queue;
when their parent is killed (``kill -9``, the OOM killer) nobody closes
that queue, and each worker, holding a copy of the pipeline, would wait
for ever. On Linux a child can ask the kernel to send it a signal when its
parent dies (``prctl(PR_SET_PDEATHSIG)``); :func:`die_with_parent` makes
every child forked from here on ask for ``SIGKILL``. Elsewhere it does
nothing (and says so by returning False).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h
_parent = {"pid": None}  # the pid that forks, seen by the child
_registered = False


def die_with_parent() -> bool:
    """From now on, a child forked by this process is killed when this
    process dies. Idempotent; True where the platform can do it."""
    global _registered
    if not sys.platform.startswith("linux"):
        return False
    if not _registered:
        os.register_at_fork(before=_note_parent, after_in_child=_ask_to_die_with_parent)
        _registered = True
    return True


def _note_parent() -> None:
    _parent["pid"] = os.getpid()


def _ask_to_die_with_parent() -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != _parent["pid"]:  # the parent died before the request was made: nobody would signal
        os._exit(1)
