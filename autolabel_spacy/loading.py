"""Pipelines and languages named by a user, loaded with a one-line error
naming what was given when they cannot be."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import spacy
from spacy.language import Language


def load_pipeline(model, need_annotations: str = "") -> Language:
    """The pipeline ``model`` (a loaded one, a path or a package name).
    ``need_annotations``: the name of the command that needs a component
    setting entities or categories; a pipeline without one is refused."""
    if isinstance(model, Language):
        nlp = model
    else:
        pipeline_path(model)
        try:
            nlp = spacy.load(model)
        except Exception as err:  # any failure to load is about what the user named
            raise ValueError(
                f"{model}: not a loadable spaCy pipeline ({type(err).__name__}: {' '.join(str(err).split())})"
            ) from None
    if need_annotations and not annotating_components(nlp):
        raise ValueError(
            f"{model}: the pipeline has no component that sets entities or categories (crf_ner, ner, entity_ruler, "
            f"textcat…; it has {', '.join(nlp.pipe_names) or 'none'}), so {need_annotations} would write empty "
            "annotations"
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


ANNOTATIONS = ("doc.ents", "doc.cats")  # what a pipeline must set for annotate, evaluate and tag


def entity_components(nlp: Language) -> list[str]:
    """The pipeline's components that declare they set ``doc.ents``."""
    return [name for name in nlp.pipe_names if "doc.ents" in nlp.get_pipe_meta(name).assigns]


def annotating_components(nlp: Language) -> list[str]:
    """The pipeline's components that declare they set entities or categories."""
    return [name for name in nlp.pipe_names if set(ANNOTATIONS) & set(nlp.get_pipe_meta(name).assigns)]


def pipeline_assigns(model) -> Optional[set]:
    """What the components of pipeline ``model`` declare they set (a loaded
    one, or from its config alone, for a caller that does not load it: the
    ray engine's driver); None when a sourced or unknown component may set
    anything."""
    if isinstance(model, Language):
        return {attr for name in model.pipe_names for attr in model.get_pipe_meta(name).assigns}
    path = pipeline_path(model)
    try:
        config = spacy.util.load_config(path / "config.cfg", interpolate=False)
        factories = [config["components"][name].get("factory") for name in config["nlp"]["pipeline"]]
    except Exception as err:
        raise ValueError(f"{model}: not a spaCy pipeline ({' '.join(str(err).split())})") from None
    if any(factory is None or not Language.has_factory(factory) for factory in factories):
        return None
    return {attr for factory in factories for attr in Language.get_factory_meta(factory).assigns}


def check_annotates(model, command: str) -> None:
    """:func:`load_pipeline`'s ``need_annotations`` check from the
    pipeline's config alone (:func:`pipeline_assigns`)."""
    assigns = pipeline_assigns(model)
    if assigns is not None and not set(ANNOTATIONS) & assigns:
        raise ValueError(
            f"{model}: the pipeline has no component that sets entities or categories, so {command} would write empty "
            "annotations"
        )


def blank(lang: str) -> Language:
    """``spacy.blank(lang)``, or a one-line error for an unknown language."""
    try:
        return spacy.blank(lang)
    except Exception:
        raise ValueError(f"unknown language {lang!r} for --lang (a spaCy language code such as en, de, zh)") from None
