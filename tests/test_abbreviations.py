"""Abbreviations a document defines, and the constraints they put on crf_ner."""

import spacy

from autolabel_spacy.abbreviations import Definition, abbreviation_constraints, definitions

nlp = spacy.blank("en")


def test_definitions_take_the_shortest_long_form_that_fits():
    doc = nlp("The gene causing Duchenne muscular dystrophy (DMD) was found. Wilson disease (WD) is rare.")
    found = list(definitions(doc))
    assert [(d.short, doc[d.start : d.end].text) for d in found] == [
        ("DMD", "Duchenne muscular dystrophy"),
        ("WD", "Wilson disease"),
    ]
    # no capital, a sentence in between, letters out of order, too long a
    # reach for two letters: no definition
    assert not list(definitions(nlp("a side effect (se) occurred. The ( DM ) form of myotonic dystrophy (DM).")))
    assert not list(definitions(nlp("Huntington disease in the young (HD).")))
    # a bracket that goes on after the short form
    doc = nlp("hamartoma syndromes, Cowden disease (CD; MIM 158350) and others")
    assert [(d.short, doc[d.start : d.end].text) for d in definitions(doc)] == [("CD", "Cowden disease")]


def test_constraints_spread_the_long_forms_label_to_every_use():
    doc = nlp("Duchenne muscular dystrophy (DMD) is severe. In DMD, boys and a DMD-like case (MD) differ.")
    assert [str(t) for t in doc[:7]] == ["Duchenne", "muscular", "dystrophy", "(", "DMD", ")", "is"]
    uses = [t.i for t in doc if t.text == "DMD"]
    assert abbreviation_constraints(doc, [(0, 3, "Disease", 0.97)]) == [(i, i + 1, "Disease") for i in uses]
    assert abbreviation_constraints(doc, [(1, 3, "Disease", 0.97)]) == [(i, i + 1, "Disease") for i in uses]
    # a long form decoded with too little confidence, or none, settles nothing
    assert abbreviation_constraints(doc, [(0, 3, "Disease", 0.3)]) == []
    assert abbreviation_constraints(doc, [(4, 5, "Disease", 0.99)]) == []
    # a predicted span that reaches before the long form over a link word names something else
    doc2 = nlp("Deficiency of arylsulfatase A (ARSA) is rare. ARSA activity fell.")
    assert abbreviation_constraints(doc2, [(0, 4, "Disease", 0.99)]) == []
    # over modifiers it is the same thing
    doc3 = nlp("The autosomal recessive copper toxicosis (CT) of dogs. Markers linked to CT.")
    assert abbreviation_constraints(doc3, [(1, 5, "Disease", 0.95)]) == [(6, 7, "Disease"), (14, 15, "Disease")]
    # a use inside a longer predicted mention is left alone
    assert abbreviation_constraints(doc, [(0, 3, "Disease", 0.97), (uses[1], uses[1] + 2, "Disease", 0.6)]) == [
        (i, i + 1, "Disease") for i in uses if i != uses[1]
    ]


def test_a_short_form_defined_with_two_labels_settles_nothing():
    doc = nlp("Angelman syndrome (AS) and aortic stenosis (AS) are not the same. AS again.")
    assert abbreviation_constraints(doc, [(0, 2, "Disease", 0.99)]) == []
    assert Definition("AS", 0, 2) in list(definitions(doc))
