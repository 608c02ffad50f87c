import autolabel_template

from autolabel_spacy.hooks.manager import Plugins


def test_the_template_domain_is_valid():
    plugins = Plugins(entry_points=False, extra={"autolabel-template": autolabel_template})
    spec = plugins.domain("example")
    assert spec.label_names == ["PRODUCT", "COMPANY"] and spec.all_terms()["Acme Corp"] == "COMPANY"
    assert plugins.problems == []
