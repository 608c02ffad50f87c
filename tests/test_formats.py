"""The core's annotation formats (registered through the autolabel_formats
hook): round trips, and errors that name the record."""
import pytest
import spacy
import srsly
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.formats import format_for_path, read_docs, write_docs
from autolabel_spacy.formats.jsonl import JSONLFormatError
from autolabel_spacy.hooks.manager import Plugins


def ents(docs):
    return [(d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents]) for d in docs]


@pytest.fixture
def docs():
    nlp = spacy.blank("en")
    out = []
    for text, spans in [
        ("Tamoxifen lowers breast cancer risk .", [(0, 9, "Chemical"), (17, 30, "Disease")]),
        ("No entities here .", []),
        ("Ataxia telangiectasia", [(0, 21, "Disease")]),
    ]:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(s, e, label=label) for s, e, label in spans]
        out.append(doc)
    return out


@pytest.mark.parametrize("name", ["jsonl", "spacy", "conll"])
def test_every_builtin_format_round_trips(tmp_path, docs, name):
    spec = Plugins(entry_points=False).formats()[name]  # what the autolabel_formats hook returned
    path = tmp_path / f"out{spec.extensions[0]}"
    write_docs(docs, path, name)
    assert format_for_path(path, {name: spec}) == name
    back = list(read_docs(path, spacy.blank("en"), name))
    assert ents(back) == ents(docs)


def test_jsonl_errors_name_the_line_and_span(tmp_path):
    nlp = spacy.blank("en")
    path = tmp_path / "bad.jsonl"
    srsly.write_jsonl(path, [{"text": "fine", "spans": []}, {"text": "Tamoxifen works", "spans": [{"start": 0, "end": 5, "label": "X"}]}])
    with pytest.raises(JSONLFormatError, match=r"bad.jsonl:2: span 0 \[0:5\] 'Tamox' does not match token boundaries"):
        list(read_docs(path, nlp))
    srsly.write_jsonl(path, [{"txt": "no text key"}])
    with pytest.raises(JSONLFormatError, match="bad.jsonl:1: a record needs a 'text' string"):
        list(read_docs(path, nlp))
    srsly.write_jsonl(path, [{"text": "a b c", "spans": [{"start": 0, "end": 3, "label": "X"}, {"start": 2, "end": 5, "label": "Y"}]}])
    with pytest.raises(JSONLFormatError, match="bad.jsonl:1: spans overlap"):
        list(read_docs(path, nlp))


def test_convert_cli_between_formats(tmp_path, docs):
    write_docs(docs, tmp_path / "in.jsonl")
    runner = CliRunner()
    result = runner.invoke(build_app(), ["convert", str(tmp_path / "in.jsonl"), str(tmp_path / "out.conll")])
    assert result.exit_code == 0, result.output
    assert "3 docs" in result.stdout and "3 entities" in result.stdout
    assert (tmp_path / "out.conll").read_text().splitlines()[:4] == ["Tamoxifen\tB-Chemical", "lowers\tO", "breast\tB-Disease", "cancer\tI-Disease"]
    result = runner.invoke(build_app(), ["convert", str(tmp_path / "in.jsonl"), str(tmp_path / "out.unknown")])
    assert result.exit_code == 1 and "cannot tell the format" in result.stderr


def test_formats_cli_lists_builtins_and_labelers():
    result = CliRunner().invoke(build_app(), ["formats"])
    assert result.exit_code == 0
    for name in ("conll", "jsonl", "spacy", "vocab", "patterns"):
        assert f"  {name}\t" in result.stdout
