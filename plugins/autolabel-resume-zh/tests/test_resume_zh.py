import spacy

from autolabel_spacy.hooks.manager import Plugins


def test_domain_is_discovered_and_valid():
    plugins = Plugins()
    spec = plugins.domain("resume_zh")
    assert spec.language == "zh"
    assert spec.label_names == ["NAME", "ORG", "TITLE", "EDU", "CONT", "PRO", "RACE", "LOC"]
    assert sum(1 for label in spec.all_terms().values() if label == "RACE") == 56
    assert not [p for p in plugins.problems if "resume" in p.plugin]


def test_vocab_matches_on_character_tokens():
    nlp = spacy.blank("zh")
    nlp.add_pipe("domain_vocab", config={"domain": "resume_zh"})
    doc = nlp("张三，男，汉族，中国国籍，无境外永久居留权，硕士研究生学历，高级会计师，现任公司董事长。")
    assert all(len(t) == 1 for t in doc)
    found = [(s.text, s.label_) for s in doc.spans["domain_vocab"]]
    assert ("汉族", "RACE") in found and ("中国国籍", "CONT") in found
    assert ("硕士研究生", "EDU") in found  # longest match wins over 硕士
    assert ("高级会计师", "TITLE") in found and ("董事长", "TITLE") in found


def test_crf_ner_refuses_a_pipeline_of_another_language():
    import pytest

    with pytest.raises(ValueError, match="language"):
        spacy.blank("en").add_pipe("crf_ner", config={"domain": "resume_zh"})
    assert spacy.blank("zh").add_pipe("crf_ner", config={"domain": "resume_zh"}).labels[0] == "NAME"
