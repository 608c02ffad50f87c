"""``crf_ner``: a trainable neural-CRF named-entity recognizer with span confidences."""

from itertools import islice
from typing import Callable, Iterable, List, Optional, Sequence

import numpy as np
from spacy.attrs import ENT_IOB, ENT_TYPE, IDX, IS_SPACE, ORTH, SPACY
from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example, validate_get_examples
from spacy.util import filter_spans
from spacy.vocab import Vocab
from thinc.api import Config, Model
from thinc.types import Floats2d

from ..abbreviations import abbreviation_constraints
from ..calibration import fit_temperature
from ..confidences import set_marginals, set_span_confidences
from ..hooks.manager import get_domain
from ..ml import crf_layer, decoding
from ..ml.decoding import DocPrediction
from ..ml.models import DEFAULT_TOK2VEC_CONFIG
from ..ml.torch_bridge import check_threads, threads_for_ops
from ..schemes import TagScheme
from . import GradientPipe

_TOKENS = [ORTH, IDX, SPACY]  # the same arrays: the same tokens of the same text

default_model_config = (
    """
[model]
@architectures = "autolabel.CRFTagger.v1"
scheme = "BILUO"
lstm_depth = 0
lstm_width = 256
dropout = 0.1
"""
    + DEFAULT_TOK2VEC_CONFIG
)
DEFAULT_CRF_NER_MODEL = Config().from_str(default_model_config)["model"]


@Language.factory(
    "crf_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type", "doc.spans"],
    default_config={
        "model": DEFAULT_CRF_NER_MODEL,
        "spans_key": "crf_ner",
        "overwrite_ents": True,
        "store_marginals": False,
        "domain": None,
        "normalize_loss": True,
        "torch_threads": None,
        "abbreviations": False,
        "scorer": {"@scorers": "spacy.ner_scorer.v1"},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_crf_ner(
    nlp: Language,
    name: str,
    model: Model[List[Doc], List[Floats2d]],
    spans_key: str,
    overwrite_ents: bool,
    store_marginals: bool,
    domain: Optional[str],
    normalize_loss: bool,
    torch_threads: Optional[int],
    abbreviations: bool,
    scorer: Optional[Callable],
) -> "CRFEntityRecognizer":
    """Neural-CRF entity recognizer.

    model: an ``autolabel.CRFTagger.v1``-style model (emissions + CRF layer).
    spans_key: ``doc.spans`` key for the predicted spans, with their
        confidences (``confidences.py`` says where each lives and reads it).
    overwrite_ents: replace ``doc.ents`` (True) or keep existing entities and
        add only predictions that do not overlap them (False).
    store_marginals: also store per-token tag marginals on the doc
        (``confidences.marginals`` reads them).
    abbreviations: every use of a short form the doc defines ("Duchenne
        muscular dystrophy ( DMD )") takes the label the long form was
        decoded with: a constraint on a second decoding of the docs it
        changes (``abbreviations.py``), whose probabilities are given it.
    A doc with two or more sentences (a sentencizer before this component, or
    a reader that marks them, such as ``pubtator``'s) also gets the
    probability that each sentence's annotation is right
    (``confidences.sentence_confidences`` reads them).
    domain: name of an installed domain plugin (``autolabel domains list``)
        whose label scheme the component predicts.
    normalize_loss: divide the batch's CRF loss (and so its gradients) by its
        number of tokens, as spaCy's tagger does, instead of summing it over
        the docs (the summed gradients grow with the batch, which
        ``training.optimizer.grad_clip`` then cuts).
    torch_threads: torch intra-op threads for the CRF and BiLSTM ops while
        this component runs them (torch's own setting is put back after each);
        null leaves torch's setting alone. The shipped configs set 1: these
        ops are too small for a thread pool to pay (see ``ml/torch_bridge.py``).
    """
    return CRFEntityRecognizer(
        nlp.vocab,
        model,
        name,
        spans_key=spans_key,
        overwrite_ents=overwrite_ents,
        store_marginals=store_marginals,
        domain=domain,
        normalize_loss=normalize_loss,
        torch_threads=torch_threads,
        abbreviations=abbreviations,
        scorer=scorer,
    )


class CRFEntityRecognizer(GradientPipe):
    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "crf_ner",
        *,
        spans_key: str = "crf_ner",
        overwrite_ents: bool = True,
        store_marginals: bool = False,
        domain: Optional[str] = None,
        normalize_loss: bool = True,
        torch_threads: Optional[int] = None,
        abbreviations: bool = False,
        scorer: Optional[Callable] = None,
    ) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.cfg = {
            "labels": [],
            "spans_key": spans_key,
            "overwrite_ents": overwrite_ents,
            "store_marginals": store_marginals,
            "temperature": 1.0,
            "domain": domain,
            "normalize_loss": normalize_loss,
            "torch_threads": check_threads(torch_threads),
            "abbreviations": bool(abbreviations),
        }
        if domain is not None:
            try:
                self._add_domain_labels()
            except LookupError:
                # Not installed here: fine when a saved pipeline is loaded (its
                # labels come from disk); initialize() raises the full error.
                pass

    def _domain_labels(self) -> list[str]:
        spec = get_domain(self.cfg["domain"])
        if spec.language != self.vocab.lang:
            raise ValueError(
                f"{self.name}: domain {spec.name!r} is for language {spec.language!r}, "
                f"but the pipeline's language is {self.vocab.lang!r}"
            )
        return spec.label_names

    def _add_domain_labels(self) -> None:
        for label in self._domain_labels():
            self.add_label(label)

    # -- labels ------------------------------------------------------------
    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> list[str]:
        return list(self.labels)

    @property
    def tags(self) -> tuple[str, ...]:
        """The CRF's tag inventory (O plus the scheme's prefixed labels)."""
        return crf_layer.get_scheme(self._crf).tags

    @property
    def _crf(self) -> Model:
        return self.model.get_ref("crf")

    def add_label(self, label: str) -> int:
        if not isinstance(label, str) or not label:
            raise ValueError(f"{self.name}: labels must be non-empty strings, got {label!r}")
        if label in self.labels:
            return 0
        if self._crf.has_param("transitions"):
            raise ValueError(
                f"{self.name}: cannot add label {label!r} after the model was initialized; "
                "initialize it again with the full label set"
            )
        self.cfg["labels"].append(label)
        self.vocab.strings.add(label)
        return 1

    def _set_output_dims(self) -> None:
        crf_layer.set_labels(self._crf, self.labels)
        self.model.get_ref("output_layer").set_dim("nO", len(self.tags), force=True)

    # -- training ----------------------------------------------------------
    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Sequence[str]] = None,
    ) -> None:
        validate_get_examples(get_examples, f"{type(self).__name__}.initialize")
        if labels is None and self.cfg.get("domain"):
            labels = self._domain_labels()
            unknown = sorted({ent.label_ for eg in get_examples() for ent in eg.reference.ents} - set(labels))
            if unknown:
                raise ValueError(
                    f"{self.name}: the training data has labels {unknown} that domain "
                    f"{self.cfg['domain']!r} does not define (its labels: {labels})"
                )
        elif labels is None:
            labels = sorted({ent.label_ for eg in get_examples() for ent in eg.reference.ents})
        for label in labels:
            self.add_label(label)
        if not self.labels:
            raise ValueError(
                f"{self.name}: no entity labels found in the training examples and none given "
                "in [initialize.components.{self.name}.labels]"
            )
        self._set_output_dims()
        sample = [eg.predicted for eg in islice(get_examples(), 10)]
        self.model.initialize(X=sample)

    def learn(self, examples: list[Example]) -> Optional[float]:
        if not any(len(eg.predicted) for eg in examples):
            return None
        with self._threads():
            emissions, backprop = self.model.begin_update([eg.predicted for eg in examples])
            loss, d_emissions = self.get_loss(examples, emissions)
            backprop(d_emissions)
        return loss

    def get_loss(self, examples: Iterable[Example], emissions: List[Floats2d]) -> tuple[float, List[Floats2d]]:
        """CRF negative log-likelihood of the gold tags (tokens with unknown
        gold tags are marginalised out), per token if ``normalize_loss``. Adds
        the transition gradients to the CRF layer and returns the emission
        gradients."""
        gold = [self._gold_tag_sets(eg) for eg in examples]
        with self._threads():
            return decoding.crf_loss(self._crf, emissions, gold, per_token=self.cfg["normalize_loss"])

    def _threads(self):
        """The ``torch_threads`` setting, for the CRF and BiLSTM ops run within."""
        return threads_for_ops(self.cfg.get("torch_threads"))

    def _gold_tag_sets(self, eg: Example) -> np.ndarray:
        """Bool ``[n_tokens, n_tags]``: which tags each token's gold allows."""
        scheme = crf_layer.get_scheme(self._crf)
        same = gold_tag_sets(eg, scheme)
        return same if same is not None else aligned_gold_tag_sets(eg, scheme)

    # -- prediction --------------------------------------------------------
    def predict(self, docs: Iterable[Doc]) -> List[DocPrediction]:
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return [DocPrediction([], 1.0) for _ in docs]
        # a doc of several sentences (a sentencizer or parser before this
        # component, or a reader that marks them) gets a confidence per sentence
        ranges = [sentence_ranges(doc) for doc in docs]
        ranges = ranges if any(ranges) else None
        temperature = self.cfg.get("temperature", 1.0)
        with self._threads():
            emissions = self.model.predict(docs)
            preds = decoding.decode(self._crf, emissions, self.cfg["store_marginals"], temperature, ranges)
            if not self.cfg.get("abbreviations"):
                return preds
            # what the doc's abbreviation definitions settle, given this first
            # decoding, constrains a second one (see abbreviations.py)
            constraints = [abbreviation_constraints(doc, pred.spans) for doc, pred in zip(docs, preds)]
            again = [i for i, c in enumerate(constraints) if c]  # only the docs a constraint changes
            if not again:
                return preds
            clamped = decoding.clamp(self._crf, [emissions[i] for i in again], [constraints[i] for i in again])
            redone = decoding.decode(
                self._crf,
                clamped,
                self.cfg["store_marginals"],
                temperature,
                [ranges[i] for i in again] if ranges else None,
            )
            for i, pred in zip(again, redone):
                preds[i] = pred
            return preds

    def set_annotations(self, docs: Iterable[Doc], predictions: List[DocPrediction]) -> None:
        key = self.cfg["spans_key"]
        for doc, pred in zip(docs, predictions):
            # as spaCy's ner: no entity starts or ends on a whitespace token
            # (the score stays the decoded span's, a lower bound of the trimmed one's)
            trimmed = [(*_without_edge_space(doc, s, e), label, p) for s, e, label, p in pred.spans]
            trimmed = [(s, e, label, p) for s, e, label, p in trimmed if s < e]
            spans = [Span(doc, s, e, label=label) for s, e, label, _ in trimmed]
            group = SpanGroup(doc, name=key, spans=spans)
            set_span_confidences(group, [p for *_, p in trimmed], pred.sequence_prob, pred.segment_probs)
            doc.spans[key] = group
            if self.cfg["overwrite_ents"]:
                doc.set_ents(spans, default="outside")
            else:
                kept = list(doc.ents)
                taken = {i for ent in kept for i in range(ent.start, ent.end)}
                new = [s for s in spans if not taken.intersection(range(s.start, s.end))]
                doc.set_ents(filter_spans(kept + new), default="unmodified")
            if pred.marginals is not None:
                set_marginals(doc, self.tags, pred.marginals)

    def token_marginals(self, docs: Iterable[Doc]) -> List[np.ndarray]:
        """Per-token tag posteriors ``[n_tokens, n_tags]`` for each doc,
        columns in the order of :attr:`tags`."""
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return [np.zeros((0, len(self.tags)), dtype="float32") for _ in docs]
        with self._threads():
            emissions = self.model.predict(docs)
            return [p.marginals for p in decoding.decode(self._crf, emissions, True, self.cfg.get("temperature", 1.0))]

    def span_probabilities(self, docs: Iterable[Doc], spans: Sequence[Sequence[tuple]]) -> List[List[float]]:
        """Posterior probability (calibrated) that each given ``(start, end,
        label)`` token span is exactly an entity of that label, e.g. for
        spans a human annotated. The docs must have passed the components
        before this one (a tok2vec listener reads their output)."""
        docs = list(docs)
        known = set(self.labels)
        for doc_spans in spans:
            for _, _, label in doc_spans:
                if label not in known:
                    raise ValueError(f"{self.name}: unknown label {label!r} (labels: {sorted(known)})")
        if not any(len(doc) for doc in docs):
            return [[] for _ in docs]
        with self._threads():
            emissions = self.model.predict(docs)
            probs, *_ = decoding.posteriors(
                self._crf, emissions, [list(s) for s in spans], None, self.cfg.get("temperature", 1.0)
            )
        return probs

    # -- calibration -------------------------------------------------------
    def calibrate(self, examples: Iterable[Example], batch_size: int = 256) -> dict:
        """Fit the temperature of the span confidences on held-out examples
        (see :mod:`autolabel_spacy.calibration`); returns the chosen
        temperature and the span log-loss before and after."""
        with self._threads():
            return self._calibrate(examples, batch_size)

    def _calibrate(self, examples: Iterable[Example], batch_size: int) -> dict:
        # in batches of similar length: the CRF loops over a batch's longest doc
        examples = sorted((eg for eg in examples if len(eg.predicted)), key=lambda eg: len(eg.predicted))
        batches = []
        correct: list = []
        for i in range(0, len(examples), batch_size):
            chunk = examples[i : i + batch_size]
            emissions = self.model.predict([eg.predicted for eg in chunk])
            spans, best, _ = decoding.viterbi_spans(self._crf, emissions)
            batches.append((emissions, spans, best))
            for eg, doc_spans in zip(chunk, spans):
                doc = eg.predicted
                truth = {(e.start_char, e.end_char, e.label_) for e in eg.reference.ents}
                correct += [(doc[s].idx, doc[e - 1].idx + len(doc[e - 1]), label) in truth for s, e, label in doc_spans]

        def probs_at(t: float) -> list:
            out = []
            for emissions, spans, best in batches:
                span_probs, *_ = decoding.posteriors(self._crf, emissions, spans, best, t)
                out += [p for doc in span_probs for p in doc]
            return out

        return {**fit_temperature(self.cfg, probs_at, correct), "spans": len(correct)}


# spaCy's ENT_IOB codes (2 is O)
_MISSING, _INSIDE, _BEGIN = 0, 1, 3


def gold_tag_sets(eg: Example, scheme: TagScheme) -> Optional[np.ndarray]:
    """Bool ``[n_tokens, n_tags]``: which of ``scheme``'s tags each token's
    gold allows (every tag where the gold is missing, except on whitespace
    tokens, which are O), read from the reference's entity arrays at once;
    None when the two docs are not tokenized alike (spaCy's alignment then
    gives the tags). The same tags as ``Example.get_aligned_ner``, without a
    Python object per token: this runs for every training doc of every
    epoch. A label the scheme does not know is O."""
    x, y = eg.predicted, eg.reference
    if len(x) != len(y):
        return None
    xs = x.to_array(_TOKENS + [IS_SPACE])
    ys = y.to_array(_TOKENS + [ENT_IOB, ENT_TYPE])
    if not np.array_equal(xs[:, :3], ys[:, :3]):
        return None
    n, K = len(x), len(scheme.tags)
    iob, types = ys[:, 3], ys[:, 4]
    if not iob.any():  # no entity annotation at all
        return np.ones((n, K), dtype=bool)
    begin = iob == _BEGIN
    ent = begin | (iob == _INSIDE)
    label = np.full(n, -1, dtype=np.int64)
    if ent.any():
        label_ids = {y.vocab.strings[name]: i for i, name in enumerate(scheme.labels)}
        label[ent] = [label_ids.get(int(t), -1) for t in types[ent]]
    ent &= label >= 0
    inside_next = np.append(iob[1:] == _INSIDE, False)
    at = {p: i for i, p in enumerate(scheme.prefixes)}
    if scheme.name == "BILUO":  # an entity's last token is the one no I- token follows
        prefix = np.where(begin, np.where(inside_next, at["B"], at["U"]), np.where(inside_next, at["I"], at["L"]))
    else:
        prefix = np.where(begin, at["B"], at["I"])
    tag = np.zeros(n, dtype=np.int64)  # O
    tag[ent] = 1 + label[ent] * len(scheme.prefixes) + prefix[ent]
    allowed = np.zeros((n, K), dtype=bool)
    allowed[np.arange(n), tag] = True
    allowed[(iob == _MISSING) & (xs[:, 3] == 0)] = True  # unknown, unless whitespace
    return allowed


def aligned_gold_tag_sets(eg: Example, scheme: TagScheme) -> np.ndarray:
    """:func:`gold_tag_sets` for any two tokenizations: from spaCy's
    alignment of the gold entities to the predicted tokens."""
    index = {t: i for i, t in enumerate(scheme.tags)}
    allowed = np.ones((len(eg.predicted), len(scheme.tags)), dtype=bool)
    for i, tag in enumerate(eg.get_aligned_ner()):
        if tag is None or tag == "-":
            continue  # unknown: any tag
        if tag != "O" and tag.split("-", 1)[1] not in scheme.labels:
            tag = "O"  # a label this component does not predict
        if scheme.name == "BIO" and tag != "O":
            prefix, label = tag.split("-", 1)
            tag = ("B-" if prefix in ("B", "U") else "I-") + label
        allowed[i] = False
        allowed[i, index[tag]] = True
    return allowed


def sentence_ranges(doc: Doc) -> list[tuple[int, int]]:
    """``(start, end)`` token ranges of a doc's sentences when it has two or
    more (an empty list otherwise: the doc's confidence covers it)."""
    if len(doc) < 2 or not doc.has_annotation("SENT_START"):
        return []
    ranges = [(sent.start, sent.end) for sent in doc.sents]
    return ranges if len(ranges) > 1 else []


def _without_edge_space(doc: Doc, start: int, end: int) -> tuple[int, int]:
    while start < end and doc[start].is_space:
        start += 1
    while end > start and doc[end - 1].is_space:
        end -= 1
    return start, end
