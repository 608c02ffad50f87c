"""Concept ids and relations are a user's data: generated records whose
spans fall off token boundaries go through ``convert`` (to every format
that holds relations), ``import`` and ``corpus`` with ``--align expand``
and ``contract``, and every record comes out with each of its concept ids
and exactly its relations, or is reported in the errors file."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.format_io import read_docs
from autolabel_spacy.formats.docbin import read_docbin
from autolabel_spacy.formats.records import META_KEY
from autolabel_spacy.loading import blank
from autolabel_spacy.relations import get_relations
from autolabel_spacy.workflow.convert import convert
from autolabel_spacy.workflow.corpus import CorpusFolderError, convert_splits
from autolabel_spacy.workflow.importer import import_annotations

WORDS = [
    "ketamine",
    "ketamine-induced",
    "renal",
    "and",
    "hepatic",
    "toxicity",
    "(",
    "IL-2",
    ")",
    "Na+",
    "mg/kg",
    ".",
    "x-ray",
    "lithium,",
]
IDS = [None, None, "D1", "D2", "D3", "D1|D4", "D2+D5"]
TARGETS = {
    "jsonl": ".jsonl",
    "labelstudio": ".labelstudio.json",
    "prodigy": ".prodigy.jsonl",
    "doccano": ".doccano.jsonl",
    "pubtator": ".pubtator",
    "spacy": ".spacy",
}
NLP = blank("en")


def keys(text: str, span: dict) -> list[str]:
    """What relations.mention_keys gives the span as written in the record."""
    ids = [p for p in (span.get("kb_id") or "").replace("+", "|").split("|") if p not in ("", "-1")]
    return ids or ["~" + " ".join(text[span["start"] : span["end"]].lower().split())]


@st.composite
def records(draw):
    text = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=12)))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=8)))
    spans = []
    for start, end in zip(cuts[::2], cuts[1::2]):
        if text[start:end].strip():
            span = {"start": start, "end": end, "label": draw(st.sampled_from(["Chemical", "Disease"]))}
            kb_id = draw(st.sampled_from(IDS))
            if kb_id:
                span["kb_id"] = kb_id
            spans.append(span)
    entity_keys = sorted({k for s in spans for k in keys(text, s)})
    pairs = (
        draw(st.lists(st.tuples(st.sampled_from(entity_keys), st.sampled_from(entity_keys)), max_size=4, unique=True))
        if entity_keys
        else []
    )
    relations = [{"head": h, "child": c, "label": "CID"} for h, c in pairs if h != c]
    return {"text": text, "spans": spans, "relations": relations}


def expected(record: dict):
    return sorted((s["label"], s.get("kb_id") or "") for s in record["spans"]), {
        (r["head"], r["child"], r["label"]) for r in record["relations"]
    }


def found(doc):
    return sorted((e.label_, "" if e.kb_id_ in ("", "-1") else e.kb_id_) for e in doc.ents), {
        (r.head, r.child, r.label) for r in get_relations(doc)
    }


def refused_lines(errors_path) -> set[int]:
    return {int(json.loads(line)["record"].rsplit(":", 1)[1]) for line in errors_path.read_text().splitlines()}


def check(inputs: list[dict], docs, refused: set[int], target: str) -> None:
    """Each record is refused, or comes out with its ids and relations."""
    by_id = {str((d.user_data.get(META_KEY) or {}).get("id")): d for d in docs}
    assert len(by_id) == len(docs)
    for line, record in enumerate(inputs, start=1):
        if line in refused:
            assert str(line) not in by_id, (target, line)
            continue
        assert str(line) in by_id, (target, line, "neither written nor refused")
        assert found(by_id[str(line)]) == expected(record), (target, record)


@pytest.mark.parametrize("align", ["expand", "contract"])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(inputs=st.lists(records(), min_size=1, max_size=5))
def test_every_id_and_relation_survives_align_or_the_record_is_reported(tmp_path_factory, align, inputs):
    folder = tmp_path_factory.mktemp("records")
    source = folder / "train.jsonl"
    with_ids = [{**r, "meta": {"id": str(i)}} for i, r in enumerate(inputs, start=1)]
    source.write_text("".join(json.dumps(r) + "\n" for r in with_ids))
    (folder / "dev.jsonl").write_text(source.read_text())
    for target, extension in TARGETS.items():
        output = folder / f"out{extension}"
        summary = convert(source, output, align=align)
        refused = refused_lines(folder / "out.convert-errors.jsonl")
        assert summary["refused"] == len(refused)
        if (
            target == "pubtator"
        ):  # PubTator names a relation's entities by concept id: a text-keyed one is refused, said so
            for line, record in enumerate(inputs, start=1):
                if any(k.startswith("~") for r in record["relations"] for k in (r["head"], r["child"])):
                    assert line in refused, record
        check(inputs, list(read_docs(output, NLP, target)), refused, target)
    summary = import_annotations(source, folder / "imported.spacy", align=align)
    check(
        inputs,
        list(read_docbin(folder / "imported.spacy", NLP)),
        refused_lines(folder / "imported.import-errors.jsonl"),
        "import",
    )
    assert summary.errors == len(refused_lines(folder / "imported.import-errors.jsonl"))
    if not summary.imported:  # every record refused: corpus says so, naming the errors file
        with pytest.raises(CorpusFolderError, match="every record was refused"):
            convert_splits(folder, folder / "corpus", align=align)
        return
    convert_splits(folder, folder / "corpus", align=align)
    for split in ("train", "dev"):
        check(
            inputs,
            list(read_docbin(folder / "corpus" / f"{split}.spacy", NLP)),
            refused_lines(folder / "corpus" / f"{split}.errors.jsonl"),
            split,
        )


BLOCK = (
    "1|t|Lithium-induced tremor\n1|a|It was seen in renal and hepatic toxicity .\n"
    "1\t0\t7\tLithium\tChemical\tD008094\n1\t16\t22\ttremor\tDisease\tD014202\n"
    "1\t38\t64\trenal and hepatic toxicity\tDisease\tD007674|D056486\trenal toxicity|hepatic toxicity\n"
    "1\tCID\tD008094\tD014202\n1\tCID\tD008094\tD007674\n1\tCID\tD008094\tD056486\n"
)
RECORD_FORMATS = [t for t in TARGETS if t not in ("pubtator", "spacy")]


@pytest.mark.parametrize("target", RECORD_FORMATS + ["spacy"])
def test_a_pubtator_block_comes_back_whole_from_every_format_with_metadata(tmp_path, target):
    """Its title boundary, composite names, and relations to each part of a
    composite mention (drawn from one mention in the formats that relate
    mentions) survive a trip through the format and back."""
    source = tmp_path / "in.pubtator"
    source.write_text(BLOCK)
    assert convert(source, tmp_path / f"mid{TARGETS[target]}")["refused"] == 0
    summary = convert(tmp_path / f"mid{TARGETS[target]}", tmp_path / "back.pubtator")
    assert summary["refused"] == 0 and summary["not_held"] == {}
    assert (tmp_path / "back.pubtator").read_text() == BLOCK


@pytest.mark.corpus
@pytest.mark.parametrize("target", RECORD_FORMATS)
def test_bc5cdr_comes_back_byte_for_byte_from_every_format_snapped_or_not(tmp_path, shared_data, target):
    """Real abstracts, composite mentions and CID relations included: what
    PubTator -> format -> PubTator gives is what PubTator -> PubTator
    gives, with the same records refused (--align expand snaps 111 dev
    mentions, each keeping its id and relations)."""
    blocks = (shared_data / "bc5cdr_docs" / "dev.pubtator").read_text().split("\n\n")[:120]
    source = tmp_path / "dev.pubtator"
    source.write_text("\n\n".join(blocks) + "\n")
    for align in ("strict", "expand"):
        direct = convert(source, tmp_path / f"direct.{align}.pubtator", align=align)
        convert(source, tmp_path / f"mid.{align}{TARGETS[target]}", align=align)
        back = convert(tmp_path / f"mid.{align}{TARGETS[target]}", tmp_path / f"back.{align}.pubtator")
        assert back["refused"] == 0 and direct["docs"] == back["docs"] > 100
        assert (tmp_path / f"back.{align}.pubtator").read_text() == (tmp_path / f"direct.{align}.pubtator").read_text()


def test_a_relation_pubtator_cannot_write_is_that_records_error_and_conll_says_what_it_drops(tmp_path):
    source = tmp_path / "in.jsonl"
    keyed_by_text = {
        "text": "ketamine and lithium",
        "spans": [
            {"start": 0, "end": 8, "label": "Chemical"},
            {"start": 13, "end": 20, "label": "Chemical", "kb_id": "D1"},
        ],
        "relations": [{"head": "~ketamine", "child": "D1", "label": "CID"}],
    }
    source.write_text(json.dumps(keyed_by_text) + "\n" + json.dumps({**keyed_by_text, "relations": []}) + "\n")
    summary = convert(source, tmp_path / "out.pubtator")
    (error,) = [json.loads(line) for line in (tmp_path / "out.convert-errors.jsonl").read_text().splitlines()]
    assert summary["refused"] == 1 and error["record"].endswith(":1") and "without a concept id" in error["error"]
    assert convert(source, tmp_path / "out.conll")["not_held"] == {"relations": 1, "concept ids": 2}
    result = CliRunner().invoke(build_app(), ["import", str(source), str(tmp_path / "imported.conll")])
    assert result.exit_code == 0 and "holds no concept ids: the concept ids of 2 docs are not written" in result.stderr
