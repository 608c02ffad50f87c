"""Pipelines and languages named by a user, loaded with a one-line error
naming what was given when they cannot be."""
from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language


def load_pipeline(model, need_entities: str = "") -> Language:
    """The pipeline ``model`` (a loaded one, a path or a package name).
    ``need_entities``: the name of the command that needs a component
    setting entities; a pipeline without one is refused."""
    if isinstance(model, Language):
        nlp = model
    else:
        pipeline_path(model)
        try:
            nlp = spacy.load(model)
        except Exception as err:  # any failure to load is about what the user named
            raise ValueError(f"{model}: not a loadable spaCy pipeline ({type(err).__name__}: {' '.join(str(err).split())})") from None
    if need_entities and not entity_components(nlp):
        raise ValueError(
            f"{model}: the pipeline has no component that sets entities (crf_ner, ner, entity_ruler…; it has "
            f"{', '.join(nlp.pipe_names) or 'none'}), so {need_entities} would write empty annotations"
        )
    return nlp


def with_sentences(nlp: Language) -> Language:
    """The pipeline, with spaCy's rule-based ``sentencizer`` first when none
    of its components sets sentence boundaries. ``crf_ner`` scores each
    sentence of a doc that has them, so a whole document (an abstract, a
    ``.txt`` file) is tagged as one doc and routed sentence by sentence. The
    sentencizer only fills boundaries a doc does not have yet, and the
    entities do not depend on them."""
    sets_sentences = any(
        {"token.is_sent_start", "doc.sents"} & set(nlp.get_pipe_meta(name).assigns) for name in nlp.pipe_names
    )
    if not sets_sentences:
        nlp.add_pipe("sentencizer", name="autolabel_sentencizer", first=True)
    return nlp


def pipeline_path(model) -> Path:
    """The folder of the pipeline ``model`` names (a path or an installed
    package), or a one-line error."""
    if Path(model).exists():
        return Path(model)
    if spacy.util.is_package(str(model)):
        return Path(spacy.util.get_package_path(str(model)))
    raise ValueError(f"{model}: no such pipeline (neither a folder nor an installed package)")


def entity_components(nlp: Language) -> list[str]:
    """The pipeline's components that declare they set ``doc.ents``."""
    return [name for name in nlp.pipe_names if "doc.ents" in nlp.get_pipe_meta(name).assigns]


def check_sets_entities(model, command: str) -> None:
    """:func:`load_pipeline`'s ``need_entities`` check from the pipeline's
    config alone, for a caller that does not load it (the ray engine's
    driver). A sourced or unknown component may set entities: it passes."""
    path = pipeline_path(model)
    try:
        config = spacy.util.load_config(path / "config.cfg", interpolate=False)
        factories = [config["components"][name].get("factory") for name in config["nlp"]["pipeline"]]
    except Exception as err:
        raise ValueError(f"{model}: not a spaCy pipeline ({' '.join(str(err).split())})") from None
    for factory in factories:
        if factory is None or not Language.has_factory(factory) or "doc.ents" in Language.get_factory_meta(factory).assigns:
            return
    raise ValueError(f"{model}: the pipeline has no component that sets entities, so {command} would write empty annotations")


def blank(lang: str) -> Language:
    """``spacy.blank(lang)``, or a one-line error for an unknown language."""
    try:
        return spacy.blank(lang)
    except Exception:
        raise ValueError(f"unknown language {lang!r} for --lang (a spaCy language code such as en, de, zh)") from None
