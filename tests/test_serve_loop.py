"""The live loop of ``autolabel serve`` keeps every correction: the kept
annotations follow Label Studio's creations, edits and deletions (one
current annotation per annotation id, late and repeated events included)
across restarts; versions are numbered once, on disk, with their own names,
and a restart serves the latest adopted one; an update needs enough
held-out annotations to be called no worse, and learns every head the
annotations carry labels for."""

import json

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_annotate import model  # noqa: F401  (the module's tiny trained pipeline)
from test_relations import multitask_model  # noqa: F401  (crf_ner, relations and categories, trained a little)
from test_serve import CONFIG, annotation

from autolabel_spacy.files import fingerprint
from autolabel_spacy.serve.app import create_app
from autolabel_spacy.serve.backend import Backend
from autolabel_spacy.serve.store import AnnotationStore
from autolabel_spacy.serve.updates import held_out_split, is_held_out, update
from autolabel_spacy.serve.versions import ModelVersions

TEXT = "patients with migraine took aspirin daily ."
PROJECT = {"id": 7, "label_config": CONFIG}


def event(action, task_id, annotation_id, spans=((28, 35, "DRUG"),), updated_at=None, text=TEXT):
    ann = annotation(text, list(spans), annotation_id)
    ann["task"] = task_id
    if updated_at:
        ann["updated_at"] = updated_at
    return {
        "action": action,
        "project": PROJECT,
        "task": {"id": task_id, "project": 7, "data": {"content": text}},
        "annotation": ann,
    }


def kept(backend):
    """{task id: {annotation id: the labels of its spans}} of annotations.jsonl."""
    lines = [json.loads(line) for line in backend.annotations_path.read_text().splitlines()]
    return {t["id"]: {a["id"]: [r["value"]["labels"][0] for r in a["result"]] for a in t["annotations"]} for t in lines}


def test_edits_replace_deletions_remove_and_a_restart_keeps_what_the_project_holds(model, tmp_path):
    backend = Backend(model, tmp_path / "work")
    c = create_app(backend).test_client()

    def send(body):
        response = c.post("/webhook", json=body)
        assert response.status_code in (200, 201), response.json
        return response.json

    for task, ann in ((1, 10), (2, 20), (3, 30), (4, 40)):
        assert send(event("ANNOTATION_CREATED", task, ann))["change"] == "created"
    assert (
        send(event("ANNOTATION_CREATED", 2, 21, [(14, 22, "DISEASE")]))["change"] == "created"
    )  # a second annotator on task 2
    edited = event(
        "ANNOTATION_UPDATED", 2, 20, [(14, 22, "DISEASE"), (28, 35, "DRUG")], updated_at="2026-12-07T10:00:00.000000Z"
    )
    assert send(edited)["change"] == "updated"
    # a late event older than the edit does not undo it; a repeated one changes nothing
    assert send(event("ANNOTATION_UPDATED", 2, 20, updated_at="2026-12-07T09:00:00.000000Z"))["change"] == "stale"
    assert send(edited)["change"] == "updated"
    assert send({"action": "ANNOTATIONS_DELETED", "project": PROJECT, "annotations": [{"id": 40}]})["removed"] == 1
    assert send({"action": "TASKS_DELETED", "project": PROJECT, "tasks": [{"id": 3}]})["tasks_removed"] == 1
    # a deleted annotation does not come back with a late event
    assert send(event("ANNOTATION_UPDATED", 4, 40))["change"] == "deleted before"
    bulk = {
        "action": "ANNOTATIONS_CREATED",
        "project": PROJECT,
        "annotation": [dict(annotation(TEXT, [(28, 35, "DRUG")], 50), task=5)],
        "task": [{"id": 5, "project": 7, "data": {"content": TEXT}}],
    }
    assert send(bulk)["changes"] == ["created"]
    expected = {1: {10: ["DRUG"]}, 2: {20: ["DISEASE", "DRUG"], 21: ["DISEASE"]}, 5: {50: ["DRUG"]}}
    assert kept(backend) == expected
    assert c.get("/metrics").json["annotations"] == 4
    # a second backend on the same work folder is refused: it would overwrite the first one's annotations
    with pytest.raises(ValueError, match="another autolabel serve"):
        Backend(model, tmp_path / "work")
    # a restart reads the same annotations, the deleted ids and the projects' configs back
    backend.close()
    again = Backend(model, tmp_path / "work")
    assert kept(again) == expected and again.store.deleted == {"30", "40"} and "7" in again.configs
    c2 = create_app(again).test_client()
    assert c2.post("/webhook", json=event("ANNOTATION_CREATED", 3, 30)).json["change"] == "deleted before"
    assert c2.post("/webhook", json={"action": "PROJECT_DELETED", "project": {"id": 7}}).json["tasks_removed"] == 3
    assert again.annotations_path.read_text() == ""


ids = st.integers(1, 6)
events = st.lists(
    st.one_of(
        st.tuples(st.just("put"), ids, ids, st.integers(0, 9)),
        st.tuples(st.just("delete"), ids),
        st.tuples(st.just("delete_task"), ids),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events)
def test_the_store_equals_a_replay_of_the_events_and_survives_a_reload(tmp_path_factory, sequence):
    """Oracle: a plain dict replay of the same events, where an annotation
    belongs to the task it first came with and deleted ids stay deleted."""
    work = tmp_path_factory.mktemp("store")
    store = AnnotationStore(work)
    oracle, owner, deleted = {}, {}, set()
    for step in sequence:
        if step[0] == "put":
            _, task, ann, version = step
            task = owner.setdefault(ann, task)  # Label Studio never moves an annotation to another task
            stamp = f"2026-12-07T10:00:0{version}Z"
            store.put(
                {"id": task, "project": 1, "data": {"text": "x"}},
                {"id": ann, "task": task, "result": [], "updated_at": stamp},
            )
            if ann not in deleted:
                current = oracle.get(task, {}).get(ann)
                if current is None or current <= stamp:
                    oracle.setdefault(task, {})[ann] = stamp
        elif step[0] == "delete":
            store.delete_annotations([step[1]])
            deleted.add(step[1])
            for task in list(oracle):
                oracle[task].pop(step[1], None)
                if not oracle[task]:
                    del oracle[task]
        else:
            store.delete_tasks([step[1]])
            deleted |= set(oracle.pop(step[1], {}))
        store.save()
    reloaded = AnnotationStore(work)
    for s in (store, reloaded):
        assert {t["id"]: {a["id"]: a["updated_at"] for a in t["annotations"]} for t in s.records()} == oracle


def test_versions_start_at_v1_on_disk_are_never_reused_and_a_restart_serves_the_latest(model, tmp_path):
    work = tmp_path / "work"
    backend = Backend(model, work)
    name = spacy.load(model).meta["name"]
    assert backend.model_version == f"{name}-0.0.0+v1"
    assert json.loads((work / "models" / "v1" / "meta.json").read_text())["version"] == "0.0.0+v1"
    # an adopted update becomes v2, saved with its own name
    nlp = spacy.load(backend.model_path)
    entry = backend.versions.add(nlp, {"adopted": True})
    assert (
        entry["model_version"] == f"{name}-0.0.0+v2"
        and spacy.load(work / "models" / "v2").meta["version"] == "0.0.0+v2"
    )
    # a restart with the same model resumes v2, not the original
    backend.close()
    again = Backend(model, work)
    assert again.model_version == f"{name}-0.0.0+v2" and spacy.load(again.model_path).meta["version"] == "0.0.0+v2"
    assert "resuming" in again.start_note
    # another model (trained meanwhile) becomes v3; v1 and v2 stay as they were
    other = tmp_path / "other"
    changed = spacy.load(model)
    changed.meta["description"] = "retrained"
    changed.to_disk(other)
    before = fingerprint(work / "models" / "v1")
    again.close()
    third = Backend(other, work)
    assert third.model_version == f"{name}-0.0.0+v3" and fingerprint(work / "models" / "v1") == before
    assert [e["number"] for e in ModelVersions(work).entries] == [1, 2, 3]
    # a folder no version lists (left by a crash) is set aside, its number not reused for it
    (work / "models" / "v4").mkdir()
    (work / "models" / "v4" / "stray").write_text("x")
    fourth = ModelVersions(work).add(spacy.load(model), {"adopted": True})
    assert fourth["number"] == 4 and (work / "models" / "v4" / "meta.json").is_file()
    assert any(p.name.startswith(".v4.orphan") for p in (work / "models").iterdir())


def test_the_held_out_tasks_are_the_same_in_every_update_whatever_came_before():
    from autolabel_spacy.serve.examples import TrainingDoc

    blank = spacy.blank("en")
    docs = [TrainingDoc(blank(str(i)), f"7/{i}", frozenset({"entities"})) for i in range(200)]
    train, held = held_out_split(docs, 5)
    assert 20 <= len(held) <= 60 and len(train) + len(held) == 200
    shuffled_train, shuffled_held = held_out_split(list(reversed(docs[50:])), 5)
    assert {d.key for d in shuffled_held} == {d.key for d in held if int(d.key.split("/")[1]) >= 50}
    assert all(is_held_out(d.key, 5) for d in held) and not any(is_held_out(d.key, 5) for d in train)


def annotate_all(c, texts, nlp, start=0):
    for i, text in enumerate(texts, start=start):
        spans = [(e.start_char, e.end_char, e.label_) for e in nlp(text).ents]
        body = event("ANNOTATION_CREATED", i, 1000 + i, spans, text=text)
        assert c.post("/webhook", json=body).status_code == 201


TEXTS = [
    "patients with migraine took aspirin daily .",
    "warfarin is used to treat heart failure .",
    "lung cancer improved after metformin .",
    "insulin is used to treat type 2 diabetes .",
    "no diabetes was seen .",
    "aspirin helped the migraine .",
    "metformin for diabetes .",
    "migraine again .",
]


def test_too_few_held_out_annotations_decide_nothing_and_the_log_says_so(model, tmp_path):
    backend = Backend(model, tmp_path / "work", retrain_every=0, held_out_every=2, epochs=1)  # min_held_out 10
    c = create_app(backend).test_client()
    annotate_all(c, TEXTS, spacy.load(model))
    assert c.post("/webhook", json={"action": "START_TRAINING", "project": PROJECT}).json["status"] == "update started"
    backend.wait_for_update(120)
    done = backend.last_update
    assert not done["adopted"] and "too few held-out annotations" in done["verdict"]
    assert backend.model_version.endswith("+v1") and not (tmp_path / "work" / "models" / "v2").exists()
    assert (
        json.loads((tmp_path / "work" / "models" / "updates.jsonl").read_text().splitlines()[-1])["verdict"]
        == done["verdict"]
    )


def test_every_n_changes_update_in_the_background_served_only_if_no_worse_and_resumed_after_a_restart(
    model, tmp_path, monkeypatch
):
    import threading

    import autolabel_spacy.serve.backend as backend_module

    release = threading.Event()
    real_update = backend_module.update

    def held_update(*args, **kwargs):
        release.wait(60)
        return real_update(*args, **kwargs)

    monkeypatch.setattr(backend_module, "update", held_update)
    backend = Backend(model, tmp_path / "work", retrain_every=5, held_out_every=2, epochs=2, min_held_out=1)
    c = create_app(backend).test_client()
    first = backend.model_version
    annotate_all(c, TEXTS[:5], spacy.load(model))
    assert backend.updating  # the fifth change started it; predictions go on from the served model
    # until the update is done, its changes stay counted on disk: a restart meanwhile would start it again
    assert json.loads((tmp_path / "work" / "annotations-state.json").read_text())["changes_since_update"] == 5
    during = c.post("/predict", json={"tasks": [{"data": {"content": TEXTS[1]}}], "label_config": CONFIG})
    assert during.status_code == 200 and during.json["model_version"] == first
    release.set()
    backend.wait_for_update(120)
    done = c.get("/metrics").json["last_update"]
    held = sum(is_held_out(f"7/{i}", 2) for i in range(5))
    assert (done["trained_on"], done["held_out"]) == (5 - held, held)
    entities = done["heads"]["entities"]
    assert done["adopted"] == (entities["updated"] >= entities["served"])
    expected = first.replace("+v1", "+v2") if done["adopted"] else first
    assert c.get("/health").json["model_version"] == expected
    # a restart serves what was served, with the counter of changes where it was
    backend.close()
    again = Backend(model, tmp_path / "work", retrain_every=5, held_out_every=2, epochs=2, min_held_out=1)
    assert again.model_version == expected and again.last_update["model_version"] == expected
    assert again.store.changes == 0 and not again.updating


def relation_annotation(doc, annotation_id, with_relations=True):
    """A person's annotation of a predicted multi-task doc: its spans, its
    relations as arrows between their first regions, its category."""
    from autolabel_spacy.formats.labelstudio import doc_to_prediction

    result = [{k: v for k, v in item.items() if k != "score"} for item in doc_to_prediction(doc)["result"]]
    if not with_relations:
        result = [item for item in result if item["type"] != "relation"]
    for item in result:
        if item["type"] != "relation":
            item["from_name"] = {"labels": "ents", "choices": "topic"}[item["type"]]
            item["to_name"] = "doc"
    return {"id": annotation_id, "result": result}


@pytest.mark.slow
def test_an_update_learns_every_head_the_annotations_carry_labels_for(multitask_model, tmp_path):
    from test_relations import ROOT

    from autolabel_spacy.serve.examples import CATEGORIES, ENTITIES, RELATIONS

    probe = Backend(multitask_model, tmp_path / "probe")
    full = (
        '<View><Text name="doc" value="$body"/><Labels name="ents" toName="doc"><Label value="Chemical"/><Label '
        'value="Disease"/></Labels>'
        + "<Relations>"
        + "".join(f'<Relation value="{r}"/>' for r in probe.relation_labels)
        + "</Relations>"
        + '<Choices name="topic" toName="doc">'
        + "".join(f'<Choice value="{c}"/>' for c in probe.categories)
        + "</Choices></View>"
    )
    no_relations = full[: full.index("<Relations>")] + full[full.index("</Relations>") + len("</Relations>") :]
    texts = (ROOT / "assets" / "demo" / "documents" / "raw.txt").read_text().splitlines()[:24]
    nlp = spacy.load(multitask_model)
    for config, name in ((full, "full"), (no_relations, "ner_and_topic")):
        backend = Backend(multitask_model, tmp_path / name, held_out_every=3, epochs=1, min_held_out=1)
        c = create_app(backend).test_client()
        for i, doc in enumerate(nlp.pipe(texts)):
            body = {
                "action": "ANNOTATION_CREATED",
                "project": {"id": 1, "label_config": config},
                "task": {"id": i, "project": 1, "data": {"body": doc.text}},
                "annotation": relation_annotation(doc, 100 + i, config == full),
            }
            assert c.post("/webhook", json=body).status_code == 201
        docs = backend.training_docs()
        assert len(docs) == len(texts) and all(ENTITIES in d.heads and CATEGORIES in d.heads for d in docs)
        assert all((RELATIONS in d.heads) == (config == full) for d in docs)
        served, candidate = spacy.load(backend.model_path), spacy.load(backend.model_path)
        before = {pipe: served.get_pipe(pipe).model.to_bytes() for pipe in ("crf_ner", "entity_relations", "textcat")}
        result = update(served, candidate, docs, held_out_every=3, epochs=1, min_held_out=1)
        assert result.heads["categories"].judged and result.heads["entities"].judged
        assert result.heads["relations"].judged == (config == full)
        changed = {pipe for pipe in before if candidate.get_pipe(pipe).model.to_bytes() != before[pipe]}
        # the relation head learns only where the project's config has <Relations>
        assert changed == ({"crf_ner", "entity_relations", "textcat"} if config == full else {"crf_ner", "textcat"})
        assert result.adopted == all(r.updated >= r.served for r in result.heads.values() if r.judged)


def test_the_export_replaces_what_is_kept_of_a_project_but_not_a_newer_edit_nor_when_it_cannot_be_read(tmp_path):
    from autolabel_spacy.serve.sync import SyncError, sync_projects

    store = AnnotationStore(tmp_path)
    data = {"text": "x"}
    store.put(
        {"id": 1, "project": 1, "data": data},
        {"id": 10, "task": 1, "result": ["old"], "updated_at": "2026-01-01T00:00:00Z"},
    )
    store.put(
        {"id": 2, "project": 1, "data": data}, {"id": 20, "task": 2, "result": [], "updated_at": "2026-01-01T00:00:00Z"}
    )
    store.put(
        {"id": 3, "project": 1, "data": data},
        {"id": 30, "task": 3, "result": ["newest"], "updated_at": "2026-03-01T00:00:00Z"},
    )
    store.put(
        {"id": 9, "project": 2, "data": data}, {"id": 90, "task": 9, "result": [], "updated_at": "2026-01-01T00:00:00Z"}
    )
    exported = [
        {
            "id": 1,
            "project": 1,
            "data": data,
            "annotations": [{"id": 10, "result": ["edited"], "updated_at": "2026-02-01T00:00:00Z"}],
        },
        {
            "id": 3,
            "project": 1,
            "data": data,
            "annotations": [{"id": 30, "result": ["stale"], "updated_at": "2026-02-01T00:00:00Z"}],
        },
        {"id": 4, "project": 1, "data": data, "annotations": [{"id": 40, "result": ["made while away"]}]},
        {"id": 5, "project": 1, "data": data, "annotations": []},  # a task without annotations is not kept
    ]

    class LabelStudio:
        def project(self, project):
            if project == "2":
                raise SyncError("unreachable")
            return {"id": int(project), "label_config": "<View/>"}

        def export(self, project):
            return exported

    assert sync_projects(LabelStudio(), store, ["1", "2"]) == {"1": 3}  # 10 edited, 20 gone, 40 new; 30 is newer here
    results = {t["id"]: [a["result"] for a in t["annotations"]] for t in store.records()}
    assert results == {1: [["edited"]], 3: [["newest"]], 4: [["made while away"]], 9: [[]]}
    assert "20" in store.deleted and store.label_config(1) == "<View/>"
