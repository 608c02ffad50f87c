"""The model a Label Studio ML backend serves: predictions for tasks, in the
names of each project's labeling config, and the annotations Label Studio
sends back, checked as ``autolabel import`` checks them and kept on disk.

Annotations are data: each is read into a doc by the Label Studio reader
(spans off token boundaries are refused with the reason, not snapped;
labels outside the labeling config are refused) and appended to
``annotations.jsonl`` in the work folder, as a Label Studio task with that
one annotation in the default names (``autolabel import`` reads the file as
it is, whatever the project's tag names); a refused one goes to
``annotation-errors.jsonl`` with its reason.

With ``retrain_every`` N, every N new annotations start an update in the
background (``updates.py``): the updated copy is served, as
``<name>-<version>+vK``, only when it scores no worse on the held-out
annotations, and saved under ``models/vK`` of the work folder.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import spacy

from ..formats.labelstudio import DEFAULT_NAMES, doc_to_prediction, read_labelstudio_records, task_to_doc
from ..formats.records import META_KEY, RecordError
from ..loading import blank, entity_components, load_pipeline
from ..relations import get_relations
from ..workflow.importer import known_other_labels
from ..workflow.select import uncertainty
from .labeling_config import LabelingConfig, LabelingConfigError, check_labels, parse_labeling_config
from .updates import update

log = logging.getLogger("autolabel.serve")
ANNOTATION_EVENTS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED")
ACTIVE_LEARNING = ("least_confidence", "margin", "entropy")  # select's strategies that rank by the model


class RequestError(ValueError):
    """A request the backend refuses, and why (answered with ``status``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Backend:
    """One pipeline, served. ``work_dir`` keeps the annotations received."""

    def __init__(self, model, work_dir, retrain_every: int = 0, held_out_every: int = 5, epochs: int = 5,
                 active_learning: Optional[str] = None) -> None:
        self.model_path = str(model)
        if active_learning is not None and active_learning not in ACTIVE_LEARNING:
            raise ValueError(f"active learning strategy must be one of {ACTIVE_LEARNING}, got {active_learning!r}")
        self.active_learning = active_learning
        self.nlp = self._scoring(load_pipeline(model, need_annotations="serve"))
        self.retrain_every, self.held_out_every, self.epochs = retrain_every, held_out_every, epochs
        self._served_dir = Path(model)  # the version being served, on disk (the updates start from it)
        self._version = 1
        self._updated_at = 0  # annotations received when the last update started
        self._update_thread: Optional[threading.Thread] = None
        self.last_update: Optional[dict] = None
        self.entity_labels = sorted({label for name in entity_components(self.nlp) for label in getattr(self.nlp.get_pipe(name), "labels", ())})
        others = known_other_labels(self.nlp)
        self.relation_labels, self.categories = others["relations"], others["categories"]
        meta = self.nlp.meta
        self.model_version = f"{meta.get('name', 'pipeline')}-{meta.get('version', '0.0.0')}"
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.annotations_path = self.work_dir / "annotations.jsonl"
        self.errors_path = self.work_dir / "annotation-errors.jsonl"
        self.configs: dict[str, LabelingConfig] = {}
        self.received = self.refused = 0
        self._lock = threading.Lock()  # one writer of the annotation files at a time
        self._model_lock = threading.Lock()
        self._queue: list[_Pending] = []  # requests waiting to be tagged
        self._reader = blank(self.nlp.lang)

    # -- labeling configs -------------------------------------------------
    def config_for(self, label_config: Optional[str], project: Optional[str] = None) -> Optional[LabelingConfig]:
        """The labeling config a request names (its XML), else the one its
        project was set up with, else None (the default names, every label)."""
        if label_config:
            try:
                config = parse_labeling_config(label_config)
                check_labels(config, self.entity_labels, self.relation_labels, self.categories)
            except LabelingConfigError as err:
                raise RequestError(str(err), 422) from None
            return config
        return self.configs.get(_project_id(project)) if project is not None else None

    def setup(self, project, schema) -> dict:
        """``/setup``: check a project's labeling config against the model."""
        if not isinstance(schema, str) or not schema.strip():
            raise RequestError("setup needs the project's labeling config as 'schema'", 422)
        try:
            config = parse_labeling_config(schema)
            notes = check_labels(config, self.entity_labels, self.relation_labels, self.categories)
        except LabelingConfigError as err:
            raise RequestError(str(err), 422) from None
        for note in notes:
            log.info("project %s: %s", project, note)
        if project is not None:
            self.configs[_project_id(project)] = config
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
            if not isinstance(text, str):
                raise RequestError(f"task {i} (id {task.get('id') if isinstance(task, dict) else None!r}) has no {names.field!r} text in its data")
            texts.append(text)
        return [self._prediction(doc, config) for doc in self._tag(texts)]

    def _tag(self, texts: list[str]) -> list:
        """The docs of ``texts``, tagged together with those of the requests
        waiting meanwhile: one tagging at a time (concurrent ones would only
        fight over the cores), and whoever tags takes every request queued,
        so concurrent requests share one ``nlp.pipe`` batch."""
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
                except Exception as err:  # every request of the batch answers it
                    for pending in batch:
                        pending.error, pending.done = err, True
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
                raise ValueError(f"--active-learning {self.active_learning} reads crf_ner's marginals; the pipeline has no crf_ner")
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
            if kind == "relation" and (item["labels"][0] not in config.relations or not {item["from_id"], item["to_id"]} <= regions):
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
        """``/webhook``: an annotation created or updated in Label Studio,
        checked and kept; other events are acknowledged and ignored."""
        if event == "START_TRAINING":  # Label Studio's "Start Training" button
            return self.train_now()
        if event not in ANNOTATION_EVENTS:
            return {"status": "ignored", "event": event}
        task, annotation = payload.get("task"), payload.get("annotation")
        if not isinstance(task, dict) or not isinstance(annotation, dict):
            raise RequestError(f"{event} needs 'task' and 'annotation' objects")
        project = payload.get("project")
        label_config = project.get("label_config") if isinstance(project, dict) else None
        project_id = project.get("id") if isinstance(project, dict) else project
        config = self.config_for(label_config, project_id)
        where = f"task {task.get('id')!r}, annotation {annotation.get('id')!r}"
        record = {**task, "annotations": [annotation], "predictions": []}
        try:
            doc = task_to_doc(
                record, where, self._reader, labels=list(config.labels) if config else self.entity_labels,
                names=config.names if config else DEFAULT_NAMES,
            )
        except RecordError as err:
            with self._lock:
                self.refused += 1
                _append(self.errors_path, {"record": where, "error": err.reason, "raw": record})
            log.warning("refused %s: %s", where, err.reason)
            raise RequestError(f"{where}: {err.reason}", 422) from None
        kept = {  # in the default names, whatever the project's: `autolabel import` reads the file as it is
            "id": task.get("id"),
            "data": {"text": doc.text, **({"meta": doc.user_data[META_KEY]} if doc.user_data.get(META_KEY) else {})},
            "annotations": [{"id": annotation.get("id"), "result": doc_to_prediction(doc)["result"]}],
        }
        with self._lock:
            self.received += 1
            _append(self.annotations_path, kept)
        log.info("kept %s: %d entities, %d relations (%d annotations)", where, len(doc.ents), len(get_relations(doc)), self.received)
        self._maybe_update()
        return {"status": "kept", "annotations": self.received}

    # -- updates ----------------------------------------------------------
    def train_now(self) -> dict:
        """Start an update on the annotations kept so far, whatever
        ``retrain_every`` says (one at a time)."""
        with self._lock:
            if not self.received:
                return {"status": "no annotations to train on"}
            if self.updating:
                return {"status": "an update is running"}
            self._start_update()
        return {"status": "update started", "annotations": self.received}

    def _start_update(self) -> None:
        self._updated_at = self.received
        self._update_thread = threading.Thread(target=self._update, name="autolabel-update", daemon=True)
        self._update_thread.start()

    def _maybe_update(self) -> None:
        """Start an update in the background once ``retrain_every`` new
        annotations arrived since the last one started (one at a time;
        predictions go on with the served pipeline meanwhile)."""
        with self._lock:
            due = self.retrain_every and self.received - self._updated_at >= self.retrain_every
            if not due or self.updating:
                return
            self._start_update()

    @property
    def updating(self) -> bool:
        return self._update_thread is not None and self._update_thread.is_alive()

    def wait_for_update(self, timeout: Optional[float] = None) -> None:
        if self._update_thread is not None:
            self._update_thread.join(timeout)

    def _update(self) -> None:
        try:
            docs = [r.doc for r in read_labelstudio_records(self.annotations_path, self._reader) if r.error is None]
            # both loaded afresh: the served pipeline answers requests meanwhile
            served, candidate = spacy.load(self._served_dir), spacy.load(self._served_dir)
            result = update(served, candidate, docs, self.held_out_every, self.epochs)
            version = f"{self.model_version.rsplit('+', 1)[0]}+v{self._version + 1}"
            if result.adopted:
                folder = self.work_dir / "models" / f"v{self._version + 1}"
                folder.parent.mkdir(parents=True, exist_ok=True)
                candidate.to_disk(folder)
                self.nlp = self._scoring(candidate)
                self._served_dir, self._version, self.model_version = folder, self._version + 1, version
            self.last_update = {**asdict(result), "model_version": self.model_version}
            log.info(result.line(self.model_version))
        except Exception:  # an update that fails leaves the served model as it was
            log.exception("the update failed; still serving %s", self.model_version)

    def status(self) -> dict:
        return {
            "model_version": self.model_version, "annotations": self.received, "refused": self.refused,
            "projects": sorted(self.configs), "updating": self.updating, "last_update": self.last_update,
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


def _append(path: Path, record: dict) -> None:
    with open(path, "a", encoding="utf-8", errors="backslashreplace") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")
