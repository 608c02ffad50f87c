"""``autolabel report``: one self-contained HTML page for an ``evaluate``
report or an ``annotate`` run, to look at rather than read.

An evaluate report gives: the run's stamp, per-label P/R/F1, the
reliability diagram and the coverage/accuracy routing curve (matplotlib,
inlined as SVG), the recommended threshold and what it accepts, relations
and categories when the pipeline has them, and the commonest errors among
the units the model is sure of. An annotate run (its ``summary.json``) gives
its counts and threshold and the first documents of its review queue,
rendered with displaCy, each span labelled with its confidence. Nothing is
fetched when the page is viewed: no scripts, fonts or images from the
network.
"""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Optional

import matplotlib

matplotlib.use("Agg")  # no display: figures are drawn to SVG

import matplotlib.pyplot as plt
from spacy import displacy
from spacy.tokens import Doc

from ..checks import is_number
from ..confidences import doc_confidence, scored_entities
from ..evaluate_report import EvaluateReport, Recommendation, from_json, is_report
from ..files import atomic_write_text, check_apart, check_output
from ..format_io import read_docs
from ..formats.records import RecordError, parse_json
from ..loading import blank

PALETTE = ("#7aecec", "#bfeeb7", "#feca74", "#ff9561", "#aa9cfc", "#c887fb", "#9cc9cc", "#ffeb80", "#ff8197", "#e4e7d2")
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
th { background: #f3f3f3; } td.n { text-align: right; }
.plots { display: flex; flex-wrap: wrap; gap: 2em; } .plots figure { margin: 0; }
.stamp { color: #555; font-size: .9em; } .doc { border-top: 1px solid #ddd; padding: .5em 0; }
.doc h2 { font-size: .9em; font-weight: normal; color: #555; margin: .2em 0; }
"""  # noqa: E501  (the page's CSS, as it is served)


def _number(value):
    """A report's number, or a ValueError saying it is not one (a report is
    often someone else's file: nothing in it is trusted)."""
    if not is_number(value):
        raise ValueError(f"a report field that must be a number is {type(value).__name__} {str(value)[:40]!r}")
    return value


def _pct(value) -> str:
    return "-" if value is None else f"{100 * _number(value):.1f}"


def _fmt(value, spec: str) -> str:
    return format(_number(value), spec)


def _e(value) -> str:
    """Any value of a report, a model or a file, escaped for the page."""
    return html.escape(str(value))


def _svg(fig) -> str:
    buffer = io.StringIO()
    # no metadata (its date would make two pages of one report differ), and
    # the ids of clip paths and markers from a fixed salt, not a random one
    with matplotlib.rc_context({"svg.hashsalt": "autolabel-report"}):
        fig.savefig(
            buffer,
            format="svg",
            bbox_inches="tight",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # inline: no XML prolog or doctype


def reliability_svg(rows: list[dict], title: str) -> str:
    """Accuracy against mean confidence per confidence bin, with the
    diagonal a calibrated model follows; bar widths are the bins."""
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    filled = [r for r in rows if r.get("count")]
    ax.bar(
        [(r["low"] + r["high"]) / 2 for r in filled],
        [r["accuracy"] for r in filled],
        width=[r["high"] - r["low"] for r in filled],
        edgecolor="#333",
        color="#7aa6da",
        label="accuracy",
    )
    ax.plot([0, 1], [0, 1], "--", color="#999", label="calibrated")
    ax.scatter(
        [r["confidence"] for r in filled],
        [r["accuracy"] for r in filled],
        color="#c0392b",
        zorder=3,
        s=12,
        label="mean confidence",
    )
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", ylabel="accuracy", title=title)
    ax.legend(loc="upper left", fontsize=8)
    return _svg(fig)


def routing_svg(rows: list[dict], target: float, recommended: Optional[Recommendation], unit: str) -> str:
    """Accuracy of the auto-accepted units against the share accepted, one
    point per threshold; the target and the recommended threshold marked."""
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    points = [(r["coverage"], r["accuracy"]) for r in rows if r.get("accuracy") is not None]
    if points:
        ax.plot(*zip(*points), "o-", color="#2c7fb8", markersize=3, label="thresholds")
    ax.axhline(target, color="#c0392b", linestyle="--", label=f"target {100 * target:g}%")
    if recommended:
        ax.scatter(
            [recommended.coverage],
            [recommended.accuracy],
            s=60,
            color="#c0392b",
            zorder=3,
            label=f"recommended {recommended.threshold:.3g}",
        )
    ax.set(xlim=(0, 1), xlabel=f"share of {unit}s auto-accepted", ylabel="their accuracy", title="routing")
    ax.legend(loc="lower left", fontsize=8)
    return _svg(fig)


def _numeric(value) -> bool:
    try:
        float(str(value))
    except ValueError:
        return str(value) == "-"
    return True


def _table(header: list[str], rows: list[list]) -> str:
    """Numbers right-aligned, text left."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if _numeric(c) else ''}>{html.escape(str(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _stamp(stamp: dict) -> str:
    parts = [f"{_e(k)}: {_e(v)}" for k, v in stamp.items()]
    return f'<p class="stamp">{" · ".join(parts)}</p>'


def evaluation_page(report: EvaluateReport) -> str:
    """The page of an ``autolabel evaluate`` report."""
    stamp = report.stamp
    out = [f"<h1>Evaluation of {_e(stamp.get('model', 'a pipeline'))}</h1>"]
    out.append(_stamp(stamp))
    target = report.target_accuracy
    ents = report.entities
    if ents is not None:
        unit = _e(ents.unit)
        out.append(
            f"<h2>Entities</h2><p>{_e(report.docs)} docs; P {_pct(ents.ents_p)}, R {_pct(ents.ents_r)}, "
            f"F1 {_pct(ents.ents_f)}; {unit}s exactly right {_pct(ents.doc_accuracy)}%.</p>"
        )
        out.append(
            _table(
                ["label", "P", "R", "F1"],
                [[label, _pct(s["p"]), _pct(s["r"]), _pct(s["f"])] for label, s in sorted(ents.per_label.items())],
            )
        )
        rec = ents.recommended
        if rec:
            out.append(
                f"<p><b>Auto-accept threshold {_fmt(rec.threshold, '.4g')}</b>: {_pct(rec.coverage)}% of the {unit}s "
                f"({_e(rec.accepted)}) accepted, {_pct(rec.accuracy)}% of them exactly right (target "
                f"{_pct(target)}%).</p>"
            )
        else:
            out.append(
                f"<p><b>No threshold</b> reaches {_pct(target)}% on at least {_e(ents.min_accepted)} {unit}s: "
                "every one goes to review.</p>"
            )
        out.append(
            '<div class="plots"><figure>'
            + reliability_svg(ents.reliability, f"span confidence (ECE {_fmt(ents.span_ece, '.3f')})")
            + "</figure><figure>"
            + routing_svg(ents.routing, target, rec, ents.unit)
            + "</figure></div>"
        )
        errors = ents.confident_errors
        out.append("<h2>Commonest errors among the confident " + unit + "s</h2>")
        out.append(
            _table(
                ["kind", "label", "text", "count", "example"],
                [[e["kind"], e["label"], e["text"], e["count"], e["example"]] for e in errors],
            )
            if errors
            else "<p>None.</p>"
        )
    if report.relations is not None:
        section = report.relations
        line = (
            f"P {_pct(section.p)}, R {_pct(section.r)}, F1 {_pct(section.f)}; docs with exactly the gold relations "
            f"{_pct(section.docs_exactly_right)}%"
        )
        out.append(f"<h2>Relations</h2><p>{html.escape(line + _accepts(section.recommended))}.</p>")
    if report.categories is not None:
        section = report.categories
        line = f"accuracy {_pct(section.accuracy)}%, macro-F1 {_pct(section.macro_f)}, ECE {_fmt(section.ece, '.3f')}"
        out.append(f"<h2>Categories</h2><p>{html.escape(line + _accepts(section.recommended))}.</p>")
        out.append(
            '<div class="plots"><figure>'
            + reliability_svg(section.reliability, "top category's probability")
            + "</figure></div>"
        )
    return _page("autolabel evaluate", out)


def _accepts(rec: Optional[Recommendation]) -> str:
    return (
        f"; threshold {_fmt(rec.threshold, '.4g')} accepts {_pct(rec.coverage)}% of docs"
        if rec
        else "; no threshold: every doc to review"
    )


def _colors(labels) -> dict:
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(sorted(labels))}


def render_doc(doc: Doc, colors: dict) -> str:
    """The doc with displaCy, each span's label followed by its confidence."""
    ents, span_colors = [], {}
    for start, end, label, score in scored_entities(doc):
        shown = (
            _e(label) if score is None else f"{_e(label)} {score:.2f}"
        )  # displaCy puts labels in the page as they are
        span_colors[shown] = colors.get(label, PALETTE[0])
        ents.append({"start": start, "end": end, "label": shown})
    confidence = doc_confidence(doc)
    title = None if confidence is None else f"probability the annotation is right: {confidence:.3f}"
    return displacy.render(
        {"text": doc.text, "ents": ents, "title": title},
        style="ent",
        manual=True,
        page=False,
        options={"colors": span_colors},
    )


def annotation_page(summary: dict, review: list[Doc], shown: int = 10) -> str:
    """The page of an ``autolabel annotate`` run: its counts and threshold,
    and the first ``shown`` documents of its review queue."""
    out = [f"<h1>Annotation of {html.escape(str(summary.get('input', '')))}</h1>"]
    out.append(_stamp({"model": summary.get("model"), "input": summary.get("input")}))
    rows = [
        [k, summary.get(k)]
        for k in ("inputs", "annotated", "accepted", "review", "errors", "accept_threshold", "rank_by")
        if k in summary
    ]
    out.append(_table(["", ""], rows))
    colors = _colors({label for doc in review for _, _, label, _ in scored_entities(doc)})
    out.append(
        f"<h2>The review queue: its first {min(shown, len(review))} of {len(review)} documents, least sure first</h2>"
    )
    out += [f'<div class="doc">{render_doc(doc, colors)}</div>' for doc in review[:shown]]
    return _page("autolabel annotate", out)


def _page(title: str, body: list[str]) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


def read_run(path):
    """An evaluate report (:class:`EvaluateReport`) or an annotate summary
    (a dict), by its content."""
    try:
        data = parse_json(Path(path).read_text(encoding="utf-8"), str(path))
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not a JSON report ({err})") from None
    except RecordError as err:
        raise ValueError(f"{path}: not a JSON report ({err.reason})") from None
    if isinstance(data, dict) and "outputs" in data:
        return data
    if not is_report(data):
        raise ValueError(f"{path}: neither an `autolabel evaluate --output` report nor an annotate summary.json")
    return from_json(data, str(path))


def write_report(run: Path, output: Path, shown: int = 10, lang: str = "en") -> None:
    """``autolabel report``: the page of an evaluate report, or of an
    annotate run (its summary and the first ``shown`` docs of its review
    file), written to ``output``; an input that is not one is an error naming it."""
    check_output(output)
    check_apart([run], {"output": output})
    data = read_run(run)
    if isinstance(data, EvaluateReport):
        try:
            page = evaluation_page(data)
        except (KeyError, TypeError, ValueError, AttributeError) as err:  # its tables are often someone else's rows
            what = f"a row has no field {err}" if isinstance(err, KeyError) else " ".join(str(err).split())
            raise ValueError(f"{run}: not a report autolabel can show ({what})") from None
    else:
        review = Path(data["outputs"].get("review") or "")
        if not review.is_file() and (run.parent / review.name).is_file():
            review = run.parent / review.name  # the summary moved with its files
        if not review.is_file():
            raise ValueError(f"{run}: its review file {review} is not there (annotate ran with --accept-threshold?)")
        check_apart([review], {"output": output})
        page = annotation_page(data, list(read_docs(review, blank(lang))), shown)
    atomic_write_text(output, page)
