"""``entity_relations``: a trainable component that scores relations between
the entities of a doc, with a calibrated probability per relation."""

from __future__ import annotations

from itertools import islice
from typing import Callable, Iterable, NamedTuple, Optional

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model

from .. import relations as rel
from ..calibration import fit_temperature, log_loss
from ..ml.models import DEFAULT_TOK2VEC_CONFIG
from ..ml.relation_model import Candidates, make_candidates, sentence_ids
from . import GradientPipe

default_model_config = (
    """
[model]
@architectures = "autolabel.RelationScorer.v1"
hidden_width = 128
dropout = 0.1
"""
    + DEFAULT_TOK2VEC_CONFIG
)
DEFAULT_RELATION_MODEL = Config().from_str(default_model_config)["model"]


@Language.factory(
    "entity_relations",
    assigns=["doc._.relations"],
    requires=["doc.ents"],
    default_config={
        "model": DEFAULT_RELATION_MODEL,
        "threshold": 0.5,
        "scorer": {"@scorers": "autolabel.relation_scorer.v1"},
    },
    default_score_weights={"rel_f": 1.0, "rel_p": 0.0, "rel_r": 0.0, "rel_f_per_type": None},
)
def make_entity_relations(
    nlp: Language, name: str, model: Model, threshold: float, scorer: Optional[Callable]
) -> "EntityRelations":
    """Relations between the entities of each doc (``doc.ents``, grouped by
    concept id or text, see ``autolabel_spacy/relations.py``).

    model: an ``autolabel.RelationScorer.v1``-style model: a logit per
        relation label for each candidate pair.
    threshold: the calibrated probability from which a pair holds a
        relation (routing chooses its own threshold for auto-accepting).

    Candidate pairs are the ordered pairs of entities whose labels the
    training data relates (for BC5CDR's CID: Chemical -> Disease), within
    and across sentences. Training reads the gold entities and relations of
    the reference docs (``doc._.relations``; a PubTator reader puts a
    block's relation lines there); prediction reads ``doc.ents`` and writes
    ``doc._.relations`` with a score each, and the probability that every
    pair decision of the doc is right.
    """
    return EntityRelations(nlp.vocab, model, name, threshold=threshold, scorer=scorer)


class EntityRelations(GradientPipe):
    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "entity_relations",
        *,
        threshold: float = 0.5,
        scorer: Optional[Callable] = None,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"{name}: threshold must be between 0 and 1, got {threshold}")
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.cfg = {"labels": [], "label_pairs": {}, "threshold": threshold, "temperature": 1.0}

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> dict:
        return {"labels": list(self.labels), "label_pairs": self.cfg["label_pairs"]}

    def add_label(self, label: str, head_label: Optional[str] = None, child_label: Optional[str] = None) -> int:
        """Add a relation label, and the entity labels it may link (any pair
        when none is ever given)."""
        if not isinstance(label, str) or not label:
            raise ValueError(f"{self.name}: labels must be non-empty strings, got {label!r}")
        added = 0
        if label not in self.labels:
            if self.model.get_ref("output_layer").has_param("W"):
                raise ValueError(f"{self.name}: cannot add label {label!r} after the model was initialized")
            self.cfg["labels"].append(label)
            self.vocab.strings.add(label)
            added = 1
        pairs = self.cfg["label_pairs"].setdefault(label, [])
        if head_label is not None and [head_label, child_label] not in pairs:
            pairs.append([head_label, child_label])
        return added

    # -- candidates ----------------------------------------------------------
    def _allowed(self) -> Optional[set]:
        """The (head label, child label) pairs any relation label links; None: any."""
        pairs = [tuple(p) for label in self.labels for p in self.cfg["label_pairs"].get(label, [])]
        if any(not self.cfg["label_pairs"].get(label) for label in self.labels):
            return None
        return set(pairs)

    def candidates(self, doc: Doc, spans: Optional[Iterable[Span]] = None, sentence=None) -> "Found":
        """The doc's entities (from ``spans``, default ``doc.ents``), their
        candidate pairs and the model's input for them (``sentence``: each
        token's sentence number, default the doc's own)."""
        entities = rel.entities(doc, spans)
        allowed = self._allowed()
        pairs = [
            (h, c)
            for h, head in enumerate(entities)
            for c, child in enumerate(entities)
            if h != c and (allowed is None or (head.label, child.label) in allowed)
        ]
        return Found(entities, pairs, make_candidates(doc, entities, pairs, sentence))

    def _gold_matrix(self, eg: Example, found: "Found") -> np.ndarray:
        gold = {(r.head, r.child, r.label) for r in rel.get_relations(eg.reference)}
        truth = np.zeros((len(found.pairs), len(self.labels)), dtype="float32")
        for row, (h, c) in enumerate(found.pairs):
            for j, label in enumerate(self.labels):
                truth[row, j] = (found.entities[h].key, found.entities[c].key, label) in gold
        return truth

    def _training_candidates(self, eg: Example) -> "Found":
        """Candidates of the predicted doc from the reference's entities (the
        gold entities teach the relations, whatever a tagger predicts) and,
        when the predicted doc has no sentence boundaries, the reference's."""
        doc = eg.predicted
        if [t.idx for t in doc] == [t.idx for t in eg.reference]:
            spans = [Span(doc, e.start, e.end, label=e.label_, kb_id=e.kb_id_) for e in eg.reference.ents]
            if not doc.has_annotation("SENT_START") and eg.reference.has_annotation("SENT_START"):
                return self.candidates(doc, spans, sentence_ids(eg.reference))
        else:
            spans = []
            for ent in eg.reference.ents:
                for aligned in eg.get_aligned_spans_y2x([ent]):
                    spans.append(Span(doc, aligned.start, aligned.end, label=ent.label_, kb_id=ent.kb_id_))
        return self.candidates(doc, spans)

    # -- training ------------------------------------------------------------
    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[dict] = None,
    ) -> None:
        """Labels and the entity labels each links: from ``labels`` (as
        :attr:`label_data` gives them) or from the training data."""
        validate_get_examples(get_examples, f"{type(self).__name__}.initialize")
        if labels is not None:
            for label in labels.get("labels", []):
                for head, child in labels.get("label_pairs", {}).get(label) or [(None, None)]:
                    self.add_label(label, head, child)
        else:
            for eg in get_examples():
                kinds = {}
                for ent in eg.reference.ents:
                    for key in rel.mention_keys(ent):
                        kinds.setdefault(key, ent.label_)
                for r in rel.get_relations(eg.reference):
                    if r.head in kinds and r.child in kinds:
                        self.add_label(r.label, kinds[r.head], kinds[r.child])
        if not self.labels:
            raise ValueError(f"{self.name}: no relations between entities in the training examples and no labels given")
        self.model.get_ref("output_layer").set_dim("nO", len(self.labels), force=True)
        sample = list(islice(get_examples(), 10))
        self.model.initialize(
            X=([eg.predicted for eg in sample], [self._training_candidates(eg).model_input for eg in sample])
        )

    def learn(self, examples: list[Example]) -> Optional[float]:
        found = [self._training_candidates(eg) for eg in examples]
        if not any(f.pairs for f in found):
            return None
        logits, backprop = self.model.begin_update(([eg.predicted for eg in examples], [f.model_input for f in found]))
        truth = np.concatenate([self._gold_matrix(eg, f) for eg, f in zip(examples, found)])
        loss, d_logits = self.get_loss(examples, logits, truth)
        backprop(d_logits)
        return loss

    def get_loss(self, examples: Iterable[Example], logits, truth: np.ndarray) -> tuple[float, np.ndarray]:
        """Binary cross-entropy of each (pair, label), averaged, and its
        gradient with respect to the logits."""
        probs = _sigmoid(self.model.ops.to_numpy(logits))
        loss = log_loss(probs.ravel(), truth.ravel().astype(bool))
        return loss, self.model.ops.asarray2f((probs - truth) / max(truth.size, 1))

    # -- prediction ----------------------------------------------------------
    def predict(self, docs: Iterable[Doc]) -> list:
        docs = list(docs)
        found = [self.candidates(doc) for doc in docs]
        if not any(f.pairs for f in found):
            return [(f, np.zeros((0, len(self.labels)), dtype="float32")) for f in found]
        logits = self.model.ops.to_numpy(self.model.predict((docs, [f.model_input for f in found])))
        probs = _sigmoid(logits / self.cfg.get("temperature", 1.0))
        out, at = [], 0
        for f in found:
            out.append((f, probs[at : at + len(f.pairs)]))
            at += len(f.pairs)
        return out

    def set_annotations(self, docs: Iterable[Doc], predictions: list) -> None:
        threshold = self.cfg["threshold"]
        for doc, (found, probs) in zip(docs, predictions):
            ents, relations = found.entities, []
            for row, (h, c) in enumerate(found.pairs):
                for j, label in enumerate(self.labels):
                    if probs[row, j] >= threshold:
                        relations.append(rel.Relation(ents[h].key, ents[c].key, label, float(probs[row, j])))
            confidence = float(np.prod(np.maximum(probs, 1.0 - probs))) if probs.size else 1.0
            rel.set_relations(doc, relations, confidence)

    # -- calibration ---------------------------------------------------------
    def calibrate(self, examples: Iterable[Example], batch_size: int = 64) -> dict:
        """Fit the temperature of the relation probabilities on held-out
        examples, over the candidate pairs of their gold entities."""
        examples = list(examples)
        logits, truth = [], []
        for i in range(0, len(examples), batch_size):
            chunk = examples[i : i + batch_size]
            found = [self._training_candidates(eg) for eg in chunk]
            if not any(f.pairs for f in found):
                continue
            logits.append(
                self.model.ops.to_numpy(
                    self.model.predict(([eg.predicted for eg in chunk], [f.model_input for f in found]))
                )
            )
            truth.append(np.concatenate([self._gold_matrix(eg, f) for eg, f in zip(chunk, found)]))
        if not logits:
            return {"temperature": self.cfg.get("temperature", 1.0), "pairs": 0}
        z, y = np.concatenate(logits).ravel(), np.concatenate(truth).ravel().astype(bool)
        probs_at = lambda t: _sigmoid(z / t)  # noqa: E731
        return {**fit_temperature(self.cfg, probs_at, y), "pairs": int(len(z))}


class Found(NamedTuple):
    """A doc's entities, their candidate pairs (indices into ``entities``)
    and the model's input for those pairs."""

    entities: list
    pairs: list
    model_input: Candidates


def make_relation_scorer() -> Callable:
    """``autolabel.relation_scorer.v1``: relation P/R/F1 of the examples."""

    def score(examples: Iterable[Example], **kwargs) -> dict:
        return rel.score_relations((eg.predicted, eg.reference) for eg in examples)

    return score


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
