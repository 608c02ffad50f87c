"""autolabel-finance: the ``finance`` domain for autolabel-spacy.

The SEC-filings scheme (PER, ORG, LOC, MISC; Salinas Alvarado et al. 2015)
plus MONEY and PERCENT, which finance users expect and which patterns find
reliably; curated seed vocabularies of financial institutions and places,
tokenizer exceptions for legal-entity suffixes, and a recommended config.
"""

from __future__ import annotations

from importlib.resources import files

from autolabel_spacy import hookimpl
from autolabel_spacy.domains import DomainSpec, LabelSpec, Vocabulary

__version__ = "0.1.0"

_DATA = files(__name__)

LABELS = (
    LabelSpec("PER", "a person: borrower, signatory, officer, lender's agent"),
    LabelSpec("ORG", "a company, bank, agency, exchange or other organisation"),
    LabelSpec("LOC", "a place: country, state, city, address"),
    LabelSpec("MISC", "other names: nationalities, languages, reference rates, standards"),
    LabelSpec("MONEY", "an amount of money with its currency ($5,000,000; USD 2.5 million)"),
    LabelSpec("PERCENT", "a percentage or rate (4.25%; 3 percent)"),
)

# Legal-entity suffixes stay one token, so "Bank, N.A." and "Holdings L.L.C."
# keep the suffix inside the organisation's span.
TOKENIZER_EXCEPTIONS = {
    "N.A.": [{"ORTH": "N.A.", "NORM": "national association"}],
    "L.L.C.": [{"ORTH": "L.L.C.", "NORM": "llc"}],
    "L.P.": [{"ORTH": "L.P.", "NORM": "lp"}],
    "S.A.": [{"ORTH": "S.A.", "NORM": "sa"}],
    "N.V.": [{"ORTH": "N.V.", "NORM": "nv"}],
    "plc.": [{"ORTH": "plc.", "NORM": "plc"}],
}

_NUMBER = {"LIKE_NUM": True}
_SCALE = {"LOWER": {"IN": ["thousand", "million", "billion", "trillion", "mm", "bn"]}, "OP": "?"}
_CURRENCY_CODE = {"LOWER": {"IN": ["usd", "eur", "gbp", "jpy", "cad", "chf"]}}
PATTERNS = (
    {"label": "MONEY", "pattern": [{"ORTH": {"IN": ["$", "€", "£", "US$"]}}, _NUMBER, _SCALE]},
    {"label": "MONEY", "pattern": [_CURRENCY_CODE, _NUMBER, _SCALE]},
    {"label": "MONEY", "pattern": [_NUMBER, _SCALE, {"LOWER": {"IN": ["dollars", "euros", "pounds"]}}]},
    {"label": "PERCENT", "pattern": [_NUMBER, {"ORTH": "%"}]},
    {"label": "PERCENT", "pattern": [_NUMBER, {"LOWER": {"IN": ["percent", "per"]}}, {"LOWER": "cent", "OP": "?"}]},
)


def domain() -> DomainSpec:
    vocab_dir = _DATA / "vocab"
    return DomainSpec(
        name="finance",
        language="en",
        description="Financial agreements and filings: parties, places, amounts and rates (SEC-filings compatible)",
        labels=LABELS,
        vocabularies=(
            Vocabulary.from_tsv(vocab_dir / "institutions.tsv", name="institutions"),
            Vocabulary.from_tsv(vocab_dir / "places.tsv", name="places"),
        ),
        tokenizer_exceptions=TOKENIZER_EXCEPTIONS,
        patterns=PATTERNS,
        config=str(_DATA / "configs" / "finance.cfg"),
    )


@hookimpl
def autolabel_domains() -> list:
    return [domain()]
