"""The benchmark compares like with like: the spaCy ner config is the crf_ner
config with only the component swapped."""

import argparse
import json
from pathlib import Path

import pytest
from thinc.api import Config

from benchmarks.compare_ner import baseline_config, config_name, for_language, read_config, seeds_markdown

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["crf_fast.cfg", "crf_accurate.cfg", "crf_accurate_zh.cfg", "crf_transformer.cfg"])
def test_baseline_shares_everything_but_the_component(name):
    text = (ROOT / "autolabel_spacy" / "configs" / name).read_text()
    crf = Config().from_str(text, interpolate=False)
    ner = Config().from_str(baseline_config(text), interpolate=False)
    assert ner["nlp"]["pipeline"] == [p if p != "crf_ner" else "ner" for p in crf["nlp"]["pipeline"]]
    assert ner["components"]["ner"]["model"]["tok2vec"] == crf["components"]["crf_ner"]["model"]["tok2vec"]
    for section in ("training", "components"):
        for key in crf[section]:
            if key in ("crf_ner", "before_to_disk"):
                continue
            assert ner[section][key] == crf[section][key], (section, key)
    assert ner["training"]["before_to_disk"] is None


def test_chinese_gets_the_character_segmenter():
    cfg = Config().from_str(
        for_language((ROOT / "autolabel_spacy" / "configs" / "crf_fast.cfg").read_text(), "zh"), interpolate=False
    )
    assert cfg["nlp"]["lang"] == "zh"
    assert cfg["nlp"]["tokenizer"]["segmenter"] == "char"


def test_chinese_accurate_config_is_the_accurate_config_plus_bigrams():
    plain = Config().from_str(
        (ROOT / "autolabel_spacy" / "configs" / "crf_accurate.cfg").read_text(), interpolate=False
    )
    zh = Config().from_str(
        (ROOT / "autolabel_spacy" / "configs" / "crf_accurate_zh.cfg").read_text(), interpolate=False
    )
    assert zh["nlp"]["lang"] == "zh" and zh["nlp"]["tokenizer"]["segmenter"] == "char"
    subword = zh["components"]["tok2vec"]["model"]["embed"]
    bigrams = subword["embed"]
    assert bigrams["@architectures"] == "autolabel.BigramEmbed.v1"
    subword["embed"] = bigrams["embed"]  # unwrap: the rest must be the accurate config
    zh["nlp"] = plain["nlp"]
    assert zh == plain


@pytest.mark.parametrize("name", ["crf_fast.cfg", "crf_accurate.cfg"])
def test_gazetteer_ablation_only_adds_the_vocabulary(name):
    from benchmarks.gazetteer_ablation import with_gazetteer

    text = (ROOT / "autolabel_spacy" / "configs" / name).read_text()
    plain = Config().from_str(text, interpolate=False)
    gaz = Config().from_str(with_gazetteer(text, "/tmp/v.tsv"), interpolate=False)
    assert gaz["nlp"]["pipeline"] == [p for p in plain["nlp"]["pipeline"] if p != "crf_ner"] + [
        "domain_vocab",
        "crf_ner",
    ]
    wrapped = gaz["components"]["crf_ner"]["model"]["tok2vec"]
    assert wrapped["@architectures"] == "autolabel.GazetteerFeatures.v1"
    assert wrapped["tok2vec"] == plain["components"]["crf_ner"]["model"]["tok2vec"]
    assert gaz["training"]["annotating_components"] == ["domain_vocab"]
    assert gaz["initialize"]["components"]["domain_vocab"]["vocab_path"] == "/tmp/v.tsv"
    for key in plain["training"]:
        if key != "annotating_components":
            assert gaz["training"][key] == plain["training"][key], key
    gaz["components"]["crf_ner"]["model"]["tok2vec"] = plain["components"]["crf_ner"]["model"]["tok2vec"]
    del gaz["components"]["domain_vocab"]
    assert gaz["components"] == plain["components"]


def test_seed_summary_gives_each_seed_and_the_medians():
    def run(seed, crf_f, ner_f, crf_wps, ner_wps, crf_s, ner_s):
        rows = [
            {"model": "crf_ner", "f": crf_f, "words_per_second": crf_wps, "train_seconds": crf_s},
            {"model": "spacy_ner", "f": ner_f, "words_per_second": ner_wps, "train_seconds": ner_s},
        ]
        return {"dataset": "ncbi_disease", "config": "crf_fast.cfg", "epochs": 10, "seed": seed, "rows": rows}

    md = seeds_markdown(
        [
            run(0, 80.0, 79.0, 100, 100, 500, 400),
            run(1, 78.0, 80.0, 90, 100, 400, 400),
            run(2, 81.0, 79.5, 120, 100, 300, 400),
        ]
    )
    lines = md.splitlines()
    assert lines[0].endswith("seeds 0, 1, 2")
    assert "training time ratio crf_ner/ner" in lines[2]
    assert "| 1 | 78.00 | 80.00 | -2.00 | 1.00 | 0.90 | unknown |" in lines
    # medians of each column, not the columns of a median run: F1 80.0 and
    # 79.5, difference +1.0, training time 1.0 (1.25, 1.0, 0.75), speed 1.0
    assert lines[-1] == "| median | 80.00 | 79.50 | +1.00 | 1.00 | 1.00 | |"


def test_seed_summary_without_baseline_gives_precision_recall_f1_and_commits():
    def run(seed, p, r, f, commit):
        return {
            "dataset": "ncbi_disease_docs (documents)",
            "config": "crf_fast.cfg",
            "epochs": 10,
            "seed": seed,
            "rows": [{"model": "crf_ner", "p": p, "r": r, "f": f}],
            "commit": commit,
        }

    lines = seeds_markdown([run(0, 83.0, 81.0, 82.0, "ce107b5"), run(1, 80.0, 82.0, 81.0, "abc1234")]).splitlines()
    assert lines[2] == "| seed | crf_ner P | R | F1 | commit |"
    assert "| 0 | 83.00 | 81.00 | 82.00 | ce107b5 |" in lines
    assert lines[-1] == "| median | 81.50 | 81.50 | 81.50 | |"


def test_run_seeds_reuses_stored_seeds_and_runs_the_others(tmp_path):
    from benchmarks.compare_ner import run_seeds
    from benchmarks.report import write_tables

    write_tables(tmp_path, "bench-seed0", {"seed": 0, "rows": ["stored"]}, "table")
    stored_commit = json.loads((tmp_path / "bench-seed0.json").read_text())["environment"]["commit"]
    calls = []

    def run(seed, name):
        calls.append((seed, name))
        return {"seed": seed, "rows": ["fresh"]}

    args = argparse.Namespace(seeds="0,1,2", jobs=2, reuse=True, out=str(tmp_path))
    results = run_seeds(run, args, "bench")
    assert sorted(calls) == [(1, "bench-seed1"), (2, "bench-seed2")]
    assert [r["seed"] for r in results] == [0, 1, 2]
    assert results[0]["rows"] == ["stored"] and results[0]["commit"] == stored_commit
    assert results[1]["rows"] == ["fresh"]
    # without --reuse every seed runs again
    calls.clear()
    run_seeds(run, argparse.Namespace(seeds="0,1", jobs=1, reuse=False, out=str(tmp_path)), "bench")
    assert [seed for seed, _ in calls] == [0, 1]


def test_bootstrap_seed_summary_gives_each_setting_its_seeds_and_medians():
    from benchmarks.bootstrap_dictionaries import seeds_markdown as bootstrap_seeds

    def run(seed, boot_f):
        def scores(f):
            return {"p": f + 10, "r": f - 10, "f": f}

        rows = [{"dictionary": "public", "dictionary_only": scores(40.0), "bootstrapped": scores(boot_f)}]
        return {
            "dataset": "ncbi_disease_docs",
            "config": "crf_fast.cfg",
            "epochs": 10,
            "seed": seed,
            "rows": rows,
            "commit": "abc1234",
        }

    lines = bootstrap_seeds([run(0, 50.0), run(1, 47.0), run(2, 52.0)]).splitlines()
    assert lines[0].endswith("seeds 0, 1, 2")
    assert "| public | 1 | 50.0/30.0/40.0 | 57.0/37.0/47.0 | +7.0 | abc1234 |" in lines
    assert lines[-1] == "| public | median | 50.0/30.0/40.0 | 60.0/40.0/50.0 | +10.0 | |"


def test_retest_takes_a_trained_model_and_its_training_figures_but_not_another_config(tmp_path):
    from benchmarks.compare_ner import retrained_row, row_name

    assert retrained_row("crf_ner", "[nlp]", tmp_path) is None  # nothing trained: train it
    (tmp_path / "crf_ner" / "model-best").mkdir(parents=True)
    (tmp_path / "crf_ner.cfg").write_text("[nlp]")
    # the worker's JSON line, then whatever it wrote to stderr
    (tmp_path / "crf_ner.train.log").write_text('epoch 1\n{"train_seconds": 12.5, "train_peak_mb": 900}\nwarning: x\n')
    row = retrained_row("crf_ner", "[nlp]", tmp_path)
    assert row == {"train_seconds": 12.5, "train_peak_mb": 900, "retested": True}
    assert "trained earlier" in row_name({"model": "crf_ner", **row})
    with pytest.raises(SystemExit, match="another config"):
        retrained_row("crf_ner", '[nlp]\nlang = "de"', tmp_path)


def test_vocabulary_bound_adds_only_the_missed_in_vocabulary_mentions():
    from benchmarks.gazetteer_ablation import f1_if_vocab_misses_found

    counts = {
        "in_vocab": {"gold": 10, "found": 6, "false_positives": 2},
        "not_in_vocab": {"gold": 10, "found": 4, "false_positives": 3},
    }
    # 10 found as is (F1 2*10/(20+10+5)); 4 more once every in-vocabulary mention is found
    assert f1_if_vocab_misses_found(counts) == pytest.approx(100 * 2 * 14 / (20 + 14 + 5))


def test_train_share_samples_docs_by_seed(tmp_path):
    import spacy
    from spacy.tokens import DocBin

    from benchmarks.gazetteer_ablation import train_subset

    nlp = spacy.blank("en")
    path = tmp_path / "train.spacy"
    DocBin(docs=[nlp.make_doc(f"sentence number {i}") for i in range(50)]).to_disk(path)

    def texts(seed):
        out = train_subset(str(path), 0.2, seed, "en", tmp_path)
        return [d.text for d in DocBin().from_disk(out).get_docs(nlp.vocab)]

    first = texts(0)
    assert len(first) == 10 and len(set(first)) == 10
    assert texts(0) == first and texts(1) != first
    with pytest.raises(SystemExit, match="train-share"):
        train_subset(str(path), 0.0, 0, "en", tmp_path)


def test_most_confident_share_counts_the_wrong_ones():
    from autolabel_spacy.evaluation import ScoredDoc
    from benchmarks.review_effort import most_confident

    docs = [ScoredDoc(0.9, True), ScoredDoc(0.99, False), ScoredDoc(0.5, False), ScoredDoc(0.8, True)]
    assert most_confident(docs, 0.5) == {"share": 0.5, "docs": 2, "accuracy": 0.5, "wrong": 1}
    assert most_confident(docs, 0.75)["docs"] == 3


def test_gazetteer_seed_summary_gives_differences_bounds_and_medians():
    from benchmarks.gazetteer_ablation import seeds_markdown

    def run(seed, plain_f, gaz_f, missed):
        # 100 gold mentions, 50 of them vocabulary terms; 10 false positives
        found_in = 50 - missed
        counts = {
            "in_vocab": {"gold": 50, "found": found_in, "false_positives": 4},
            "not_in_vocab": {"gold": 50, "found": 30, "false_positives": 6},
        }
        rows = [{"model": "crf_ner", "f": plain_f, "by_vocabulary": counts}, {"model": "crf_ner+vocab", "f": gaz_f}]
        return {"dataset": "ncbi_disease", "config": "crf_fast.cfg", "epochs": 10, "seed": seed, "rows": rows}

    lines = seeds_markdown([run(0, 70.0, 71.0, 5), run(1, 72.0, 71.5, 5), run(2, 71.0, 73.0, 5)]).splitlines()
    assert lines[0].endswith("trained on 100% of the training sentences, seeds 0, 1, 2")
    # every in-vocabulary mention found: 80 of 100 right, 10 false positives -> F1 2*80/(100+80+10)
    bound = 100 * 160 / 190
    assert f"| 1 | 72.00 | 71.50 | -0.50 | {bound - 72.0:+.2f} | unknown |" in lines
    assert lines[-1] == f"| median | 71.00 | 71.50 | +1.00 | {bound - 71.0:+.2f} |  |"


def test_set_changes_a_config_setting_and_rejects_unknown_keys():
    def args(*settings):
        return argparse.Namespace(config=str(ROOT / "autolabel_spacy" / "configs" / "crf_fast.cfg"), set=list(settings))

    plain = Config().from_str(read_config(args()), interpolate=False)
    changed = Config().from_str(
        read_config(args("components.crf_ner.normalize_loss=false", "training.dropout=0.2")), interpolate=False
    )
    assert plain["components"]["crf_ner"]["normalize_loss"] is True
    assert changed["components"]["crf_ner"]["normalize_loss"] is False
    assert changed["training"]["dropout"] == 0.2
    changed["components"]["crf_ner"]["normalize_loss"] = True
    changed["training"]["dropout"] = plain["training"]["dropout"]
    assert changed == plain
    assert config_name(args("training.dropout=0.2")) == "crf_fast.cfg training.dropout=0.2"
    for bad in ("components.crf_ner.no_such_setting=1", "training.dropout", "nosection=1"):
        with pytest.raises(SystemExit, match="has no setting"):
            read_config(args(bad))


def test_benchmark_files_name_the_machine_and_software_that_made_them(tmp_path, capsys):
    import json
    import os

    import spacy

    from benchmarks.report import write_tables

    data = {"rows": [{"model": "crf_ner", "f": 81.0}]}
    write_tables(tmp_path / "out", "table", data, "| model | F1 |\n|---|---:|\n| crf_ner | 81.0 |\n")
    saved = json.loads((tmp_path / "out" / "table.json").read_text())
    assert saved["result"] == data
    env = saved["environment"]
    assert env["cpu"]["cores"] == os.cpu_count() and env["cpu"]["model"]
    assert env["packages"]["spacy"] == spacy.__version__
    md = (tmp_path / "out" / "table.md").read_text()
    assert md.startswith("| model | F1 |\n|---|---:|\n| crf_ner | 81.0 |\n\n")
    stamp = md.splitlines()[-1]
    assert f"spacy {spacy.__version__}" in stamp and f"{os.cpu_count()} cores" in stamp
    assert (env["commit"] or "unknown") in stamp
    assert md in capsys.readouterr().out


def test_review_effort_medians_count_a_run_without_threshold_as_accepting_nothing():
    from benchmarks.review_effort import medians

    def run(coverage, accuracy, right):
        test = None if coverage is None else {"coverage": coverage, "accuracy": accuracy}
        return {"test": test, "test_docs_exactly_right": right}

    got = medians([run(0.3, 0.98, 0.8), run(0.2, 0.995, 0.82), run(None, None, 0.79)])
    assert got == {"runs": 3, "accepted": 0.2, "exactly_right": pytest.approx(0.9875), "test_docs_exactly_right": 0.8}


def test_the_relation_benchmark_summary_gives_each_seed_and_the_medians():
    from benchmarks.relations_cid import seeds_markdown as relation_seeds

    def run(seed, gold, e2e, ner, train):
        return {
            "config": "crf_rel_fast.cfg",
            "epochs": 10,
            "seed": seed,
            "commit": "abc1234",
            "train_seconds": train,
            "words_per_second": 1000.0 + seed,
            "ner_f": ner,
            "gold_at_dev": {"p": 0, "r": 0, "f": gold},
            "end_to_end_at_dev": {"p": 0, "r": 0, "f": e2e},
        }

    md = relation_seeds([run(0, 50.0, 40.0, 80.0, 100), run(1, 55.0, 35.0, 82.0, 120), run(2, 52.0, 38.0, 81.0, 90)])
    assert "| 1 | 55.00 | 35.00 | 82.00 | 120 | 1001 | abc1234 |" in md
    assert "| median | 52.00 | 38.00 | 81.00 | 100 | 1001 | |" in md


def test_the_category_benchmark_baseline_is_spacys_efficiency_textcat_and_its_summary_gives_medians():
    from thinc.api import Config

    from benchmarks.categories import efficiency_config
    from benchmarks.categories import seeds_markdown as category_seeds

    ours = (ROOT / "autolabel_spacy" / "configs" / "textcat_fast.cfg").read_text()
    baseline = Config().from_str(efficiency_config(ours), interpolate=False)
    # spacy init config -p textcat -o efficiency: TextCatBOW alone, spaCy's own component, nothing calibrated
    assert baseline["nlp"]["pipeline"] == ["textcat"] and baseline["training"]["before_to_disk"] is None
    assert baseline["components"]["textcat"]["factory"] == "textcat"
    assert baseline["components"]["textcat"]["model"]["@architectures"] == "spacy.TextCatBOW.v3"
    mine = Config().from_str(ours, interpolate=False)
    for key in ("optimizer", "batcher", "dropout", "max_steps"):
        assert baseline["training"][key] == mine["training"][key], key

    def run(seed, accuracy, accepted):
        row = {
            "model": "textcat_fast",
            "train_seconds": 100.0 + seed,
            "words_per_second": 900.0 + seed,
            "accuracy": accuracy,
            "macro_f": accuracy - 5,
            "ece": 0.05,
            "accepted": accepted,
            "accepted_accuracy": 99.5,
            "t1_accuracy": accuracy,
            "t1_macro_f": accuracy - 5,
            "t1_ece": 0.2,
            "t1_accepted": 0.0,
            "t1_accepted_accuracy": None,
        }
        return {
            "config": "textcat_fast.cfg",
            "epochs": 5,
            "seed": seed,
            "target_accuracy": 0.99,
            "commit": "abc1234",
            "rows": [row],
        }

    md = category_seeds([run(0, 60.0, 10.0), run(1, 64.0, 4.0), run(2, 62.0, 7.0)])
    assert "| textcat_fast | 1 | 64.0 | 59.0 | 0.050 | 4.0 | 99.5 | 101 | 901 | abc1234 |" in md
    assert "| textcat_fast | median | 62.0 | 57.0 | 0.050 | 7.0 | | 101 | 901 | |" in md
    assert (
        "| textcat_fast at temperature 1 (spaCy's textcat) | median | 62.0 | 57.0 | 0.200 | 0.0 | | 101 | 901 | |" in md
    )
