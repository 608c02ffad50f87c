"""Label Studio: tasks with ``predictions`` to import for review, and the
JSON export of reviewed tasks (their ``annotations``) to read back.

Written: a JSON array of tasks, each
``{"data": {"text": ..., "meta": ...}, "predictions": [{"model_version",
"score", "result": [{"from_name": "label", "to_name": "text", "type":
"labels", "value": {"start", "end", "text", "labels": [L]}, "score"}]}]}``,
importable as is into a project whose labeling config has
``<Labels name="label" toName="text">`` and ``<Text name="text" value="$text"/>``.
A span's concept id, when it has one, is ``value["kb_id"]``. A doc's
relations (``relations.py``: between entities) are relation results
``{"type": "relation", "from_id", "to_id", "direction": "right", "labels":
[L]}`` from the first mention of the head to the first mention of the child
(and ``"keys": [head, child]``, the entities it relates, where a composite
mention ``A|B`` leaves that open) (``<Relations><Relation value="L"/></Relations>`` in the config); its
categories a ``choices`` result of its top category (``<Choices
name="category" toName="text">``).
Read: an export (JSON array, or JSON lines); a task's latest annotation that
was not cancelled gives its spans, relations and choices (tasks with none
are errors, not skipped); a task with only predictions is read from its
predictions. A relation between two regions relates their entities; one
pointing at a region the task does not have, or at its own region, is an
error of the task.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

from spacy.tokens import Doc

from ..confidences import doc_confidence, scored_entities, top_category
from ..files import json_lines
from ..relations import drawn_keys, first_mentions, set_relations
from .detect import foreign
from .records import (
    ALIGN_HINT,
    META_KEY,
    UNFORESEEN,
    Record,
    RecordError,
    array_elements,
    check_encodable,
    concept_ids,
    make_doc,
    open_for_write,
    parse_json,
    read_cats,
    span_scores,
    unreadable,
)
from .relation_items import between_mentions, read_relations

FROM_NAME = "label"
TO_NAME = "text"
CATEGORY_NAME = "category"
MODEL_VERSION = "autolabel-spacy"


@dataclass(frozen=True)
class TaskNames:
    """The names a labeling config gives its tags: ``labels`` the
    ``<Labels>`` tag (a span result's ``from_name``), ``text`` the
    ``<Text>`` tag (every result's ``to_name``), ``field`` the task data key
    its ``value="$field"`` reads, ``category`` the ``<Choices>`` tag. The
    defaults are those of the files ``annotate`` writes."""

    labels: str = FROM_NAME
    text: str = TO_NAME
    field: str = TO_NAME
    category: str = CATEGORY_NAME


DEFAULT_NAMES = TaskNames()


def doc_to_task(doc: Doc) -> dict:
    data = {"text": doc.text}
    if doc.user_data.get(META_KEY):
        data["meta"] = doc.user_data[META_KEY]
    return {"data": data, "predictions": [doc_to_prediction(doc)]}


def doc_to_prediction(doc: Doc, names: TaskNames = DEFAULT_NAMES, model_version: str = MODEL_VERSION) -> dict:
    """A doc's entities (with their scores and concept ids), relations and
    top category as one Label Studio prediction, scored by the doc's
    confidence (what "sort by prediction score" orders the queue by)."""
    result = []
    ids = concept_ids(doc)
    text = doc.text  # built once: Doc.text joins every token, so reading it per span is quadratic in a long doc
    regions = {}  # (start, end) -> region id
    for i, (start, end, label, score) in enumerate(scored_entities(doc)):
        item = {
            "id": f"s{i}",
            "from_name": names.labels,
            "to_name": names.text,
            "type": "labels",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]},
        }
        if (start, end) in ids:
            item["value"]["kb_id"] = ids[(start, end)]
        if score is not None:
            item["score"] = round(score, 6)
        regions[(start, end)] = item["id"]
        result.append(item)
    result += _relation_results(doc, regions)
    if doc.cats:
        top = top_category(doc.cats)
        result.append(
            {
                "id": "c0",
                "from_name": names.category,
                "to_name": names.text,
                "type": "choices",
                "value": {"choices": [top]},
                "score": round(float(doc.cats[top]), 6),
            }
        )
    prediction = {"model_version": model_version, "result": result}
    confidence = doc_confidence(doc)
    if confidence is not None:
        prediction["score"] = round(confidence, 6)
    return prediction


def _relation_results(doc: Doc, regions: dict) -> list[dict]:
    """Each relation as an arrow from the first region of its head entity
    to the first region of its child."""
    out = []
    for j, (r, head, child) in enumerate(first_mentions(doc)):
        ends = [regions.get((span.start_char, span.end_char)) for span in (head, child)]
        if all(ends):
            item = {
                "id": f"r{j}",
                "type": "relation",
                "from_id": ends[0],
                "to_id": ends[1],
                "direction": "right",
                "labels": [r.label],
            }
            if r.score is not None:
                item["score"] = round(r.score, 6)
            keys = drawn_keys(r, head, child)
            if keys:  # an arrow from a composite mention: which of its entities it relates
                item["keys"] = keys
            out.append(item)
    return out


def write_labelstudio(docs: Iterable[Doc], path) -> None:
    """A JSON array, written as a stream (one task per line)."""
    with open(open_for_write(path), "w", encoding="utf-8") as out:
        out.write("[")
        for n, doc in enumerate(docs):
            out.write(("\n" if n == 0 else ",\n") + json.dumps(doc_to_task(doc), ensure_ascii=False))
        out.write("\n]\n")


def _tasks(path) -> Iterator[tuple[str, object]]:
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise RecordError(str(path), f"not valid UTF-8 ({err.reason} at byte {err.start})") from None
    try:  # a JSON export is one JSON value; anything else is read as JSON lines
        whole = json.loads(text)
    except json.JSONDecodeError as err:
        whole, error = None, err
    except (
        RecursionError,
        ValueError,
    ) as err:  # one task nested too deeply, or a number too long: that task's error alone
        if not text.lstrip().startswith("["):
            raise RecordError(str(path), f"JSON that cannot be read ({type(err).__name__})") from None
        for n, element in enumerate(array_elements(text)):
            where = f"{path}#{n}"
            try:
                yield where, parse_json(element, where)
            except RecordError as err:
                yield where, err
        return
    else:
        error = None
    if isinstance(whole, list):
        for n, task in enumerate(whole):
            yield f"{path}#{n}", task
        return
    if error is None and "\n" in text.strip():
        raise RecordError(
            str(path), f"a Label Studio export is a JSON array of tasks, got a JSON {type(whole).__name__}"
        )
    if error is not None and text.lstrip().startswith("[") and len(json_lines(text.strip())) == 1:
        raise RecordError(f"{path}:{error.lineno}", f"invalid JSON ({error.msg})")
    for lineno, line in enumerate(json_lines(text), start=1):
        if line.strip():
            try:
                yield f"{path}:{lineno}", parse_json(line, f"{path}:{lineno}")
            except RecordError as err:
                yield f"{path}:{lineno}", err


def _list_of_objects(value, what: str, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise RecordError(where, f"{what} must be a list of objects, got {json.dumps(value, ensure_ascii=False)[:80]}")
    return value


def task_to_doc(
    task,
    where: str,
    nlp,
    align: str = "strict",
    labels=None,
    names: Optional[TaskNames] = None,
    align_hint: str = ALIGN_HINT,
) -> Doc:
    """The doc of one task: its latest annotation that was not cancelled, or
    else its last prediction; raises :class:`RecordError` naming ``where``.
    ``names``: the project's tag names (its labeling config); None: the
    defaults where the task has them, else what the task itself shows
    (:func:`task_names`)."""
    problem = foreign(task, "labelstudio")
    if problem:
        raise RecordError(where, problem)
    check_encodable(task, where)
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        raise RecordError(where, "a Label Studio task needs a 'data' object")
    annotations = _list_of_objects(task.get("annotations"), "'annotations'", where)
    predictions = _list_of_objects(task.get("predictions"), "'predictions'", where)
    done = [a for a in annotations if not a.get("was_cancelled")]
    if done:
        source = max(
            done, key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), str(a.get("id") or ""))
        )
    elif annotations:
        raise RecordError(where, "every annotation of this task was cancelled")
    elif predictions:
        source = predictions[-1]
    else:
        raise RecordError(where, "the task has no annotations")
    results = _list_of_objects(source.get("result"), "an annotation's 'result'", where)
    names = names or task_names(task["data"], results, where)
    text = task["data"].get(names.field)
    if not isinstance(text, str):
        raise RecordError(where, f"task data has no {names.field!r} string")
    spans, items, arrows, cats = [], [], [], {}
    for i, item in enumerate(results):
        if item.get("type") == "relation":
            arrows.append((i, item))
            continue
        if item.get("type") == "choices" and item.get("from_name") == names.category:
            choices = (item.get("value") or {}).get("choices")
            if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], str):
                raise RecordError(where, f"result {i} needs exactly one category choice, got {choices!r}")
            cats = read_cats({choices[0]: item["score"] if "score" in item and not done else 1.0}, where)
            continue
        if item.get("type") not in ("labels", None):
            continue  # other control tags (ratings, text areas) carry no spans
        value = item.get("value")
        if not isinstance(value, dict):
            raise RecordError(where, f"result {i} needs a 'value' object, got {value!r}")
        if not isinstance(value.get("labels"), list) or len(value["labels"]) != 1:
            raise RecordError(where, f"result {i} needs exactly one label, got {value.get('labels')!r}")
        spans.append((value.get("start"), value.get("end"), value["labels"][0], value.get("kb_id")))
        items.append(item)
    scored = not done  # a model's prediction carries confidences; a person's annotation does not
    doc = make_doc(
        nlp,
        text,
        spans,
        where,
        align,
        labels,
        scores=span_scores(items) if scored else None,
        doc_score=source.get("score") if scored else None,
        align_hint=align_hint,
    )
    if arrows:
        set_relations(doc, read_relations(doc, _arrow_relations(doc, arrows, items, align, where, scored), where))
    doc.cats = cats
    meta = {k: v for k, v in task["data"].items() if k != names.field}
    if list(meta) == ["meta"] and isinstance(meta["meta"], dict):
        meta = meta["meta"]
    if task.get("id") is not None:
        meta = {**meta, "labelstudio_id": task["id"]}
    if meta:
        doc.user_data[META_KEY] = meta
    return doc


def task_names(data: dict, results: list, where: str) -> TaskNames:
    """The names of a task read without its labeling config: the default
    ``text`` field when the data has it, else its one string field (a field
    is only guessed when it is the only one), and the category tag of the
    ``choices`` results when they all name one tag."""
    field = DEFAULT_NAMES.field
    if not isinstance(data.get(field), str):
        strings = sorted(k for k, v in data.items() if isinstance(v, str))
        if len(strings) != 1:
            raise RecordError(
                where,
                f"task data has no {field!r} string and {len(strings)} other string fields {strings[:5]}: "
                "give the project's labeling config (--label-config) to say which one the <Text> tag shows",
            )
        field = strings[0]
    tags = {item.get("from_name") for item in results if item.get("type") == "choices"}
    category = tags.pop() if len(tags) == 1 and isinstance(next(iter(tags)), str) else DEFAULT_NAMES.category
    return TaskNames(field=field, category=category)


def _arrow_relations(doc: Doc, arrows: list, items: list, align: str, where: str, scored: bool) -> list[dict]:
    """Relation results between regions -> relations between the regions'
    entities; a prediction's keep their scores, a person's have none."""
    offsets = {
        str(item["id"]): (item["value"].get("start"), item["value"].get("end"))
        for item in items
        if item.get("id") is not None
    }
    pairs = []
    for i, arrow in arrows:
        ends = [str(arrow.get("from_id")), str(arrow.get("to_id"))]
        missing = [e for e in ends if e not in offsets]
        if missing:
            raise RecordError(
                where, f"relation result {i} points at region {missing[0]!r}, which the task does not have"
            )
        labels = arrow.get("labels") or []
        if not isinstance(labels, list) or len(labels) != 1:
            raise RecordError(where, f"relation result {i} needs exactly one label, got {labels!r}")
        pairs.append(
            (
                i,
                offsets[ends[0]],
                offsets[ends[1]],
                labels[0],
                arrow.get("score") if scored else None,
                arrow.get("keys"),
            )
        )
    return between_mentions(doc, pairs, where, align)


def read_labelstudio_records(
    path, nlp, align: str = "strict", labels: Optional[Iterable[str]] = None, names: Optional[TaskNames] = None
) -> Iterator[Record]:
    """The tasks of an export (or of ``autolabel serve``'s annotations.jsonl);
    ``names``: the project's tag names (:func:`task_to_doc`)."""
    labels = list(labels) if labels is not None else None
    for where, task in _tasks(path):
        raw = json.dumps(task, ensure_ascii=False) if not isinstance(task, RecordError) else None
        try:
            if isinstance(task, RecordError):
                raise task
            yield Record(where, doc=task_to_doc(task, where, nlp, align, labels, names), raw=raw)
        except RecordError as err:
            yield Record(where, error=err.reason, raw=raw)
        except UNFORESEEN as err:  # a shape no check foresaw: still this task's
            yield Record(where, error=unreadable(err), raw=raw)
