"""The ``local`` engine of ``annotate``: tags in this process (``n_process``
> 1: spaCy's multiprocessing), in memory zones so the vocab stays flat."""

from __future__ import annotations

from .engines import EngineRun
from .run_files import ZONE_DOCS, ZONE_DOCS_MULTIPROCESS, chunked, tag_records


def check(run: EngineRun) -> None:
    run.pipeline()  # loads it: a missing or unfit pipeline fails before any file exists


def run(run: EngineRun) -> None:
    nlp = run.pipeline()
    files = run.files
    bar = run.progress_bar("annotate")
    nlp.max_length = max(nlp.max_length, run.max_chars)  # --max-chars decides which texts are too long

    # Each chunk runs in a spaCy memory zone: the strings and lexemes of its
    # texts are freed at its end, so the vocab does not grow with the input.
    # With n_process > 1 each chunk also gets fresh worker processes, whose
    # vocabs would otherwise grow.
    zone = ZONE_DOCS if run.n_process == 1 else ZONE_DOCS_MULTIPROCESS
    for chunk in chunked(files.todo(run.records, on_error=lambda: bar.update(1)), zone):
        with nlp.memory_zone():
            for name, out in tag_records(nlp, chunk, run.routing, run.batch_size, run.n_process):
                files.append(name, out)
                bar.update(1)
    bar.close()
