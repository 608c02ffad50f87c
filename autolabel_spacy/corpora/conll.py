"""Token-per-line corpora (CoNLL / TSV) in IOB2, IOB1, IO, BILUO and BMES.

One token per line, the token in the first column and the tag in the last,
separated by a TAB or spaces. Blank or whitespace-only lines end a sentence;
``-DOCSTART-`` lines end a document. U+FEFF (BOM) characters are removed
wherever they appear. Malformed input raises :class:`CorpusFormatError`
naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

BOM = "\ufeff"
FORMATS = ("auto", "iob2", "iob1", "io", "biluo", "bmes")
_TAG = re.compile(r"^(O|([BIMESLU])-(\S+))$")


class CorpusFormatError(ValueError):
    """A corpus line that cannot be read; the message names file and line."""

    def __init__(self, path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = str(path), line, problem


@dataclass
class Sentence:
    tokens: list[str]
    spans: list[tuple[int, int, str]]  # token offsets, end exclusive
    path: str = ""
    line: int = 0  # line of the first token
    doc_index: int = 0  # which -DOCSTART- document it belongs to
    repairs: list[str] = field(default_factory=list)  # "line: problem" of each scheme violation read leniently


def read_tagged(path, scheme: str = "auto", strict: bool = False) -> Iterator[Sentence]:
    """Sentences of a token-per-line file with their entity spans.

    scheme: the tag scheme of the file, or ``auto`` to infer it from the tag
        prefixes. IOB1, IOB2 and IO are all read by the same rule (an ``I-X``
        that does not continue an ``X`` span starts one), which is exact for
        each of them.
    strict: raise on tag-sequence violations (e.g. ``O`` then ``I-X`` in
        IOB2, or ``M-X`` without ``B-X`` in BMES) instead of reading them
        leniently and recording them in ``Sentence.repairs``.
    """
    if scheme not in FORMATS:
        raise ValueError(f"unknown tag scheme {scheme!r}; choose one of {', '.join(FORMATS)}")
    path = Path(path)
    rows = list(_rows(path))
    if scheme == "auto":
        scheme = _infer_scheme(path, rows)
    for sent in _sentences(path, rows):
        tokens = [r[1] for r in sent]
        tags = [r[2] for r in sent]
        spans, repairs = _to_spans(tags, scheme, [r[0] for r in sent], path)
        if repairs and strict:
            raise CorpusFormatError(path, repairs[0][0], repairs[0][1])
        yield Sentence(tokens, spans, str(path), sent[0][0], sent[0][3], [f"{n}: {p}" for n, p in repairs])


def _rows(path: Path) -> Iterator[tuple[int, str, str, int]]:
    """(line number, token, tag, doc index); ("", "") rows mark sentence ends."""
    doc_index = 0
    n_cols: Optional[int] = None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise CorpusFormatError(path, line, f"not valid UTF-8 ({err.reason})") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.replace(BOM, "")
        if not line.strip():
            yield number, "", "", doc_index
            continue
        line = line.rstrip()  # a trailing TAB or space is no empty column
        cols = line.split("\t") if "\t" in line.strip() else line.split()
        cols = [c.strip() for c in cols]
        if cols[0] == "-DOCSTART-":
            doc_index += 1
            yield number, "", "", doc_index
            continue
        if len(cols) < 2:
            raise CorpusFormatError(path, number, f"expected a token and a tag, got {line.strip()!r}")
        if n_cols is None:
            n_cols = len(cols)
        elif len(cols) != n_cols:
            raise CorpusFormatError(path, number, f"expected {n_cols} columns like the lines before, got {len(cols)}")
        token, tag = cols[0], cols[-1]
        if not token:
            raise CorpusFormatError(path, number, "empty token")
        if not _TAG.match(tag):
            raise CorpusFormatError(path, number, f"invalid tag {tag!r} (expected O or PREFIX-LABEL)")
        yield number, token, tag, doc_index


def _sentences(path: Path, rows):
    current: list = []
    for row in rows:
        if row[1]:
            current.append(row)
        elif current:
            yield current
            current = []
    if current:
        yield current


def _infer_scheme(path: Path, rows) -> str:
    prefixes = {row[2][0] for row in rows if row[1] and row[2] != "O"}
    if prefixes & {"M", "E", "S"}:
        if prefixes & {"L", "U"}:
            raise CorpusFormatError(path, 1, f"mixes BMES and BILUO prefixes: {sorted(prefixes)}")
        return "bmes"
    if prefixes & {"L", "U"}:
        return "biluo"
    return "iob2" if "B" in prefixes else "io"


_SCHEME_PREFIXES = {
    "iob2": "BI",
    "iob1": "BI",
    "io": "I",
    "biluo": "BILU",
    "bmes": "BMES",
}


def _to_spans(tags: list[str], scheme: str, lines: list[int], path: Path):
    """Spans from tags; returns (spans, repairs) where repairs are
    (line, problem) for every violation that was read leniently."""
    allowed = _SCHEME_PREFIXES[scheme]
    spans: list[tuple[int, int, str]] = []
    repairs: list[tuple[int, str]] = []
    start: Optional[int] = None
    label: Optional[str] = None

    def close(end: int) -> None:
        nonlocal start, label
        if start is not None:
            spans.append((start, end, label))
        start, label = None, None

    for i, tag in enumerate(tags):
        if tag == "O":
            if start is not None and scheme in ("biluo", "bmes"):
                repairs.append((lines[i - 1], f"{tags[i - 1]} is not closed before O"))
            close(i)
            continue
        prefix, lab = tag.split("-", 1)
        if prefix not in allowed:
            raise CorpusFormatError(path, lines[i], f"tag {tag!r} is not valid in {scheme.upper()}")
        continues = start is not None and label == lab
        if prefix in ("I", "M", "E", "L"):
            if not continues:
                if scheme not in ("io", "iob1"):
                    repairs.append((lines[i], f"{tag} does not continue a {lab} span"))
                close(i)
                start, label = i, lab
            if prefix in ("E", "L"):
                close(i + 1)
        else:  # B, S, U
            close(i)
            start, label = i, lab
            if prefix in ("S", "U"):
                close(i + 1)
    if start is not None and scheme in ("biluo", "bmes"):
        repairs.append((lines[-1], f"{tags[-1]} is not closed at the end of the sentence"))
    close(len(tags))
    return spans, repairs
