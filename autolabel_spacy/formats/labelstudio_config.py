"""A Label Studio labeling config, as far as autolabel reads it (``serve``
for its predictions, ``import --label-config`` for an export's names): the
``<Text>`` tag and the task field it shows, the ``<Labels>`` tag that marks
spans on it and its labels, an optional ``<Choices>`` tag of categories and
``<Relations>``. Read with ``defusedxml`` (a config comes over the network).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from .labelstudio import TaskNames


class LabelingConfigError(ValueError):
    """A labeling config the backend cannot serve, and why."""


@dataclass(frozen=True)
class LabelingConfig:
    names: TaskNames
    labels: tuple[str, ...]
    choices: tuple[str, ...] = ()
    relations: tuple[str, ...] = ()
    has_choices: bool = False


def parse_labeling_config(xml: str) -> LabelingConfig:
    """The parts of ``xml`` the backend serves; :class:`LabelingConfigError`
    when it is not XML, has no ``<Text>`` tag reading a task field, neither
    a ``<Labels>`` (spans) nor a ``<Choices>`` (categories) tag, or one
    whose ``toName`` is not that ``<Text>`` tag. A config of ``<Choices>``
    alone is a document classification project."""
    if not isinstance(xml, str) or not xml.strip():
        raise LabelingConfigError("the labeling config is empty")
    try:
        root = ElementTree.fromstring(xml)
    except (ElementTree.ParseError, DefusedXmlException) as err:
        raise LabelingConfigError(f"the labeling config is not valid XML ({err})") from None
    texts = {t.get("name"): t.get("value", "") for t in root.iter("Text") if t.get("name")}
    if not texts:
        raise LabelingConfigError('the labeling config has no <Text name=... value="$field"> tag')
    labels_tags, choices_tags = list(root.iter("Labels")), list(root.iter("Choices"))
    if len(labels_tags) > 1:
        raise LabelingConfigError(f"the labeling config has {len(labels_tags)} <Labels> tags; the backend fills one")
    if len(choices_tags) > 1:
        raise LabelingConfigError(f"the labeling config has {len(choices_tags)} <Choices> tags; the backend fills one")
    if not labels_tags and not choices_tags:
        raise LabelingConfigError(
            "the labeling config needs a <Labels> tag (spans) or a <Choices> tag (categories); it has neither"
        )
    tag = (labels_tags or choices_tags)[0]  # the tag that says which <Text> is labelled
    to_name = tag.get("toName")
    if to_name not in texts:
        raise LabelingConfigError(
            f"<{tag.tag} name={tag.get('name')!r}> has toName={to_name!r}, which names no <Text> tag (those: "
            f"{sorted(texts)})"
        )
    field = texts[to_name]
    if not field.startswith("$") or len(field) < 2:
        raise LabelingConfigError(f'<Text name={to_name!r}> needs value="$field", got {field!r}')
    category = "category"
    choices: tuple[str, ...] = ()
    if choices_tags:
        tag = choices_tags[0]
        if tag.get("toName") != to_name:
            raise LabelingConfigError(
                f"<Choices name={tag.get('name')!r}> has toName={tag.get('toName')!r}, not the <Text> tag {to_name!r}"
            )
        category = tag.get("name") or category
        choices = _values(tag, "Choice")
    labels: tuple[str, ...] = ()
    if labels_tags:
        labels = _values(labels_tags[0], "Label")
        if not labels:
            raise LabelingConfigError(f"<Labels name={labels_tags[0].get('name')!r}> has no <Label value=...>")
    relations = tuple(r for tag in root.iter("Relations") for r in _values(tag, "Relation"))
    label_tag = labels_tags[0].get("name") if labels_tags else None
    names = TaskNames(labels=label_tag or "label", text=to_name, field=field[1:], category=category)
    return LabelingConfig(names, labels, choices, relations, has_choices=bool(choices_tags))


def _values(tag, child: str) -> tuple[str, ...]:
    return tuple(c.get("value") for c in tag.iter(child) if c.get("value"))


def check_labels(
    config: LabelingConfig,
    entity_labels: Iterable[str],
    relation_labels: Optional[Iterable[str]] = None,
    categories: Optional[Iterable[str]] = None,
) -> list[str]:
    """Notes on where the config and the pipeline differ. A label of the
    config that the pipeline does not know is served all the same: it gets
    no predictions, and the annotations that use it are kept (an update
    trains on the labels the pipeline knows). The pipeline's labels that the
    config leaves out are not predicted (Label Studio would refuse them)."""
    notes = []
    known = set(entity_labels)
    for what, asked, have in (
        ("labels", config.labels, known),
        ("relation labels", config.relations, relation_labels),
        ("categories", config.choices, categories),
    ):
        if not asked:
            continue
        if have is None:
            notes.append(
                f"the labeling config has {what} {list(asked)}, the model predicts none: they get no predictions"
            )
            continue
        unknown = sorted(set(asked) - set(have))
        if unknown:
            notes.append(
                f"the labeling config's {what} {unknown} are not the model's (it knows {sorted(have)}): they get no "
                "predictions; "
                "annotations with them are kept, and updates learn the model's own"
            )
    left = sorted(known - set(config.labels))
    if left:
        notes.append(f"the model's labels {left} are not in the labeling config: their spans are not predicted")
    return notes
