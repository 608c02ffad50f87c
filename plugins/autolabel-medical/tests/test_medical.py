import pytest
import spacy

from autolabel_spacy.hooks.manager import Plugins


def test_domain_is_discovered_and_valid():
    plugins = Plugins()
    spec = plugins.domain("medical")
    assert spec.plugin == "autolabel-medical" and spec.version
    assert spec.label_names == ["Disease", "Chemical"]
    assert len(spec.all_terms(["diseases"])) > 150 and len(spec.all_terms(["chemicals"])) > 100
    assert not [p for p in plugins.problems if "medical" in p.plugin]


def test_vocab_matcher_and_tokenizer_exceptions():
    from autolabel_spacy.domains import add_tokenizer_exceptions

    nlp = spacy.blank("en")
    add_tokenizer_exceptions(nlp, Plugins().domain("medical"))
    nlp.add_pipe("domain_vocab", config={"domain": "medical"})
    doc = nlp("Tamoxifen 20 mg/kg lowered the risk of breast cancer but not of Tumour growth.")
    found = [(s.text, s.label_) for s in doc.spans["domain_vocab"]]
    assert ("Tamoxifen", "Chemical") in found and ("breast cancer", "Disease") in found  # longest match
    assert ("Tumour", "Disease") in found
    assert [t.text for t in doc[2:5]] == ["mg", "/", "kg"]


def test_crf_ner_takes_the_domain_labels():
    nlp = spacy.blank("en")
    assert nlp.add_pipe("crf_ner", config={"domain": "medical"}).labels == ("Disease", "Chemical")


@pytest.mark.slow
def test_recommended_config_trains_with_spacy_train(tmp_path):
    from spacy.cli.train import train
    from spacy.tokens import DocBin

    from autolabel_spacy.hooks.manager import get_domain

    nlp = spacy.blank("en")
    text = "Patients with asthma took salbutamol ."
    doc = nlp.make_doc(text)
    doc.ents = [doc.char_span(14, 20, "Disease"), doc.char_span(26, 36, "Chemical")]
    DocBin(docs=[doc] * 8).to_disk(tmp_path / "train.spacy")
    overrides = {
        "paths.train": str(tmp_path / "train.spacy"),
        "paths.dev": str(tmp_path / "train.spacy"),
        "training.max_steps": 60,
        "training.eval_frequency": 30,
        "training.max_epochs": 0,
    }
    train(get_domain("medical").config, tmp_path / "out", overrides=overrides)
    trained = spacy.load(tmp_path / "out" / "model-last")
    assert trained.pipe_names == ["tok2vec", "domain_vocab", "crf_ner"]
    assert trained.get_pipe("crf_ner").labels == ("Disease", "Chemical")
    assert [(e.text, e.label_) for e in trained(text).ents] == [("asthma", "Disease"), ("salbutamol", "Chemical")]
