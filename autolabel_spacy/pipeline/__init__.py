"""The spaCy components of autolabel-spacy (registered in ``registrations.py``)."""
from __future__ import annotations

from typing import Iterable, Optional

from spacy.training import Example, validate_examples


def update_batch(pipe, examples: Iterable[Example], losses: Optional[dict]) -> tuple[list[Example], dict]:
    """What every ``update`` of a trainable component starts with: the
    examples as a list, validated, and the losses with the component's entry."""
    losses = {} if losses is None else losses
    losses.setdefault(pipe.name, 0.0)
    examples = list(examples)
    validate_examples(examples, f"{type(pipe).__name__}.update")
    return examples, losses
