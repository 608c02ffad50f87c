"""The crf_ner component: training, annotations, edge cases, serialization."""

import random

import numpy as np
import oracles
import pytest
import spacy
import srsly
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc, DocBin
from spacy.training import Example

from autolabel_spacy.ml import crf, crf_layer

DRUGS = ["aspirin", "ibuprofen", "metformin", "warfarin", "insulin"]
DISEASES = ["diabetes", "heart failure", "lung cancer", "migraine", "type 2 diabetes"]
TEMPLATES = [
    "{d} is used to treat {x} .",
    "patients with {x} took {d} daily .",
    "{x} improved after {d} .",
    "no {x} was seen .",
]


def make_examples(nlp, n=60, seed=0):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = rng.choice(TEMPLATES)
        d, x = rng.choice(DRUGS), rng.choice(DISEASES)
        text = t.format(d=d, x=x)
        ents = []
        if "{d}" in t:
            i = text.index(d)
            ents.append((i, i + len(d), "DRUG"))
        i = text.index(x)
        ents.append((i, i + len(x), "DISEASE"))
        out.append(Example.from_dict(nlp.make_doc(text), {"entities": ents}))
    return out


def train(nlp, examples, steps=40):
    opt = nlp.initialize(lambda: examples)
    for i in range(steps):
        nlp.update(examples[(i * 10) % len(examples) :][:10] or examples[:10], sgd=opt, drop=0.1)
    return nlp


def tiny_tok2vec(embed: dict) -> dict:
    """A small crf_ner tok2vec config around ``embed`` (an embedding-layer config)."""
    return {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": embed,
        "encode": {
            "@architectures": "spacy.MaxoutWindowEncoder.v2",
            "width": 32,
            "depth": 1,
            "window_size": 1,
            "maxout_pieces": 2,
        },
    }


TINY_EMBED = {
    "@architectures": "spacy.MultiHashEmbed.v2",
    "width": 32,
    "attrs": ["NORM", "SHAPE"],
    "rows": [500, 50],
    "include_static_vectors": False,
}


def train_tiny(embed: dict, steps: int = 40):
    """A blank English pipeline whose crf_ner reads ``embed`` through a small
    tok2vec, trained for ``steps`` updates on the drug/disease examples."""
    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_ner", config={"model": {"tok2vec": tiny_tok2vec(embed)}})
    examples = make_examples(nlp, 40)
    train(nlp, examples, steps=steps)
    return nlp, examples


def assert_reloads_the_same(nlp, texts, path):
    """Saved to ``path`` and loaded back, ``nlp`` finds the same entities
    with the same scores; some text must get an entity."""
    before = [(d.ents, d.spans["crf_ner"].attrs["scores"]) for d in nlp.pipe(texts)]
    assert any(len(ents) for ents, _ in before)
    nlp.to_disk(path)
    loaded = spacy.load(path)
    after = [(d.ents, d.spans["crf_ner"].attrs["scores"]) for d in loaded.pipe(texts)]
    for (ents_a, scores_a), (ents_b, scores_b) in zip(before, after):
        assert [(e.text, e.label_) for e in ents_a] == [(e.text, e.label_) for e in ents_b]
        assert np.allclose(scores_a, scores_b, atol=1e-6)


@pytest.fixture(scope="module")
def trained():
    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_ner", config={"store_marginals": True})
    examples = make_examples(nlp)
    return train(nlp, examples, steps=60), examples


def test_learns_and_scores(trained):
    nlp, examples = trained
    scores = nlp.evaluate(examples)
    assert scores["ents_f"] > 0.9
    assert set(scores["ents_per_type"]) == {"DRUG", "DISEASE"}
    doc = nlp("patients with migraine took insulin daily .")
    assert [(e.text, e.label_) for e in doc.ents] == [("migraine", "DISEASE"), ("insulin", "DRUG")]
    group = doc.spans["crf_ner"]
    assert list(group) == list(doc.ents)
    assert len(group.attrs["scores"]) == 2 and all(0.5 < s <= 1.0 for s in group.attrs["scores"])
    assert 0.0 < group.attrs["sequence_prob"] <= 1.0


def test_a_doc_of_several_sentences_gets_a_confidence_per_sentence(trained):
    nlp, _ = trained
    nlp.add_pipe("sentencizer", first=True)
    try:
        doc = nlp("patients with migraine took insulin daily . they were fine . asthma worsened with aspirin .")
    finally:
        nlp.remove_pipe("sentencizer")
    group = doc.spans["crf_ner"]
    rows = group.attrs["sentence_probs"]
    assert [(s, e) for s, e, _ in rows] == [(sent.start, sent.end) for sent in doc.sents] and len(rows) == 3
    marginals = doc.user_data["autolabel_marginals"]["probs"]
    for s, e, p in rows:
        # at most the least sure token of the sentence, at least the whole doc's
        assert group.attrs["sequence_prob"] - 1e-6 <= p <= marginals[s:e].max(axis=1).min() + 1e-6
    # sentences are independent of a doc of one sentence
    assert "sentence_probs" not in nlp("asthma worsened with aspirin .").spans["crf_ner"].attrs


def test_abbreviations_setting_gives_every_use_of_a_short_form_its_long_forms_label(trained):
    nlp, _ = trained
    ner = nlp.get_pipe("crf_ner")
    text = "patients with heart failure ( HF ) took aspirin daily . HF improved after insulin . HF was seen ."
    plain = nlp(text)
    assert ("heart failure", "DISEASE") in [(e.text, e.label_) for e in plain.ents]
    ner.cfg["abbreviations"] = True
    try:
        doc = nlp(text)
    finally:
        ner.cfg["abbreviations"] = False
    hf = [t.i for t in doc if t.text == "HF"]
    assert [(e.start, e.label_) for e in doc.ents if e.text == "HF"] == [(i, "DISEASE") for i in hf]
    assert [(e.text, e.label_) for e in doc.ents if e.text != "HF"] == [
        (e.text, e.label_) for e in plain.ents if e.text != "HF"
    ]
    group = doc.spans["crf_ner"]
    assert len(group.attrs["scores"]) == len(doc.ents) and 0.0 < group.attrs["sequence_prob"] <= 1.0
    # the factory setting, saved with the pipeline's cfg
    assert spacy.blank("en").add_pipe("crf_ner", config={"abbreviations": True}).cfg["abbreviations"] is True


def test_marginals_are_distributions(trained):
    nlp, _ = trained
    ner = nlp.get_pipe("crf_ner")
    doc = nlp("no lung cancer was seen .")
    stored = doc.user_data["autolabel_marginals"]
    assert stored["tags"] == list(ner.tags)
    probs = stored["probs"]
    assert probs.shape == (len(doc), len(ner.tags))
    assert np.allclose(probs.sum(1), 1.0, atol=1e-5)
    (again,) = ner.token_marginals([nlp.make_doc(doc.text)])
    assert np.allclose(again, probs, atol=1e-6)


def test_edge_case_docs(trained):
    nlp, _ = trained
    long_text = " ".join(["aspirin is used to treat migraine ."] * 300)  # 2100 tokens, far longer than training docs
    docs = list(nlp.pipe(["", "   ", "aspirin", "\n\n", long_text], batch_size=2))
    assert [len(d.ents) for d in docs[:2]] == [0, 0]
    assert docs[0].spans["crf_ner"].attrs["scores"].shape == (0,)
    assert [e.text for e in docs[2].ents] in (["aspirin"], [])
    assert len(docs[4].ents) >= 500
    assert all(0.0 <= s <= 1.0 for s in docs[4].spans["crf_ner"].attrs["scores"])


def test_keep_existing_entities(trained):
    nlp, _ = trained
    ner = nlp.get_pipe("crf_ner")
    ner.cfg["overwrite_ents"] = False
    try:
        doc = nlp.make_doc("aspirin is used to treat migraine .")
        doc.set_ents([doc.char_span(0, 7, label="MANUAL")])
        doc = ner(doc)
        assert [(e.text, e.label_) for e in doc.ents] == [("aspirin", "MANUAL"), ("migraine", "DISEASE")]
    finally:
        ner.cfg["overwrite_ents"] = True


def test_labels_from_config_and_add_label_after_init():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("crf_ner")
    examples = make_examples(nlp, 10)
    ner.initialize(lambda: examples, nlp=nlp, labels=["DRUG", "DISEASE", "GENE"])
    assert ner.labels == ("DRUG", "DISEASE", "GENE")
    assert len(ner.tags) == 1 + 4 * 3
    with pytest.raises(ValueError, match="after the model was initialized"):
        ner.add_label("CHEMICAL")


def test_no_labels_is_a_clear_error():
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_ner")
    eg = Example.from_dict(nlp.make_doc("nothing here"), {"entities": []})
    with pytest.raises(ValueError, match="no entity labels"):
        nlp.initialize(lambda: [eg])


@pytest.mark.slow
def test_bio_scheme_trains_too():
    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_ner", config={"model": {"scheme": "BIO", "lstm_depth": 1, "lstm_width": 32}})
    examples = make_examples(nlp, 40)
    train(nlp, examples, steps=60)
    assert nlp.get_pipe("crf_ner").tags[:3] == ("O", "B-DISEASE", "I-DISEASE")
    assert nlp.evaluate(examples)["ents_f"] > 0.9


def test_missing_gold_tokens_are_marginalised(trained):
    nlp, _ = trained
    ner = nlp.get_pipe("crf_ner")
    doc = nlp.make_doc("aspirin helps")
    ref = Doc(doc.vocab, words=["aspirin", "helps"], ents=["B-DRUG", None])
    eg = Example(doc, ref)
    allowed = ner._gold_tag_sets(eg)
    assert allowed[0].sum() == 1 and allowed[1].all()
    # the loss of a missing tag sums over every tag it may take, so it is below
    # the loss of each completion of it (no optimizer: the weights stay as they are)
    missing = ner.update([eg])["crf_ner"]
    completions = [
        ner.update(
            [Example(nlp.make_doc("aspirin helps"), Doc(doc.vocab, words=["aspirin", "helps"], ents=["B-DRUG", tag]))]
        )["crf_ner"]
        for tag in ("O", "B-DRUG", "I-DRUG", "B-DISEASE")
    ]
    assert np.isfinite(missing) and all(missing < loss for loss in completions), (missing, completions)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "bb", " ", "\n"]), st.sampled_from(["O", None, "A", "B", "C"]), st.booleans()),
        max_size=12,
    ),
    st.sampled_from(["BILUO", "BIO"]),
)
def test_gold_tag_sets_read_from_arrays_equal_spacys_alignment(tokens, scheme_name):
    """Entities of labels A, B (known) and C (not), runs of one label split
    or not, missing gold (None) and whitespace tokens: the tags read from
    the reference's arrays are those of spaCy's alignment."""
    from autolabel_spacy.pipeline.crf_ner import aligned_gold_tag_sets, gold_tag_sets
    from autolabel_spacy.schemes import TagScheme

    vocab = spacy.blank("en").vocab
    words = [w for w, _, _ in tokens]
    ents, previous = [], None
    for _, tag, new in tokens:
        if tag in ("A", "B", "C"):
            ents.append(("I-" if previous == tag and not new else "B-") + tag)
        else:
            ents.append(tag)
        previous = tag
    reference = Doc(vocab, words=words, ents=ents)
    eg = Example(Doc(vocab, words=words), reference)
    scheme = TagScheme(scheme_name, ("A", "B"))
    assert np.array_equal(gold_tag_sets(eg, scheme), aligned_gold_tag_sets(eg, scheme))


def test_gold_tag_sets_of_another_tokenization_come_from_spacys_alignment():
    from autolabel_spacy.pipeline.crf_ner import gold_tag_sets
    from autolabel_spacy.schemes import TagScheme

    vocab = spacy.blank("en").vocab
    split = Doc(vocab, words=["asp", "irin", "helps"], spaces=[False, True, False])
    assert (
        gold_tag_sets(
            Example(split, Doc(vocab, words=["aspirin", "helps"], ents=["B-A", "O"])), TagScheme("BILUO", ("A",))
        )
        is None
    )


def test_normalized_loss_is_the_summed_loss_per_token():
    nlp, examples = train_tiny(TINY_EMBED, steps=0)
    ner = nlp.get_pipe("crf_ner")
    assert ner.cfg["normalize_loss"] is True  # the default
    batch = examples[:6]
    emissions = ner.model.predict([eg.predicted for eg in batch])
    n_tokens = sum(len(eg.predicted) for eg in batch)
    ner.cfg["normalize_loss"] = False
    summed, d_summed = ner.get_loss(batch, emissions)
    ner.cfg["normalize_loss"] = True
    per_token, d_per_token = ner.get_loss(batch, emissions)
    assert summed > 1.0
    assert per_token == pytest.approx(summed / n_tokens, rel=1e-6)
    for a, b in zip(d_summed, d_per_token):
        assert np.allclose(a / n_tokens, b, rtol=1e-5, atol=1e-9)
    assert spacy.blank("en").add_pipe("crf_ner", config={"normalize_loss": False}).cfg["normalize_loss"] is False


def test_loss_and_gradients_are_those_of_autograd(trained):
    """The CRF loss (log Z - log Z of the paths the gold allows, one token's
    gold unknown) with its gradients from posteriors equals the loss
    differentiated by autograd, for the emissions and the CRF scores."""
    nlp, examples = trained
    ner = nlp.get_pipe("crf_ner")
    doc = nlp.make_doc("aspirin helps with migraine")
    partial = Example(doc, Doc(doc.vocab, words=[t.text for t in doc], ents=["B-DRUG", "O", None, "B-DISEASE"]))
    batch = examples[:5] + [partial]
    emissions = ner.model.predict([eg.predicted for eg in batch])
    gold = [ner._gold_tag_sets(eg) for eg in batch]
    crf_model = ner._crf
    for name in ("transitions", "start", "end"):
        crf_model.set_grad(name, crf_model.ops.alloc(crf_model.get_param(name).shape))
    loss, d_emissions = ner.get_loss(batch, emissions)
    got = {name: crf_model.get_grad(name).copy() for name in ("transitions", "start", "end")}
    params = crf_layer.get_crf_params(crf_model, dtype=torch.float64)
    leaves = {name: getattr(params, name).clone().requires_grad_() for name in ("transitions", "start", "end")}
    params = crf.CRFParams(
        **leaves, allowed=params.allowed, allowed_start=params.allowed_start, allowed_end=params.allowed_end
    )
    n_tokens = sum(len(e) for e in emissions)
    expect = 0.0
    ems = [torch.tensor(e, dtype=torch.float64, requires_grad=True) for e in emissions]
    for em, allowed in zip(ems, gold):
        mask = torch.ones(1, em.shape[0], dtype=torch.bool)
        clamped = em.masked_fill(~torch.from_numpy(allowed), crf.IMPOSSIBLE)
        expect = (
            expect
            + oracles.log_partition(em[None], mask, params)[0]
            - oracles.log_partition(clamped[None], mask, params)[0]
        )
    expect = expect / n_tokens
    expect.backward()
    assert loss == pytest.approx(expect.item(), rel=1e-9)
    for d, em in zip(d_emissions, ems):
        assert np.allclose(d, em.grad.numpy(), atol=1e-6)
    for name, tensor in leaves.items():
        assert np.allclose(got[name], tensor.grad.numpy(), atol=1e-6)


def test_serialization_round_trips_without_pickle(trained, tmp_path):
    nlp, _ = trained
    texts = ["aspirin is used to treat migraine .", "no heart failure was seen ."]
    assert_reloads_the_same(nlp, texts, tmp_path / "model")
    raw = (tmp_path / "model" / "crf_ner" / "model").read_bytes()
    msg = srsly.msgpack_loads(raw)  # plain msgpack: no pickle, no torch.save zip
    assert "nodes" in msg and not raw.startswith(b"PK")
    fresh = spacy.blank("en")
    fresh.add_pipe("crf_ner", config={"store_marginals": True})
    fresh.from_bytes(nlp.to_bytes())
    assert [e.text for e in fresh(texts[0]).ents] == [e.text for e in nlp(texts[0]).ents]


@pytest.mark.slow
def test_bilstm_model_serializes(tmp_path):
    spacy.util.fix_random_seed(1)
    nlp = spacy.blank("en")
    nlp.add_pipe("crf_ner", config={"model": {"lstm_depth": 2, "lstm_width": 16}})
    examples = make_examples(nlp, 20)
    # trained long enough to find entities (a small 2-layer BiLSTM needs 100-150 updates), so the
    # round trip compares spans and scores, not two empty lists
    train(nlp, examples, steps=150)
    assert_reloads_the_same(nlp, ["patients with diabetes took warfarin daily ."], tmp_path / "m")


def test_multiprocessing_and_docbin(trained, tmp_path):
    nlp, _ = trained
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    texts = [f"patients with {x} took {d} daily ." for x in DISEASES for d in DRUGS] * 2
    single = [[(e.text, e.label_) for e in d.ents] for d in loaded.pipe(texts)]
    multi_docs = list(loaded.pipe(texts, n_process=2, batch_size=8))
    assert [[(e.text, e.label_) for e in d.ents] for d in multi_docs] == single
    assert all(len(d.spans["crf_ner"].attrs["scores"]) == len(d.ents) for d in multi_docs)
    db = DocBin(store_user_data=True, docs=multi_docs[:3])
    back = list(DocBin().from_bytes(db.to_bytes()).get_docs(loaded.vocab))
    assert np.allclose(back[0].spans["crf_ner"].attrs["scores"], multi_docs[0].spans["crf_ner"].attrs["scores"])


def test_length_grouped_decoding_matches_one_padded_batch(trained, monkeypatch):
    from autolabel_spacy.ml import decoding

    nlp, _ = trained
    texts = ["aspirin", "no migraine was seen .", "", "patients with heart failure took warfarin daily ."] * 3
    docs = [nlp.make_doc(t) for t in texts]
    ner = nlp.get_pipe("crf_ner")
    monkeypatch.setattr(decoding, "DECODE_GROUP", 2)
    grouped = ner.predict(docs)
    monkeypatch.setattr(decoding, "DECODE_GROUP", None)
    whole = ner.predict(docs)
    for a, b in zip(grouped, whole):
        assert [s[:3] for s in a.spans] == [s[:3] for s in b.spans]
        assert np.allclose([s[3] for s in a.spans], [s[3] for s in b.spans], atol=1e-9)
        assert np.allclose(a.marginals, b.marginals, atol=1e-6)


def test_span_probabilities_of_given_spans(trained):
    nlp, examples = trained
    ner = nlp.get_pipe("crf_ner")
    docs = list(nlp.pipe([eg.reference.text for eg in examples[:8]]))
    predicted = [[(s.start, s.end, s.label_) for s in doc.spans["crf_ner"]] for doc in docs]
    probs = ner.span_probabilities(docs, predicted)
    for doc, p in zip(docs, probs):
        assert np.allclose(p, doc.spans["crf_ner"].attrs["scores"], atol=1e-5)
    # a span that contradicts the prediction gets a low probability
    first = docs[0].spans["crf_ner"][0]
    wrong = "DRUG" if first.label_ == "DISEASE" else "DISEASE"
    assert ner.span_probabilities(docs[:1], [[(first.start, first.end, wrong)]])[0][0] < 0.1
    with pytest.raises(ValueError, match="unknown label 'GENE'"):
        ner.span_probabilities(docs[:1], [[(0, 1, "GENE")]])


def test_torch_threads_is_a_setting_and_torch_is_left_alone_without_it(trained, monkeypatch):
    import torch

    nlp, examples = trained
    crf = nlp.get_pipe("crf_ner")
    texts = [eg.reference.text for eg in examples[:8]]
    calls = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (calls.append(n), real(n)))
    before = torch.get_num_threads()
    real(2)
    try:
        assert crf.cfg["torch_threads"] is None  # the factory's default
        expected = [[e.text for e in doc.ents] for doc in nlp.pipe(texts)]
        crf.update(examples[:4])  # no optimizer: the weights stay as they are
        assert calls == [] and torch.get_num_threads() == 2
        crf.cfg["torch_threads"] = 1
        assert [[e.text for e in doc.ents] for doc in nlp.pipe(texts)] == expected
        crf.update(examples[:4])  # no optimizer: the weights stay as they are
        assert calls and set(calls) == {1, 2}  # set for the CRF ops, then put back
        assert torch.get_num_threads() == 2
    finally:
        crf.cfg["torch_threads"] = None
        real(before)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="torch_threads"):
            spacy.blank("en").add_pipe("crf_ner", config={"torch_threads": bad})
