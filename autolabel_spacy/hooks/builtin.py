"""The core's own formats and labelers, registered through the same hooks as
any plugin's (so a plugin can add more, and a test checks both paths)."""

from __future__ import annotations

from ..formats import FormatSpec
from ..formats.conll import read_conll, write_conll
from ..formats.docbin import read_docbin, write_docbin
from ..formats.doccano import read_doccano_records, write_doccano
from ..formats.jsonl import read_jsonl_records, write_jsonl, write_jsonl_records
from ..formats.labelstudio import read_labelstudio_records, write_labelstudio
from ..formats.prodigy import read_prodigy_records, write_prodigy
from ..formats.pubtator import pubtator_refuses, read_pubtator_records, write_pubtator
from ..labelers import LabelerSpec, make_pattern_labeler, make_vocab_labeler
from . import hookimpl

BOTH = ("relations", "categories", "concept ids")  # what these formats hold besides entities


@hookimpl
def autolabel_formats() -> list:
    return [
        FormatSpec(
            "conll",
            "token-per-line tags (IOB2, IOB1, IO, BILUO, BMES; auto-detected); written as IOB2",
            (".conll", ".tsv", ".bio", ".iob", ".bmes", ".txt"),
            read=read_conll,
            write=write_conll,
        ),
        FormatSpec("spacy", "spaCy DocBin", (".spacy",), read=read_docbin, write=write_docbin, holds=BOTH),
        FormatSpec(
            "jsonl",
            'JSON lines {"text", "spans": [{"start", "end", "label", "score"}], "score", "meta"}',
            (".jsonl",),
            write=write_jsonl,
            read_records=read_jsonl_records,
            write_records=write_jsonl_records,
            holds=BOTH,
        ),
        FormatSpec(
            "labelstudio",
            "Label Studio tasks with predictions (write) / JSON export with annotations (read)",
            (".labelstudio.json", ".ls.json"),
            write=write_labelstudio,
            read_records=read_labelstudio_records,
            holds=BOTH,
        ),
        FormatSpec(
            "prodigy",
            "Prodigy ner_manual JSONL (tokens, spans with token offsets, answer)",
            (".prodigy.jsonl",),
            write=write_prodigy,
            read_records=read_prodigy_records,
            holds=BOTH,
        ),
        FormatSpec(
            "doccano",
            "doccano sequence-labelling JSONL (label: [[start, end, LABEL]])",
            (".doccano.jsonl",),
            write=write_doccano,
            read_records=read_doccano_records,
            holds=BOTH,
        ),
        FormatSpec(
            "pubtator",
            "PubTator abstracts: title|abstract lines, mentions with type and concept id (kb_id_), relations",
            (".pubtator",),
            write=write_pubtator,
            read_records=read_pubtator_records,
            holds=("relations", "concept ids"),
            refuses=pubtator_refuses,  # relations between entities with concept ids only
        ),
    ]


@hookimpl
def autolabel_labelers() -> list:
    return [
        LabelerSpec("vocab", "longest matches of the domain's vocabularies (PhraseMatcher)", make_vocab_labeler),
        LabelerSpec("patterns", "matches of the domain's EntityRuler-style patterns", make_pattern_labeler),
    ]
