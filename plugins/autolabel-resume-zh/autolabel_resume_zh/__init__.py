"""autolabel-resume-zh: the ``resume_zh`` domain for autolabel-spacy.

The Chinese Resume NER scheme (Zhang & Yang 2018): NAME, ORG, TITLE, EDU,
CONT, PRO, RACE, LOC, on character tokens (``spacy.blank("zh")``), with
curated seed vocabularies and a recommended config.
"""

from __future__ import annotations

from importlib.resources import files

from autolabel_spacy import hookimpl
from autolabel_spacy.domains import DomainSpec, LabelSpec, Vocabulary

__version__ = "0.1.0"

_DATA = files(__name__)

LABELS = (
    LabelSpec("NAME", "a person's name (人名)"),
    LabelSpec("ORG", "an organisation: company, university, government body (组织机构)"),
    LabelSpec("TITLE", "a job or professional title (职称/职位)"),
    LabelSpec("EDU", "an education level or degree (学历)"),
    LabelSpec("CONT", "a country or nationality (国籍)"),
    LabelSpec("PRO", "a profession or field of study (专业)"),
    LabelSpec("RACE", "an ethnic group (民族)"),
    LabelSpec("LOC", "a place (籍贯/地名)"),
)


def domain() -> DomainSpec:
    vocab_dir = _DATA / "vocab"
    return DomainSpec(
        name="resume_zh",
        language="zh",
        description="Chinese resumes of company executives (Chinese Resume NER compatible, character tokens)",
        labels=LABELS,
        vocabularies=(
            Vocabulary.from_tsv(vocab_dir / "people.tsv", name="people"),
            Vocabulary.from_tsv(vocab_dir / "careers.tsv", name="careers"),
        ),
        config=str(_DATA / "configs" / "resume_zh.cfg"),
    )


@hookimpl
def autolabel_domains() -> list:
    return [domain()]
