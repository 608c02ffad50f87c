"""annotate --engine ray: same outputs as the local engine, every record
accounted for exactly once even when a worker is killed mid-run. Each test
starts a local Ray (RAY_AUTH_MODE=disabled) and shuts it down."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import srsly
from test_annotate import TEXTS, messy_jsonl, model  # noqa: F401  (model: the shared tiny-pipeline fixture)
from test_relations import annotate_documents, multitask_model  # noqa: F401  (multitask_model: a fixture)
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.workflow.annotate import annotate

# every test here starts (and stops) a Ray of its own, one at a time (make
# test's two pytest workers take whole files: these all run in one)
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def ray_extra():
    """Ray is imported when these tests run, not when the fast tier is collected."""
    pytest.importorskip("ray.data", reason="the [ray] extra is not installed")


os.environ.setdefault("RAY_AUTH_MODE", "disabled")
OUTPUTS = ("accepted.jsonl", "review.jsonl", "errors.jsonl", "decisions.jsonl")


def test_ray_gives_the_local_outputs_byte_for_byte(model, tmp_path):
    import ray

    n = messy_jsonl(tmp_path / "in.jsonl")
    kwargs = dict(accept_threshold=0.99, max_chars=400, progress=False, batch_size=2)
    local = annotate(model, tmp_path / "in.jsonl", tmp_path / "local" / "a.jsonl", **kwargs)
    far = annotate(
        model, tmp_path / "in.jsonl", tmp_path / "ray" / "a.jsonl", engine="ray", num_workers=2, shard_size=3, **kwargs
    )
    assert not ray.is_initialized()  # the local Ray it started is shut down
    assert (far.inputs, far.accepted, far.review, far.errors) == (
        local.inputs,
        local.accepted,
        local.review,
        local.errors,
    )
    assert far.inputs == n and far.errors == 5
    for name in OUTPUTS:
        assert (tmp_path / "ray" / f"a.{name}").read_bytes() == (tmp_path / "local" / f"a.{name}").read_bytes(), name
    assert not (tmp_path / "ray" / "a.run").exists()


def test_ray_gives_the_local_outputs_with_relations_and_categories_byte_for_byte(multitask_model, tmp_path):
    local = annotate_documents(multitask_model, tmp_path, "local")
    far = annotate_documents(multitask_model, tmp_path, "ray", engine="ray", num_workers=2, shard_size=5)
    assert (far.accepted, far.review, far.errors) == (local.accepted, local.review, local.errors)
    lines = [
        line
        for part in ("accepted", "review")
        for line in (tmp_path / "local" / f"a.{part}.jsonl").read_text().splitlines()
    ]
    assert any(json.loads(line)["relations"] for line in lines) and all(json.loads(line)["cats"] for line in lines)
    for name in OUTPUTS:
        assert (tmp_path / "ray" / f"a.{name}").read_bytes() == (tmp_path / "local" / f"a.{name}").read_bytes(), name


def test_cli_engine_options_and_missing_ray(model, tmp_path, monkeypatch):
    (tmp_path / "in.txt").write_text("\n".join(TEXTS) + "\n")
    result = CliRunner().invoke(
        build_app(),
        [
            "annotate",
            str(model),
            str(tmp_path / "in.txt"),
            "-o",
            str(tmp_path / "o.jsonl"),
            "--engine",
            "ray",
            "--num-workers",
            "1",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sum(1 for _ in srsly.read_jsonl(tmp_path / "o.jsonl")) == len(TEXTS)

    bad = CliRunner().invoke(
        build_app(),
        ["annotate", str(model), str(tmp_path / "in.txt"), "-o", str(tmp_path / "x.jsonl"), "--engine", "spark"],
    )
    assert bad.exit_code == 2 and "'spark' is not one of 'local', 'ray'" in bad.output  # a usage error
    # without the extra: a clear message that says how to install it, before any work
    monkeypatch.setitem(sys.modules, "ray", None)
    missing = CliRunner().invoke(
        build_app(),
        ["annotate", str(model), str(tmp_path / "in.txt"), "-o", str(tmp_path / "y.jsonl"), "--engine", "ray"],
    )
    assert missing.exit_code == 1 and 'pip install "autolabel-spacy[ray]"' in missing.output
    assert not (tmp_path / "y.run").exists()


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state, parent
    pid, ...), or None once the process is gone. The name, in parentheses,
    may hold spaces and parentheses itself, so the fields start after the last ')'."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process on the machine."""
    parents = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and (fields := _stat(int(proc.name))) is not None:
            parents[int(proc.name)] = int(fields[1])
    return parents


def _descendants(root: int) -> set[int]:
    parents = _parents()
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _ray_worker_pids(root: int) -> list[int]:
    """Processes of Ray Data's actors that run the Annotator (Ray names them
    ``ray::MapWorker(MapBatches(Annotator))``) and descend from ``root``: the
    annotate run's own Ray, never another run's on the same machine."""
    pids = []
    for pid in sorted(_descendants(root)):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"ray::" in cmdline and b"Annotator" in cmdline:
            pids.append(pid)
    return pids


def test_a_killed_worker_still_leaves_every_record_exactly_once(model, tmp_path):
    n = 3000
    lines = [json.dumps({"text": f"{TEXTS[i % len(TEXTS)]} ({i})", "meta": {"i": i}}) for i in range(n)]
    lines[17] = '{"text": "broken'
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out" / "a.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "autolabel_spacy",
        "annotate",
        str(model),
        str(tmp_path / "in.jsonl"),
        "-o",
        str(out),
        "--accept-threshold",
        "0.99",
        "--engine",
        "ray",
        "--num-workers",
        "2",
        "--shard-size",
        "250",
        "--batch-size",
        "10",
        "--no-progress",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ, RAY_AUTH_MODE="disabled")
    )
    parts = tmp_path / "out" / "a.run"
    killed = None
    deadline = time.time() + 300
    while proc.poll() is None and time.time() < deadline:
        done = sum(
            1
            for name in ("accepted", "review")
            if (parts / f"{name}.jsonl").exists()
            for _ in open(parts / f"{name}.jsonl")
        )
        pids = _ray_worker_pids(proc.pid)
        if killed is None and done >= 100 and len(pids) == 2:
            killed = pids[0]
            os.kill(killed, signal.SIGKILL)  # mid-run: results of 100+ docs are in, most are not
        time.sleep(0.2)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, output[-4000:]
    assert killed is not None, "no Ray worker was seen to kill"
    ids = Counter(r["id"] for r in srsly.read_jsonl(tmp_path / "out" / "a.decisions.jsonl"))
    tagged = Counter()
    for name in ("accepted", "review"):
        tagged.update(r["meta"]["autolabel_id"] for r in srsly.read_jsonl(tmp_path / "out" / f"a.{name}.jsonl"))
    assert tagged == ids
    errors = [r["id"] for r in srsly.read_jsonl(tmp_path / "out" / "a.errors.jsonl")]
    assert errors == ["in.jsonl:18"]
    assert sum(ids.values()) == n - 1 and max(ids.values()) == 1  # every record once, none twice
    assert set(ids) | set(errors) == {f"in.jsonl:{i + 1}" for i in range(n)}
    summary = srsly.read_json(tmp_path / "out" / "a.summary.json")
    assert summary["inputs"] == n and summary["accepted"] + summary["review"] + summary["errors"] == n


def _start_head(port: int, env: dict) -> subprocess.Popen:
    """A Ray head of this test's own: ``ray start --block`` stays in the
    foreground as the parent of every process it starts, so terminating it
    stops that cluster and no other (``ray stop`` would stop every Ray on the
    machine, another run's included)."""
    ray_cli = str(Path(sys.executable).parent / "ray")
    head = subprocess.Popen(
        [
            ray_cli,
            "start",
            "--head",
            "--block",
            "--port",
            str(port),
            "--num-cpus",
            "2",
            "--include-dashboard",
            "false",
            "--disable-usage-stats",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    watchdog = threading.Timer(180, head.kill)  # a head that never comes up fails the test, not hangs it
    watchdog.start()
    seen = []
    try:
        for line in head.stdout:
            seen.append(line)
            if "block forever" in line:
                break
    finally:
        watchdog.cancel()
    if head.poll() is not None:
        raise AssertionError("ray start --head did not come up:\n" + "".join(seen[-40:]))
    threading.Thread(target=head.stdout.read, daemon=True).start()  # keep draining its output
    return head


def test_joins_an_existing_cluster_with_address(model, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, RAY_AUTH_MODE="disabled")
    head = _start_head(port, env)
    cluster = _descendants(head.pid)
    try:
        (tmp_path / "in.txt").write_text("\n".join(TEXTS) + "\n")
        local = annotate(
            model, tmp_path / "in.txt", tmp_path / "local" / "a.jsonl", accept_threshold=0.99, progress=False
        )
        joined = annotate(
            model,
            tmp_path / "in.txt",
            tmp_path / "joined" / "a.jsonl",
            accept_threshold=0.99,
            progress=False,
            engine="ray",
            address=f"127.0.0.1:{port}",
            num_workers=2,
        )
        assert joined.inputs == local.inputs == len(TEXTS)
        # without --address a run starts a Ray of its own, even beside a running cluster
        alone = annotate(
            model,
            tmp_path / "in.txt",
            tmp_path / "alone" / "a.jsonl",
            accept_threshold=0.99,
            progress=False,
            engine="ray",
            num_workers=1,
        )
        assert alone.inputs == len(TEXTS)
        for name in OUTPUTS:
            expected = (tmp_path / "local" / f"a.{name}").read_bytes()
            assert (tmp_path / "joined" / f"a.{name}").read_bytes() == expected, name
            assert (tmp_path / "alone" / f"a.{name}").read_bytes() == expected, name
    finally:
        head.terminate()
        head.wait(timeout=120)
    deadline = time.time() + 60
    while (left := {pid for pid in cluster if _running(pid)}) and time.time() < deadline:
        time.sleep(0.5)
    assert not left, f"processes of the test's Ray head still run: {sorted(left)}"
