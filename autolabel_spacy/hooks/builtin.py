"""The core's own formats and labelers, registered through the same hooks as
any plugin's (so a plugin can add more, and a test checks both paths)."""
from __future__ import annotations

from . import hookimpl


@hookimpl
def autolabel_formats() -> list:
    from ..formats import FormatSpec
    from ..formats.conll import read_conll, write_conll
    from ..formats.docbin import read_docbin, write_docbin
    from ..formats.jsonl import read_jsonl, write_jsonl

    return [
        FormatSpec(
            "conll",
            "token-per-line tags (IOB2, IOB1, IO, BILUO, BMES; auto-detected); written as IOB2",
            (".conll", ".tsv", ".bio", ".iob", ".bmes", ".txt"),
            read=read_conll,
            write=write_conll,
        ),
        FormatSpec("spacy", "spaCy DocBin", (".spacy",), read=read_docbin, write=write_docbin),
        FormatSpec(
            "jsonl",
            'JSON lines {"text", "spans": [{"start", "end", "label"}]} with character offsets',
            (".jsonl",),
            read=read_jsonl,
            write=write_jsonl,
        ),
    ]


@hookimpl
def autolabel_labelers() -> list:
    from ..labelers import LabelerSpec, make_pattern_labeler, make_vocab_labeler

    return [
        LabelerSpec("vocab", "longest matches of the domain's vocabularies (PhraseMatcher)", make_vocab_labeler),
        LabelerSpec("patterns", "matches of the domain's EntityRuler-style patterns", make_pattern_labeler),
    ]
