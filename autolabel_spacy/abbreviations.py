"""Abbreviations a text defines, and what they settle for the rest of it.

"Duchenne muscular dystrophy ( DMD )" defines DMD: the letters of the short
form appear, in order, in the words before the bracket, the first one at the
start of a word (the check of Schwartz & Hearst 2003). ``bootstrap`` turns
definitions into dictionary terms; ``crf_ner`` (setting ``abbreviations``)
makes every use of a short form in a document take the label its long form
was given, as a constraint on decoding (:func:`abbreviation_constraints`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from spacy.tokens import Doc

MAX_LONG_TOKENS = 10  # how far before the bracket a long form may start
STOPS = {".", ";", ":", "(", ")", "[", "]"}
MIN_CONFIDENCE = 0.5  # a long form decoded with less settles nothing
CLOSERS = {")", ";", ","}
# words that make a longer predicted span name something else than the long
# form it ends with ("deficiency of arylsulfatase A (ARSA)": the enzyme)
LINKS = {"of", "in", "with", "for", "by", "to", "from", "and", "or", "on", "at"}


def is_abbreviation_of(short: str, long: str, max_length: int = 8) -> bool:
    """Whether ``short`` (2 to ``max_length`` characters, a capital among
    them) can abbreviate ``long``: its letters and digits appear in ``long``
    in order, the first one at the start of a word."""
    if not 2 <= len(short) <= max_length or not short[0].isalnum() or not any(c.isupper() for c in short):
        return False
    letters = [c.lower() for c in short if c.isalnum()]
    # match from the last letter backwards, each as far right as possible
    text, pos = long.lower(), len(long)
    for i, c in enumerate(reversed(letters)):
        first = i == len(letters) - 1
        while pos > 0:
            pos -= 1
            if text[pos] == c and (not first or pos == 0 or not text[pos - 1].isalnum()):
                break
        else:
            return False
    return True


@dataclass(frozen=True)
class Definition:
    """``doc[start:end]`` (the long form) ``( short )``: the short form is
    the token at ``end + 1``."""

    short: str
    start: int
    end: int


def definitions(doc: Doc, max_length: int = 8) -> Iterator[Definition]:
    """The abbreviations ``doc`` defines, each with the shortest long form
    that fits it ("gene causing Pendred syndrome ( PDS )" defines "Pendred
    syndrome")."""
    for i in range(1, len(doc) - 2):
        # "Cowden disease (CD)", also "(CD; MIM 158350)" and "(CD, ...)"
        if doc[i].text != "(" or doc[i + 2].text not in CLOSERS:
            continue
        short = doc[i + 1].text
        # at most min(|short| + 5, 2 |short|) words, as Schwartz & Hearst
        longest = min(len(short) + 5, 2 * len(short), MAX_LONG_TOKENS)
        for start in range(i - 1, max(-1, i - 1 - longest), -1):
            if doc[start].text in STOPS:
                break  # a long form does not reach past a sentence or bracket
            if is_abbreviation_of(short, doc[start:i].text, max_length):
                yield Definition(short, start, i)
                break


def abbreviation_constraints(
    doc: Doc, spans: list[tuple[int, int, str, float]], min_confidence: float = MIN_CONFIDENCE
) -> list[tuple[int, int, str]]:
    """What a doc's definitions settle, given the spans predicted for it:
    ``(start, end, label)`` token ranges that must be one entity of that
    label.

    A definition whose long form was predicted as an entity with at least
    ``min_confidence`` (a predicted span that ends where the long form ends,
    inside it or reaching before it over modifiers only: "autosomal
    recessive copper toxicosis (CT)", not "deficiency of arylsulfatase A
    (ARSA)", which names the enzyme) gives the short form that label. Every
    single-token use of the short form in the doc then takes it, unless a predicted entity
    overlaps the use without being exactly it ("DMD-like" inside a longer
    mention). A short form defined twice, once with a label and once
    without or with another, settles nothing; one whose long form is no
    entity settles nothing either (NCBI-disease tags "VHL" as the disease
    in one sentence and not as the gene in the next).
    """
    labels: dict[str, set] = {}
    for d in definitions(doc):
        found = {
            label
            for start, end, label, p in spans
            if end == d.end and p >= min_confidence and not any(t.lower_ in LINKS for t in doc[start : d.start])
        }
        labels.setdefault(d.short, set()).add(next(iter(found)) if len(found) == 1 else None)
    covered = {i: (start, end) for start, end, *_ in spans for i in range(start, end)}
    out = []
    for token in doc:
        settled = labels.get(token.text)
        if not settled or len(settled) != 1 or None in settled:
            continue
        inside = covered.get(token.i)
        if inside is not None and inside != (token.i, token.i + 1):
            continue
        out.append((token.i, token.i + 1, next(iter(settled))))
    return out
