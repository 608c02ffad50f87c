"""``autolabel serve``: the Label Studio ML backend protocol (health, setup,
predict, webhook) on the module's tiny trained pipeline, each refusal the
issue lists (credentials, body size, malformed JSON, a labeling config that
does not fit, tasks without text, misaligned annotations), the server
serving on after each, and the real server on a socket."""

import base64
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import spacy
import srsly
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_annotate import TEXTS, model  # noqa: F401  (the module's tiny trained pipeline)
from test_relations import ROOT, multitask_model  # noqa: F401  (crf_ner, relations and categories, trained a little)

from autolabel_spacy.formats.labelstudio_config import LabelingConfigError, parse_labeling_config
from autolabel_spacy.serve.app import Credentials, create_app
from autolabel_spacy.serve.backend import Backend
from autolabel_spacy.serve.store import AnnotationStore
from autolabel_spacy.workflow.importer import import_annotations

# a project's config with its own names: the backend must answer in them
CONFIG = """<View>
  <Labels name="ner" toName="doc"><Label value="DRUG"/><Label value="DISEASE"/></Labels>
  <Text name="doc" value="$content"/>
</View>"""
DRUGS_ONLY = CONFIG.replace('<Label value="DISEASE"/>', "")


@pytest.fixture()
def client(model, tmp_path):
    backend = Backend(model, tmp_path / "work")
    app = create_app(backend, Credentials(user="ann", password="s3cret", token="tok"), max_body_bytes=4096)
    return app.test_client(), backend


AUTH = {"Authorization": "Basic " + base64.b64encode(b"ann:s3cret").decode()}


def post(client, path, body, headers=AUTH):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(path, data=data, headers={**headers, "Content-Type": "application/json"})


def tasks(*texts):
    return [{"id": i, "data": {"content": t}} for i, t in enumerate(texts)]


def test_health_is_open_and_every_other_route_needs_the_credentials(client):
    c, backend = client
    health = c.get("/health")
    assert health.status_code == 200 and health.json == {
        "status": "UP",
        "model_class": "autolabel-spacy",
        "model_version": backend.model_version,
    }
    body = {"tasks": tasks(TEXTS[0]), "label_config": CONFIG}
    assert post(c, "/predict", body, headers={}).status_code == 401
    wrong = {"Authorization": "Basic " + base64.b64encode(b"ann:guess").decode()}
    assert post(c, "/predict", body, headers=wrong).status_code == 401
    assert post(c, "/predict", body, headers={"Authorization": "Token nope"}).status_code == 401
    assert post(c, "/predict", body, headers={"Authorization": "Token tok"}).status_code == 200
    assert post(c, "/predict", body, headers={"Authorization": "Bearer tok"}).status_code == 200
    assert post(c, "/predict", body).status_code == 200
    assert c.get("/metrics").status_code == 401


def test_predict_answers_in_the_projects_names_with_scores_and_the_model_version(client):
    c, backend = client
    setup = post(c, "/setup", {"project": "7.1700000000", "schema": CONFIG})
    assert setup.status_code == 200 and setup.json["model_version"] == backend.model_version
    # predict names the project, not its config: the one set up is used
    response = post(c, "/predict", {"tasks": tasks(*TEXTS[:4]), "project": "7.1700000000"})
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert len(results) == 4 and response.json["model_version"] == backend.model_version
    nlp = spacy.load(backend.model_path)
    for text, prediction in zip(TEXTS, results):
        doc = nlp(text)
        assert prediction["model_version"] == backend.model_version and 0.0 <= prediction["score"] <= 1.0
        spans = [(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in prediction["result"]]
        assert spans == [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        assert all(
            r["from_name"] == "ner" and r["to_name"] == "doc" and 0 < r["score"] <= 1 for r in prediction["result"]
        )
    # a config with fewer labels gets only those
    drugs = post(c, "/predict", {"tasks": tasks(*TEXTS[:4]), "label_config": DRUGS_ONLY}).json["results"]
    labels = {r["value"]["labels"][0] for p in drugs for r in p["result"]}
    assert labels == {"DRUG"}


@pytest.mark.parametrize(
    "schema, reason",
    [
        (CONFIG.replace('toName="doc"', 'toName="body"'), "toName='body', which names no <Text> tag"),
        ("<View><Labels", "not valid XML"),
        ('<View><Text name="doc" value="$content"/></View>', "needs a <Labels> tag (spans) or a <Choices> tag"),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><View/>', "not valid XML"),
    ],
)
def test_a_labeling_config_that_does_not_fit_is_refused_with_the_reason(client, schema, reason):
    c, _ = client
    response = post(c, "/setup", {"project": "1.0", "schema": schema})
    assert response.status_code == 422 and reason in response.json["error"]
    predicted = post(c, "/predict", {"tasks": tasks(TEXTS[0]), "label_config": schema})
    assert predicted.status_code == 422 and reason in predicted.json["error"]
    assert post(c, "/predict", {"tasks": tasks(TEXTS[0]), "label_config": CONFIG}).status_code == 200  # still serving


def test_malformed_oversized_or_textless_requests_are_refused_and_the_server_serves_on(client):
    c, _ = client
    assert post(c, "/predict", b"{not json").status_code == 400
    assert post(c, "/predict", [1, 2]).json["error"] == "the request body must be a JSON object"
    no_text = post(c, "/predict", {"tasks": [{"id": 3, "data": {"text": "aspirin"}}], "label_config": CONFIG})
    assert no_text.status_code == 400 and "task 0 (id 3) has no 'content' text" in no_text.json["error"]
    assert post(c, "/predict", {"tasks": [], "label_config": CONFIG}).status_code == 400
    big = post(c, "/predict", {"tasks": tasks("aspirin " * 1000), "label_config": CONFIG})
    assert big.status_code == 413
    assert post(c, "/webhook", {"task": {}}).json["error"] == "a webhook needs its 'action'"
    assert post(c, "/predict", {"tasks": tasks(TEXTS[0]), "label_config": CONFIG}).status_code == 200


def annotation(text, spans, annotation_id=1):
    return {
        "id": annotation_id,
        "result": [
            {
                "id": f"r{i}",
                "from_name": "ner",
                "to_name": "doc",
                "type": "labels",
                "value": {"start": s, "end": e, "text": text[s:e], "labels": [label]},
            }
            for i, (s, e, label) in enumerate(spans)
        ],
    }


def test_annotations_from_the_webhook_are_kept_as_sent_and_importable(client, tmp_path):
    c, backend = client
    project = {"id": 7, "label_config": CONFIG}
    text = TEXTS[0]  # "patients with migraine took aspirin daily ."
    good = {
        "action": "ANNOTATION_CREATED",
        "project": project,
        "task": {"id": 1, "data": {"content": text}, "project": 7},
        "annotation": annotation(text, [(14, 22, "DISEASE"), (28, 35, "DRUG")]),
    }
    response = post(c, "/webhook", good)
    assert response.status_code == 201 and response.json["status"] == "kept" and response.json["annotations"] == 1
    # a span off token boundaries is kept (Label Studio holds it) and listed with how to correct it in Label Studio
    off = dict(
        good,
        task={"id": 2, "data": {"content": text}, "project": 7},
        annotation=annotation(text, [(15, 22, "DISEASE")], 2),
    )
    kept = post(c, "/webhook", off)
    assert kept.status_code == 201 and "token boundaries" in kept.json["not_learnt"][0]
    assert "correct it in Label Studio" in kept.json["not_learnt"][0] and "--align" not in kept.json["not_learnt"][0]
    assert "'migraine' [14:22]" in kept.json["not_learnt"][0]  # where the tokens are
    ignored = post(c, "/webhook", {"action": "LABEL_LINK_CREATED", "project": project})
    assert ignored.status_code == 200 and ignored.json["status"] == "ignored"
    metrics = c.get("/metrics", headers=AUTH).json
    assert (metrics["annotations"], metrics["refused"]) == (2, 1)
    (error,) = srsly.read_jsonl(backend.errors_path)
    assert "token boundaries" in error["error"] and error["raw"]["annotations"][0]["id"] == 2
    # kept as Label Studio sent it, in the project's names: an export `autolabel import` reads as it is
    lines = [json.loads(line) for line in backend.annotations_path.read_text().splitlines()]
    assert [line["annotations"] for line in lines] == [[good["annotation"]], [off["annotation"]]]
    assert lines[0]["data"] == {"content": text}
    summary = import_annotations(
        backend.annotations_path, tmp_path / "train.spacy", "labelstudio", labels=["DRUG", "DISEASE"]
    )
    assert (summary.imported, summary.errors, summary.entities) == (1, 1, 2)
    (doc,) = spacy.tokens.DocBin().from_disk(tmp_path / "train.spacy").get_docs(spacy.blank("en").vocab)
    assert [(e.text, e.label_) for e in doc.ents] == [("migraine", "DISEASE"), ("aspirin", "DRUG")]


def test_labeling_config_reader_takes_choices_and_relations():
    config = parse_labeling_config(
        '<View><Text name="t" value="$text"/><Labels name="l" toName="t"><Label value="A"/></Labels>'
        '<Relations><Relation value="causes"/></Relations><Choices name="c" toName="t"><Choice '
        'value="x"/></Choices></View>'
    )
    assert (config.names.labels, config.names.text, config.names.field, config.names.category) == (
        "l",
        "t",
        "text",
        "c",
    )
    assert (config.labels, config.relations, config.choices) == (("A",), ("causes",), ("x",))
    with pytest.raises(LabelingConfigError, match="toName='u', not the <Text> tag"):
        parse_labeling_config(
            '<View><Text name="t" value="$text"/><Labels name="l" toName="t"><Label value="A"/></Labels>'
            '<Choices name="c" toName="u"/></View>'
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_served_backend_answers_on_a_socket_of_this_machine(model, tmp_path):
    port = free_port()
    env = {"AUTOLABEL_SERVE_TOKEN": "tok", "PATH": "/usr/bin:/bin"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autolabel_spacy",
            "serve",
            str(model),
            "--port",
            str(port),
            "--work-dir",
            str(tmp_path / "w"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as r:
                    assert json.load(r)["status"] == "UP"
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.5)
        body = json.dumps({"tasks": tasks(TEXTS[0]), "label_config": CONFIG}).encode()
        request = urllib.request.Request(
            url + "/predict", data=body, headers={"Content-Type": "application/json", "Authorization": "Token tok"}
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            results = json.load(r)["results"]
        assert len(results) == 1 and results[0]["result"]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(
                urllib.request.Request(url + "/predict", data=body, headers={"Content-Type": "application/json"}),
                timeout=30,
            )
        assert refused.value.code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("strategy", ["least_confidence", "margin", "entropy"])
def test_active_learning_scores_tasks_by_selects_uncertainty_lowest_most_informative(model, tmp_path, strategy):
    from autolabel_spacy.workflow.select import score_pool

    backend = Backend(model, tmp_path / "work", active_learning=strategy)
    c = create_app(backend).test_client()
    results = post(c, "/predict", {"tasks": tasks(*TEXTS), "label_config": CONFIG}, headers={}).json["results"]
    pool = score_pool(spacy.load(model), TEXTS, strategy)
    assert [p["score"] for p in results] == [round(1.0 / (1.0 + cand.uncertainty), 6) for cand in pool]
    # sorting by prediction score, ascending, gives select's order
    by_score = sorted(range(len(TEXTS)), key=lambda i: results[i]["score"])
    by_uncertainty = sorted(range(len(TEXTS)), key=lambda i: -pool[i].uncertainty)
    assert [results[i]["score"] for i in by_score] == [results[i]["score"] for i in by_uncertainty]


def test_concurrent_requests_share_a_batch_and_each_gets_its_own_predictions(model, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    backend = Backend(model, tmp_path / "work")
    config = parse_labeling_config(CONFIG)
    nlp = spacy.load(model)
    texts = [TEXTS[i % len(TEXTS)] + " " * (i // len(TEXTS)) for i in range(40)]
    calls = []
    real_pipe = backend.nlp.pipe
    backend.nlp.pipe = lambda batch, **kw: (calls.append(len(batch)), real_pipe(batch, **kw))[1]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda t: backend.predict([{"data": {"content": t}}], config)[0], texts))
    for text, prediction in zip(texts, results):
        expected = [(e.start_char, e.end_char, e.label_) for e in nlp(text).ents]
        assert [
            (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in prediction["result"]
        ] == expected
    assert sum(calls) == len(texts) and len(calls) <= len(texts)  # every text tagged once, some of them together


def test_relations_and_categories_are_predicted_in_the_configs_names(tmp_path, multitask_model):
    backend = Backend(multitask_model, tmp_path / "work")
    assert backend.relation_labels and backend.categories
    full = (
        '<View><Text name="doc" value="$body"/><Labels name="ents" toName="doc"><Label value="Chemical"/><Label '
        'value="Disease"/></Labels>'
        + "<Relations>"
        + "".join(f'<Relation value="{r}"/>' for r in backend.relation_labels)
        + "</Relations>"
        + '<Choices name="topic" toName="doc">'
        + "".join(f'<Choice value="{c}"/>' for c in backend.categories)
        + "</Choices></View>"
    )
    texts = (ROOT / "assets" / "demo" / "documents" / "raw.txt").read_text().splitlines()[:12]
    c = create_app(backend).test_client()
    results = post(
        c, "/predict", {"tasks": [{"data": {"body": t}} for t in texts], "label_config": full}, headers={}
    ).json["results"]
    kinds = [{r["type"] for r in p["result"]} for p in results]
    assert all("choices" in k for k in kinds) and any("relation" in k for k in kinds)
    for prediction in results:
        regions = {r["id"] for r in prediction["result"] if r["type"] == "labels"}
        for r in prediction["result"]:
            if r["type"] == "relation":
                assert (
                    {r["from_id"], r["to_id"]} <= regions
                    and r["labels"][0] in backend.relation_labels
                    and 0 <= r["score"] <= 1
                )
            if r["type"] == "choices":
                assert (
                    r["from_name"] == "topic"
                    and r["to_name"] == "doc"
                    and r["value"]["choices"][0] in backend.categories
                )
    # a config without <Relations> or <Choices> gets entities only
    plain = full[: full.index("<Relations>")] + "</View>"
    only = post(
        c, "/predict", {"tasks": [{"data": {"body": t}} for t in texts], "label_config": plain}, headers={}
    ).json["results"]
    assert {r["type"] for p in only for r in p["result"]} == {"labels"}


def test_a_label_the_model_does_not_know_is_served_and_its_annotations_kept_and_learnt_around(client):
    c, backend = client
    with_gene = CONFIG.replace('<Label value="DISEASE"/>', '<Label value="DISEASE"/><Label value="GENE"/>')
    setup = post(c, "/setup", {"project": "3.17", "schema": with_gene})
    assert setup.status_code == 200 and any("['GENE'] are not the model's" in note for note in setup.json["notes"])
    predicted = post(c, "/predict", {"tasks": tasks(*TEXTS[:3]), "project": "3.17"})
    assert predicted.status_code == 200 and {
        r["value"]["labels"][0] for p in predicted.json["results"] for r in p["result"]
    } <= {"DRUG", "DISEASE"}
    text = "the BRCA1 gene and aspirin ."
    body = {
        "action": "ANNOTATION_CREATED",
        "project": {"id": 3, "label_config": with_gene},
        "task": {"id": 5, "data": {"content": text}, "project": 3},
        "annotation": annotation(text, [(4, 9, "GENE"), (19, 26, "DRUG")], 50),
    }
    kept = post(c, "/webhook", body)
    assert kept.status_code == 201 and kept.json["change"] == "created" and "not_learnt" not in kept.json
    assert c.get("/metrics", headers=AUTH).json["refused"] == 0
    (doc,) = [d.doc for d in backend.training_docs()]
    assert [(e.text, e.label_) for e in doc.ents] == [("aspirin", "DRUG")]
    assert [t.ent_iob_ for t in doc] == ["O", "", "O", "O", "B", "O"]  # the GENE span is unknown, not "outside"


def test_a_webhook_without_credentials_is_refused_with_the_url_form_hint(client, caplog):
    c, backend = client
    body = {
        "action": "ANNOTATION_CREATED",
        "project": {"id": 7},
        "task": {"id": 1, "data": {"content": "x"}},
        "annotation": {"id": 1, "result": []},
    }
    with caplog.at_level("WARNING", logger="autolabel.serve"):
        assert post(c, "/webhook", body, headers={}).status_code == 401
    assert "http://USER:PASSWORD@HOST:PORT" in caplog.text
    assert backend.unauthenticated == 1 and not backend.annotations_path.exists()


def test_one_requests_bad_input_is_its_own_4xx_never_another_clients(model, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    backend = Backend(model, tmp_path / "work")
    c = create_app(backend, max_body_bytes=10 * 2**20).test_client()
    good = json.dumps({"tasks": tasks(TEXTS[0]), "label_config": CONFIG})
    bad = '{"tasks": [{"id": 1, "data": {"content": "aspirin \\ud800 x"}}], "label_config": %s}' % json.dumps(CONFIG)

    def send(body):
        return c.post("/predict", data=body, headers={"Content-Type": "application/json"})

    for _ in range(3):
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(send, [good] * 20 + [bad] + [good] * 20))
        assert [a.status_code for a in answers] == [200] * 20 + [400] + [200] * 20
        assert "lone surrogate" in answers[20].json["error"]
    # a failure inside the model is the failing request's, with the others tagged on their own
    real_pipe = backend.nlp.pipe

    def pipe(texts, **kw):
        texts = list(texts)
        if any("poison" in t for t in texts):
            raise ValueError("cannot tag poison")
        return real_pipe(texts, **kw)

    backend.nlp.pipe = pipe
    poison = json.dumps({"tasks": tasks("poison pill ."), "label_config": CONFIG})
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, [good] * 6 + [poison] + [good] * 6))
    assert [a.status_code for a in answers] == [200] * 6 + [422] + [200] * 6
    assert "cannot tag poison" in answers[6].json["error"]
    backend.nlp.pipe = real_pipe
    # a text longer than the model tags at once, a body nested too deeply: the sender's 4xx with the reason
    long = send(json.dumps({"tasks": tasks("aspirin " * 260_000), "label_config": CONFIG}))
    assert long.status_code == 413 and "split it into shorter tasks" in long.json["error"]
    deep = send("[" * 100_000 + "]" * 100_000)
    assert deep.status_code == 400 and "nests too deeply" in deep.json["error"]
    deep_object = send('{"tasks": ' + "[" * 50_000 + "]" * 50_000 + "}")
    assert deep_object.status_code == 400
    assert send(good).status_code == 200


def test_a_webhook_whose_task_meta_is_a_string_is_kept_and_read(client, tmp_path):
    c, backend = client
    text = TEXTS[0]
    body = {
        "action": "ANNOTATION_CREATED",
        "project": {"id": 7, "label_config": CONFIG},
        "task": {"id": 9, "data": {"content": text, "meta": "from the ward"}, "project": 7},
        "annotation": annotation(text, [(28, 35, "DRUG")], 90),
    }
    response = post(c, "/webhook", body)
    assert response.status_code == 201 and "not_learnt" not in response.json, response.json
    (line,) = [json.loads(x) for x in backend.annotations_path.read_text().splitlines()]
    assert line["data"] == {"content": text, "meta": "from the ward"}
    (doc,) = [d.doc for d in backend.training_docs()]
    assert [e.text for e in doc.ents] == ["aspirin"]
    # a payload that cannot be keyed is refused, and kept in the errors file as it came
    no_id = post(c, "/webhook", {**body, "annotation": {"result": []}})
    assert no_id.status_code == 422 and "no 'id'" in no_id.json["error"]
    errors = list(srsly.read_jsonl(backend.errors_path))
    assert errors[-1]["raw"]["annotation"] == {"result": []}
    assert c.get("/metrics", headers=AUTH).json["refused"] == 1


@pytest.fixture(scope="module")
def fuzzed(model, tmp_path_factory):
    backend = Backend(model, tmp_path_factory.mktemp("fuzz") / "work")
    yield create_app(backend, max_body_bytes=2**20).test_client(), backend
    backend.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 60) | st.floats(allow_nan=False, width=16) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
regions = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(max_size=3), st.integers(0, 3)),
        "type": st.sampled_from(["labels", "choices", "relation", "rating", None]),
        "from_name": st.sampled_from(["ner", "topic", "x"]),
        "to_name": st.just("doc"),
        "value": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "start": st.integers(-2, 50),
                    "end": st.integers(-2, 50),
                    "labels": st.lists(st.sampled_from(["DRUG", "DISEASE", "GENE", ""]), max_size=2),
                }
            ),
        ),
    },
    optional={"from_id": st.integers(0, 3), "to_id": st.integers(0, 3), "labels": json_values},
)
well_formed_task = st.fixed_dictionaries(
    {
        "id": st.one_of(st.integers(1, 4), st.integers(1, 4), json_values),
        "data": st.one_of(
            st.fixed_dictionaries({"content": st.text(max_size=40)}, optional={"meta": json_values}), json_values
        ),
    },
    optional={"project": st.one_of(st.integers(1, 3), json_values)},
)
tasks_ = st.one_of(
    well_formed_task, well_formed_task, well_formed_task, json_values
)  # mostly well formed: the deeper paths
well_formed_annotation = st.fixed_dictionaries(
    {
        "id": st.one_of(st.integers(1, 6), st.integers(1, 6), json_values),
        "result": st.one_of(st.lists(regions, max_size=4), json_values),
    },
    optional={"was_cancelled": st.booleans(), "updated_at": st.text(max_size=5), "task": st.integers(1, 4)},
)
annotations_ = st.one_of(well_formed_annotation, well_formed_annotation, well_formed_annotation, json_values)
actions = st.sampled_from(
    [
        "ANNOTATION_CREATED",
        "ANNOTATION_UPDATED",
        "ANNOTATION_CREATED",
        "ANNOTATION_UPDATED",
        "ANNOTATIONS_CREATED",
        "ANNOTATIONS_DELETED",
        "TASKS_DELETED",
        "PROJECT_UPDATED",
        "PROJECT_DELETED",
        "START_TRAINING",
        "SOMETHING_ELSE",
    ]
)


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    action=actions,
    task=tasks_,
    annotation=annotations_,
    project=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"id": st.integers(1, 3)}, optional={"label_config": st.one_of(st.just(CONFIG), json_values)}
        ),
    ),
    extra=json_values,
)
def test_no_webhook_payload_gets_a_500_and_every_keyed_annotation_is_kept(
    fuzzed, action, task, annotation, project, extra
):
    c, backend = fuzzed
    many = action == "ANNOTATIONS_CREATED"
    body = {
        "action": action,
        "project": project,
        "task": [task] if many else task,
        "annotation": [annotation] if many else annotation,
        "annotations": extra,
        "tasks": extra,
    }
    response = c.post("/webhook", json=body, headers={"Content-Type": "application/json"})
    event(
        f"{response.status_code} "
        f"{response.json.get('change') or response.json.get('status') or response.json.get('error', '')[:30]}"
    )
    assert response.status_code < 500, response.json
    if response.status_code == 201 and "change" in response.json and response.json["change"] in ("created", "updated"):
        stored = backend.store.tasks[str(task["id"])]
        assert any(a == annotation for a in stored["annotations"])  # as it came, whatever the reader makes of it
    # what is kept is what the file says, and it reads back
    assert AnnotationStore(backend.work_dir).records() == backend.store.records()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tasks=st.one_of(json_values, st.lists(tasks_, max_size=3)),
    label_config=st.one_of(st.none(), st.just(CONFIG), json_values),
)
def test_no_predict_request_gets_a_500(fuzzed, tasks, label_config):
    c, _ = fuzzed
    response = c.post("/predict", json={"tasks": tasks, "label_config": label_config})
    assert response.status_code < 500, response.json


def test_a_classification_project_of_choices_alone_is_served_and_learnt_from(tmp_path, multitask_model):
    backend = Backend(multitask_model, tmp_path / "work")
    config = (
        '<View><Text name="doc" value="$body"/><Choices name="topic" toName="doc">'
        + "".join(f'<Choice value="{c}"/>' for c in backend.categories)
        + "</Choices></View>"
    )
    c = create_app(backend).test_client()
    assert post(c, "/setup", {"project": "4.1", "schema": config}, headers={}).status_code == 200
    texts = (ROOT / "assets" / "demo" / "documents" / "raw.txt").read_text().splitlines()[:3]
    results = post(c, "/predict", {"tasks": [{"data": {"body": t}} for t in texts], "project": "4.1"}, headers={}).json[
        "results"
    ]
    assert [{r["type"] for r in p["result"]} for p in results] == [{"choices"}] * 3
    choice = {
        "id": "c",
        "from_name": "topic",
        "to_name": "doc",
        "type": "choices",
        "value": {"choices": [backend.categories[0]]},
    }
    body = {
        "action": "ANNOTATION_CREATED",
        "project": {"id": 4, "label_config": config},
        "task": {"id": 1, "project": 4, "data": {"body": texts[0]}},
        "annotation": {"id": 1, "result": [choice]},
    }
    assert post(c, "/webhook", body, headers={}).status_code == 201
    (doc,) = backend.training_docs()
    assert doc.heads == {"categories"} and doc.doc.cats == {backend.categories[0]: 1.0}


def test_import_reads_an_export_in_its_projects_names_with_label_config(tmp_path):
    from typer.testing import CliRunner

    from autolabel_spacy.cli import build_app

    app = build_app()
    text = "aspirin eased the migraine ."
    config = (
        '<View><Text name="doc" value="$abstract"/><Header value="$title"/><Labels name="ner" toName="doc">'
        '<Label value="DRUG"/><Label value="DISEASE"/></Labels><Choices name="topic" toName="doc"><Choice '
        'value="pain"/></Choices></View>'
    )
    task = {
        "id": 3,
        "data": {"abstract": text, "title": "a title"},
        "annotations": [
            {
                "id": 1,
                "result": [
                    {
                        "id": "a",
                        "from_name": "ner",
                        "to_name": "doc",
                        "type": "labels",
                        "value": {"start": 0, "end": 7, "text": "aspirin", "labels": ["DRUG"]},
                    },
                    {
                        "id": "b",
                        "from_name": "topic",
                        "to_name": "doc",
                        "type": "choices",
                        "value": {"choices": ["pain"]},
                    },
                ],
            }
        ],
    }
    (tmp_path / "export.json").write_text(json.dumps([task]))
    (tmp_path / "config.xml").write_text(config)
    runner = CliRunner()
    guessed = runner.invoke(app, ["import", str(tmp_path / "export.json"), str(tmp_path / "a.spacy")])
    assert guessed.exit_code == 0 and "0 imported" in guessed.stdout
    (error,) = srsly.read_jsonl(tmp_path / "a.import-errors.jsonl")
    assert "2 other string fields ['abstract', 'title']" in error["error"] and "--label-config" in error["error"]
    named = runner.invoke(
        app,
        [
            "import",
            str(tmp_path / "export.json"),
            str(tmp_path / "b.spacy"),
            "--label-config",
            str(tmp_path / "config.xml"),
        ],
    )
    assert named.exit_code == 0 and "1 imported (1 entities)" in named.stdout, named.stdout
    (doc,) = spacy.tokens.DocBin().from_disk(tmp_path / "b.spacy").get_docs(spacy.blank("en").vocab)
    assert [(e.text, e.label_) for e in doc.ents] == [("aspirin", "DRUG")] and doc.cats == {"pain": 1.0}
    assert doc.user_data["meta"]["title"] == "a title"  # the task's other fields travel as the doc's metadata
    bad = runner.invoke(
        app,
        [
            "import",
            str(tmp_path / "export.json"),
            str(tmp_path / "c.spacy"),
            "--label-config",
            str(tmp_path / "export.json"),
        ],
    )
    assert bad.exit_code != 0 and "not valid XML" in bad.output and "Traceback" not in bad.output
