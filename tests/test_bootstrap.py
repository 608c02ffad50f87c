"""autolabel bootstrap: weak labels with unknown regions, then real training."""

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.workflow.bootstrap import HeadCues, weak_corpus

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def test_weak_labels_leave_probable_missed_mentions_unknown():
    nlp = spacy.blank("en")
    terms = {
        "cystic fibrosis": "Disease",
        "tuberculosis": "Disease",
        "fibrosis": "Disease",
        "scoliosis": "Disease",
        "Marfan syndrome": "Disease",
        "Down syndrome": "Disease",
    }
    cues = HeadCues(terms, nlp.make_doc)
    assert {"syndrome", "fibrosis"} <= set(cues.heads) and cues.suffixes["osis"] == "Disease"
    doc = weak_corpus(
        nlp, ["Cystic fibrosis and severe Noonan syndrome and halitosis were seen in the clinic ."], terms
    )[0]
    tags = [(t.text, t.ent_iob_ or "?") for t in doc]
    assert tags[:2] == [("Cystic", "B"), ("fibrosis", "I")]
    assert [t for t, iob in tags if iob == "?"] == ["severe", "Noonan", "syndrome", "halitosis"]
    assert all(iob == "O" for t, iob in tags if t in ("and", "were", "seen", "clinic"))


@pytest.mark.slow
def test_bootstrap_cli_trains_from_a_vocabulary_alone(tmp_path):
    drugs = ["aspirin", "ibuprofen", "metformin", "warfarin", "insulin"]
    texts = [f"the patient took {d} {when} ." for d in drugs for when in ("daily", "at night", "twice", "with food")]
    texts += [f"the patient {verb} {when} ." for verb in ("slept", "walked", "ate") for when in ("daily", "at night")]
    (tmp_path / "raw.txt").write_text("\n".join(texts) + "\n")
    (tmp_path / "vocab.tsv").write_text("# provenance: test\n" + "\n".join(f"{d}\tDRUG" for d in drugs) + "\n")
    result = CliRunner().invoke(
        build_app(),
        [
            "bootstrap",
            str(tmp_path / "raw.txt"),
            "-o",
            str(tmp_path / "out"),
            "--vocab",
            str(tmp_path / "vocab.tsv"),
            "--config",
            str(ROOT / "autolabel_spacy" / "configs" / "crf_fast.cfg"),
            "--epochs",
            "12",
            "--no-unknown",
        ],
    )
    assert result.exit_code == 0, result.output
    nlp = spacy.load(tmp_path / "out" / "model" / "model-last")
    doc = nlp("the patient took zorbamycin daily .")  # in neither the vocabulary nor the text
    assert [(e.text, e.label_) for e in doc.ents] == [("zorbamycin", "DRUG")]
    weak = list(DocBin().from_disk(tmp_path / "out" / "corpus" / "train.spacy").get_docs(nlp.vocab))
    assert sum(len(d.ents) for d in weak) > 0
    assert len((tmp_path / "out" / "annotations.jsonl").read_text().splitlines()) == len(texts)
    assert "provenance" in (tmp_path / "out" / "defined_terms.tsv").read_text()  # none defined, still written


def test_unknown_rate_leaves_a_share_of_unmatched_tokens_unannotated():
    nlp = spacy.blank("en")
    texts = ["aspirin " + " ".join(f"w{i}" for i in range(50))] * 20
    for rate in (0.0, 0.5):
        docs = weak_corpus(nlp, texts, {"aspirin": "DRUG"}, unknown=False, unknown_rate=rate, seed=1)
        assert all(d[0].ent_type_ == "DRUG" for d in docs)  # matches are always kept
        share = sum(t.ent_iob == 0 for d in docs for t in d[1:]) / sum(len(d) - 1 for d in docs)
        assert abs(share - rate) < 0.05


def test_abbreviation_check_follows_schwartz_hearst():
    from autolabel_spacy.abbreviations import is_abbreviation_of

    assert is_abbreviation_of("APC", "adenomatous polyposis coli")
    assert is_abbreviation_of("VHL", "von Hippel - Lindau disease")
    assert is_abbreviation_of("DMD", "Duchenne muscular dystrophy")
    assert not is_abbreviation_of("DM", "myotonic dystrophy")  # letters out of order
    assert not is_abbreviation_of("CD", "the disease")  # C starts no word
    assert not is_abbreviation_of("abc", "a b c")  # no capital: a word, not an abbreviation
    assert not is_abbreviation_of("X", "x-linked disease")  # too short


def test_text_defined_abbreviations_and_long_forms_become_terms(tmp_path):
    from autolabel_spacy.workflow.bootstrap import text_defined_terms

    nlp = spacy.blank("en")
    terms = {"Angelman syndrome": "Disease", "Marfan syndrome": "Disease", "cystic fibrosis": "Disease"}
    texts = [
        "Children with Angelman syndrome ( AS ) were studied .",  # after a match
        "Prader - Willi syndrome ( PWS ) is rare .",  # after a probable mention (head: syndrome)
        "Deletions ( DEL ) were found .",  # after neither
        "AS and PWS patients differ ; CF was excluded .",
    ]
    defined = text_defined_terms(nlp, texts, terms)
    assert defined == {"AS": "Disease", "PWS": "Disease", "Prader - Willi syndrome": "Disease"}
    docs = weak_corpus(nlp, texts, terms, defined=defined)
    assert [(e.text, e.label_) for e in docs[3].ents] == [("AS", "Disease"), ("PWS", "Disease")]
    assert docs[2].ents == ()


def test_plural_heads_are_probable_mentions():
    nlp = spacy.blank("en")
    terms = {"brain tumor": "Disease", "deficiency": "Disease", "Wilms tumor": "Disease", "iron deficiency": "Disease"}
    cues = HeadCues(terms, nlp.make_doc)
    doc = nlp("desmoid tumors and enzyme deficiencies and tables")
    assert [(s.text, s.label_) for s in cues.probable_mentions(doc, [])] == [
        ("desmoid tumors", "Disease"),
        ("enzyme deficiencies", "Disease"),
    ]


def test_a_form_that_is_part_of_a_longer_term_is_not_defined():
    from autolabel_spacy.workflow.bootstrap import text_defined_terms

    nlp = spacy.blank("en")
    # the dictionary says the entity is "G6PD deficiency": G6PD alone names the enzyme
    terms = {"G6PD deficiency": "Disease", "glucose dehydrogenase": "Disease", "Angelman syndrome": "Disease"}
    texts = ["The glucose dehydrogenase ( G6PD ) enzyme and Angelman syndrome ( AS ) ."]
    assert text_defined_terms(nlp, texts, terms) == {"AS": "Disease"}


def test_heads_need_two_terms_and_skip_of_phrases():
    nlp = spacy.blank("en")
    cues = HeadCues(
        {
            "Marfan syndrome": "D",
            "Down syndrome": "D",
            "X chromosome": "D",
            "deficiency of phenylalanine hydroxylase": "D",
            "iron deficiency": "D",
        },
        nlp.make_doc,
    )
    assert set(cues.heads) == {"syndrome", "deficiency"}  # chromosome: one term; hydroxylase: after "of"
