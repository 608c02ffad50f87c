"""autolabel-medical: the ``medical`` domain for autolabel-spacy.

Disease/Chemical scheme (BC5CDR style; NCBI-disease's ``Disease`` label is a
subset, so NCBI-disease trains under this domain unchanged), vocabularies
(public terminologies, see :mod:`.terminologies`, and curated seed lists),
tokenizer exceptions for dosage units and a recommended config.
"""

from __future__ import annotations

from importlib.resources import files

from autolabel_spacy import hookimpl
from autolabel_spacy.domains import DomainSpec, LabelSpec, Vocabulary

from . import terminologies

__version__ = "0.1.0"

_DATA = files(__name__)

LABELS = (
    LabelSpec("Disease", "a disease, disorder, syndrome or abnormal condition, incl. deficiencies and cancers"),
    LabelSpec("Chemical", "a drug, chemical compound, element or biological substance used as such"),
)

# Dosage units stay together so "mg/kg" is one unit, not a fraction; the
# spelling variants get one NORM so vocabularies can match on NORM.
TOKENIZER_EXCEPTIONS = {
    "mg/kg": [{"ORTH": "mg"}, {"ORTH": "/"}, {"ORTH": "kg"}],
    "mg/day": [{"ORTH": "mg"}, {"ORTH": "/"}, {"ORTH": "day"}],
    "mg/dL": [{"ORTH": "mg"}, {"ORTH": "/"}, {"ORTH": "dL"}],
    "mmHg": [{"ORTH": "mmHg", "NORM": "mmhg"}],
    "tumour": [{"ORTH": "tumour", "NORM": "tumor"}],
    "leukaemia": [{"ORTH": "leukaemia", "NORM": "leukemia"}],
    "anaemia": [{"ORTH": "anaemia", "NORM": "anemia"}],
    "haemophilia": [{"ORTH": "haemophilia", "NORM": "hemophilia"}],
}


def domain() -> DomainSpec:
    vocab_dir = _DATA / "vocab"
    diseases_public, chemicals_public = terminologies.term_files()
    return DomainSpec(
        name="medical",
        language="en",
        description="Biomedical literature: diseases and chemicals (NCBI-disease / BC5CDR compatible)",
        labels=LABELS,
        # the curated lists last: where a term is in two, its label wins
        vocabularies=(
            Vocabulary.from_tsv(diseases_public, name="diseases_public"),
            Vocabulary.from_tsv(chemicals_public, name="chemicals_public"),
            Vocabulary.from_tsv(vocab_dir / "diseases.tsv", name="diseases"),
            Vocabulary.from_tsv(vocab_dir / "chemicals.tsv", name="chemicals"),
        ),
        tokenizer_exceptions=TOKENIZER_EXCEPTIONS,
        config=str(_DATA / "configs" / "medical.cfg"),
    )


@hookimpl
def autolabel_domains() -> list:
    return [domain()]
