from collections import Counter

import pytest

from autolabel_spacy.corpora import CorpusFormatError, docs_from_file, read_tagged
from autolabel_spacy.workflow.convert import convert


def write(tmp_path, text, name="c.tsv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


def spans(path, **kw):
    return [[(s, e, label) for s, e, label in sent.spans] for sent in read_tagged(path, **kw)]


def test_iob2_with_tab_only_separators_bom_and_docstart(tmp_path):
    text = (
        "-DOCSTART- -X- O O\n\n"
        "\ufeffAspirin\tB-Drug\nhelps\tO\n\t\n"  # TAB-only line ends a sentence
        "heart\tB-Dis\nDubbz\ufeff\tI-Dis\n\n"
        "\ufeff\n"  # lone BOM line at the end
    )
    p = write(tmp_path, text)
    sents = list(read_tagged(p))
    assert [s.tokens for s in sents] == [["Aspirin", "helps"], ["heart", "Dubbz"]]
    assert [s.spans for s in sents] == [[(0, 1, "Drug")], [(0, 2, "Dis")]]
    assert sents[1].line == 6


def test_io_iob1_and_iob2_violations_are_read_leniently(tmp_path):
    p = write(tmp_path, "a I-X\nb I-X\nc O\nd I-Y\ne I-X\n\n")
    assert spans(p) == [[(0, 2, "X"), (3, 4, "Y"), (4, 5, "X")]]
    p = write(tmp_path, "a I-X\nb B-X\nc I-X\n\n", "iob1.txt")
    assert spans(p, scheme="iob1") == [[(0, 1, "X"), (1, 3, "X")]]
    p = write(tmp_path, "a O\nb I-X\n\n", "iob2.txt")
    (sent,) = read_tagged(p, scheme="iob2")
    assert sent.spans == [(1, 2, "X")] and sent.repairs[0].startswith("2: ")
    with pytest.raises(CorpusFormatError, match=r"iob2.txt:2: I-X does not continue"):
        list(read_tagged(p, scheme="iob2", strict=True))


def test_bmes_and_biluo(tmp_path):
    p = write(tmp_path, "我 S-NAME\n在 O\n北 B-LOC\n京 M-LOC\n市 E-LOC\n\n", "z.bmes")
    assert spans(p) == [[(0, 1, "NAME"), (2, 5, "LOC")]]
    p = write(tmp_path, "a U-X\nb B-Y\nc I-Y\nd L-Y\n\n", "b.txt")
    assert spans(p) == [[(0, 1, "X"), (1, 4, "Y")]]
    # a sentence ending on an open M- tag (resume_zh train has two)
    p = write(tmp_path, "a B-ORG\nb M-ORG\n\nc M-ORG\nd E-ORG\n\n", "broken.bmes")
    sents = list(read_tagged(p))
    assert [s.spans for s in sents] == [[(0, 2, "ORG")], [(0, 2, "ORG")]]
    assert sents[0].repairs and sents[1].repairs


@pytest.mark.parametrize(
    "text, problem",
    [
        ("a\tO\nb\n\n", r":2: expected a token and a tag"),
        ("a\tO\nb\tX-Y\n\n", r":2: invalid tag 'X-Y'"),
        ("a - O\nb O\n\n", r":2: expected 3 columns"),
        ("a\tO\nb\tB-\n\n", r":2: invalid tag 'B-'"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, problem):
    p = write(tmp_path, text)
    with pytest.raises(CorpusFormatError, match=problem) as err:
        list(read_tagged(p))
    assert str(p) in str(err.value)


def test_non_utf8_names_the_line(tmp_path):
    p = write(tmp_path, b"a\tO\n\nb\xff\tO\n\n")
    with pytest.raises(CorpusFormatError, match=r"c.tsv:3: not valid UTF-8"):
        list(read_tagged(p))


def test_chinese_docs_have_character_tokens_without_spaces(tmp_path):
    p = write(tmp_path, "张 B-NAME\n三 E-NAME\n好 O\n\n", "z.bmes")
    (doc,) = docs_from_file(p, lang="zh")
    assert doc.text == "张三好" and [t.text for t in doc] == ["张", "三", "好"]
    assert [(e.text, e.label_) for e in doc.ents] == [("张三", "NAME")]


def test_docs_group_sentences_but_not_across_documents(tmp_path):
    text = "-DOCSTART- O\n\na O\n\nb I-X\n\n-DOCSTART- O\n\nc O\n\n"
    p = write(tmp_path, text)
    docs = list(docs_from_file(p, n_sents=10))
    assert [d.text for d in docs] == ["a b", "c"]
    assert [(e.text, e.label_) for e in docs[0].ents] == [("b", "X")]


EXPECTED = {
    # file: (lang, sentences, tokens, mentions per label) — counts from each SOURCE.md
    "ncbi_disease/train.tsv": ("en", 5424, 135701, {"Disease": 5134}),
    "ncbi_disease/test.tsv": ("en", 940, 24497, {"Disease": 960}),
    "wnut17/train.conll": (
        "en",
        3394,
        62730,
        {"person": 660, "location": 548, "corporation": 221, "product": 142, "creative-work": 140, "group": 264},
    ),
    # dev: the lone BOM line is dropped and the stray I-creative-work starts a mention
    "wnut17/dev.conll": (
        "en",
        1009,
        15733,
        {"person": 470, "location": 74, "corporation": 34, "product": 114, "creative-work": 105, "group": 39},
    ),
    "sec_fin/test.conll": ("en", 303, 13246, {"LOC": 39, "MISC": 7, "ORG": 56, "PER": 216}),
    # two ORG mentions cross a sentence boundary: the lenient reading counts 4613
    "resume_zh/train.bmes": (
        "zh",
        3821,
        124099,
        {"CONT": 260, "EDU": 858, "LOC": 47, "NAME": 952, "ORG": 4613, "PRO": 287, "RACE": 115, "TITLE": 6308},
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.corpus
def test_real_corpora_counts(shared_data, name, tmp_path):
    lang, n_sents, n_tokens, labels = EXPECTED[name]
    out = tmp_path / "x.spacy"
    counts = convert(shared_data / name, out, lang=lang)
    assert counts["docs"] == n_sents and counts["tokens"] == n_tokens
    docs = list(docs_from_file(shared_data / name, lang=lang))
    assert Counter(e.label_ for d in docs for e in d.ents) == labels
    assert "\ufeff" not in "".join(d.text for d in docs)
