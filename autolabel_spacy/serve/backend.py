"""The model a Label Studio ML backend serves: predictions for tasks, in the
names of each project's labeling config, and the annotations Label Studio
sends back, kept as the projects hold them.

- ``store.py`` keeps ``annotations.jsonl``: what the connected projects
  hold now, following creations, edits and deletions (Label Studio's
  webhook events), across restarts;
- ``examples.py`` reads those annotations into training docs; one it cannot
  read is kept all the same and listed, with the reason, in
  ``annotation-errors.jsonl`` (and counted as refused in ``/metrics``);
- ``versions.py`` numbers the served models (``<name>-<version>+vK``, each
  on disk under ``models/vK``): a restart serves the latest adopted one;
- ``sync.py``: with a Label Studio to read, what was done while no webhook
  reached the backend is caught up from the projects' exports;
- ``updates.py``: with ``retrain_every`` N, every N changes to the
  annotations start an update in the background, adopted when the held-out
  annotations say it is no worse.

A request's bad input is that request's error (4xx, with the reason), never
another's: texts are checked before they join a shared batch, and a batch
that fails is tagged again request by request.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import spacy

from ..formats.labelstudio import DEFAULT_NAMES, doc_to_prediction
from ..formats.labelstudio_config import LabelingConfig, LabelingConfigError, check_labels, parse_labeling_config
from ..loading import blank, entity_components, load_pipeline
from ..workflow.importer import known_other_labels
from ..workflow.select import uncertainty
from .examples import readable, training_doc, where_of
from .store import AnnotationStore, PayloadError
from .sync import LabelStudioClient, sync_projects
from .updates import update
from .versions import ModelVersions

log = logging.getLogger("autolabel.serve")
ANNOTATION_EVENTS = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED")
ACTIVE_LEARNING = ("least_confidence", "margin", "entropy")  # select's strategies that rank by the model


class RequestError(ValueError):
    """A request the backend refuses, and why (answered with ``status``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Backend:
    """One pipeline, served. ``work_dir`` keeps the annotations received and
    the versions served."""

    def __init__(
        self,
        model,
        work_dir,
        retrain_every: int = 0,
        held_out_every: int = 5,
        epochs: int = 5,
        active_learning: Optional[str] = None,
        min_held_out: int = 10,
        label_studio: Optional[LabelStudioClient] = None,
    ) -> None:
        if active_learning is not None and active_learning not in ACTIVE_LEARNING:
            raise ValueError(f"active learning strategy must be one of {ACTIVE_LEARNING}, got {active_learning!r}")
        self.active_learning = active_learning
        load_pipeline(
            model, need_annotations="serve"
        )  # a model that cannot serve is refused before anything is written
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._claim = _claim(self.work_dir)  # one backend per work folder: two would overwrite each other's annotations
        self.versions = ModelVersions(self.work_dir)
        entry, self.start_note = self.versions.start(model)
        log.info(self.start_note)
        self.model_path = str(self.versions.folder(entry["number"]))
        self.nlp = self._scoring(load_pipeline(self.model_path))
        self.model_version = entry["model_version"]
        self.retrain_every, self.held_out_every, self.epochs, self.min_held_out = (
            retrain_every,
            held_out_every,
            epochs,
            min_held_out,
        )
        self._update_thread: Optional[threading.Thread] = None
        self._answering = 0  # the changes the running update answers
        self.last_update: Optional[dict] = self.versions.last_update()
        self.entity_labels = sorted(
            {label for name in entity_components(self.nlp) for label in getattr(self.nlp.get_pipe(name), "labels", ())}
        )
        others = known_other_labels(self.nlp)
        self.relation_labels, self.categories = others["relations"], others["categories"]
        self.store = AnnotationStore(self.work_dir)
        self.annotations_path = self.store.path
        self.errors_path = self.work_dir / "annotation-errors.jsonl"
        self.refused = _count_lines(self.errors_path)
        self.unauthenticated = 0  # requests refused for want of credentials (webhooks among them)
        self.configs: dict[str, LabelingConfig] = {}  # project id -> its labeling config, from /setup and webhooks
        self.label_studio = label_studio
        self._lock = threading.Lock()  # one writer of the annotation files at a time
        self.sync()  # what the projects hold now, with what was done while the backend was away
        self._model_lock = threading.Lock()
        self._queue: list[_Pending] = []  # requests waiting to be tagged
        self._reader = blank(self.nlp.lang)
        self._maybe_update()  # changes left over from before a restart may already call for one

    def sync(self) -> dict:
        """With a Label Studio to read (``--label-studio``): replace what is
        kept of each known project by what the project holds (``sync.py``).
        The projects' labeling configs are read again in any case."""
        with self._lock:
            done = sync_projects(self.label_studio, self.store, set(self.store.projects) | set(self.configs))
            if done:
                self.store.save()
            for project, entry in self.store.projects.items():
                self._keep_config(project, entry.get("label_config"))
        return done

    # -- labeling configs -------------------------------------------------
    def _parse(self, label_config: str) -> tuple[LabelingConfig, list[str]]:
        try:
            config = parse_labeling_config(label_config)
        except LabelingConfigError as err:
            raise RequestError(str(err), 422) from None
        return config, check_labels(config, self.entity_labels, self.relation_labels, self.categories)

    def _keep_config(self, project, label_config) -> Optional[LabelingConfig]:
        if project is None or not isinstance(label_config, str):
            return None
        try:
            config, _ = self._parse(label_config)
        except RequestError as err:
            log.warning("project %s: its labeling config cannot be served (%s)", project, err)
            return None
        self.configs[_project_id(project)] = config
        return config

    def config_for(self, label_config: Optional[str], project: Optional[str] = None) -> Optional[LabelingConfig]:
        """The labeling config a request names (its XML), else the one its
        project was set up with, else None (the default names, every label)."""
        if label_config:
            return self._parse(label_config)[0]
        return self.configs.get(_project_id(project)) if project is not None else None

    def setup(self, project, schema) -> dict:
        """``/setup``: check a project's labeling config against the model.
        Labels the model does not know are no reason to refuse the project:
        they get no predictions, and the annotations that use them are kept."""
        if not isinstance(schema, str) or not schema.strip():
            raise RequestError("setup needs the project's labeling config as 'schema'", 422)
        config, notes = self._parse(schema)
        for note in notes:
            log.info("project %s: %s", project, note)
        if project is not None:
            self.configs[_project_id(project)] = config
            with self._lock:
                self.store.note_project({"id": _project_id(project), "label_config": schema})
                self.store.save()
        return {"model_version": self.model_version, "notes": notes}

    # -- predictions ------------------------------------------------------
    def predict(self, tasks, config: Optional[LabelingConfig]) -> list[dict]:
        """One prediction per task, in order, in the config's names."""
        if not isinstance(tasks, list) or not tasks:
            raise RequestError("predict needs a non-empty list of 'tasks'")
        names = config.names if config is not None else DEFAULT_NAMES
        texts = []
        for i, task in enumerate(tasks):
            data = task.get("data") if isinstance(task, dict) else None
            text = data.get(names.field) if isinstance(data, dict) else None
            which = f"task {i} (id {task.get('id') if isinstance(task, dict) else None!r})"
            if not isinstance(text, str):
                raise RequestError(f"{which} has no {names.field!r} text in its data")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as err:
                raise RequestError(
                    f"{which}: its text holds a lone surrogate at character {err.start}, which is not text"
                ) from None
            if len(text) > self.nlp.max_length:
                raise RequestError(
                    f"{which}: its text has {len(text):,} characters, more than the model tags at once "
                    f"({self.nlp.max_length:,}); split it into shorter tasks",
                    413,
                )
            texts.append(text)
        return [self._prediction(doc, config) for doc in self._tag(texts)]

    def _tag(self, texts: list[str]) -> list:
        """The docs of ``texts``, tagged together with those of the requests
        waiting meanwhile: one tagging at a time (concurrent ones would only
        fight over the cores), and whoever tags takes every request queued,
        so concurrent requests share one ``nlp.pipe`` batch. When the batch
        fails, each request is tagged on its own, so only the one that
        fails gets the error."""
        mine = _Pending(texts)
        with self._lock:
            self._queue.append(mine)
        with self._model_lock:
            if not mine.done:
                with self._lock:
                    batch, self._queue = self._queue, []
                nlp = self.nlp  # the version serving now (an update may swap it later)
                try:
                    docs = list(nlp.pipe([text for pending in batch for text in pending.texts]))
                except Exception:
                    for pending in batch:
                        try:
                            pending.docs = list(nlp.pipe(pending.texts))
                        except Exception as err:
                            log.exception("could not tag a request of %d tasks", len(pending.texts))
                            pending.error = RequestError(
                                f"the model could not tag these tasks ({type(err).__name__}: {err})", 422
                            )
                        pending.done = True
                else:
                    at = 0
                    for pending in batch:
                        pending.docs, pending.done = docs[at : at + len(pending.texts)], True
                        at += len(pending.texts)
        if mine.error is not None:
            raise mine.error
        return mine.docs

    def _scoring(self, nlp):
        """The pipeline, set up to give what the active-learning strategy
        reads (a crf_ner's token marginals for margin and entropy)."""
        if self.active_learning in ("margin", "entropy"):
            if "crf_ner" not in nlp.pipe_names:
                raise ValueError(
                    f"--active-learning {self.active_learning} reads crf_ner's marginals; the pipeline has no crf_ner"
                )
            nlp.get_pipe("crf_ner").cfg["store_marginals"] = True
        return nlp

    def _prediction(self, doc, config: Optional[LabelingConfig]) -> dict:
        names = config.names if config is not None else DEFAULT_NAMES
        prediction = doc_to_prediction(doc, names, self.model_version)
        if self.active_learning is not None:
            # the most informative task has the lowest score, as the least sure one has without active learning
            prediction["score"] = round(1.0 / (1.0 + uncertainty(doc, self.active_learning)), 6)
        if config is None:
            return prediction
        kept, regions = [], set()
        for item in prediction["result"]:
            kind = item.get("type")
            if kind == "labels" and item["value"]["labels"][0] not in config.labels:
                continue
            if kind == "relation" and (
                item["labels"][0] not in config.relations or not {item["from_id"], item["to_id"]} <= regions
            ):
                continue
            if kind == "choices" and (not config.has_choices or item["value"]["choices"][0] not in config.choices):
                continue
            if kind == "labels":
                regions.add(item["id"])
            kept.append(item)
        prediction["result"] = kept
        return prediction

    # -- annotations ------------------------------------------------------
    def receive(self, event: str, payload: dict) -> dict:
        """``/webhook``: Label Studio's events. Annotations created, updated
        and deleted (and tasks and projects deleted) change the kept
        annotations; ``START_TRAINING`` starts an update; other events are
        acknowledged and ignored."""
        if event == "START_TRAINING":  # Label Studio's "Start Training" button
            return self.train_now()
        project = payload.get("project")
        project_id = project.get("id") if isinstance(project, dict) else project
        with self._lock:
            self.store.note_project(project)
            if isinstance(project, dict):
                self._keep_config(project_id, project.get("label_config"))
            try:
                if event in ANNOTATION_EVENTS:
                    answer = self._put(event, payload, project_id)
                elif event == "ANNOTATIONS_DELETED":
                    answer = {
                        "status": "deleted",
                        "removed": self.store.delete_annotations(_ids(payload.get("annotations"), "annotations")),
                    }
                elif event == "TASKS_DELETED":
                    answer = {
                        "status": "deleted",
                        "tasks_removed": self.store.delete_tasks(_ids(payload.get("tasks"), "tasks")),
                    }
                elif event == "PROJECT_DELETED" and project_id is not None:
                    answer = {"status": "deleted", "tasks_removed": self.store.delete_project(project_id)}
                    self.configs.pop(_project_id(project_id), None)
                else:
                    answer = {"status": "ignored", "event": event}
            except PayloadError as err:  # nothing to key it by: kept in the errors file, as it came
                self._refuse({"record": f"{event} of project {project_id!r}", "error": str(err), "raw": payload})
                raise RequestError(f"{event}: {err}", 422) from None
            self.store.save()
        if answer["status"] != "ignored":
            log.info("%s: %s (%d annotations kept)", event, answer, self.store.annotation_count())
        self._maybe_update()
        return {**answer, "annotations": self.store.annotation_count()}

    def _put(self, event: str, payload: dict, project_id) -> dict:
        annotations, tasks = payload.get("annotation"), payload.get("task")
        if event == "ANNOTATIONS_CREATED":  # many at once: annotations and their tasks, as lists
            if not isinstance(annotations, list) or not isinstance(tasks, list):
                raise PayloadError("needs 'annotation' and 'task' lists")
            by_id = {str(t.get("id")): t for t in tasks if isinstance(t, dict)}
            pairs = [(by_id.get(str(a.get("task"))) if isinstance(a, dict) else None, a) for a in annotations]
        else:
            if not isinstance(annotations, dict) or not isinstance(tasks, dict):
                raise PayloadError("needs 'task' and 'annotation' objects")
            pairs = [(tasks, annotations)]
        answer = {"status": "kept", "changes": []}
        for task, annotation in pairs:
            change = self.store.put(task, annotation, project_id)
            answer["changes"].append(change.kind)
            if change.task is not None and change.kind in ("created", "updated"):
                problem = readable(
                    change.task,
                    self._config_of(change.task),
                    self._reader,
                    self.entity_labels,
                    self.relation_labels,
                    self.categories,
                )
                if problem is not None:
                    where = where_of(change.task)
                    self._refuse({"record": where, "error": problem, "raw": change.task})
                    answer.setdefault("not_learnt", []).append(f"{where}: {problem}")
        if event != "ANNOTATIONS_CREATED":
            answer["change"] = answer.pop("changes")[0]
        return answer

    def _refuse(self, entry: dict) -> None:
        self.refused += 1
        _append(self.errors_path, {**entry, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        log.warning("not learnt: %s: %s", entry["record"], entry["error"])

    def _config_of(self, task: dict) -> Optional[LabelingConfig]:
        return self.configs.get(_project_id(task.get("project"))) if task.get("project") is not None else None

    def training_docs(self) -> list:
        """The training docs of the annotations kept now (those that can be
        read; the others are in the errors file)."""
        with self._lock:
            records = self.store.records()
        docs = []
        for task in records:
            try:
                docs.append(
                    training_doc(
                        task,
                        self._config_of(task),
                        self._reader,
                        self.entity_labels,
                        self.relation_labels,
                        self.categories,
                    )
                )
            except Exception:
                continue
        return docs

    # -- updates ----------------------------------------------------------
    def train_now(self) -> dict:
        """Start an update on the annotations kept so far, whatever
        ``retrain_every`` says (one at a time), after catching up with
        Label Studio when there is one to read."""
        synced = not self.updating
        if synced:
            self.sync()
        with self._lock:
            if not self.store.tasks:
                return {"status": "no annotations to train on"}
            if self.updating:
                return {"status": "an update is running"}
            self._start_update(synced)
        log.info("update started on request (%d annotations kept)", self.store.annotation_count())
        return {"status": "update started", "annotations": self.store.annotation_count()}

    def _start_update(self, synced: bool = False) -> None:
        # the changes this update answers are only taken off once it is done: a restart meanwhile starts it again
        self._answering = self.store.changes
        self._update_thread = threading.Thread(
            target=self._update, args=(synced,), name="autolabel-update", daemon=True
        )
        self._update_thread.start()

    def _maybe_update(self) -> None:
        """Start an update in the background once ``retrain_every`` changes
        to the annotations came since the last one started (one at a time;
        predictions go on with the served pipeline meanwhile)."""
        with self._lock:
            due = self.retrain_every and self.store.changes >= self.retrain_every and self.store.tasks
            if not due or self.updating:
                return
            self._start_update()

    @property
    def updating(self) -> bool:
        return self._update_thread is not None and self._update_thread.is_alive()

    def wait_for_update(self, timeout: Optional[float] = None) -> None:
        if self._update_thread is not None:
            self._update_thread.join(timeout)

    def _update(self, synced: bool = False) -> None:
        try:
            if not synced:  # Start Training has just read Label Studio's export
                self.sync()
            docs = self.training_docs()
            # both loaded afresh: the served pipeline answers requests meanwhile
            served, candidate = spacy.load(self.model_path), spacy.load(self.model_path)
            result = update(served, candidate, docs, self.held_out_every, self.epochs, min_held_out=self.min_held_out)
            record = {**result.as_dict(), "from": self.model_version, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            if result.adopted:
                entry = self.versions.add(candidate, record)
                self.nlp = self._scoring(candidate)
                self.model_path, self.model_version = str(self.versions.folder(entry["number"])), entry["model_version"]
            record["model_version"] = self.model_version
            self.versions.log_update(record)
            self.last_update = record
            log.info(result.line(self.model_version))
        except Exception:  # an update that fails leaves the served model as it was
            log.exception("the update failed; still serving %s", self.model_version)
        finally:
            with self._lock:
                self.store.changes = max(0, self.store.changes - self._answering)
                self.store.save()

    def close(self) -> None:
        """Let another backend use the work folder (when this one stops)."""
        self.wait_for_update()
        self._claim.close()

    def status(self) -> dict:
        return {
            "model_version": self.model_version,
            "annotations": self.store.annotation_count(),
            "tasks": len(self.store.tasks),
            "refused": self.refused,
            "unauthenticated": self.unauthenticated,
            "projects": sorted(self.configs),
            "updating": self.updating,
            "changes_since_update": self.store.changes,
            "last_update": self.last_update,
            "versions": [{"number": e["number"], "model_version": e["model_version"]} for e in self.versions.entries],
        }


@dataclass
class _Pending:
    """One request's texts, waiting to be tagged, then its docs (or the error)."""

    texts: list
    docs: Optional[list] = None
    error: Optional[BaseException] = None
    done: bool = False


def _project_id(project) -> str:
    """Label Studio names a project ``"<id>.<timestamp>"`` in /setup and
    /predict and ``{"id": <id>}`` in webhooks: the id."""
    if isinstance(project, dict):
        project = project.get("id")
    return str(project).split(".", 1)[0]


def _claim(work_dir: Path):
    """An exclusive lock on ``work_dir`` for as long as the returned file
    stays open (released when the process ends, however it ends)."""
    handle = open(work_dir / ".serve.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ValueError(
            f"{work_dir}: another autolabel serve ({holder}) keeps its annotations here; stop it or give --work-dir"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle


def _ids(items, what: str) -> list:
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("id") is not None for i in items):
        raise PayloadError(f"needs {what!r} as a list of objects with an 'id'")
    return [i["id"] for i in items]


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def _append(path: Path, record: dict) -> None:
    with open(path, "a", encoding="utf-8", errors="backslashreplace") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")
