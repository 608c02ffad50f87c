"""project.yml: the demo workflow end to end (and a rerun that skips every
step), the packaged pipeline in a fresh venv, the assets' pins and checksums
against the local corpora."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
import srsly
from fresh_venv import fresh_venv, pip_install
from spacy.tokens import DocBin
from weasel.util import load_project_config

ROOT = Path(__file__).resolve().parent.parent
DEMO_STEPS = ["convert", "train", "evaluate", "annotate", "package"]
MULTITASK_STEPS = [f"{step}-multitask" for step in DEMO_STEPS]
PIPELINE_WHEEL = "packages/en_autolabel_demo-0.1.0/dist/en_autolabel_demo-0.1.0-py3-none-any.whl"
MULTITASK_WHEEL = "packages/en_autolabel_demo_multitask-0.1.0/dist/en_autolabel_demo_multitask-0.1.0-py3-none-any.whl"
CORE_WHEEL = "packages/wheels/autolabel_spacy-0.1.0-py3-none-any.whl"


def spacy_cli(*args, cwd=ROOT, env=None):
    proc = subprocess.run([sys.executable, "-m", "spacy", *args], cwd=cwd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout


def test_every_workflow_step_is_a_command_with_outputs():
    config = load_project_config(ROOT)
    commands = {c["name"]: c for c in config["commands"]}
    assert config["workflows"]["demo"] == DEMO_STEPS + MULTITASK_STEPS
    for required in ("convert", "vocab", "train", "evaluate", "annotate", "package", "package-plugins", "benchmark"):
        assert required in config["workflows"]["all"]
    for workflow in config["workflows"].values():
        for step in workflow:
            # a command without outputs always reruns, so "nothing changed" would never hold
            assert commands[step].get("outputs"), step
    assert set(config["vars"]) >= {"dataset", "config", "data_dir", "domain"}
    # every plugin in plugins/ is packaged
    plugin_dirs = {p.name for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").exists()}
    script = " ".join(commands["package-plugins"]["script"])
    assert {d for d in plugin_dirs if f"plugins/{d}" in script} == plugin_dirs


@pytest.mark.corpus
def test_assets_are_pinned_and_match_the_local_corpora(shared_data, tmp_path):
    config = load_project_config(ROOT, overrides={"vars.data_dir": str(shared_data)})
    assert len(config["assets"]) == 19
    for asset in config["assets"]:
        # a raw URL at a full commit hash, never a branch
        assert re.match(r"https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/", asset["url"]), asset["url"]
    # `spacy project assets` with data_dir at the local copy: every file is
    # found with its checksum, nothing is downloaded or copied
    out = spacy_cli("project", "assets", str(ROOT), "--vars.data_dir", str(shared_data))
    assert out.count("Skipping download with matching checksum") == 19, out
    assert "Downloaded" not in out and "Copied" not in out


def _copy_project(dest: Path) -> None:
    skip = shutil.ignore_patterns(".*", "__pycache__", "*.egg-info", "build", "dist")
    for name in ("project.yml", "pyproject.toml", "README.md", "assets", "autolabel_spacy"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=skip)
        else:
            shutil.copyfile(src, dest / name)
    for extra in (dest / "assets").iterdir():  # only the shipped demo corpus, no downloaded corpora
        if extra.name != "demo":
            shutil.rmtree(extra) if extra.is_dir() else extra.unlink()


@pytest.mark.demo
def test_demo_workflow_end_to_end_then_nothing_changed(tmp_path):
    pytest.importorskip("build", reason="the [project] extra is not installed (spacy package --build wheel needs it)")
    project = tmp_path / "project"
    project.mkdir()
    _copy_project(project)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    spacy_cli("project", "run", "demo", str(project), env=env)

    test = srsly.read_json(project / "metrics/demo/test.json")["entities"]
    dev = srsly.read_json(project / "metrics/demo/dev.json")["entities"]
    # half of the test sentences use names the model never saw in training
    assert test["ents_f"] > 0.7 and set(test["per_label"]) == {"Chemical", "Disease"}
    assert dev["recommended"] is not None and 0 <= test["span_ece"] < 0.2

    summary = srsly.read_json(project / "review/demo.summary.json")
    n_raw = len((project / "assets/demo/raw.txt").read_text().splitlines())
    accepted = json.loads((project / "review/demo.accepted.labelstudio.json").read_text())
    review = json.loads((project / "review/demo.review.labelstudio.json").read_text())
    assert len(accepted) + len(review) == n_raw and len(accepted) > 0 and len(review) > 0
    assert summary["errors"] == 0
    assert (project / PIPELINE_WHEEL).exists() and (project / CORE_WHEEL).exists()
    # the evaluate and annotate steps write their report pages
    assert (project / "metrics/demo/dev.html").read_text().count("<svg") == 2
    assert 'class="entity"' in (project / "review/demo.html").read_text()

    # the multi-task steps: entities, relations and categories from one encoder
    multi = srsly.read_json(project / "metrics/demo_documents/test.json")
    assert (
        multi["entities"]["ents_f"] > 0.7 and multi["relations"]["f"] > 0.5 and multi["categories"]["accuracy"] > 0.8
    ), multi
    n_docs = len((project / "assets/demo/documents/raw.txt").read_text().splitlines())
    tasks = [
        task
        for route in ("accepted", "review")
        for task in json.loads((project / f"review/demo_documents.{route}.labelstudio.json").read_text())
    ]
    assert len(tasks) == n_docs and srsly.read_json(project / "review/demo_documents.summary.json")["errors"] == 0
    results = [r for task in tasks for r in task["predictions"][0]["result"]]
    assert {r["type"] for r in results} == {"labels", "relation", "choices"}

    again = spacy_cli("project", "run", "demo", str(project), env=env)
    for step in DEMO_STEPS + MULTITASK_STEPS:
        assert f"Skipping '{step}': nothing changed" in again, again

    # the pipeline wheel (with the autolabel-spacy wheel it requires) in a
    # fresh venv: spacy.load of its name tags text
    venv = tmp_path / "venv"
    python = fresh_venv(venv)
    wheels = (project / PIPELINE_WHEEL, project / MULTITASK_WHEEL, project / CORE_WHEEL)
    pip = subprocess.run(pip_install(python, *wheels), capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-4000:]

    def run_json(code: str):
        """Run ``code`` in the fresh venv; the JSON it prints last."""
        run = subprocess.run(
            [str(python), "-c", "import json, spacy; " + code], capture_output=True, text=True, cwd=tmp_path
        )
        assert run.returncode == 0, run.stderr[-4000:]
        return json.loads(run.stdout.strip().splitlines()[-1])

    ents = run_json(
        "nlp = spacy.load('en_autolabel_demo');"
        "doc = nlp('She developed nephrotic syndrome three weeks after starting rituximab .');"
        "print(json.dumps([[e.text, e.label_] for e in doc.ents]))"
    )
    assert ["rituximab", "Chemical"] in ents, ents
    # the multi-task wheel: relations (doc._.relations, from user_data) and categories
    out = run_json(
        "nlp = spacy.load('en_autolabel_demo_multitask');"
        "doc = nlp('She developed nephrotic syndrome three weeks after starting rituximab . Rituximab was stopped .');"
        "print(json.dumps({'ents': [[e.text, e.label_] for e in doc.ents], 'relations': [list(r) for r in "
        "doc._.relations], 'cats': doc.cats}))"
    )
    assert ["rituximab", "Chemical"] in out["ents"] and max(out["cats"], key=out["cats"].get) == "adverse_effect", out
    assert [r[:3] for r in out["relations"]] == [["~rituximab", "~nephrotic syndrome", "causes"]], out


def test_the_convert_step_takes_a_folder_of_pubtator_abstracts(tmp_path):
    """The project's steps on whole documents: `--vars.corpus_align` and
    `--vars.label_map` go to `autolabel corpus`."""
    from test_documents import ABSTRACTS

    project = tmp_path / "project"
    project.mkdir()
    _copy_project(project)
    folder = tmp_path / "abstracts"
    folder.mkdir()
    for split in ("train", "dev", "test"):
        (folder / f"{split}.pubtator").write_text(ABSTRACTS, encoding="utf-8")
    spacy_cli(
        "project",
        "run",
        "convert",
        str(project),
        "--vars.dataset",
        "docs",
        "--vars.corpus_dir",
        str(folder),
        "--vars.corpus_align",
        "expand",
        "--vars.label_map",
        "SpecificDisease=Disease,DiseaseClass=Disease,Drug=Chemical",
    )
    docs = list(DocBin().from_disk(project / "corpus/docs/train.spacy").get_docs(spacy.blank("en").vocab))
    assert len(docs) == 2 and {e.label_ for d in docs for e in d.ents} == {"Disease", "Chemical"}
    assert [len(list(d.sents)) for d in docs] == [4, 3]
    assert len((project / "corpus/docs/raw.txt").read_text().splitlines()) == 2
