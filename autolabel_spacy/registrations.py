"""Every name autolabel-spacy registers with spaCy, in one place.

spaCy finds these through the entry points in ``pyproject.toml`` (so a config
can name them without importing this package).
``tests/test_registry.py`` checks that this table and the entry points agree
and that every name resolves.
"""
from __future__ import annotations

import importlib

# registry name -> {registered name: "module:function"}
REGISTRATIONS: dict[str, dict[str, str]] = {
    "factories": {
        "calibrated_textcat": "autolabel_spacy.pipeline.categories:make_calibrated_textcat",
        "crf_ner": "autolabel_spacy.pipeline.crf_ner:make_crf_ner",
        "domain_vocab": "autolabel_spacy.pipeline.domain_vocab:make_domain_vocab",
        "entity_relations": "autolabel_spacy.pipeline.entity_relations:make_entity_relations",
    },
    "architectures": {
        "autolabel.BigramEmbed.v1": "autolabel_spacy.ml.bigram_embed:build_bigram_embed",
        "autolabel.CRFTagger.v1": "autolabel_spacy.ml.models:build_crf_tagger",
        "autolabel.GazetteerFeatures.v1": "autolabel_spacy.ml.gazetteer:build_gazetteer_features",
        "autolabel.PretrainedSubwordEmbed.v1": "autolabel_spacy.ml.subword_vectors:build_pretrained_subword_embed",
        "autolabel.RelationScorer.v1": "autolabel_spacy.ml.relation_model:build_relation_scorer",
    },
    "misc": {
        "autolabel.calibrate_before_save.v1": "autolabel_spacy.calibration:make_calibrate_before_save",
        "autolabel.transformer_name.v1": "autolabel_spacy.ml.transformer:transformer_name",
    },
    "callbacks": {
        "autolabel.domain_tokenizer.v1": "autolabel_spacy.pipeline.domain_tokenizer:make_domain_tokenizer",
    },
    "scorers": {
        "autolabel.relation_scorer.v1": "autolabel_spacy.pipeline.entity_relations:make_relation_scorer",
    },
    "readers": {
        "autolabel.TaggedCorpus.v1": "autolabel_spacy.corpora.reader:create_tagged_corpus_reader",
        "autolabel.GoldEntitiesCorpus.v1": "autolabel_spacy.corpora.reader:create_gold_entities_corpus_reader",
    },
}

# registry name -> the entry-point group spaCy reads for it
ENTRY_POINT_GROUPS = {name: f"spacy_{name}" for name in REGISTRATIONS}


def load(target: str):
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)

