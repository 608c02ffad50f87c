"""domain_vocab, gazetteer features, the vocabulary builder, and crf_ner's
domain option."""

import numpy as np
import pytest
import spacy
from spacy.strings import hash_string
from spacy.tokens import Span
from spacy.training import Example
from thinc.api import Config

from autolabel_spacy.domains import Vocabulary
from autolabel_spacy.hooks.manager import DISABLE_ENV, reset_plugins
from autolabel_spacy.ml.gazetteer import NO_MATCH, match_tag_ids
from autolabel_spacy.vocab_matcher import VocabMatcher
from autolabel_spacy.workflow.vocab import build_vocabulary

TERMS = {"breast cancer": "Disease", "cancer": "Disease", "tamoxifen": "Chemical", "Cancer Centre": "ORG"}


def test_matcher_longest_case_and_overlaps():
    nlp = spacy.blank("en")
    doc = nlp("Tamoxifen at the Cancer Centre treats breast cancer .")
    longest = VocabMatcher(nlp.make_doc)
    longest.add(TERMS)
    assert [(s.text, s.label_) for s in longest(doc)] == [
        ("Tamoxifen", "Chemical"),
        ("Cancer Centre", "ORG"),
        ("breast cancer", "Disease"),
    ]
    every = VocabMatcher(nlp.make_doc, longest=False)
    every.add(TERMS)
    assert ("cancer", "Disease") in [(s.text, s.label_) for s in every(doc)]
    exact = VocabMatcher(nlp.make_doc, attr="ORTH")
    exact.add(TERMS)
    assert [s.text for s in exact(doc)] == ["Cancer Centre", "breast cancer"]
    with pytest.raises(ValueError, match="attr must be one of"):
        VocabMatcher(nlp.make_doc, attr="POS")


def test_acronyms_keep_their_case_when_matching_folds_case():
    nlp = spacy.blank("en")
    terms = {
        "AS": "Disease",
        "WAS": "Disease",
        "A - T": "Disease",
        "hemophilia A": "Disease",
        "mRNA decay": "X",
        "cystic fibrosis": "Disease",
    }
    doc = nlp(
        "AS was seen as WAS and A - T ; Hemophilia A , hemophilia a , MRNA DECAY , mRNA decay and CYSTIC FIBROSIS ."
    )
    matcher = VocabMatcher(nlp.make_doc)
    matcher.add(terms)
    assert [s.text for s in matcher(doc)] == ["AS", "WAS", "A - T", "Hemophilia A", "mRNA decay", "CYSTIC FIBROSIS"]
    folded = VocabMatcher(nlp.make_doc, exact_acronyms=False)
    folded.add(terms)
    assert [s.text for s in folded(doc)][:4] == ["AS", "was", "as", "WAS"]
    for exact, expected in ((True, ["AS"]), (False, ["AS", "as"])):
        pipeline = spacy.blank("en")
        pipeline.add_pipe("domain_vocab", config={"exact_acronyms": exact}).add_terms(terms)
        doc = pipeline("AS , as")
        assert [s.text for s in doc.spans["domain_vocab"]] == expected


def test_component_serializes_its_terms_and_loads_without_the_plugin(tmp_path, monkeypatch):
    nlp = spacy.blank("en")
    nlp.add_pipe("domain_vocab", config={"domain": "medical"})
    doc = nlp("Asthma patients took salbutamol .")
    assert [(s.text, s.label_) for s in doc.spans["domain_vocab"]] == [
        ("Asthma", "Disease"),
        ("salbutamol", "Chemical"),
    ]
    nlp.to_disk(tmp_path / "p")
    monkeypatch.setenv(DISABLE_ENV, "autolabel-medical")  # as if the plugin were not installed
    reset_plugins()
    try:
        loaded = spacy.load(tmp_path / "p")
        assert loaded.get_pipe("domain_vocab").terms == nlp.get_pipe("domain_vocab").terms
        again = spacy.blank("en")
        again.add_pipe("domain_vocab").from_bytes(nlp.get_pipe("domain_vocab").to_bytes())
        doc = again("salbutamol for asthma")
        assert [s.text for s in doc.spans["domain_vocab"]] == ["salbutamol", "asthma"]
        with pytest.raises(LookupError, match="unknown domain 'medical'"):
            spacy.blank("en").add_pipe("domain_vocab", config={"domain": "medical"}).initialize()
    finally:
        reset_plugins()


def test_initialize_from_a_vocabulary_file(tmp_path):
    Vocabulary("v", {"widget": "THING"}, "written for this test").to_tsv(tmp_path / "v.tsv")
    nlp = spacy.blank("en")
    nlp.add_pipe("domain_vocab")
    with pytest.raises(ValueError, match="no terms"):
        nlp.get_pipe("domain_vocab").initialize()
    nlp.get_pipe("domain_vocab").initialize(vocab_path=str(tmp_path / "v.tsv"))
    doc = nlp("a Widget")
    assert [s.label_ for s in doc.spans["domain_vocab"]] == ["THING"]
    assert "written for this test" in nlp.get_pipe("domain_vocab").cfg["sources"][0]


def test_vocabulary_tsv_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("# provenance: test\nfoo\tA\nbar\n")
    with pytest.raises(ValueError, match=r"bad.tsv:3: expected 'term<TAB>label\[<TAB>id\]'"):
        Vocabulary.from_tsv(path)
    path.write_text("foo\tA\nfoo\tB\n")
    with pytest.raises(ValueError, match=r"bad.tsv:2: term 'foo' has two labels"):
        Vocabulary.from_tsv(path)


def test_builder_keeps_terms_that_are_usually_entities():
    nlp = spacy.blank("en")
    docs = []
    for text, spans in [
        ("breast cancer is common", [(0, 13, "Disease")]),
        ("Breast cancer again", [(0, 13, "Disease")]),
        ("the cell line", [(4, 8, "Chemical")]),
        ("a cell wall", []),
        ("one cell more", []),
    ]:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(s, e, label=label) for s, e, label in spans]
        docs.append(doc)
    vocab = build_vocabulary(docs, nlp.make_doc, "v", "test docs")
    assert vocab.terms == {"breast cancer": "Disease"}  # 'cell' is an entity in 1 of 3 occurrences
    assert "1 of 2 entity strings kept" in vocab.provenance and "test docs" in vocab.provenance
    assert build_vocabulary(docs, nlp.make_doc, "v", "t", min_precision=0.3).terms == {
        "breast cancer": "Disease",
        "cell": "Chemical",
    }


def test_gazetteer_ids_are_bilu_tags_and_dropout_is_training_only():
    nlp = spacy.blank("en")
    doc = nlp("a b c d e")
    doc.spans["domain_vocab"] = [Span(doc, 1, 4, "X"), Span(doc, 4, 5, "Y")]
    layer = match_tag_ids("domain_vocab", match_dropout=0.5)
    ids = layer.predict([doc, nlp("no key")])
    expected = [NO_MATCH] + [hash_string(t) for t in ("B-X", "I-X", "L-X", "U-Y")]
    assert ids[0].tolist() == expected and ids[1].tolist() == [NO_MATCH, NO_MATCH]
    np.random.seed(0)
    dropped = [layer([doc], is_train=True)[0][0] for _ in range(50)]
    assert any((d == NO_MATCH).sum() > 1 for d in dropped)
    assert all(d.tolist() == expected or (d == NO_MATCH).sum() > 1 for d in dropped)


GAZETTEER_MODEL = """
[model]
@architectures = "autolabel.CRFTagger.v1"

[model.tok2vec]
@architectures = "autolabel.GazetteerFeatures.v1"
width = 8

[model.tok2vec.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 32
depth = 1
embed_size = 300
window_size = 1
maxout_pieces = 3
subword_features = true
"""


DRUGS = ["aspirin", "ibuprofen", "warfarin", "heparin", "codeine", "insulin"]
NOT_DRUGS = ["water", "food", "tea", "rest", "soup", "bread"]
NEW_DRUGS = ["zorbinex", "quelamid", "toravex"]  # in the vocabulary, never in training
TEMPLATES = ["take {} daily", "we gave {} today", "no {} after surgery"]


def train_with_vocabulary(scale: float):
    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("domain_vocab").add_terms({w: "Chemical" for w in DRUGS + NEW_DRUGS})
    config = Config().from_str(GAZETTEER_MODEL)
    config["model"]["tok2vec"]["scale"] = scale
    nlp.add_pipe("crf_ner", config=config)
    examples = []
    for template in TEMPLATES:
        for word in DRUGS + NOT_DRUGS:
            doc = nlp.make_doc(template.format(word))
            token = next(t for t in doc if t.text == word)
            ents = [(token.idx, token.idx + len(word), "Chemical")] if word in DRUGS else []
            examples.append(Example.from_dict(doc, {"entities": ents}))
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(60):
        nlp.update(examples, sgd=optimizer, annotates=["domain_vocab"])
    return nlp


def entity_probabilities(nlp, word: str) -> tuple[list, list]:
    """P(``word`` is a one-token entity) in each template, with its vocabulary
    match and without it."""
    ner, vocab = nlp.get_pipe("crf_ner"), nlp.get_pipe("domain_vocab")
    unit = ner.tags.index("U-Chemical")
    matched, bare = [], []
    for template in TEMPLATES:
        text = template.format(word)
        i = text.split().index(word)
        with_match, without = ner.token_marginals([vocab(nlp.make_doc(text)), nlp.make_doc(text)])
        matched.append(float(with_match[i, unit]))
        bare.append(float(without[i, unit]))
    return matched, bare


@pytest.mark.slow
def test_crf_ner_learns_from_vocabulary_features(tmp_path):
    """A word never seen in training is tagged because the vocabulary knows it:
    the same word without its match is not."""
    nlp = train_with_vocabulary(scale=100.0)
    for word in NEW_DRUGS:
        matched, bare = entity_probabilities(nlp, word)
        assert min(matched) > 0.7 and max(bare) < 0.3, (word, matched, bare)
        assert [e.text for e in nlp(f"take {word} daily").ents] == [word]
    assert [e.text for e in nlp("take juice daily").ents] == []
    nlp.to_disk(tmp_path / "p")
    assert [e.text for e in spacy.load(tmp_path / "p")("we gave zorbinex today").ents] == ["zorbinex"]


def test_gazetteer_scale_rejects_nonsense():
    config = Config().from_str(GAZETTEER_MODEL)
    config["model"]["tok2vec"]["scale"] = 0
    with pytest.raises(ValueError, match="scale must be positive"):
        spacy.blank("en").add_pipe("crf_ner", config=config)


def test_crf_ner_domain_labels_and_training_data_checks():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("crf_ner", config={"domain": "medical"})
    assert ner.labels == ("Disease", "Chemical")
    doc = nlp.make_doc("Acme sells aspirin")
    bad = [Example.from_dict(doc, {"entities": [(0, 4, "ORG")]})]
    with pytest.raises(ValueError, match=r"labels \['ORG'\] that domain 'medical' does not define"):
        nlp.initialize(lambda: bad)


def test_cross_validated_vocabulary_hides_a_docs_own_fold_in_training_only(tmp_path):
    from autolabel_spacy.vocab_matcher import text_fold

    nlp = spacy.blank("en")
    texts = [f"patient {i} had asthma" for i in range(12)] + ["one case of zorbinex syndrome"]
    docs = []
    for text in texts:
        doc = nlp.make_doc(text)
        start = len(doc) - 1 if "asthma" in text else len(doc) - 2
        doc.ents = [Span(doc, start, len(doc), "Disease")]
        docs.append(doc)
    vocab = build_vocabulary(docs, nlp.make_doc, "v", "test", folds=4)
    rare = vocab.folds["zorbinex syndrome"]
    assert rare == 1 << text_fold(texts[-1], 4)  # taught by one doc's fold only
    assert bin(vocab.folds["asthma"]).count("1") > 1
    vocab.to_tsv(tmp_path / "v.tsv")
    back = Vocabulary.from_tsv(tmp_path / "v.tsv")
    assert (back.n_folds, back.folds, back.terms) == (4, vocab.folds, vocab.terms)

    component = nlp.add_pipe("domain_vocab")
    component.initialize(vocab_path=str(tmp_path / "v.tsv"))
    loaded = spacy.blank("en")
    loaded.add_pipe("domain_vocab").from_bytes(component.to_bytes())
    layer = match_tag_ids("domain_vocab")
    for pipeline in (nlp, loaded):
        doc = pipeline(texts[-1])
        assert doc.spans["domain_vocab"].attrs["n_folds"] == 4
        assert (layer.predict([doc])[0] != NO_MATCH).sum() == 2  # inference: every match
        assert (layer([doc], is_train=True)[0][0] != NO_MATCH).sum() == 0  # training: hidden
        doc = pipeline(texts[0])
        assert (layer([doc], is_train=True)[0][0] != NO_MATCH).sum() == 1  # taught by other folds too


def test_unmatched_tokens_get_zero_features_unless_learned():
    from thinc.api import Model

    from autolabel_spacy.ml.gazetteer import build_gazetteer_features

    nlp = spacy.blank("en")
    doc = nlp("a b c")
    doc.spans["domain_vocab"] = [Span(doc, 1, 2, "X")]
    zeros = Model("zeros", lambda model, docs, is_train: ([model.ops.alloc2f(len(d), 2) for d in docs], lambda d: []))
    for learn, expect_zero_rows in ((False, True), (True, False)):
        layer = build_gazetteer_features(zeros, width=4, learn_no_match=learn)
        layer.initialize()
        out = layer.predict([doc])[0][:, 2:]
        assert (np.abs(out[[0, 2]]).sum() == 0) == expect_zero_rows
        assert np.abs(out[1]).sum() > 0


def test_vocab_build_cli_writes_terms_with_provenance_and_folds(tmp_path):
    from typer.testing import CliRunner

    from autolabel_spacy.cli import build_app

    (tmp_path / "train.conll").write_text(
        "Breast\tB-Disease\ncancer\tI-Disease\nrisk\tO\n\nbreast\tB-Disease\ncancer\tI-Disease\n\ncell\tO\nlines\tO\n\n"
    )
    result = CliRunner().invoke(
        build_app(), ["vocab", "build", str(tmp_path / "train.conll"), str(tmp_path / "v.tsv"), "--folds", "3"]
    )
    assert result.exit_code == 0, result.output
    vocab = Vocabulary.from_tsv(tmp_path / "v.tsv")
    assert set(vocab.terms.values()) == {"Disease"} and [t.lower() for t in vocab.terms] == ["breast cancer"]
    assert vocab.n_folds == 3 and "train.conll" in vocab.provenance

    # --domain checks the corpus labels against an installed domain's labels
    ok = CliRunner().invoke(
        build_app(), ["vocab", "build", str(tmp_path / "train.conll"), str(tmp_path / "m.tsv"), "--domain", "medical"]
    )
    assert ok.exit_code == 0, ok.output
    wrong = CliRunner().invoke(
        build_app(), ["vocab", "build", str(tmp_path / "train.conll"), str(tmp_path / "f.tsv"), "--domain", "finance"]
    )
    assert wrong.exit_code == 1 and "labels ['Disease'] that domain 'finance' does not define" in wrong.output
    assert not (tmp_path / "f.tsv").exists()


def test_doc_dropout_hides_all_of_a_docs_matches_in_training_only():
    nlp = spacy.blank("en")
    doc = nlp("a b c d")
    doc.spans["domain_vocab"] = [Span(doc, 0, 1, "X"), Span(doc, 2, 4, "Y")]
    layer = match_tag_ids("domain_vocab", doc_dropout=0.5)
    every = [hash_string("U-X"), NO_MATCH, hash_string("B-Y"), hash_string("L-Y")]
    assert layer.predict([doc])[0].tolist() == every
    np.random.seed(0)
    seen = {tuple(layer([doc], is_train=True)[0][0].tolist()) for _ in range(40)}
    assert seen == {tuple(every), (NO_MATCH,) * 4}  # all or nothing per doc
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="doc_dropout"):
            match_tag_ids("domain_vocab", doc_dropout=bad)


def test_match_context_shows_neighbouring_tags_within_the_doc():
    from thinc.api import Model

    from autolabel_spacy.ml.gazetteer import build_gazetteer_features

    nlp = spacy.blank("en")
    first, second = nlp("a b c"), nlp("d e")
    first.spans["domain_vocab"] = [Span(first, 2, 3, "X")]
    second.spans["domain_vocab"] = [Span(second, 0, 1, "X")]
    zeros = Model("zeros", lambda model, docs, is_train: ([model.ops.alloc2f(len(d), 2) for d in docs], lambda d: []))
    layer = build_gazetteer_features(zeros, width=4, context=1)
    layer.initialize()
    out = layer.predict([first, second])
    assert [o.shape[1] for o in out] == [2 + 3 * 4] * 2
    # per token: is there a match at (previous, this, next) token; nothing leaks between docs
    present = [(np.abs(o[:, 2:]) > 0).reshape(len(o), 3, 4).any(-1).astype(int).tolist() for o in out]
    assert present == [[[0, 0, 0], [0, 0, 1], [0, 1, 0]], [[0, 1, 0], [1, 0, 0]]]
    with pytest.raises(ValueError, match="context"):
        build_gazetteer_features(zeros, context=-1)


def test_vocabulary_concept_ids_round_trip(tmp_path):
    vocab = Vocabulary("v", {"cisplatin": "Chemical", "asthma": "Disease"}, "test list", ids={"cisplatin": "DB00515"})
    vocab.to_tsv(tmp_path / "v.tsv")
    assert "cisplatin\tChemical\tDB00515" in (tmp_path / "v.tsv").read_text()
    again = Vocabulary.from_tsv(tmp_path / "v.tsv", name="v")
    assert (again.terms, again.ids, again.provenance) == (vocab.terms, vocab.ids, "test list")
