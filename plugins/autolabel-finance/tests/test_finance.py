import spacy

from autolabel_spacy.domains import add_tokenizer_exceptions
from autolabel_spacy.hooks.manager import Plugins


def test_domain_is_discovered_and_valid():
    plugins = Plugins()
    spec = plugins.domain("finance")
    assert spec.plugin == "autolabel-finance"
    assert {"PER", "ORG", "LOC", "MISC"} <= set(spec.label_names)  # the SEC-filings scheme
    assert not [p for p in plugins.problems if "finance" in p.plugin]


def test_patterns_find_money_and_percent():
    plugins = Plugins()
    spec = plugins.domain("finance")
    nlp = spacy.blank("en")
    add_tokenizer_exceptions(nlp, spec)
    label = plugins.labeler("patterns").make(nlp, spec)
    doc = nlp("The Borrower shall pay $ 5,000,000 plus interest at 4.25 % or USD 2.5 million to Wells Fargo Bank, N.A.")
    found = {(s.text, s.label_) for s in label(doc)}
    assert found == {("$ 5,000,000", "MONEY"), ("4.25 %", "PERCENT"), ("USD 2.5 million", "MONEY")}
    assert doc[-1].text == "N.A."


def test_vocab_labeler_finds_institutions():
    plugins = Plugins()
    nlp = spacy.blank("en")
    label = plugins.labeler("vocab").make(nlp, plugins.domain("finance"))
    doc = nlp("Notices go to JPMorgan Chase Bank in New York and to the Securities and Exchange Commission.")
    assert {(s.text, s.label_) for s in label(doc)} == {
        ("JPMorgan Chase Bank", "ORG"),
        ("New York", "LOC"),
        ("Securities and Exchange Commission", "ORG"),
    }


def test_crf_ner_takes_the_domain_labels():
    nlp = spacy.blank("en")
    assert nlp.add_pipe("crf_ner", config={"domain": "finance"}).labels == (
        "PER",
        "ORG",
        "LOC",
        "MISC",
        "MONEY",
        "PERCENT",
    )
