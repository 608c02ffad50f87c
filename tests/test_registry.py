"""Every registered name is declared as an entry point and resolves."""
from importlib.metadata import entry_points

import pytest
import spacy
from spacy.util import registry

from autolabel_spacy.registrations import ENTRY_POINT_GROUPS, REGISTRATIONS, load


def declared(group):
    return {ep.name: ep.value for ep in entry_points(group=group)}


@pytest.mark.parametrize("registry_name", sorted(REGISTRATIONS))
def test_entry_points_match_registrations(registry_name):
    eps = declared(ENTRY_POINT_GROUPS[registry_name])
    for name, target in REGISTRATIONS[registry_name].items():
        assert eps.get(name) == target, f"{name} is not declared as entry point {target}"
        assert callable(load(target))


def test_names_resolve_through_spacy_without_importing_the_package():
    for name in REGISTRATIONS["architectures"]:
        assert callable(registry.architectures.get(name))
    for name in REGISTRATIONS["readers"]:
        assert callable(registry.readers.get(name))
    nlp = spacy.blank("en")
    assert nlp.add_pipe("crf_ner").name == "crf_ner"
