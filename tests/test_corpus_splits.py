"""autolabel corpus: a corpus folder -> train/dev/test.spacy + raw.txt."""
import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.corpora.splits import CorpusFolderError, convert_splits, find_splits


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
