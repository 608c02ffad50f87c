"""``[nlp.after_creation] @callbacks = "autolabel.domain_tokenizer.v1"``: the
tokenizer special cases of an installed domain, added when the pipeline is
created."""

from __future__ import annotations

import warnings

from ..domains import add_tokenizer_exceptions
from ..hooks.manager import get_domain


def make_domain_tokenizer(domain: str):
    """The callback adding ``domain``'s tokenizer exceptions to a new pipeline.

    A saved pipeline keeps its tokenizer's special cases, so loading one where
    the domain plugin is not installed only warns."""

    def after_creation(nlp):
        try:
            spec = get_domain(domain)
        except LookupError as err:
            warnings.warn(
                f"autolabel.domain_tokenizer.v1: {err}; the tokenizer keeps the special cases it was saved with"
            )
            return nlp
        add_tokenizer_exceptions(nlp, spec)
        return nlp

    return after_creation
