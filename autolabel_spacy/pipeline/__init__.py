"""The spaCy components of autolabel-spacy (their names: the spacy_factories entry points of pyproject.toml)."""

from __future__ import annotations

from typing import Iterable, Optional

from spacy.pipeline import TrainablePipe
from spacy.training import Example, validate_examples
from thinc.api import Optimizer, set_dropout_rate


class GradientPipe(TrainablePipe):
    """A trainable component whose ``update`` is the same for every one:
    validate the batch, set the dropout, let :meth:`learn` run the model
    forward and its gradient back (or say there is nothing to learn from),
    then step the optimizer and add the loss."""

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[dict] = None,
    ) -> dict:
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, f"{type(self).__name__}.update")
        set_dropout_rate(self.model, drop)
        loss = self.learn(examples)
        if loss is None:
            return losses
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def learn(self, examples: list[Example]) -> Optional[float]:
        """Forward and backward pass over ``examples``; the loss, or None
        when the batch has nothing to learn from (no gradient was taken)."""
        raise NotImplementedError
