"""The PubTator format: whole abstracts with typed, concept-linked mentions
and relations; hostile blocks go to errors one by one; PubTator -> DocBin ->
PubTator keeps every mention, id and relation."""

import tempfile
from pathlib import Path

import pytest
import spacy
from hypothesis import given
from hypothesis import strategies as st
from test_properties import SETTINGS, scored_docs

from autolabel_spacy.format_io import read_docs, write_docs
from autolabel_spacy.formats.pubtator import PUBTATOR_KEY, read_pubtator_records
from autolabel_spacy.workflow.importer import import_annotations

NLP = spacy.blank("en")
TITLE = "Naloxone reverses the antihypertensive effect of clonidine."
ABSTRACT = "In unanesthetized rats clonidine caused hypotension and bradycardia."
GOOD = f"""227508|t|{TITLE}
227508|a|{ABSTRACT}
227508\t0\t8\tNaloxone\tChemical\tD009270
227508\t49\t58\tclonidine\tChemical\tD003000
227508\t83\t92\tclonidine\tChemical\tD003000
227508\t100\t111\thypotension\tDisease\tD007022
227508\t116\t127\tbradycardia\tDisease\tD001919\tbrady|cardia
227508\tCID\tD003000\tD007022
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_block_is_one_doc_with_types_ids_sentences_and_relations(tmp_path):
    (doc,) = read_docs(write(tmp_path / "a.pubtator", GOOD), NLP)
    assert doc.text == f"{TITLE} {ABSTRACT}"
    assert [(e.text, e.label_, e.kb_id_) for e in doc.ents] == [
        ("Naloxone", "Chemical", "D009270"),
        ("clonidine", "Chemical", "D003000"),
        ("clonidine", "Chemical", "D003000"),
        ("hypotension", "Disease", "D007022"),
        ("bradycardia", "Disease", "D001919"),
    ]
    sents = [s.text for s in doc.sents]
    assert sents == [TITLE, ABSTRACT]
    info = doc.user_data[PUBTATOR_KEY]
    assert info["pmid"] == "227508" and doc._.relations == [("D003000", "D007022", "CID", None)]


def test_pubtator_docbin_pubtator_keeps_every_mention_id_and_relation(tmp_path):
    second = GOOD.replace("227508", "999").replace("Naloxone", "Atropine").replace("D009270", "D001285")
    src = write(tmp_path / "a.pubtator", GOOD + "\n" + second)
    write_docs(read_docs(src, NLP), tmp_path / "a.spacy")
    write_docs(read_docs(tmp_path / "a.spacy", NLP), tmp_path / "b.pubtator")
    assert (tmp_path / "b.pubtator").read_text(encoding="utf-8") == src.read_text(encoding="utf-8")


def test_a_label_map_is_an_option(tmp_path):
    text = GOOD.replace("\tDisease\t", "\tSpecificDisease\t")
    records = list(
        read_pubtator_records(write(tmp_path / "a.pubtator", text), NLP, label_map={"SpecificDisease": "Disease"})
    )
    assert [e.label_ for e in records[0].doc.ents] == ["Chemical", "Chemical", "Chemical", "Disease", "Disease"]
    unmapped = list(read_pubtator_records(tmp_path / "a.pubtator", NLP))
    assert {e.label_ for e in unmapped[0].doc.ents} == {"Chemical", "SpecificDisease"}


@pytest.mark.parametrize(
    "broken, reason",
    [
        (GOOD.replace("227508\t0\t8\tNaloxone\tChemical\tD009270", "227508\t0\t8\tNaloxone"), ":3: expected"),
        (GOOD.replace("\t116\t127\t", "\t116\t999\t"), "past the text"),
        (GOOD.replace("\t0\t8\tNaloxone", "\t0\t8\tNaltrexo"), "is not the text at [0:8]"),
        (GOOD.replace("CID\tD003000\tD007022", "CID\tD003000\tD999999"), "names ['D999999']"),
        (GOOD.replace("\tChemical\tD009270", "\tDrug\tD009270"), "unknown label 'Drug'"),
        (GOOD.replace("227508|a|", "227509|a|"), "same PMID"),
        (GOOD.replace("227508\t49\t58", "227509\t49\t58"), "inside the block"),
        (GOOD.replace("\t49\t58\tclonidine", "\t50\t58\tlonidine"), "does not match token boundaries"),
        (GOOD + "227508\t83\t99\tclonidine caused\tChemical\tD003000\n", "overlap"),
    ],
)
def test_a_bad_block_is_an_error_of_its_own_and_the_rest_is_read(tmp_path, broken, reason):
    good_after = GOOD.replace("227508", "555")
    path = write(tmp_path / "in.pubtator", broken + "\n" + good_after)
    records = list(read_pubtator_records(path, NLP, labels=["Chemical", "Disease"]))
    assert len(records) == 2
    assert records[0].doc is None and reason in f"{records[0].where}: {records[0].error}", records[0].error
    assert records[0].where.startswith(f"{path}:")
    assert records[1].doc is not None and len(records[1].doc.ents) == 5
    summary = import_annotations(path, tmp_path / "out.spacy", labels=["Chemical", "Disease"])
    assert (summary.records, summary.imported, summary.errors) == (2, 1, 1)


@pytest.mark.corpus
@pytest.mark.parametrize(
    "corpus, split, abstracts, relations", [("ncbi_disease_docs", "test", 100, 0), ("bc5cdr_docs", "test", 500, 1066)]
)
def test_the_real_corpora_read_block_by_block(shared_data, corpus, split, abstracts, relations):
    records = list(read_pubtator_records(shared_data / corpus / f"{split}.pubtator", NLP, align="expand"))
    assert len(records) == abstracts
    docs = [r.doc for r in records if r.doc is not None]
    errors = [r for r in records if r.error is not None]
    # every block is read or reported; the few of overlapping mentions are reported, not cut
    assert len(docs) + len(errors) == abstracts and len(errors) <= abstracts * 0.1, [e.error for e in errors[:3]]
    assert all("overlap" in e.error for e in errors), [e.error for e in errors[:3]]
    assert sum(len(d._.relations) for d in docs) <= relations


@SETTINGS
@given(st.lists(scored_docs(), min_size=1, max_size=4))
def test_pubtator_keeps_the_text_and_entities_of_any_doc(docs):
    """Any doc: its text (tabs and line breaks as spaces, which PubTator
    cannot hold; a space added to a text with none) and its entities."""
    flat = str.maketrans({c: " " for c in "\t\r\n"})
    with tempfile.TemporaryDirectory() as tmp:
        write_docs(docs, Path(tmp) / "out.pubtator")
        back = list(read_docs(Path(tmp) / "out.pubtator", NLP))
    assert len(back) == len(docs)
    for doc, read in zip(docs, back):
        text = doc.text.translate(flat)
        assert read.text == (text if " " in doc.text else text + " ")
        assert [(e.start_char, e.end_char, e.label_.translate(flat)) for e in read.ents] == [
            (e.start_char, e.end_char, e.label_.translate(flat)) for e in doc.ents
        ]


def test_import_maps_types_and_refuses_a_map_for_a_format_without_one(tmp_path):
    from typer.testing import CliRunner

    from autolabel_spacy.cli import build_app

    text = GOOD.replace("\tDisease\t", "\tSpecificDisease\t")
    path = write(tmp_path / "in.pubtator", text)
    app = build_app()
    result = CliRunner().invoke(
        app,
        [
            "import",
            str(path),
            str(tmp_path / "out.spacy"),
            "--labels",
            "Chemical,Disease",
            "--label-map",
            "SpecificDisease=Disease, DiseaseClass=Disease",
        ],
    )
    assert result.exit_code == 0, result.output
    (doc,) = read_docs(tmp_path / "out.spacy", NLP)
    assert [e.label_ for e in doc.ents] == ["Chemical", "Chemical", "Chemical", "Disease", "Disease"]
    bad = CliRunner().invoke(app, ["import", str(path), str(tmp_path / "x.spacy"), "--label-map", "SpecificDisease"])
    assert bad.exit_code == 2 and "TYPE=LABEL" in bad.output
    write(tmp_path / "in.jsonl", '{"text": "a b", "spans": []}\n')
    other = CliRunner().invoke(
        app, ["import", str(tmp_path / "in.jsonl"), str(tmp_path / "y.spacy"), "--label-map", "A=B"]
    )
    assert other.exit_code == 1 and "takes no label map" in other.output


def test_relations_between_entities_without_concept_ids_get_no_line(tmp_path):
    """PubTator names a relation's entities by concept id: a relation between
    entities keyed by their text is not written (a line naming "~text"
    would make the block unreadable), one between ids is."""
    from spacy.tokens import Span

    from autolabel_spacy import relations as rel
    from autolabel_spacy.formats.pubtator import write_pubtator

    doc = NLP("Lithium caused tremor . Cocaine caused seizures .")
    doc.ents = [
        Span(doc, 0, 1, "Chemical", kb_id="D1"),
        Span(doc, 2, 3, "Disease", kb_id="D2"),
        Span(doc, 4, 5, "Chemical"),
        Span(doc, 6, 7, "Disease"),
    ]
    rel.set_relations(doc, [rel.Relation("D1", "D2", "CID"), rel.Relation("~cocaine", "~seizures", "CID")])
    write_pubtator([doc], tmp_path / "out.pubtator")
    (back,) = read_docs(tmp_path / "out.pubtator", NLP)
    assert back._.relations == [("D1", "D2", "CID", None)]
