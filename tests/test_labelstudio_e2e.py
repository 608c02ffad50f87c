"""``autolabel serve`` with a real Label Studio (the pinned one of
``make labelstudio``, SQLite, free local ports): a project with an NER
labeling config connects the backend, imports tasks and stores the
predictions the backend makes (spans with scores, task scores,
``model_version``); annotations submitted through Label Studio's API reach
the backend through its webhook, are kept, and start an update whose new
version then serves predictions."""
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

ROOT = Path(__file__).resolve().parent.parent
LABEL_STUDIO = ROOT / ".venv-labelstudio" / "bin" / "label-studio"
TOKEN = "autolabel-e2e-token-0123456789"
CONFIG = ('<View><Labels name="label" toName="text"><Label value="DRUG"/><Label value="DISEASE"/></Labels>'
          '<Text name="text" value="$text"/></View>')
TEXTS = ["patients with migraine took aspirin daily .", "warfarin is used to treat heart failure .",
         "lung cancer improved after metformin .", "the weather was fine ."]


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
        time.sleep(1)
    raise AssertionError(f"{url} did not answer within {seconds} s:\n{log.read_text()[-4000:]}")


@pytest.fixture()
def label_studio(tmp_path):
    if not LABEL_STUDIO.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Label Studio is not installed (make test installs it: make labelstudio)")
        pytest.skip("Label Studio is not installed (make labelstudio)")
    port = free_port()
    env = {
        **os.environ,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",  # the API token of --user-token
        # the backend runs on this machine: let Label Studio call a loopback address
        "SSRF_PROTECTION_ENABLED": "false", "USE_DEFAULT_BANNED_SUBNETS": "false",
        # everything it writes stays in the test's folder (it would make ~/.local/share/label-studio)
        "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "home" / "data"),
    }
    log = tmp_path / "label-studio.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [str(LABEL_STUDIO), "start", "--no-browser", "--port", str(port), "--data-dir", str(tmp_path / "ls-data"),
             "--username", "test@example.com", "--password", "autolabel-e2e", "--user-token", TOKEN],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(url + "/health", server, 300, log)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)


@pytest.mark.slow
def test_label_studio_shows_the_backends_predictions_and_its_annotations_update_the_model(label_studio, model, tmp_path):  # noqa: F811
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        backend = subprocess.Popen(
            [sys.executable, "-m", "autolabel_spacy", "serve", str(model), "--port", str(port), "--work-dir", str(tmp_path / "serve"),
             "--retrain-every", "2", "--held-out-every", "2", "--update-epochs", "2"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        backend_url = f"http://127.0.0.1:{port}"
        wait_for(backend_url + "/health", backend, 120, log)
        api = requests.Session()
        api.headers["Authorization"] = f"Token {TOKEN}"
        project = api.post(f"{label_studio}/api/projects", json={"title": "autolabel e2e", "label_config": CONFIG}).json()["id"]
        connected = api.post(f"{label_studio}/api/ml", json={"project": project, "url": backend_url, "title": "autolabel"})
        assert connected.status_code == 201 and connected.json()["readable_state"] == "Connected", connected.text
        served_first = requests.get(backend_url + "/health").json()["model_version"]
        assert api.post(f"{label_studio}/api/projects/{project}/import", json=[{"text": t} for t in TEXTS]).status_code == 201
        asked = api.post(f"{label_studio}/api/dm/actions", params={"id": "retrieve_tasks_predictions", "project": project},
                         json={"selectedItems": {"all": True, "excluded": []}})
        assert asked.status_code == 200, asked.text
        predictions = api.get(f"{label_studio}/api/predictions", params={"project": project}).json()
        assert len(predictions) == len(TEXTS)
        by_task = {p["task"]: p for p in predictions}
        tasks = sorted(by_task)
        first = by_task[tasks[0]]
        assert first["model_version"] == served_first and 0.0 < first["score"] <= 1.0
        spans = {(r["value"]["text"], r["value"]["labels"][0]) for r in first["result"]}
        assert {("migraine", "DISEASE"), ("aspirin", "DRUG")} <= spans and all(0 < r["score"] <= 1 for r in first["result"])
        # reviewers submit corrected annotations: the webhook brings them to the backend
        for task in tasks[:2]:
            result = [{k: v for k, v in r.items() if k != "score"} for r in by_task[task]["result"]]
            assert api.post(f"{label_studio}/api/tasks/{task}/annotations", json={"result": result}).status_code == 201
        deadline = time.monotonic() + 120
        while True:
            metrics = requests.get(backend_url + "/metrics").json()
            if metrics["last_update"] is not None or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert metrics["annotations"] == 2 and metrics["refused"] == 0, log.read_text()
        kept = [json.loads(line) for line in (tmp_path / "serve" / "annotations.jsonl").read_text().splitlines()]
        assert [k["data"]["text"] for k in kept] == TEXTS[:2]
        update = metrics["last_update"]
        assert update is not None and (update["trained_on"], update["held_out"]) == (1, 1), log.read_text()
        # the next predictions come from the version the update left serving
        asked = api.post(f"{label_studio}/api/dm/actions", params={"id": "retrieve_tasks_predictions", "project": project},
                         json={"selectedItems": {"all": False, "included": [tasks[3]]}})
        assert asked.status_code == 200, asked.text
        latest = max(api.get(f"{label_studio}/api/predictions", params={"task": tasks[3]}).json(), key=lambda p: p["id"])
        assert latest["model_version"] == update["model_version"] == metrics["model_version"]
        assert latest["model_version"] == (served_first + "+v2" if update["adopted"] else served_first)
    finally:
        backend.terminate()
        backend.wait(timeout=60)
