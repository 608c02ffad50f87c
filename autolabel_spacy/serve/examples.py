"""The training docs of the annotations a backend keeps (``store.py``).

Each task is read as ``autolabel import`` reads an export (its latest
annotation that was not cancelled), in its project's tag names. What the
model has no head or label for is not a reason to drop the rest:

- a span whose label the model does not know becomes a stretch of unknown
  annotation (neither that entity nor outside any), so the update learns
  the doc's other spans and nothing about that stretch;
- relations are learnt from a doc only when its project's labeling config
  has ``<Relations>`` (elsewhere, the lack of an arrow says nothing) and
  every relation label is the model's; categories only from a doc whose
  annotation chose one the model knows.

A task that cannot be read at all (a span off token boundaries, every
annotation cancelled) raises :class:`RecordError` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from spacy.tokens import Doc

from ..formats.labelstudio import task_to_doc
from ..formats.labelstudio_config import LabelingConfig
from ..formats.records import RecordError
from ..relations import entities, get_relations, set_relations

ENTITIES, RELATIONS, CATEGORIES = "entities", "relations", "categories"
# how an annotation that does not fit the tokens is to be corrected, for the reviewer who made it
SERVE_ALIGN_HINT = "; correct it in Label Studio to cover whole tokens (the backend does not snap spans)"


@dataclass
class TrainingDoc:
    doc: Doc
    key: str  # "project/task": which annotations belong together when some are held out
    heads: frozenset  # what the doc can teach: ENTITIES, RELATIONS, CATEGORIES
    notes: list = field(default_factory=list)  # what of it the model cannot learn, and why


def where_of(task: dict) -> str:
    ids = [a.get("id") for a in task.get("annotations", [])]
    return (
        f"project {task.get('project')!r}, task {task.get('id')!r}, annotation{'s' if len(ids) > 1 else ''} "
        f"{', '.join(map(repr, ids))}"
    )


def training_doc(
    task: dict, config: Optional[LabelingConfig], reader, entity_labels, relation_labels=None, categories=None
) -> TrainingDoc:
    where = where_of(task)
    doc = task_to_doc(task, where, reader, names=config.names if config else None, align_hint=SERVE_ALIGN_HINT)
    notes = []
    heads = {ENTITIES} if config is None or config.labels else set()  # a <Choices>-only project marks no spans
    known = set(entity_labels)
    unknown = [e for e in doc.ents if e.label_ not in known]
    if unknown:
        notes.append(f"labels {sorted({e.label_ for e in unknown})} are not the model's: those spans are left unknown")
        doc.set_ents([e for e in doc.ents if e.label_ in known], missing=unknown, default="outside")
    relations = get_relations(doc)
    if relation_labels is not None and (relations or (config is not None and config.relations)):
        strange = sorted({r.label for r in relations} - set(relation_labels)) if relations else []
        keys = {entity.key for entity in entities(doc)}  # of the spans left, the model's labels
        lost = [r for r in relations if r.head not in keys or r.child not in keys]
        if strange:
            notes.append(f"relation labels {strange} are not the model's: the doc's relations are not learnt")
        elif lost:
            notes.append(
                "a relation joins a span of a label the model does not know: the doc's relations are not learnt"
            )
        else:
            heads.add(RELATIONS)
    if RELATIONS not in heads and relations:
        set_relations(doc, [])
    if doc.cats:
        if categories is not None and set(doc.cats) <= set(categories):
            heads.add(CATEGORIES)
        else:
            notes.append(f"categories {sorted(doc.cats)} are not the model's: not learnt")
            doc.cats = {}
    return TrainingDoc(doc, f"{task.get('project')}/{task.get('id')}", frozenset(heads), notes)


def readable(task: dict, config, reader, entity_labels, relation_labels=None, categories=None) -> Optional[str]:
    """Why the task cannot be learnt from, or None; never raises (a reader
    bug is a reason too, not a lost annotation)."""
    try:
        training_doc(task, config, reader, entity_labels, relation_labels, categories)
    except RecordError as err:
        return err.reason
    except Exception as err:
        return f"could not be read ({type(err).__name__}: {err})"
    return None


__all__ = ["CATEGORIES", "ENTITIES", "RELATIONS", "RecordError", "TrainingDoc", "readable", "training_doc", "where_of"]
