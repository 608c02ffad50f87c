"""Whole documents as the unit of work: PubTator abstracts through convert,
annotate and evaluate; sentences inside each doc, each with its confidence."""

import json

import pytest
import spacy
from test_annotate import model  # noqa: F401  (the module's trained pipeline fixture)
from typer.testing import CliRunner

from autolabel_spacy import evaluation
from autolabel_spacy.cli import build_app
from autolabel_spacy.format_io import read_docs
from autolabel_spacy.workflow.inputs import Inputs

NLP = spacy.blank("en")


def block(pmid: str, title: str, abstract: str, mentions: list) -> str:
    """A PubTator block; each mention (text, type, id) is found after the previous one."""
    text = f"{title} {abstract}"
    lines, pos = [f"{pmid}|t|{title}", f"{pmid}|a|{abstract}"], 0
    for mention, kind, concept in mentions:
        pos = text.index(mention, pos)
        lines.append(f"{pmid}\t{pos}\t{pos + len(mention)}\t{mention}\t{kind}\t{concept}")
        pos += len(mention)
    return "\n".join(lines) + "\n"


# two abstracts of the test pipeline's toy domain (DRUG, DISEASE), NCBI-style types
ABSTRACTS = (
    block(
        "1",
        "Migraine and aspirin.",
        "patients with migraine took aspirin daily . no diabetes was seen . the weather was fine .",
        [
            ("Migraine", "SpecificDisease", "D1"),
            ("aspirin", "Drug", "C1"),
            ("migraine", "SpecificDisease", "D1"),
            ("aspirin", "Drug", "C1"),
            ("diabetes", "DiseaseClass", "D2"),
        ],
    )
    + "\n"
    + block(
        "2",
        "Insulin for type 2 diabetes.",
        "insulin is used to treat type 2 diabetes . lung cancer improved after metformin .",
        [
            ("Insulin", "Drug", "C2"),
            ("type 2 diabetes", "SpecificDisease", "D3"),
            ("insulin", "Drug", "C2"),
            ("type 2 diabetes", "SpecificDisease", "D3"),
            ("lung cancer", "DiseaseClass", "D4"),
            ("metformin", "Drug", "C3"),
        ],
    )
)
LABEL_MAP = "SpecificDisease=DISEASE,DiseaseClass=DISEASE,Drug=DRUG"


@pytest.fixture()
def abstracts(tmp_path):
    path = tmp_path / "abstracts.pubtator"
    path.write_text(ABSTRACTS, encoding="utf-8")
    return path


def test_an_abstract_is_one_doc_of_several_sentences(abstracts):
    docs = list(read_docs(abstracts, NLP, label_map={"SpecificDisease": "D", "DiseaseClass": "D", "Drug": "C"}))
    assert [len(list(d.sents)) for d in docs] == [4, 3]
    assert [s.text for s in docs[0].sents][:2] == [
        "Migraine and aspirin.",
        "patients with migraine took aspirin daily .",
    ]
    # a mention is never cut by a sentence boundary
    for doc in docs:
        assert all(not t.is_sent_start for e in doc.ents for t in e[1:])


def test_convert_takes_a_label_map_and_an_alignment(abstracts, tmp_path):
    app = build_app()
    out = tmp_path / "docs.spacy"
    result = CliRunner().invoke(app, ["convert", str(abstracts), str(out), "--label-map", LABEL_MAP])
    assert result.exit_code == 0, result.output
    docs = list(read_docs(out, NLP))
    assert [e.label_ for e in docs[1].ents] == ["DRUG", "DISEASE", "DRUG", "DISEASE", "DISEASE", "DRUG"]
    assert [len(list(d.sents)) for d in docs] == [4, 3]  # the sentences travel with the docs
    # a mention off token boundaries: strict refuses it with its line, expand snaps it
    line = next(x for x in ABSTRACTS.splitlines() if x.endswith("diabetes\tDiseaseClass\tD2"))
    pmid, start, end, *rest = line.split("\t")
    abstracts.write_text(ABSTRACTS.replace(line, "\t".join([pmid, str(int(start) + 1), end, "iabetes", *rest[1:]])))
    bad = CliRunner().invoke(app, ["convert", str(abstracts), str(tmp_path / "x.spacy"), "--label-map", LABEL_MAP])
    assert bad.exit_code == 0 and "abstracts.pubtator:7" in bad.stderr and "token boundaries" in bad.stderr
    # the refused abstract is set aside with its line; the other one is converted
    assert [d.user_data.get("meta", {}).get("id") for d in read_docs(tmp_path / "x.spacy", NLP)] == ["2"]
    assert "abstracts.pubtator:7" in (tmp_path / "x.convert-errors.jsonl").read_text()
    good = CliRunner().invoke(
        app, ["convert", str(abstracts), str(tmp_path / "y.spacy"), "--label-map", LABEL_MAP, "--align", "expand"]
    )
    assert good.exit_code == 0, good.output
    assert "diabetes" in [e.text for e in list(read_docs(tmp_path / "y.spacy", NLP))[0].ents]
    conll = CliRunner().invoke(
        app, ["convert", str(tmp_path / "y.spacy"), str(tmp_path / "z.jsonl"), "--label-map", "A=B"]
    )
    assert conll.exit_code == 1 and "takes no label map" in conll.output


def test_pubtator_input_is_annotated_abstract_by_abstract(model, abstracts, tmp_path):
    assert [(r.id, r.meta["id"]) for r in Inputs(abstracts)] == [
        ("abstracts.pubtator:1", "1"),
        ("abstracts.pubtator:9", "2"),
    ]
    out = tmp_path / "out.pubtator"
    result = CliRunner().invoke(build_app(), ["annotate", str(model), str(abstracts), "-o", str(out)])
    assert result.exit_code == 0, result.output
    docs = list(read_docs(out, NLP))
    assert [d.text for d in docs] == [r.text for r in Inputs(abstracts)]
    head = out.read_text().splitlines()[:2]
    assert head == [
        "1|t|Migraine and aspirin.",
        "1|a|" + ABSTRACTS.splitlines()[1][4:],
    ]  # title and abstract kept apart
    assert {e.text for e in docs[1].ents} >= {"metformin", "lung cancer"}


def test_evaluate_routes_whole_documents_sentence_by_sentence(model, abstracts, tmp_path):
    report_path = tmp_path / "report.json"
    result = CliRunner().invoke(
        build_app(), ["evaluate", str(model), str(abstracts), "--label-map", LABEL_MAP, "-o", str(report_path)]
    )
    assert result.exit_code == 0, result.output
    assert "routed by sentence: 7 sentences in 2 docs" in result.output
    report = json.loads(report_path.read_text())["entities"]
    assert report["unit"] == "sentence" and report["units"] == 7
    assert sum(row["units"] for row in report["by_mentions"]) == 7
    # the report's sentence figures are those of the sentence confidences
    nlp = spacy.load(model)
    gold = list(
        read_docs(abstracts, nlp, label_map={"SpecificDisease": "DISEASE", "DiseaseClass": "DISEASE", "Drug": "DRUG"})
    )
    units = evaluation.scored_sentences(nlp.pipe(evaluation.unannotated(d) for d in gold), gold)
    assert [u.mentions for u in units] == [2, 2, 1, 0, 2, 2, 2]
    assert report["doc_accuracy"] == pytest.approx(sum(u.correct for u in units) / 7)


def test_corpus_converts_a_folder_of_pubtator_splits_and_sets_bad_blocks_aside(tmp_path):
    folder = tmp_path / "abstracts"
    folder.mkdir()
    bad = "3|t|Broken.\n3|a|no mention here .\n3\t0\t6\tBrokex\tDrug\tC9\n"
    (folder / "train.pubtator").write_text(ABSTRACTS + "\n" + bad, encoding="utf-8")
    (folder / "dev.pubtator").write_text(ABSTRACTS, encoding="utf-8")
    (folder / "test.pubtator").write_text(ABSTRACTS, encoding="utf-8")
    out = tmp_path / "corpus"
    result = CliRunner().invoke(build_app(), ["corpus", str(folder), str(out), "--label-map", LABEL_MAP])
    assert result.exit_code == 0, result.output
    assert "train: 2 docs" in result.output and "1 refused" in result.output
    (error,) = [json.loads(line) for line in (out / "train.errors.jsonl").read_text().splitlines()]
    assert (
        error["record"].endswith(f"train.pubtator:{len(ABSTRACTS.splitlines()) + 4}")
        and "is not the text" in error["error"]
        and error["raw"].startswith("3|t|")
    )
    docs = list(read_docs(out / "test.spacy", NLP))
    assert [d.user_data["pubtator"]["pmid"] for d in docs] == ["1", "2"]  # PMIDs and relations travel in the DocBin
    assert [len(list(d.sents)) for d in docs] == [4, 3]
    assert (out / "raw.txt").read_text().splitlines() == [d.text for d in docs]  # one abstract per line to annotate


def test_annotate_routes_a_document_sentence_by_sentence(model, abstracts, tmp_path):
    app = build_app()
    plain = tmp_path / "all.jsonl"
    assert CliRunner().invoke(app, ["annotate", str(model), str(abstracts), "-o", str(plain)]).exit_code == 0
    records = [json.loads(line) for line in plain.read_text().splitlines()]
    # every sentence of every abstract is scored in the output
    assert [len(r["sentences"]) for r in records] == [4, 3]
    scores = sorted(s["score"] for r in records for s in r["sentences"])
    # a threshold between two sentence scores, so that some sentences pass and some do not
    threshold = (scores[2] + scores[3]) / 2
    assert scores[2] < scores[3]
    out = tmp_path / "routed.jsonl"
    result = CliRunner().invoke(
        app, ["annotate", str(model), str(abstracts), "-o", str(out), "--accept-threshold", str(threshold)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "routed.summary.json").read_text())
    assert (summary["units_accepted"], summary["units_review"]) == (4, 3)
    assert "4 of 7 sentences accepted" in result.output
    decisions = {d["id"]: d for d in map(json.loads, (tmp_path / "routed.decisions.jsonl").read_text().splitlines())}
    for record in records:
        left = [[s["start"], s["end"], s["score"]] for s in record["sentences"] if s["score"] < threshold]
        decision = decisions[record["meta"]["autolabel_id"]]
        assert decision["sentences"] == len(record["sentences"])
        assert decision["review_sentences"] == left
        assert decision["decision"] == ("review" if left else "accepted")
        assert decision["sentences_accepted"] == len(record["sentences"]) - len(left)
    # the review file says which sentences are left, in each doc's meta
    for r in map(json.loads, (tmp_path / "routed.review.jsonl").read_text().splitlines()):
        left = r["meta"]["autolabel_decision"]["review_sentences"]
        assert left and all(score < threshold for _, _, score in left)
        assert all(r["text"][start:end] for start, end, _ in left)


def test_a_threshold_chosen_on_per_token_scores_routes_by_them(model, abstracts, tmp_path):
    from autolabel_spacy.routing import routing_score

    app = build_app()
    report_path = tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            str(model),
            str(abstracts),
            "--label-map",
            LABEL_MAP,
            "--rank-by",
            "token",
            "-o",
            str(report_path),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert report["entities"]["rank_by"] == "token"
    plain = tmp_path / "all.jsonl"
    assert CliRunner().invoke(app, ["annotate", str(model), str(abstracts), "-o", str(plain)]).exit_code == 0
    nlp = spacy.load(model)
    records = [json.loads(line) for line in plain.read_text().splitlines()]
    scores = [
        routing_score(s["score"], len(nlp.make_doc(r["text"][s["start"] : s["end"]])), "token")
        for r in records
        for s in r["sentences"]
    ]
    # a report whose threshold falls between two per-token scores (the toy model's own is 1.0 or a tie)
    threshold = sorted(scores)[3] - 1e-7
    report["entities"]["recommended"] = {"threshold": threshold, "coverage": 0.5, "accuracy": 1.0, "accepted": 4}
    report_path.write_text(json.dumps(report))
    out = tmp_path / "routed.jsonl"
    routed = CliRunner().invoke(
        app, ["annotate", str(model), str(abstracts), "-o", str(out), "--accept-threshold-from", str(report_path)]
    )
    assert routed.exit_code == 0, routed.output
    assert "ranked by token" in routed.output
    summary = json.loads((tmp_path / "routed.summary.json").read_text())
    assert summary["rank_by"] == "token"
    assert summary["units_accepted"] == sum(score >= threshold for score in scores)
    # ... which differs from routing the probabilities at that threshold
    assert summary["units_accepted"] != sum(s["score"] >= threshold for r in records for s in r["sentences"])
    # the score is the per-token one, not the probability
    for d in map(json.loads, (tmp_path / "routed.decisions.jsonl").read_text().splitlines()):
        assert all(score < threshold for _, _, score in d["review_sentences"])
    # the report's ranking is the run's: another one is refused, and --rank-by needs a threshold
    clash = CliRunner().invoke(
        app,
        [
            "annotate",
            str(model),
            str(abstracts),
            "-o",
            str(tmp_path / "x.jsonl"),
            "--accept-threshold-from",
            str(report_path),
            "--rank-by",
            "sentence",
        ],
    )
    assert clash.exit_code != 0 and "chose its threshold ranking by token" in clash.output
    alone = CliRunner().invoke(
        app, ["annotate", str(model), str(abstracts), "-o", str(tmp_path / "y.jsonl"), "--rank-by", "token"]
    )
    assert alone.exit_code != 0 and "needs --accept-threshold" in alone.output
