"""Template of a domain plugin: one module, one hook, one vocabulary file."""

from importlib.resources import files

from autolabel_spacy import hookimpl
from autolabel_spacy.domains import DomainSpec, LabelSpec, Vocabulary


@hookimpl
def autolabel_domains():
    return [
        DomainSpec(
            name="example",
            language="en",
            description="What texts this domain covers",
            labels=(
                LabelSpec("PRODUCT", "a product name"),
                LabelSpec("COMPANY", "the company that makes it"),
            ),
            vocabularies=(Vocabulary.from_tsv(files(__name__) / "terms.tsv", name="terms"),),
        )
    ]
