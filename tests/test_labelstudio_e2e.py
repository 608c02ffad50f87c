"""``autolabel serve`` with a real Label Studio (the pinned one of ``make
labelstudio``, SQLite, free local ports, started as the README says, with
its version check, Sentry and analytics off).

The live loop keeps every correction: reviewers create, edit and delete
annotations and tasks, the backend is stopped and started again while they
work, a label the model does not know is added to the project; after each
step the annotations the backend keeps equal the project's own export,
record for record. Versions go on from where they were after the restart.
Credentials work the documented way (in the backend URL) for predictions
and webhooks; Label Studio's Basic Authentication fields reach predictions
only, and what their webhooks could not bring is caught up from the
export."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from test_annotate import model  # noqa: F401  (the module's tiny trained pipeline)

from autolabel_spacy.workflow.importer import import_annotations

ROOT = Path(__file__).resolve().parent.parent
LABEL_STUDIO = ROOT / ".venv-labelstudio" / "bin" / "label-studio"
TOKEN = "autolabel-e2e-token-0123456789"
CONFIG = (
    '<View><Labels name="label" toName="text"><Label value="DRUG"/><Label value="DISEASE"/></Labels>'
    '<Text name="text" value="$text"/></View>'
)
WITH_GENE = CONFIG.replace('<Label value="DISEASE"/>', '<Label value="DISEASE"/><Label value="GENE"/>')
TEXTS = [
    "patients with migraine took aspirin daily .",
    "warfarin is used to treat heart failure .",
    "lung cancer improved after metformin .",
    "the weather was fine .",
    "insulin is used to treat type 2 diabetes .",
    "the BRCA1 gene and aspirin .",
]
USER, PASSWORD = "reviewer", "e2e-s3cret"
# what Label Studio needs to stay on this machine: no version check, no Sentry, no analytics
QUIET = {"LATEST_VERSION_CHECK": "false", "SENTRY_DSN": "", "COLLECT_ANALYTICS": "false"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        assert process.poll() is None, log.read_text()[-4000:]
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    if not LABEL_STUDIO.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Label Studio is not installed (make test installs it: make labelstudio)")
        pytest.skip("Label Studio is not installed (make labelstudio)")
    home = tmp_path_factory.mktemp("label-studio")
    port = free_port()
    env = {
        **os.environ,
        **QUIET,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",  # the API token of --user-token
        # the backend runs on this machine: let Label Studio call a loopback address
        "SSRF_PROTECTION_ENABLED": "false",
        "USE_DEFAULT_BANNED_SUBNETS": "false",
        # everything it writes stays in the test's folder (it would make ~/.local/share/label-studio)
        "HOME": str(home / "home"),
        "XDG_DATA_HOME": str(home / "home" / "data"),
    }
    log = home / "label-studio.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [
                str(LABEL_STUDIO),
                "start",
                "--no-browser",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(home / "ls-data"),
                "--username",
                "test@example.com",
                "--password",
                "autolabel-e2e",
                "--user-token",
                TOKEN,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=home,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(url + "/health", server, 300, log)
        api = requests.Session()
        api.headers["Authorization"] = f"Token {TOKEN}"
        yield url, api
    finally:
        server.terminate()
        server.wait(timeout=60)


class Served:
    """``autolabel serve`` in a process of its own, started and stopped as a user would."""

    def __init__(self, pipeline, work: Path, log: Path, *options: str, env: dict) -> None:
        self.port, self.args, self.log, self.env = (
            free_port(),
            [str(pipeline), "--work-dir", str(work), *options],
            log,
            env,
        )
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Served":
        out = open(self.log, "a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autolabel_spacy", "serve", *self.args, "--port", str(self.port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
        )
        wait_for(self.url + "/health", self.process, 120, self.log)
        return self

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)

    def metrics(self) -> dict:
        return requests.get(self.url + "/metrics", auth=(USER, PASSWORD), timeout=30).json()

    def wait_for_updates(self, seconds: float = 120) -> dict:
        deadline = time.monotonic() + seconds
        while True:
            metrics = self.metrics()
            if not metrics["updating"] or time.monotonic() > deadline:
                return metrics
            time.sleep(0.5)


def export(url, api, project) -> dict:
    """The project's annotations as its own export has them: {task id:
    (data, {annotation id: (result, was_cancelled)})}."""
    tasks = api.get(f"{url}/api/projects/{project}/export", params={"exportType": "JSON"}).json()
    return {
        t["id"]: (t["data"], {a["id"]: (a["result"], a["was_cancelled"]) for a in t["annotations"]})
        for t in tasks
        if t["annotations"]
    }


def kept(work: Path, project) -> dict:
    """The same of what the backend keeps in its work folder."""
    lines = [json.loads(line) for line in (work / "annotations.jsonl").read_text().splitlines()]
    return {
        t["id"]: (t["data"], {a["id"]: (a["result"], a["was_cancelled"]) for a in t["annotations"]})
        for t in lines
        if t["project"] == project
    }


def predictions_of(url, api, project, tasks) -> dict:
    asked = api.post(
        f"{url}/api/dm/actions",
        params={"id": "retrieve_tasks_predictions", "project": project},
        json={"selectedItems": {"all": False, "included": tasks}},
    )
    assert asked.status_code == 200, asked.text
    latest = {}
    for p in api.get(f"{url}/api/predictions", params={"project": project}).json():
        if p["task"] in tasks and p["id"] > latest.get(p["task"], {"id": -1})["id"]:
            latest[p["task"]] = p
    return latest


def new_project(url, api, title, backend_url, **connection) -> tuple[int, list[int]]:
    project = api.post(f"{url}/api/projects", json={"title": title, "label_config": CONFIG}).json()["id"]
    connected = api.post(
        f"{url}/api/ml", json={"project": project, "url": backend_url, "title": "autolabel", **connection}
    )
    assert connected.status_code == 201 and connected.json()["readable_state"] == "Connected", connected.text
    assert api.post(f"{url}/api/projects/{project}/import", json=[{"text": t} for t in TEXTS]).status_code == 201
    tasks = sorted(
        t["id"] for t in api.get(f"{url}/api/tasks", params={"project": project, "page_size": 100}).json()["tasks"]
    )
    return project, tasks


def unscored(result):
    return [{k: v for k, v in r.items() if k != "score"} for r in result]


@pytest.mark.slow
def test_every_correction_is_kept_through_edits_deletions_a_restart_and_a_new_label(label_studio, model, tmp_path):
    url, api = label_studio
    work = tmp_path / "serve"
    served = Served(
        model,
        work,
        tmp_path / "serve.log",
        "--retrain-every",
        "3",
        "--held-out-every",
        "2",
        "--min-held-out",
        "1",
        "--update-epochs",
        "1",
        "--label-studio",
        url,
        env={"AUTOLABEL_SERVE_USER": USER, "AUTOLABEL_SERVE_PASSWORD": PASSWORD, "LABEL_STUDIO_API_KEY": TOKEN},
    ).start()
    try:
        # the documented connection: credentials in the backend URL, which Label Studio's webhook URL inherits
        with_credentials = f"http://{USER}:{PASSWORD}@127.0.0.1:{served.port}"
        project, tasks = new_project(url, api, "autolabel e2e", with_credentials)
        assert requests.post(served.url + "/predict", json={"tasks": [{"data": {"text": "x"}}]}).status_code == 401
        first = requests.get(served.url + "/health").json()["model_version"]
        assert first.endswith("+v1") and (work / "models" / "v1" / "meta.json").is_file()
        predicted = predictions_of(url, api, project, tasks)
        assert (
            len(predicted) == len(TEXTS)
            and predicted[tasks[0]]["model_version"] == first
            and 0 < predicted[tasks[0]]["score"] <= 1
        )
        spans = {(r["value"]["text"], r["value"]["labels"][0]) for r in predicted[tasks[0]]["result"]}
        assert {("migraine", "DISEASE"), ("aspirin", "DRUG")} <= spans and all(
            0 < r["score"] <= 1 for r in predicted[tasks[0]]["result"]
        )

        # reviewers create, edit and delete annotations, and delete a task
        ids = {}
        for task in tasks[:4]:
            created = api.post(
                f"{url}/api/tasks/{task}/annotations", json={"result": unscored(predicted[task]["result"])}
            )
            assert created.status_code == 201, created.text
            ids[task] = created.json()["id"]
        second = api.post(f"{url}/api/tasks/{tasks[0]}/annotations", json={"result": []})  # a second reviewer of task 1
        assert second.status_code == 201
        edited = unscored(predicted[tasks[1]]["result"])[:1]
        assert api.patch(f"{url}/api/annotations/{ids[tasks[1]]}", json={"result": edited}).status_code == 200
        assert api.delete(f"{url}/api/annotations/{ids[tasks[2]]}").status_code == 204
        deleted = api.post(
            f"{url}/api/dm/actions",
            params={"id": "delete_tasks", "project": project},
            json={"selectedItems": {"all": False, "included": [tasks[3]]}},
        )
        assert deleted.status_code == 200, deleted.text
        assert kept(work, project) == export(url, api, project)
        assert sorted(kept(work, project)) == [tasks[0], tasks[1]] and len(kept(work, project)[tasks[0]][1]) == 2
        metrics = served.wait_for_updates()
        # only the probe above came without credentials: every request of Label Studio carried them
        assert metrics["refused"] == 0 and metrics["unauthenticated"] == 1, (tmp_path / "serve.log").read_text()
        assert metrics["last_update"] is not None, (tmp_path / "serve.log").read_text()
        before_restart = metrics["model_version"]

        # the backend stops; reviewers go on; it starts again with the same command
        served.stop()
        assert (
            api.patch(
                f"{url}/api/annotations/{second.json()['id']}",
                json={"result": unscored(predicted[tasks[0]]["result"])[:1]},
            ).status_code
            == 200
        )
        assert (
            api.post(
                f"{url}/api/tasks/{tasks[4]}/annotations", json={"result": unscored(predicted[tasks[4]]["result"])}
            ).status_code
            == 201
        )
        served.start()
        health = requests.get(served.url + "/health").json()
        assert health["model_version"] == before_restart  # the latest adopted version, not the original model
        assert kept(work, project) == export(url, api, project)  # what was done meanwhile, caught up from the export
        versions = served.metrics()["versions"]
        assert [v["number"] for v in versions] == list(range(1, len(versions) + 1))
        for v in versions:  # each version on disk carries its own name
            meta = json.loads((work / "models" / f"v{v['number']}" / "meta.json").read_text())
            assert v["model_version"].endswith(meta["version"])

        # a label the model does not know: the backend stays connected, the annotation is kept, the update learns
        # around it
        assert api.patch(f"{url}/api/projects/{project}", json={"label_config": WITH_GENE}).status_code == 200
        gene = [
            {
                "id": "g1",
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "value": {"start": 4, "end": 9, "text": "BRCA1", "labels": ["GENE"]},
            },
            {
                "id": "d1",
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "value": {"start": 19, "end": 26, "text": "aspirin", "labels": ["DRUG"]},
            },
        ]
        assert api.post(f"{url}/api/tasks/{tasks[5]}/annotations", json={"result": gene}).status_code == 201
        states = [m["readable_state"] for m in api.get(f"{url}/api/ml", params={"project": project}).json()]
        assert states == ["Connected"], states
        assert kept(work, project) == export(url, api, project)
        assert served.metrics()["refused"] == 0
        # Start Training, then the next predictions come from the version the update left serving
        ml = api.get(f"{url}/api/ml", params={"project": project}).json()[0]["id"]
        assert api.post(f"{url}/api/ml/{ml}/train").status_code == 200
        metrics = served.wait_for_updates()
        latest = predictions_of(url, api, project, [tasks[5]])[tasks[5]]
        assert (
            latest["model_version"]
            == metrics["model_version"]
            == requests.get(served.url + "/health").json()["model_version"]
        )
        numbers = [v["number"] for v in metrics["versions"]]
        assert (
            numbers == list(range(1, len(numbers) + 1))
            and metrics["model_version"] == metrics["versions"][-1]["model_version"]
        )
    finally:
        served.stop()
    # what the work folder keeps is what `autolabel import` reads: every task of the export, the GENE one on its
    # known labels
    summary = import_annotations(work / "annotations.jsonl", tmp_path / "train.spacy", "labelstudio")
    assert (summary.imported, summary.errors) == (len(export(url, api, project)), 0)


@pytest.mark.slow
def test_basic_authentication_fields_reach_predictions_only_and_the_export_catches_up(label_studio, model, tmp_path):
    url, api = label_studio
    work = tmp_path / "serve"
    served = Served(
        model,
        work,
        tmp_path / "serve.log",
        "--label-studio",
        url,
        env={"AUTOLABEL_SERVE_USER": USER, "AUTOLABEL_SERVE_PASSWORD": PASSWORD, "LABEL_STUDIO_API_KEY": TOKEN},
    ).start()
    try:
        project, tasks = new_project(
            url,
            api,
            "basic auth fields",
            served.url,
            auth_method="BASIC_AUTH",
            basic_auth_user=USER,
            basic_auth_pass=PASSWORD,
        )
        predicted = predictions_of(url, api, project, tasks[:2])
        assert len(predicted) == 2 and all(p["model_version"].endswith("+v1") for p in predicted.values())
        assert (
            api.post(
                f"{url}/api/tasks/{tasks[0]}/annotations", json={"result": unscored(predicted[tasks[0]]["result"])}
            ).status_code
            == 201
        )
        # the webhook Label Studio made for the model carries no credentials: refused, and the log says what to do
        assert served.metrics()["unauthenticated"] >= 1
        assert "http://USER:PASSWORD@HOST:PORT" in (tmp_path / "serve.log").read_text()
        # Start Training goes through the model's own connection (with its credentials): the export catches up first
        ml = api.get(f"{url}/api/ml", params={"project": project}).json()[0]["id"]
        assert api.post(f"{url}/api/ml/{ml}/train").status_code == 200
        served.wait_for_updates()
        assert kept(work, project) == export(url, api, project) and len(kept(work, project)) == 1
    finally:
        served.stop()


@pytest.mark.slow
def test_make_labelstudio_gives_the_sdk_a_user_scripts_a_project_with(label_studio):
    url, _ = label_studio
    script = (
        "import sys; from label_studio_sdk import LabelStudio; "
        "client = LabelStudio(base_url=sys.argv[1], api_key=sys.argv[2]); "
        "print(sum(1 for _ in client.projects.list()) >= 0)"
    )
    done = subprocess.run(
        [str(LABEL_STUDIO.parent / "python"), "-c", script, url, TOKEN], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr[-2000:]
