"""Updating a served pipeline on the annotations Label Studio sent back.

A copy of the served pipeline is fine-tuned (``nlp.update`` from where it
stands, seeded) on the annotations, less a held-out share, then both are
scored on the held-out annotations; the copy replaces the served one only
when the evidence says it is no worse.

- **Held out**: a task is held out by a hash of its project and id, so it
  stays held out in every later update (an edit does not move it into
  training), about one task in ``held_out_every``.
- **Heads**: each head of the pipeline (entities; relations; categories)
  learns from the annotations that carry its labels (``examples.py``), and
  is scored on the held-out ones that do (entity F1, relation F1, the
  category score). A head is updated only when at least ``min_held_out``
  held-out annotations can judge it; with fewer, the update says the
  evidence is too thin and leaves that head (or the whole model) as served.
- **Verdict**: adopted when some head was updated and none scores lower on
  its held-out annotations than the served pipeline.
"""

from __future__ import annotations

import random
import time
import zlib
from dataclasses import asdict, dataclass, field
from typing import Sequence

from spacy.language import Language
from spacy.training import Example
from spacy.util import minibatch

from ..loading import entity_components
from .examples import CATEGORIES, ENTITIES, RELATIONS, TrainingDoc

SCORE_KEYS = {ENTITIES: "ents_f", RELATIONS: "rel_f", CATEGORIES: "cats_score"}


def head_components(nlp: Language) -> dict[str, list[str]]:
    """The pipeline's components for each head it has."""
    heads = {ENTITIES: entity_components(nlp), RELATIONS: [], CATEGORIES: []}
    for name in nlp.pipe_names:
        meta = nlp.get_pipe_meta(name)
        if meta.factory == "entity_relations":
            heads[RELATIONS].append(name)
        elif "doc.cats" in meta.assigns:
            heads[CATEGORIES].append(name)
    return {head: names for head, names in heads.items() if names}


@dataclass
class HeadResult:
    trained_on: int
    held_out: int
    served: float = 0.0
    updated: float = 0.0
    judged: bool = False  # enough held-out annotations to update and score it


@dataclass
class UpdateResult:
    adopted: bool
    served_f: float  # entity F1 of the served pipeline on the held-out annotations
    updated_f: float  # the same for the updated copy
    trained_on: int
    held_out: int
    seconds: float
    heads: dict = field(default_factory=dict)  # head -> HeadResult
    verdict: str = ""

    def line(self, version: str) -> str:
        parts = []
        for head, r in self.heads.items():
            if r.judged:
                parts.append(
                    f"{head} {100 * r.updated:.1f} against {100 * r.served:.1f} served ({r.held_out} held out)"
                )
            else:
                parts.append(f"{head} not updated ({r.held_out} held out)")
        return (
            f"update on {self.trained_on} annotations, {self.held_out} held out: {'; '.join(parts)}; "
            f"{self.verdict or ('now serving ' + version)} ({self.seconds:.0f} s)"
        )

    def as_dict(self) -> dict:
        return asdict(self)


def is_held_out(key: str, every: int) -> bool:
    """Whether the task ``key`` ("project/task") is held out: by a hash of
    the key, so the same task is held out in every update."""
    return zlib.crc32(key.encode("utf-8")) % every == 0


def held_out_split(docs: Sequence[TrainingDoc], every: int) -> tuple[list[TrainingDoc], list[TrainingDoc]]:
    held = [d for d in docs if is_held_out(d.key, every)]
    return [d for d in docs if not is_held_out(d.key, every)], held


def update(
    served: Language,
    candidate: Language,
    docs: Sequence[TrainingDoc],
    held_out_every: int = 5,
    epochs: int = 5,
    batch_size: int = 8,
    seed: int = 0,
    min_held_out: int = 10,
) -> UpdateResult:
    """Fine-tune ``candidate`` (a fresh copy of ``served``) on ``docs`` less
    the held-out share, each head on the docs that carry its labels, and
    score both on the held-out docs."""
    start = time.perf_counter()
    train, held = held_out_split(list(docs), held_out_every)
    components = head_components(candidate)
    results = {}
    for head in components:
        results[head] = HeadResult(sum(head in d.heads for d in train), sum(head in d.heads for d in held))
        results[head].judged = results[head].held_out >= min_held_out and results[head].trained_on > 0
    updated = {head for head, r in results.items() if r.judged}
    if not updated:
        if not any(r.trained_on for r in results.values()):
            verdict = (
                f"kept the served model: every annotation kept is held out ({len(held)}), none is left to train on"
            )
        else:
            thin = ", ".join(f"{head} {r.held_out}" for head, r in results.items())
            verdict = (
                f"kept the served model: too few held-out annotations to judge an update ({thin}; {min_held_out} "
                "needed)"
            )
        return UpdateResult(False, 0.0, 0.0, len(train), len(held), time.perf_counter() - start, results, verdict)
    listened = {name for name, pipe in candidate.pipeline if hasattr(pipe, "listener_map") and pipe.listener_map}
    optimizer = candidate.resume_training()
    rng = random.Random(seed)
    examples = [(Example(candidate.make_doc(d.doc.text), d.doc), d.heads & updated) for d in train]
    examples = [(eg, heads) for eg, heads in examples if heads]
    for _ in range(epochs):
        rng.shuffle(examples)
        for batch in minibatch(examples, size=batch_size):
            by_heads: dict[frozenset, list] = {}
            for eg, heads in batch:
                by_heads.setdefault(heads, []).append(eg)
            for heads, egs in sorted(by_heads.items(), key=lambda item: sorted(item[0])):
                learning = {name for head in heads for name in components[head]}
                exclude = [name for name in candidate.pipe_names if name not in learning | listened]
                candidate.update(egs, sgd=optimizer, drop=0.1, exclude=exclude)

    def score(nlp: Language, head: str) -> float:
        examples = [Example(nlp.make_doc(d.doc.text), d.doc) for d in held if head in d.heads]
        return float(nlp.evaluate(examples).get(SCORE_KEYS[head]) or 0.0)

    for head in updated:
        results[head].served, results[head].updated = score(served, head), score(candidate, head)
    lower = sorted(head for head in updated if results[head].updated < results[head].served - 1e-9)
    adopted = not lower
    verdict = "" if adopted else f"kept the served model (the update scored lower on {', '.join(lower)})"
    entity = results.get(ENTITIES) or HeadResult(0, 0)
    return UpdateResult(
        adopted, entity.served, entity.updated, len(train), len(held), time.perf_counter() - start, results, verdict
    )
