"""What the connected Label Studio projects hold now, kept in the work folder.

``annotations.jsonl`` mirrors the projects: one line per task that has
annotations, as Label Studio's JSON export has it (``id``, ``data``, and
every current annotation of the task as Label Studio sent it, in the
project's own tag names), plus the task's ``project``. It follows Label
Studio's webhook events:

- ``ANNOTATION_CREATED``, ``ANNOTATIONS_CREATED`` and ``ANNOTATION_UPDATED``
  put the annotation in its task's line (one per annotation id: an edit
  replaces it); an event older than the stored annotation (its
  ``updated_at``) does not undo a newer one;
- ``ANNOTATIONS_DELETED`` removes annotations, ``TASKS_DELETED`` tasks and
  ``PROJECT_DELETED`` a project's tasks; a deleted annotation id does not
  come back with a late event;
- ``PROJECT_UPDATED`` (and every event that carries the project) keeps the
  project's labeling config, which says how its annotations are read.

Nothing is converted or dropped on the way in: an annotation the model
cannot learn from is kept all the same (the reasons are the reader's, see
``examples.py``). The file is rewritten atomically after each change, so a
crash or a restart never leaves half of it; ``annotations-state.json``
keeps the deleted ids, the projects' configs and the number of changes
since the last update across restarts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from ..files import atomic_write_text, json_lines


class PayloadError(ValueError):
    """A webhook payload the store cannot key (no annotation id, no task)."""


@dataclass(frozen=True)
class Change:
    """What one event did: ``kind`` created/updated/deleted/stale/..."""

    kind: str
    task: Optional[dict] = None  # the task's stored line after the change (created, updated)
    annotation_id: object = None
    count: int = 1


def _key(value) -> str:
    return str(value)


class AnnotationStore:
    def __init__(self, work_dir) -> None:
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.work_dir / "annotations.jsonl"
        self.state_path = self.work_dir / "annotations-state.json"
        self.tasks: dict[str, dict] = {}
        self.deleted: set[str] = set()
        self.projects: dict[str, dict] = {}  # project id -> {"label_config": xml, "title": ...}
        self.changes = 0  # annotation changes not yet answered by an update
        self._lines: dict[str, tuple[dict, str]] = {}  # task key -> (its dict, its JSON line), for saving
        self._load()

    # -- disk ---------------------------------------------------------------
    def _load(self) -> None:
        if self.path.exists():
            for lineno, line in enumerate(json_lines(self.path.read_text(encoding="utf-8")), start=1):
                if not line.strip():
                    continue
                try:
                    task = json.loads(line)
                except ValueError as err:
                    raise ValueError(
                        f"{self.path}:{lineno}: not a JSON line ({err}); the work folder's annotations are damaged"
                    ) from None
                if not isinstance(task, dict) or "id" not in task:
                    raise ValueError(f"{self.path}:{lineno}: not a task with an 'id'")
                self.tasks[_key(task["id"])] = task
        if self.state_path.exists():
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
            self.deleted = {_key(i) for i in state.get("deleted_annotations", [])}
            self.projects = dict(state.get("projects", {}))
            self.changes = int(state.get("changes_since_update", 0))

    def save(self) -> None:
        lines = []
        for (
            task
        ) in self.records():  # a task's line is written again only when the task changed (its dict is replaced then)
            key = _key(task["id"])
            cached = self._lines.get(key)
            if cached is None or cached[0] is not task:
                cached = self._lines[key] = (task, _json_line(task) + "\n")
            lines.append(cached[1])
        for key in set(self._lines) - set(self.tasks):
            del self._lines[key]
        atomic_write_text(self.path, "".join(lines))
        state = {
            "deleted_annotations": sorted(self.deleted, key=_sortable),
            "projects": self.projects,
            "changes_since_update": self.changes,
        }
        atomic_write_text(self.state_path, json.dumps(state, ensure_ascii=False, indent=1) + "\n")

    # -- reading --------------------------------------------------------------
    def records(self) -> list[dict]:
        """Every task line, by project and task id."""
        return sorted(self.tasks.values(), key=lambda t: (_sortable(t.get("project")), _sortable(t["id"])))

    def annotation_count(self) -> int:
        return sum(len(task["annotations"]) for task in self.tasks.values())

    def label_config(self, project) -> Optional[str]:
        return (self.projects.get(_key(project)) or {}).get("label_config")

    # -- events ---------------------------------------------------------------
    def note_project(self, project) -> None:
        """Keep a project's labeling config (and title) from any payload that
        carries the project object."""
        if isinstance(project, dict) and project.get("id") is not None and isinstance(project.get("label_config"), str):
            entry = {"label_config": project["label_config"]}
            if isinstance(project.get("title"), str):
                entry["title"] = project["title"]
            self.projects[_key(project["id"])] = entry

    def put(self, task, annotation, project_id=None) -> Change:
        """An annotation created or updated, in its task."""
        if not isinstance(annotation, dict) or annotation.get("id") is None:
            raise PayloadError("the annotation has no 'id'")
        if not _is_id(annotation["id"]):
            raise PayloadError(f"the annotation's id {annotation['id']!r} is neither a number nor a string")
        if not isinstance(task, dict) or task.get("id") is None:
            raise PayloadError(f"annotation {annotation['id']!r} comes without its task (an object with an 'id')")
        if not _is_id(task["id"]):
            raise PayloadError(
                f"the id {task['id']!r} of annotation {annotation['id']!r}'s task is neither a number nor a string"
            )
        if annotation.get("task") is not None and _key(annotation["task"]) != _key(task["id"]):
            raise PayloadError(
                f"annotation {annotation['id']!r} names task {annotation['task']!r} but comes with task {task['id']!r}"
            )
        if not isinstance(task.get("data"), dict):
            raise PayloadError(f"task {task['id']!r} has no 'data' object")
        annotation_key = _key(annotation["id"])
        if annotation_key in self.deleted:
            return Change("deleted before", annotation_id=annotation["id"])
        stored = self.tasks.get(_key(task["id"]))
        line = {
            "id": task["id"],
            "project": task.get("project", project_id if stored is None else stored.get("project")),
            "data": task["data"],
            "annotations": [a for a in (stored or {}).get("annotations", []) if _key(a.get("id")) != annotation_key],
        }
        previous = next((a for a in (stored or {}).get("annotations", []) if _key(a.get("id")) == annotation_key), None)
        if previous is not None and _newer(previous, annotation):
            return Change("stale", stored, annotation["id"])
        line["annotations"].append(annotation)
        line["annotations"].sort(key=lambda a: _sortable(a.get("id")))
        self.tasks[_key(task["id"])] = line
        self.changes += 1
        return Change("updated" if previous is not None else "created", line, annotation["id"])

    def delete_annotations(self, ids: Iterable) -> int:
        ids = {_key(i) for i in ids}
        removed = 0
        for key, task in list(self.tasks.items()):
            kept = [a for a in task["annotations"] if _key(a.get("id")) not in ids]
            removed += len(task["annotations"]) - len(kept)
            if len(kept) < len(task["annotations"]):
                self.tasks[key] = {**task, "annotations": kept}  # a new dict: see save()
            if not kept:
                del self.tasks[key]
        self.deleted |= ids
        self.changes += removed
        return removed

    def delete_tasks(self, ids: Iterable) -> int:
        removed = [self.tasks.pop(_key(i)) for i in ids if _key(i) in self.tasks]
        self.deleted |= {_key(a.get("id")) for task in removed for a in task["annotations"]}
        self.changes += sum(len(task["annotations"]) for task in removed)
        return len(removed)

    def replace_project(self, project_id, tasks: list) -> int:
        """What the project holds, from its export: its tasks' lines become
        those of ``tasks`` (each with its annotations); returns how many
        annotations that added, changed or removed."""
        before = {
            _key(a.get("id")): a
            for t in self.tasks.values()
            if _key(t.get("project")) == _key(project_id)
            for a in t["annotations"]
        }
        for key in [k for k, t in self.tasks.items() if _key(t.get("project")) == _key(project_id)]:
            del self.tasks[key]
        after = {}
        for task in tasks:
            if not isinstance(task, dict) or task.get("id") is None or not isinstance(task.get("data"), dict):
                continue
            annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict) and _is_id(a.get("id"))]
            # an edit that reached the backend after the export was read stays (an event older than it would not undo
            # it either)
            annotations = sorted(
                (
                    before[_key(a["id"])] if _key(a["id"]) in before and _newer(before[_key(a["id"])], a) else a
                    for a in annotations
                ),
                key=lambda a: _sortable(a.get("id")),
            )
            if annotations:
                self.tasks[_key(task["id"])] = {
                    "id": task["id"],
                    "project": task.get("project", project_id),
                    "data": task["data"],
                    "annotations": annotations,
                }
                after.update({_key(a["id"]): a for a in annotations})
        gone = set(before) - set(after)
        self.deleted = (self.deleted | gone) - set(after)
        changed = len(gone) + sum(1 for k, a in after.items() if k not in before or not _same(before[k], a))
        self.changes += changed
        return changed

    def delete_project(self, project_id) -> int:
        ids = [task["id"] for task in self.tasks.values() if _key(task.get("project")) == _key(project_id)]
        self.projects.pop(_key(project_id), None)
        return self.delete_tasks(ids)


def _json_line(value) -> str:
    """One JSON line, readable where it can be; a value holding a lone
    surrogate (which no UTF-8 file holds) written with ASCII escapes, so it
    reads back exactly as it came."""
    line = json.dumps(value, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(value)
    return line


def _is_id(value) -> bool:
    """Label Studio's ids are numbers; a string id is taken too, nothing else."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and bool(value.strip()))


def _same(a: dict, b: dict) -> bool:
    """Whether two copies of an annotation (a webhook's, an export's) say the same."""
    return all(a.get(k) == b.get(k) for k in ("result", "was_cancelled", "updated_at"))


def _newer(stored: dict, incoming: dict) -> bool:
    """Whether the stored annotation is newer than the incoming one (Label
    Studio's ``updated_at``, ISO 8601 in one time zone); unknown: not."""
    a, b = stored.get("updated_at"), incoming.get("updated_at")
    return isinstance(a, str) and isinstance(b, str) and a > b


def _sortable(value):
    """Ids sort as numbers where they are numbers, before other ids."""
    if isinstance(value, bool) or value is None:
        return (2, "")
    if isinstance(value, int):
        return (0, value)
    text = str(value)
    return (0, int(text)) if text.isdigit() else (1, text)
