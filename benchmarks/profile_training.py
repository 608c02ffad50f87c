"""Where the training time of ``crf_ner`` goes: ``spacy train`` for one epoch, timed by part.

    python -m benchmarks.profile_training --dataset ncbi_disease --config autolabel_spacy/configs/crf_fast.cfg

Runs spaCy's own training loop (``spacy train``, the config's batcher,
optimizer, evaluation every ``--eval-frequency`` steps and the checkpoints
with their ``before_to_disk`` calibration) for ``--epochs`` epochs in this
process, with a timer around each part of the work, and prints how many
seconds each took, exclusive of the parts timed inside it, so that the rows
add up to the wall time. With the baseline (default) the same is done for
spaCy's ``ner`` on the config ``compare_ner`` derives, so the table shows
where the two differ. The timers cost a few microseconds per call.
"""

from __future__ import annotations

import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import spacy.cli.train
from spacy.language import Language
from spacy.pipeline import Tok2Vec
from thinc.api import Optimizer

from autolabel_spacy import calibration
from autolabel_spacy.ml import crf, decoding
from autolabel_spacy.pipeline import crf_ner
from benchmarks.compare_ner import (
    DATASETS,
    add_set_option,
    argument_parser,
    baseline_config,
    config_name,
    convert,
    for_language,
    read_config,
    training_overrides,
)
from benchmarks.report import write_tables


class Timers:
    """Exclusive wall time per part: a timed call inside another is taken
    out of the outer one's time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        # [part, time spent in parts inside it]; the first is the root, outside every part
        self._stack: list[list] = [["", 0.0]]

    def add(self, part: str, seconds: float) -> None:
        self.seconds[part] = self.seconds.get(part, 0.0) + seconds
        self.calls[part] = self.calls.get(part, 0) + 1

    def wrap(self, part: str, fn):
        def timed(*args, **kwargs):
            self._stack.append([part, 0.0])
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                _, inner = self._stack.pop()
                self.add(part, spent - inner)
                self._stack[-1][1] += spent

        return timed

    def timed(self) -> float:
        """Seconds spent in the outermost timed calls: all the timed parts together."""
        return self._stack[0][1]

    def wrap_update(self, forward: str, backward: str, func):
        """A thinc model's forward function, its forward and its backprop timed apart."""
        timed_forward = self.wrap(forward, func)

        def begin(*args, **kwargs):
            out, backprop = timed_forward(*args, **kwargs)
            return out, self.wrap(backward, backprop)

        return begin


@contextmanager
def patched(target, name: str, value):
    before = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, before)


# (object, attribute, part): the functions timed, wherever spaCy's loop or
# the component calls them (spaCy's ``ner`` is a compiled class, whose
# methods cannot be wrapped: its work outside its model's forward and
# backward passes is in "other", and its dev predictions in "dev evaluation")
PARTS = [
    (spacy.cli.train, "init_nlp", "initialize the pipeline"),
    (Tok2Vec, "update", "tok2vec: training forward"),
    (Tok2Vec, "predict", "tok2vec: predict (dev)"),
    (Optimizer, "__call__", "optimizer steps"),
    (crf_ner.CRFEntityRecognizer, "_gold_tag_sets", "crf_ner: gold tag sets"),
    (decoding, "crf_loss", "crf_ner: CRF loss (padding, copies, tensors)"),
    (crf, "log_partition_gradients", "crf_ner: CRF forward-backward (log Z and its gradients)"),
    (crf_ner.CRFEntityRecognizer, "predict", "crf_ner: predict (dev), other"),
    (decoding, "viterbi_spans", "crf_ner: Viterbi (dev)"),
    (decoding, "posteriors", "crf_ner: span and sentence probabilities (dev)"),
    (crf_ner, "abbreviation_constraints", "crf_ner: abbreviation constraints (dev)"),
    (Language, "evaluate", "dev evaluation: scorer, ner's predict and other"),
    (calibration, "calibrate", "calibration before saving"),
    (Language, "to_disk", "saving checkpoints"),
]


def profile(config_text: str, paths: dict, args, work: Path, name: str) -> dict:
    """One ``spacy train`` run of ``config_text`` with the timers on; the
    seconds per part (largest first) and the wall time."""
    timers = Timers()
    cfg_path = work / f"{name}.cfg"
    cfg_path.write_text(config_text)
    with ExitStack() as stack:
        for target, attr, part in PARTS:
            stack.enter_context(patched(target, attr, timers.wrap(part, getattr(target, attr))))
        stack.enter_context(patched(Language, "update", _with_model_timers(timers, Language.update)))
        start = time.perf_counter()
        spacy.cli.train.train(cfg_path, work / name, overrides=training_overrides(paths, args))
        wall = time.perf_counter() - start
    parts = dict(timers.seconds)
    parts["other (corpus reading, batching, the loop; ner: its state machine)"] = wall - timers.timed()
    return {
        "model": name,
        "wall_seconds": wall,
        "parts": dict(sorted(parts.items(), key=lambda kv: -kv[1])),
        "calls": timers.calls,
    }


def _with_model_timers(timers: Timers, update):
    """``Language.update`` with the forward and backward passes of each
    component's model timed apart (the crf_ner model's forward is the
    listener, dropout and output layer; its backward includes the
    tok2vec's backward, which the listener calls)."""

    def timed_update(nlp, *args, **kwargs):
        with ExitStack() as stack:
            for name, proc in nlp.pipeline:
                model = getattr(proc, "model", None)
                if model is None or not hasattr(model, "_func"):
                    continue
                stack.enter_context(
                    patched(
                        model,
                        "_func",
                        timers.wrap_update(f"{name}: model forward", f"{name}: model backward", model._func),
                    )
                )
            return update(nlp, *args, **kwargs)

    return timed_update


def markdown(result: dict) -> str:
    rows = result["rows"]
    parts = list(dict.fromkeys(p for r in rows for p in r["parts"]))
    lines = [
        f"### {result['dataset']} — config `{result['config']}`, {result['epochs']} epoch(s), seed {result['seed']}",
        "",
        "| part | " + " | ".join(f"{r['model']} s" for r in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    for part in parts:
        lines.append(f"| {part} | " + " | ".join(f"{r['parts'].get(part, 0.0):.1f}" for r in rows) + " |")
    lines.append("| **wall time** | " + " | ".join(f"**{r['wall_seconds']:.1f}**" for r in rows) + " |")
    if len(rows) == 2:
        lines += [
            "",
            f"training time ratio {rows[0]['model']}/{rows[1]['model']}: "
            f"{rows[0]['wall_seconds'] / rows[1]['wall_seconds']:.2f}",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argument_parser(__doc__)
    parser.set_defaults(epochs=1)
    parser.add_argument("--no-baseline", action="store_true", help="profile crf_ner only")
    add_set_option(parser)
    args = parser.parse_args()
    config_text = for_language(read_config(args), DATASETS[args.dataset])
    tag = f"profile-{args.dataset}-{Path(args.config).stem}"
    work = Path(args.out) / tag
    paths = convert(args.dataset, Path(args.data_dir), work / "corpus", args.unit)
    runs = [("crf_ner", config_text)]
    if not args.no_baseline:
        runs.append(("spacy_ner", baseline_config(config_text)))
    rows = [profile(text, paths, args, work, name) for name, text in runs]
    result = {
        "dataset": args.dataset,
        "config": config_name(args),
        "epochs": args.epochs,
        "seed": args.seed,
        "rows": rows,
    }
    write_tables(args.out, tag, result, markdown(result))


if __name__ == "__main__":
    main()
