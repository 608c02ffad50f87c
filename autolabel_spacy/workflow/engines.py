"""What ``annotate`` hands an engine: :class:`EngineRun`.

An engine is a module with ``check(run)`` (everything that can fail before a
file is created) and ``run(run)`` (tag every record still to do into the
run's files, :mod:`run_files`). ``local_engine`` tags in this process,
``ray_engine`` on Ray Data actors; ``annotate`` picks one by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Union

from spacy.language import Language
from tqdm import tqdm

from ..routing import Routing
from .inputs import TextRecord
from .run_files import RunFiles


@dataclass
class EngineRun:
    model: Union[str, Path, Language]  # as the caller gave it
    pipeline: Callable[[], Language]  # the loaded pipeline (loaded on the first call)
    records: Iterable[TextRecord]
    routing: Optional[Routing]  # None: one output, nothing routed
    batch_size: int
    max_chars: int
    progress: bool
    total: Optional[int] = None  # the number of records, for the progress bar
    files: Optional[RunFiles] = None  # set once the checks have passed
    # engine options: local
    n_process: int = 1
    # engine options: ray
    address: Optional[str] = None
    num_workers: int = 1
    shard_size: int = 10_000

    def progress_bar(self, desc: str) -> tqdm:
        """The run's bar in docs, starting at the records a resumed run has done."""
        initial = len(self.files.done_ids) if self.total and self.files is not None else 0
        return tqdm(
            total=self.total, initial=initial, unit="doc", desc=desc, disable=not self.progress, dynamic_ncols=True
        )
