import itertools

import pytest
from oracles import is_valid

from autolabel_spacy.schemes import TagScheme, biluo_to_spans, bio_to_spans


def test_biluo_constraints():
    s = TagScheme("BILUO", ("A", "B"))
    assert s.tags == ("O", "B-A", "I-A", "L-A", "U-A", "B-B", "I-B", "L-B", "U-B")
    assert is_valid(s, ["B-A", "I-A", "L-A", "O", "U-B"])
    for bad in (["I-A"], ["B-A"], ["B-A", "L-B"], ["O", "L-A"], ["B-A", "O"], ["U-A", "I-A", "L-A"]):
        assert not is_valid(s, bad), bad


def test_bio_constraints():
    s = TagScheme("BIO", ("A", "B"))
    assert is_valid(s, ["B-A", "I-A", "B-A", "O", "B-B", "I-B"])
    for bad in (["I-A"], ["O", "I-A"], ["B-A", "I-B"]):
        assert not is_valid(s, bad), bad


@pytest.mark.parametrize("name", ["BIO", "BILUO"])
def test_spans_tags_round_trip_on_every_valid_sequence(name):
    s = TagScheme(name, ("A", "B"))
    for length in range(1, 5):
        for seq in itertools.product(s.tags, repeat=length):
            if is_valid(s, seq):
                spans = s.tags_to_spans(seq)
                assert s.spans_to_tags(spans, length) == list(seq)


def test_lenient_bio_reading_keeps_stray_inside_tags():
    assert bio_to_spans(["O", "I-A", "I-A", "I-B", "B-B"]) == [(1, 3, "A"), (3, 4, "B"), (4, 5, "B")]
    assert biluo_to_spans(["U-A", "B-B", "I-B", "L-B"]) == [(0, 1, "A"), (1, 4, "B")]


def test_invalid_scheme_and_label():
    with pytest.raises(ValueError, match="unknown tag scheme"):
        TagScheme("BMES", ("A",))
    with pytest.raises(ValueError, match="invalid entity label"):
        TagScheme("BIO", ("O",))
