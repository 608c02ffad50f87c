"""``domain_vocab``: mark vocabulary terms in docs as candidate entity spans.

Terms come from a domain plugin's vocabularies (``domain``), from a
``term<TAB>label`` file given at initialization
(``[initialize.components.domain_vocab] vocab_path = ...``) or from
:meth:`DomainVocab.add_terms`. Matches go to ``doc.spans[spans_key]``, where
``crf_ner`` can read them as gazetteer features
(``autolabel.GazetteerFeatures.v1``). The terms are saved with the pipeline,
so a packaged pipeline does not need the plugin installed.
"""

from pathlib import Path
from typing import Callable, Iterable, Optional

import srsly
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc, SpanGroup
from spacy.util import SimpleFrozenList, from_bytes, from_disk, to_bytes, to_disk

from ..domains import Vocabulary
from ..hooks.manager import get_domain
from ..vocab_matcher import VocabMatcher


@Language.factory(
    "domain_vocab",
    assigns=["doc.spans"],
    default_config={
        "domain": None,
        "vocabularies": None,
        "attr": "LOWER",
        "longest": True,
        "spans_key": "domain_vocab",
        "exact_acronyms": True,
    },
)
def make_domain_vocab(
    nlp: Language,
    name: str,
    domain: Optional[str],
    vocabularies: Optional[list],
    attr: str,
    longest: bool,
    spans_key: str,
    exact_acronyms: bool,
) -> "DomainVocab":
    """Vocabulary matcher.

    domain: installed domain whose vocabularies to match (None: terms come
        from ``initialize(vocab_path=...)`` or ``add_terms``).
    vocabularies: names of the domain's vocabularies to use (None: all).
    attr: ``LOWER`` (case-insensitive), ``ORTH`` (exact) or ``NORM``.
    longest: keep only the longest non-overlapping matches.
    spans_key: ``doc.spans`` key the matches are written to.
    exact_acronyms: match terms whose case carries meaning ("AS", "DMD")
        by their exact text even when ``attr`` folds case.
    """
    return DomainVocab(
        nlp,
        name,
        domain=domain,
        vocabularies=vocabularies,
        attr=attr,
        longest=longest,
        spans_key=spans_key,
        exact_acronyms=exact_acronyms,
    )


class DomainVocab(Pipe):
    def __init__(
        self,
        nlp: Language,
        name: str = "domain_vocab",
        *,
        domain: Optional[str] = None,
        vocabularies: Optional[list] = None,
        attr: str = "LOWER",
        longest: bool = True,
        spans_key: str = "domain_vocab",
        exact_acronyms: bool = True,
    ) -> None:
        self.name = name
        self.nlp = nlp
        self.cfg = {
            "domain": domain,
            "vocabularies": list(vocabularies) if vocabularies is not None else None,
            "attr": attr,
            "longest": longest,
            "spans_key": spans_key,
            "exact_acronyms": exact_acronyms,
            "sources": [],
        }
        self.matcher = self._new_matcher()
        self.n_folds = 0
        self.folds: dict[str, int] = {}  # term key -> bitmask of training folds
        self._loaded = False

    @property
    def terms(self) -> dict[str, str]:
        return dict(self.matcher.terms)

    @property
    def labels(self) -> tuple[str, ...]:
        """Labels of the terms loaded so far (spaCy reads this for the
        pipeline's meta, also before ``from_disk``, so it loads nothing)."""
        return tuple(sorted(set(self.matcher.terms.values())))

    def _new_matcher(self) -> VocabMatcher:
        cfg = self.cfg
        return VocabMatcher(
            self.nlp.make_doc, attr=cfg["attr"], longest=cfg["longest"], exact_acronyms=cfg["exact_acronyms"]
        )

    def _key(self, text: str) -> str:
        return text if self.cfg["attr"] == "ORTH" else text.lower()

    def add_terms(self, terms: dict[str, str], source: str = "added by add_terms", vocabulary=None) -> None:
        """Add ``term -> label`` pairs; a :class:`Vocabulary` built with folds
        also brings its fold support (see ``ml/gazetteer.py``)."""
        self.matcher.add(terms)
        if vocabulary is not None and vocabulary.n_folds:
            if self.n_folds and self.n_folds != vocabulary.n_folds:
                raise ValueError(f"{self.name}: vocabularies with {self.n_folds} and {vocabulary.n_folds} folds")
            self.n_folds = vocabulary.n_folds
            self.folds.update({self._key(t): m for t, m in vocabulary.folds.items()})
        self.cfg["sources"].append(f"{source} ({len(terms)} terms)")
        self._loaded = True

    def initialize(
        self,
        get_examples: Optional[Callable[[], Iterable]] = None,
        *,
        nlp: Optional[Language] = None,
        vocab_path: Optional[str] = None,
    ) -> None:
        """Load the terms: the domain's vocabularies, then ``vocab_path``.
        With neither, the terms already added (``add_terms``) are kept."""
        if self.cfg["domain"] or vocab_path is not None:
            self.matcher = self._new_matcher()
            self.cfg["sources"] = []
            self.n_folds, self.folds = 0, {}
            self._load_domain()
        if vocab_path is not None:
            vocab = Vocabulary.from_tsv(vocab_path)
            self.add_terms(vocab.terms, source=f"{Path(vocab_path).name}: {vocab.provenance}", vocabulary=vocab)
        if not self.matcher.terms:
            raise ValueError(f"{self.name}: no terms; set a domain or [initialize.components.{self.name}] vocab_path")
        self._loaded = True

    def _load_domain(self) -> None:
        if not self.cfg["domain"]:
            return

        spec = get_domain(self.cfg["domain"])
        known = {v.name for v in spec.vocabularies}
        wanted = self.cfg["vocabularies"]
        missing = sorted(set(wanted or []) - known)
        if missing:
            raise ValueError(
                f"{self.name}: domain {spec.name!r} has no vocabularies {missing} (it has {sorted(known)})"
            )
        self.add_terms(spec.all_terms(wanted), source=f"domain {spec.name} {spec.plugin} {spec.version}".strip())

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._load_domain()
            self._loaded = True

    def __call__(self, doc: Doc) -> Doc:
        self._ensure_loaded()
        key = self.cfg["spans_key"]
        spans = self.matcher(doc)
        group = SpanGroup(doc, name=key, spans=spans)
        if self.n_folds:
            group.attrs["n_folds"] = self.n_folds
            group.attrs["folds"] = [self.folds.get(self._key(span.text), 0) for span in spans]
        doc.spans[key] = group
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterable[Doc]:
        for doc in stream:
            yield self(doc)

    # -- serialization: cfg and terms, no pickle ---------------------------
    def _serializers(self):
        return {
            "cfg": lambda: srsly.json_dumps(self.cfg),
            "terms": lambda: srsly.msgpack_dumps(self._term_data()),
        }

    def _term_data(self) -> dict:
        return {"terms": self.matcher.terms, "n_folds": self.n_folds, "folds": self.folds}

    def _load(self, cfg: dict, data: dict) -> None:
        self.cfg.update(cfg)
        self.matcher = self._new_matcher()
        self.matcher.add(data.get("terms", {}))
        self.n_folds, self.folds = data.get("n_folds", 0), dict(data.get("folds", {}))
        self._loaded = True

    def to_bytes(self, *, exclude=SimpleFrozenList()) -> bytes:
        return to_bytes(self._serializers(), exclude)

    def from_bytes(self, bytes_data: bytes, *, exclude=SimpleFrozenList()) -> "DomainVocab":
        data: dict = {}
        from_bytes(
            bytes_data,
            {
                "cfg": lambda b: data.update(cfg=srsly.json_loads(b)),
                "terms": lambda b: data.update(terms=srsly.msgpack_loads(b)),
            },
            exclude,
        )
        self._load(data.get("cfg", {}), data.get("terms", {}))
        return self

    def to_disk(self, path, *, exclude=SimpleFrozenList()) -> None:
        path = Path(path)
        serializers = {
            "cfg": lambda p: srsly.write_json(p, self.cfg),
            "terms.msgpack": lambda p: srsly.write_msgpack(p, self._term_data()),
        }
        to_disk(path, serializers, exclude)

    def from_disk(self, path, *, exclude=SimpleFrozenList()) -> "DomainVocab":
        data: dict = {}
        from_disk(
            Path(path),
            {
                "cfg": lambda p: data.update(cfg=srsly.read_json(p)),
                "terms.msgpack": lambda p: data.update(terms=srsly.read_msgpack(p)),
            },
            exclude,
        )
        self._load(data.get("cfg", {}), data.get("terms", {}))
        return self
