"""``autolabel report``: the page of an evaluate report and of an annotate
run, the commonest confident errors against a hand count, and the page in
a real headless Chromium (no console errors, plots and displaCy present,
a screenshot saved)."""

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin, Span, SpanGroup
from test_annotate import TEXTS, model  # noqa: F401  (the module's tiny trained pipeline)
from test_crf_ner import make_examples
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.evaluation import confident_errors


def scored(nlp, text, ents, confidence):
    doc = nlp.make_doc(text)
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
    doc.spans["crf"] = SpanGroup(
        doc, name="crf", spans=list(doc.ents), attrs={"scores": [0.9] * len(ents), "sequence_prob": confidence}
    )
    return doc


def test_confident_errors_count_each_kind_among_the_units_above_the_threshold():
    nlp = spacy.blank("en")
    cases = [  # (text, predicted token spans, gold token spans, confidence)
        ("aspirin eased gout", [(0, 1, "DRUG")], [(0, 1, "DRUG"), (2, 3, "DISEASE")], 0.95),  # missed gout
        (
            "aspirin eased gout",
            [(0, 1, "DISEASE"), (2, 3, "DISEASE")],
            [(0, 1, "DRUG"), (2, 3, "DISEASE")],
            0.97,
        ),  # wrong label
        (
            "heart failure and gout",
            [(1, 2, "DISEASE")],
            [(0, 2, "DISEASE"), (3, 4, "DISEASE")],
            0.99,
        ),  # boundary, missed gout
        ("the weather", [(1, 2, "DRUG")], [], 0.98),  # spurious
        ("aspirin eased gout", [], [(0, 1, "DRUG")], 0.2),  # below the threshold: not counted
    ]
    predicted = [scored(nlp, t, p, c) for t, p, _, c in cases]
    gold = [scored(nlp, t, g, 1.0) for t, _, g, _ in cases]
    errors = confident_errors(predicted, gold, threshold=0.9)
    assert [(e["kind"], e["label"], e["text"], e["count"]) for e in errors] == [
        ("missed", "DISEASE", "gout", 2),
        ("spurious", "DRUG", "weather", 1),
        ("wrong boundary", "DISEASE", "failure", 1),
        ("wrong label", "DISEASE", "aspirin", 1),
    ]
    assert errors[0]["example"] in ("aspirin eased gout", "heart failure and gout")
    # without a threshold, the units at or above the 90th percentile of the confidences: 0.98 and 0.99
    assert [(e["kind"], e["text"]) for e in confident_errors(predicted, gold, None)] == [
        ("missed", "gout"),
        ("spurious", "weather"),
        ("wrong boundary", "failure"),
    ]


@pytest.fixture(scope="module")
def pages(model, tmp_path_factory):
    """The report pages of an evaluate run and of an annotate run of the tiny model."""
    tmp = tmp_path_factory.mktemp("report")
    nlp = spacy.blank("en")
    DocBin(docs=[eg.reference for eg in make_examples(nlp, n=40, seed=3)]).to_disk(tmp / "gold.spacy")
    runner = CliRunner()
    app = build_app()
    assert (
        runner.invoke(
            app, ["evaluate", str(model), str(tmp / "gold.spacy"), "-o", str(tmp / "r.json"), "--min-accepted", "5"]
        ).exit_code
        == 0
    )
    (tmp / "in.txt").write_text("\n".join(TEXTS) + "\n")
    result = runner.invoke(
        app,
        [
            "annotate",
            str(model),
            str(tmp / "in.txt"),
            "-o",
            str(tmp / "run.jsonl"),
            "--accept-threshold",
            "0.999",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    for source, page in (("r.json", "evaluate.html"), ("run.summary.json", "annotate.html")):
        result = runner.invoke(app, ["report", str(tmp / source), "-o", str(tmp / page)])
        assert result.exit_code == 0, result.output
    return tmp


def test_the_evaluate_page_has_the_scores_plots_threshold_errors_and_stamp(pages):
    report = json.loads((pages / "r.json").read_text())
    page = (pages / "evaluate.html").read_text()
    assert page.count("<svg") == 2  # the reliability diagram and the routing curve
    for label, s in report["entities"]["per_label"].items():
        assert f"<td>{label}</td><td class=n>{100 * s['p']:.1f}</td>" in page
    rec = report["entities"]["recommended"]
    assert (f"Auto-accept threshold {rec['threshold']:.4g}" in page) if rec else ("No threshold" in page)
    assert "Commonest errors among the confident" in page
    stamp = report["stamp"]
    assert stamp["spacy"] == spacy.__version__ and f"spacy: {stamp['spacy']}" in page and str(stamp["model"]) in page
    for fetch in ('src="http', 'href="http', "url(http", "<link", "<script", "@import"):
        assert fetch not in page  # nothing fetched when viewed


def test_the_annotate_page_shows_the_review_queue_with_each_spans_confidence(pages):
    page = (pages / "annotate.html").read_text()
    summary = json.loads((pages / "run.summary.json").read_text())
    review = [json.loads(line) for line in (pages / "run.review.jsonl").read_text().splitlines()]
    assert f"of {summary['review']} documents" in page and page.count('class="doc"') == min(10, len(review))
    first = review[0]
    assert first["text"].split()[0] in page
    for span in first["spans"]:
        assert f"{span['label']} {span['score']:.2f}" in page  # displaCy's label carries the confidence
    assert 'class="entity"' in page


def test_an_evaluate_report_round_trips_and_its_json_is_what_evaluate_wrote(pages):
    """What ``evaluate --output`` wrote reads back into the same typed
    report, and writes back byte for byte."""
    from autolabel_spacy.evaluate_report import VERSION, read_report, write_report

    report = read_report(pages / "r.json")
    assert json.loads((pages / "r.json").read_text())["version"] == VERSION and report.entities is not None
    write_report(report, pages / "again.json")
    assert (pages / "again.json").read_bytes() == (pages / "r.json").read_bytes()


def test_a_threshold_read_back_is_the_confidence_it_was_chosen_at(tmp_path):
    """Every digit of a recommended threshold survives the report: a
    threshold rounded up would send the units at exactly that confidence
    to review, though evaluate counted them as accepted."""
    from report_examples import a_report

    from autolabel_spacy.evaluate_report import Recommendation, read_report, write_report

    confidence = 0.5017858147621155  # 0.5017858148 with 10 decimals: above it
    write_report(
        a_report(Recommendation(confidence, 0.5, 0.99, 120), categories=Recommendation(1 / 3, 0.2, 1.0, 40)),
        tmp_path / "r.json",
    )
    back = read_report(tmp_path / "r.json")
    assert back.entities.recommended.threshold == confidence and back.categories.recommended.threshold == 1 / 3


def test_two_pages_of_one_report_are_the_same_bytes(pages, tmp_path):
    runner, app = CliRunner(), build_app()
    for name in ("a.html", "b.html"):
        assert runner.invoke(app, ["report", str(pages / "r.json"), "-o", str(tmp_path / name)]).exit_code == 0
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()
    assert (tmp_path / "a.html").read_text().count("<svg") == 2


def test_a_report_of_another_version_or_shape_is_one_error_naming_it(pages, tmp_path):
    from autolabel_spacy.evaluate_report import ReportError, read_report

    good = json.loads((pages / "r.json").read_text())
    cases = {
        "old.json": (
            {k: v for k, v in good.items() if k not in ("report", "version")},
            "an evaluate report of no version (made before reports had one)",
        ),
        "v2.json": ({**good, "version": 2}, "an evaluate report of version 2; this autolabel-spacy reads version 1"),
        "bad.json": (
            {**good, "entities": {**good["entities"], "span_ece": "low"}},
            "entities: span_ece must be a number, got 'low'",
        ),
        "missing.json": (
            {**good, "entities": {k: v for k, v in good["entities"].items() if k != "routing"}},
            "entities: the report has no field 'routing'",
        ),
        "rec.json": (
            {**good, "entities": {**good["entities"], "recommended": {"threshold": 0.9}}},
            "entities.recommended: coverage must be a number",
        ),
        "other.json": ({"a": 1}, "not a report of `autolabel evaluate --output`"),
    }
    runner, app = CliRunner(), build_app()
    (tmp_path / "in.txt").write_text("Aspirin helps .\n")
    for name, (data, reason) in cases.items():
        (tmp_path / name).write_text(json.dumps(data))
        with pytest.raises(ReportError, match=re.escape(reason)):
            read_report(tmp_path / name)
        result = runner.invoke(
            app,
            [
                "annotate",
                "m",
                str(tmp_path / "in.txt"),
                "-o",
                str(tmp_path / "o.jsonl"),
                "--accept-threshold-from",
                str(tmp_path / name),
            ],
        )
        lines = result.stderr.strip().splitlines()
        assert (
            result.exit_code == 1
            and len(lines) == 1
            and lines[0].startswith(f"error: {tmp_path / name}: ")
            and reason in lines[0]
        ), result.output
        assert not (tmp_path / "o.jsonl").exists()


def test_report_refuses_a_file_that_is_no_run(tmp_path):
    (tmp_path / "x.json").write_text('{"a": 1}')
    result = CliRunner().invoke(build_app(), ["report", str(tmp_path / "x.json"), "-o", str(tmp_path / "x.html")])
    assert (
        result.exit_code == 1
        and "neither an `autolabel evaluate --output` report nor an annotate summary.json" in result.stderr
    )


def browser_or_skip():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but chromium and chromedriver are missing (make test installs them: make browser)")
        pytest.skip("chromium and chromedriver are not installed (make browser installs them)")
    return chromium, driver


@pytest.mark.parametrize("page, plots", [("evaluate.html", 2), ("annotate.html", 0)])
def test_the_pages_render_in_headless_chromium_without_console_errors(pages, page, plots):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    chromium, driver_path = browser_or_skip()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1200,1600",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get((pages / page).as_uri())
        assert driver.find_element(By.TAG_NAME, "h1").text.startswith(("Evaluation of", "Annotation of"))
        assert len(driver.find_elements(By.CSS_SELECTOR, "figure svg")) == plots
        if page == "annotate.html":
            marks = driver.find_elements(By.CSS_SELECTOR, "mark.entity")
            assert marks and all(m.is_displayed() for m in marks)
        severe = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
        assert severe == []
        assert driver.save_screenshot(str(pages / page.replace(".html", ".png")))
        assert (pages / page.replace(".html", ".png")).stat().st_size > 10_000
    finally:
        driver.quit()


HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def hostile_pages(pages):
    """The same runs, their report and review file rewritten by someone
    hostile: markup in every string a report, a model or a file gives."""
    report = json.loads((pages / "r.json").read_text())
    entities = report["entities"]
    entities.update(unit=HOSTILE, recommended=None)  # the numbers of a report are checked as it is read
    report["stamp"] = {**report.get("stamp", {}), "model": HOSTILE, HOSTILE: HOSTILE}
    entities["per_label"] = {HOSTILE: next(iter(entities["per_label"].values()))}
    entities["confident_errors"] = [
        {"kind": HOSTILE, "label": HOSTILE, "text": HOSTILE, "count": 1, "example": HOSTILE}
    ]
    (pages / "hostile.json").write_text(json.dumps(report))
    summary = json.loads((pages / "run.summary.json").read_text())
    review = Path(summary["outputs"]["review"])
    records = [json.loads(line) for line in review.read_text().splitlines()]
    for record in records:
        for span in record["spans"]:
            span["label"] = "<script>alert('label')</script>"
    (pages / "hostile.review.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    summary["outputs"]["review"] = str(pages / "hostile.review.jsonl")
    summary["input"] = HOSTILE
    (pages / "hostile.summary.json").write_text(json.dumps(summary))
    runner, app = CliRunner(), build_app()
    for source, page in (("hostile.json", "hostile-evaluate.html"), ("hostile.summary.json", "hostile-annotate.html")):
        result = runner.invoke(app, ["report", str(pages / source), "-o", str(pages / page)])
        assert result.exit_code == 0, result.output
    return pages


@pytest.mark.parametrize("page", ["hostile-evaluate.html", "hostile-annotate.html"])
def test_a_hostile_report_or_review_file_runs_no_script_in_chromium(hostile_pages, page):
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    html = (hostile_pages / page).read_text()
    assert "<script>" not in html and "onerror=alert" not in html.replace("onerror=alert(2)&gt;", "")
    chromium, driver_path = browser_or_skip()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get((hostile_pages / page).as_uri())
        assert driver.find_elements(By.TAG_NAME, "script") == [] and driver.find_elements(By.TAG_NAME, "img") == []
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text
        shown = driver.find_element(By.TAG_NAME, "body").text
        assert "alert(" in shown  # the hostile strings are shown as text
    finally:
        driver.quit()


def test_a_report_with_a_field_of_the_wrong_type_is_an_error_naming_the_file(pages, tmp_path):
    report = json.loads((pages / "r.json").read_text())
    report["entities"]["ents_f"] = "high"
    (tmp_path / "bad.json").write_text(json.dumps(report))
    result = CliRunner().invoke(build_app(), ["report", str(tmp_path / "bad.json"), "-o", str(tmp_path / "bad.html")])
    assert (
        result.exit_code == 1
        and f"{tmp_path / 'bad.json'}: entities: ents_f must be a number, got 'high'" in result.output
    ), result.output
    report["entities"]["ents_f"] = 0.5
    del report["entities"]["per_label"]
    (tmp_path / "bad2.json").write_text(json.dumps(report))
    result = CliRunner().invoke(build_app(), ["report", str(tmp_path / "bad2.json"), "-o", str(tmp_path / "bad.html")])
    assert result.exit_code == 1 and "entities: the report has no field 'per_label'" in result.output, result.output
    # a table's rows are not checked as the report is read, but a row the page cannot show is one error too
    report["entities"]["per_label"] = {"X": {"p": 0.5}}
    (tmp_path / "bad3.json").write_text(json.dumps(report))
    result = CliRunner().invoke(build_app(), ["report", str(tmp_path / "bad3.json"), "-o", str(tmp_path / "bad.html")])
    assert result.exit_code == 1 and "not a report autolabel can show (a row has no field 'r')" in result.output, (
        result.output
    )
    assert not (tmp_path / "bad.html").exists()
