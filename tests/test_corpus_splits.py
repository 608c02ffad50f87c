"""autolabel corpus: a corpus folder -> train/dev/test.spacy + raw.txt."""

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.workflow.corpus import CorpusFolderError, convert_splits, find_splits


def _write(path, sentences):
    path.write_text("\n\n".join("\n".join(f"{w}\t{t}" for w, t in s) for s in sentences) + "\n\n")


SENTS = [[("Aspirin", "B-Chemical"), ("helps", "O"), (str(i), "O")] for i in range(20)]


def _docs(path):
    return list(DocBin().from_disk(path).get_docs(spacy.blank("en").vocab))


def test_all_splits_and_raw(tmp_path):
    src = tmp_path / "c"
    src.mkdir()
    _write(src / "train.tsv", SENTS)
    _write(src / "devel.tsv", SENTS[:3])
    _write(src / "test.tsv", SENTS[:5])
    (src / "SOURCE.md").write_text("not a split")
    (src / "raw.txt").write_text("one line\nanother line\n")
    counts = convert_splits(src, tmp_path / "out")
    assert {k: v.docs for k, v in counts.items()} == {"train": 20, "dev": 3, "test": 5}
    assert [d.ents[0].label_ for d in _docs(tmp_path / "out" / "dev.spacy")] == ["Chemical"] * 3
    assert (tmp_path / "out" / "raw.txt").read_text() == "one line\nanother line\n"


def test_missing_dev_is_held_out_of_train_and_raw_comes_from_test(tmp_path):
    src = tmp_path / "c"
    src.mkdir()
    _write(src / "train.conll", SENTS)
    _write(src / "test.conll", SENTS[:2])
    counts = convert_splits(src, tmp_path / "out", dev_fraction=0.25)
    assert counts["train"].docs == 15 and counts["dev (held out of train)"].docs == 5
    # the held-out part is the *end* of train, nothing lost, nothing shared
    train, dev = _docs(tmp_path / "out" / "train.spacy"), _docs(tmp_path / "out" / "dev.spacy")
    assert [d[-1].text for d in train + dev] == [str(i) for i in range(20)]
    assert (tmp_path / "out" / "raw.txt").read_text() == "Aspirin helps 0\nAspirin helps 1\n"


def test_bad_folders_name_the_problem(tmp_path):
    with pytest.raises(CorpusFolderError, match="not found"):
        find_splits(tmp_path / "nope")
    (tmp_path / "test.tsv").write_text("a\tO\n")
    with pytest.raises(CorpusFolderError, match="no train"):
        find_splits(tmp_path)
    (tmp_path / "train.tsv").write_text("a\tO\n")
    (tmp_path / "train.conll").write_text("a\tO\n")
    with pytest.raises(CorpusFolderError, match="two files for the train split"):
        find_splits(tmp_path)


def test_splits_in_a_record_format_keep_relations_and_categories_and_refuse_bad_records(tmp_path):
    """train.jsonl (relations, categories) and a Label Studio test split:
    read record by record, a bad record in <split>.errors.jsonl with its
    line and reason, the rest converted."""
    import json

    from autolabel_spacy.relations import get_relations

    good = {
        "text": "Aspirin caused asthma .",
        "spans": [{"start": 0, "end": 7, "label": "Chemical"}, {"start": 15, "end": 21, "label": "Disease"}],
        "relations": [{"head": "~aspirin", "child": "~asthma", "label": "causes"}],
        "cats": {"adverse": 1.0, "other": 0.0},
    }
    bad = dict(good, relations=[{"head": "~aspirin", "child": "~gout", "label": "causes"}])
    src = tmp_path / "c"
    src.mkdir()
    (src / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in (good, bad, good)))
    (src / "dev.jsonl").write_text(json.dumps(good) + "\n")
    task = {
        "data": {"text": "Aspirin helps ."},
        "annotations": [
            {
                "result": [
                    {
                        "id": "a",
                        "from_name": "label",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 0, "end": 7, "labels": ["Chemical"]},
                    }
                ]
            }
        ],
    }
    (src / "test.labelstudio.json").write_text(json.dumps([task]))
    counts = convert_splits(src, tmp_path / "out")
    assert {k: (v.docs, v.errors) for k, v in counts.items()} == {"train": (2, 1), "dev": (1, 0), "test": (1, 0)}
    train = _docs(tmp_path / "out" / "train.spacy")
    assert [(r.head, r.child, r.label) for r in get_relations(train[0])] == [("~aspirin", "~asthma", "causes")]
    assert train[0].cats == {"adverse": 1.0, "other": 0.0}
    [error] = [json.loads(line) for line in (tmp_path / "out" / "train.errors.jsonl").read_text().splitlines()]
    assert error["record"].endswith("train.jsonl:2") and "'~gout'" in error["error"]
    assert [e.text for e in _docs(tmp_path / "out" / "test.spacy")[0].ents] == ["Aspirin"]
    assert (tmp_path / "out" / "raw.txt").read_text() == "Aspirin helps .\n"
    # a reading option the split's format does not take is an error of the folder
    with pytest.raises(CorpusFolderError, match="takes no label map"):
        convert_splits(src, tmp_path / "out2", label_map={"A": "B"})


def test_cli_reports_a_bad_line_with_file_and_line(tmp_path):
    src = tmp_path / "c"
    src.mkdir()
    (src / "train.tsv").write_text("a\tO\nb\tO\tX\tY\tZ\n")
    result = CliRunner().invoke(build_app(), ["corpus", str(src), str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "train.tsv:2" in result.output


@pytest.mark.corpus
def test_sec_fin_without_dev(shared_data, tmp_path):
    counts = convert_splits(shared_data / "sec_fin", tmp_path)
    # every train sentence lands in exactly one of train / held-out dev
    assert counts["train"].docs + counts["dev (held out of train)"].docs == 1164
    assert counts["test"].docs == 303
    assert len((tmp_path / "raw.txt").read_text().splitlines()) == 303
