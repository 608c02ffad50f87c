"""Updating a served pipeline on the annotations Label Studio sent back.

A copy of the served pipeline is fine-tuned (``nlp.update`` from where it
stands, seeded) on the annotations, less a held-out share, then both the
served pipeline and the copy are scored on the held-out annotations (entity
F1, spaCy's scorer); the copy replaces the served one only when it scores no
worse. Only the entity components and the encoder they listen to are
updated: annotations from an NER project carry no relations or categories
to learn from.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Sequence

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch

from ..loading import entity_components


@dataclass
class UpdateResult:
    adopted: bool
    served_f: float  # entity F1 of the served pipeline on the held-out annotations
    updated_f: float  # the same for the updated copy
    trained_on: int
    held_out: int
    seconds: float

    def line(self, version: str) -> str:
        verdict = f"now serving {version}" if self.adopted else "kept the served model (the update scored lower)"
        return (
            f"update on {self.trained_on} annotations, scored on {self.held_out} held out: entity F1 "
            f"{100 * self.updated_f:.1f} against {100 * self.served_f:.1f} served; {verdict} ({self.seconds:.0f} s)"
        )


def held_out_split(docs: Sequence[Doc], every: int) -> tuple[list[Doc], list[Doc]]:
    """(train, held out): every ``every``-th annotation is held out (at least
    one when there are two or more), in the order they arrived."""
    held = [d for i, d in enumerate(docs) if i % every == every - 1]
    if not held and len(docs) >= 2:
        held = [docs[-1]]
    kept = [d for d in docs if all(d is not h for h in held)]
    return kept, held


def update(served: Language, candidate: Language, docs: Sequence[Doc], held_out_every: int = 5,
           epochs: int = 5, batch_size: int = 8, seed: int = 0) -> UpdateResult:
    """Fine-tune ``candidate`` (a fresh copy of ``served``) on ``docs`` less
    the held-out share, and score both on it."""
    start = time.perf_counter()
    train, held = held_out_split(list(docs), held_out_every)
    entity_pipes = set(entity_components(candidate))
    listened = {name for name, pipe in candidate.pipeline if hasattr(pipe, "listener_map") and pipe.listener_map}
    exclude = [name for name in candidate.pipe_names if name not in entity_pipes | listened]
    optimizer = candidate.resume_training()
    rng = random.Random(seed)
    examples = [Example(candidate.make_doc(doc.text), doc) for doc in train]
    for _ in range(epochs):
        rng.shuffle(examples)
        for batch in minibatch(examples, size=batch_size):
            candidate.update(batch, sgd=optimizer, drop=0.1, exclude=exclude)

    def f_on_held_out(nlp: Language) -> float:
        if not held:
            return 0.0
        scores = nlp.evaluate([Example(nlp.make_doc(doc.text), doc) for doc in held])
        return float(scores.get("ents_f") or 0.0)

    served_f, updated_f = f_on_held_out(served), f_on_held_out(candidate)
    return UpdateResult(bool(held) and updated_f >= served_f, served_f, updated_f, len(train), len(held), time.perf_counter() - start)
