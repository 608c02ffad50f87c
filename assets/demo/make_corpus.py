"""Write the demo corpus: clinical-pharmacology sentences with ``Chemical``
and ``Disease`` entities (the labels of the ``medical`` domain plugin).

Everything here (names, templates) is written by this project; nothing is
taken from a real corpus. The output is deterministic and committed beside
this file; regenerate it with

    python assets/demo/make_corpus.py

Files, in the layout ``autolabel corpus`` reads (IOB2, ``TOKEN<TAB>TAG``, one
token per line, sentences separated by a blank line):

- ``train.tsv`` (400 sentences), ``dev.tsv`` (300: enough for a 99% threshold,
  which ``evaluate`` recommends only where it accepts 100 or more), ``test.tsv`` (100);
- ``raw.txt``: 80 unlabelled sentences, one per line, for the annotation step;
- ``documents/``: short case reports and study summaries (3 to 5 sentences)
  in the ``jsonl`` format, for the multi-task steps: their entities, the
  relations between them (``causes`` and ``treats``, from a Chemical to a
  Disease, keyed by the entities' lower-cased text) and one category per
  document (``adverse_effect``, ``treatment`` or ``epidemiology``):
  ``train.jsonl`` (240 documents), ``dev.jsonl`` (300), ``test.jsonl`` (60)
  and ``raw.txt`` (40 unlabelled documents, one per line). A relation is a
  fact about the document: its two entities may be named in different
  sentences, and a sentence naming both may deny it ("No link between ...").

A fifth of the drug and disease names occur only in dev, another fifth only
in test, and train never sees either: half of the dev and test sentences use
names the model has never seen, so the scores (and the auto-accept threshold
chosen on dev) measure whether it generalises (drug-name suffixes such as
-statin, -pril, -mab; disease words such as "syndrome", "cancer"; the
context) rather than memorises names, as it must on new text.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHEMICALS = [
    "aspirin", "ibuprofen", "naproxen", "paracetamol", "metformin", "insulin glargine", "warfarin",
    "heparin", "apixaban", "atorvastatin", "simvastatin", "rosuvastatin", "pravastatin", "lisinopril",
    "enalapril", "ramipril", "amlodipine", "nifedipine", "omeprazole", "pantoprazole", "amoxicillin",
    "ampicillin", "doxycycline", "ciprofloxacin", "levofloxacin", "prednisone", "dexamethasone",
    "methotrexate", "tamoxifen", "cisplatin", "carboplatin", "morphine", "naloxone", "levothyroxine",
    "sertraline", "fluoxetine", "lithium carbonate", "valproic acid", "carbamazepine", "salbutamol",
    "furosemide", "digoxin", "clopidogrel", "metoprolol", "atenolol", "propranolol", "rituximab",
    "trastuzumab", "adalimumab", "vitamin D", "folic acid", "potassium chloride",
]
DISEASES = [
    "diabetes", "type 2 diabetes", "hypertension", "heart failure", "atrial fibrillation", "asthma",
    "chronic obstructive pulmonary disease", "pneumonia", "tuberculosis", "breast cancer", "lung cancer",
    "colorectal cancer", "prostate cancer", "leukemia", "lymphoma", "migraine", "epilepsy", "depression",
    "bipolar disorder", "schizophrenia", "rheumatoid arthritis", "osteoarthritis", "osteoporosis",
    "hypothyroidism", "gastric ulcer", "kidney failure", "chronic kidney disease", "stroke",
    "Parkinson disease", "Alzheimer disease", "sepsis", "anemia", "iron deficiency anemia", "psoriasis",
    "cystic fibrosis", "Crohn disease", "ulcerative colitis", "multiple sclerosis", "hepatitis C",
    "nephrotic syndrome", "Cushing syndrome", "angina", "gout", "urinary tract infection",
]
TEMPLATES = [
    "{C} is widely used to treat {D} .",
    "Patients with {D} received {C} twice daily .",
    "We report a case of {D} after long-term use of {C} .",
    "{C} reduced the risk of {D} in older adults .",
    "The combination of {C} and {C} was well tolerated .",
    "Treatment with {C} did not improve {D} outcomes .",
    "Children with {D} are often given {C} .",
    "{D} is a common complication of {D} .",
    "Adverse effects of {C} include nausea and headache .",
    "The incidence of {D} increased during the study period .",
    "A randomised trial compared {C} with placebo in {D} .",
    "Switching from {C} to {C} lowered blood pressure .",
    "Screening for {D} is recommended every two years .",
    "Doses of {C} were adjusted for kidney function .",
    "No link between {C} and {D} was found .",
    "Overdose of {C} can cause {D} .",
    "Withdrawal of {C} led to a flare of {D} .",
    "The patient , a 67-year-old man with {D} and {D} , was started on {C} .",
    "{C} 40 mg once daily was added for {D} .",
    "Is {C} safe during pregnancy in women with {D} ?",
    "Guidelines recommend {C} as first-line therapy for {D} .",
    "Levels of {C} should be monitored in patients with {D} .",
    "Resistance to {C} is rising among patients with {D} .",
    "She developed {D} three weeks after starting {C} .",
    "The risk of {D} was higher with {C} than with {C} .",
    "Both {D} and {D} were more frequent in the control group .",
    "Our findings suggest that {C} may slow the progression of {D} .",
    "{D} remains a leading cause of death worldwide .",
    "Interactions between {C} and {C} are well documented .",
    "He was admitted with {D} and treated with intravenous {C} .",
    "The clinic enrolled 120 volunteers in March .",
    "Blood samples were collected before breakfast .",
    "Follow-up visits took place at 6 and 12 months .",
    "All participants gave written informed consent .",
    "The study was approved by the local ethics committee .",
    "Data were analysed with a mixed-effects model .",
]


def split_names(names: list[str], rng: random.Random) -> tuple[list[str], list[str], list[str]]:
    """(train, dev only, test only): a fifth of the names each for dev and test."""
    shuffled = names[:]
    rng.shuffle(shuffled)
    cut = len(shuffled) // 5
    return sorted(shuffled[2 * cut:]), sorted(shuffled[:cut]), sorted(shuffled[cut : 2 * cut])


def sentence(rng: random.Random, chemicals: list[str], diseases: list[str]) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for piece in rng.choice(TEMPLATES).split():
        if piece in ("{C}", "{D}"):
            label = "Chemical" if piece == "{C}" else "Disease"
            words = rng.choice(chemicals if label == "Chemical" else diseases).split()
            if not tokens:
                words[0] = words[0][:1].upper() + words[0][1:]
            tokens += [(w, ("B-" if i == 0 else "I-") + label) for i, w in enumerate(words)]
        else:
            tokens.append((piece, "O"))
    return tokens


def sentences(n: int, seed: int, chemicals: list[str], diseases: list[str]) -> list[list[tuple[str, str]]]:
    rng = random.Random(seed)
    return [sentence(rng, chemicals, diseases) for _ in range(n)]


def write_tagged(path: Path, sents) -> None:
    blocks = ["\n".join(f"{w}\t{t}" for w, t in s) for s in sents]
    path.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")


# document sentences: (template, relation between its {C} and {D}; None: no
# relation, or "-": none, and its names are not the document's own)
ADVERSE = [
    ("We report a case of {D} after long-term use of {C} .", "causes"),
    ("She developed {D} three weeks after starting {C} .", "causes"),
    ("Overdose of {C} can cause {D} .", "causes"),
    ("Withdrawal of {C} led to a flare of {D} .", None),
    ("The risk of {D} was higher in patients taking {C} .", "causes"),
    ("{C} was stopped and the symptoms resolved .", None),
]
TREATMENT = [
    ("{C} is widely used to treat {D} .", "treats"),
    ("Guidelines recommend {C} as first-line therapy for {D} .", "treats"),
    ("{C} 40 mg once daily was added for {D} .", "treats"),
    ("Our findings suggest that {C} may slow the progression of {D} .", "treats"),
    ("He was admitted with {D} and treated with intravenous {C} .", "treats"),
    ("{C} was well tolerated over twelve months .", None),
]
EPIDEMIOLOGY = [
    ("The incidence of {D} increased during the study period .", None),
    ("{D} remains a leading cause of death worldwide .", None),
    ("Screening for {D} is recommended every two years .", None),
    ("Rates of {D} were higher in rural districts .", None),
    ("Both {D} and {D} were more frequent in the control group .", None),
]
BACKGROUND = [
    ("No link between {C} and {D} was found .", "-"),
    ("Patients with {D} were enrolled from three centres .", None),
    ("Levels of {C} were measured at baseline .", None),
    ("The clinic enrolled 120 volunteers in March .", None),
    ("Data were analysed with a mixed-effects model .", None),
    ("All participants gave written informed consent .", None),
]
CATEGORIES = {"adverse_effect": ADVERSE, "treatment": TREATMENT, "epidemiology": EPIDEMIOLOGY}


def document(rng: random.Random, category: str, chemicals: list[str], diseases: list[str]) -> dict:
    """One document of ``category`` as a ``jsonl`` record: one or two
    sentences of its kind (the first one states its relation, if it has
    one) among background sentences. A document has a drug and a disease
    of its own that its sentences keep naming, so the relation's two
    entities are often in different sentences."""
    drug, disease = rng.choice(chemicals), rng.choice(diseases)
    kind = CATEGORIES[category]
    picks = [rng.choice([t for t in kind if t[1]] or kind)] + rng.sample(kind, rng.randint(0, 1))
    related = {t for t in picks if t[1] not in (None, "-")}
    picks += rng.sample(BACKGROUND, rng.randint(1, 3))
    rng.shuffle(picks)
    text, spans, relations = "", [], set()
    for template, relation in picks:
        names = {"C": [], "D": []}
        pieces = template.split()
        for i, piece in enumerate(pieces):
            if piece in ("{C}", "{D}"):
                kind_ = piece[1]
                own = drug if kind_ == "C" else disease
                # the first name of a relation's sentence is the document's own; a
                # second one of a sentence is another entity; others are either
                own_first = not names[kind_] and (template, relation) in related
                if own_first or (not names[kind_] and relation != "-" and rng.random() < 0.5):
                    name = own
                else:
                    name = rng.choice([n for n in (chemicals if kind_ == "C" else diseases) if n != own])
                if i == 0:
                    name = name[:1].upper() + name[1:]
                start = len(text)
                text += name
                label = "Chemical" if kind_ == "C" else "Disease"
                spans.append({"start": start, "end": len(text), "label": label})
                names[kind_].append(" ".join(name.lower().split()))
            else:
                text += piece
            text += " "
        if (template, relation) in related and names["C"] and names["D"]:
            relations.add(("~" + names["C"][0], "~" + names["D"][0], relation))
    return {
        "text": text.rstrip(),
        "spans": spans,
        "relations": [{"head": h, "child": c, "label": label} for h, c, label in sorted(relations)],
        "cats": {name: float(name == category) for name in CATEGORIES},
    }


def documents(n: int, seed: int, chemicals: list[str], diseases: list[str]) -> list[dict]:
    rng = random.Random(seed)
    return [document(rng, rng.choice(sorted(CATEGORIES)), chemicals, diseases) for _ in range(n)]


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def main() -> None:
    rng = random.Random(0)
    train_c, dev_c, test_c = split_names(CHEMICALS, rng)
    train_d, dev_d, test_d = split_names(DISEASES, rng)
    write_tagged(HERE / "train.tsv", sentences(400, 1, train_c, train_d))
    write_tagged(HERE / "dev.tsv", sentences(150, 2, train_c, train_d) + sentences(150, 3, dev_c, dev_d))
    write_tagged(HERE / "test.tsv", sentences(50, 4, train_c, train_d) + sentences(50, 5, test_c, test_d))
    raw = sentences(40, 6, train_c, train_d) + sentences(40, 7, test_c, test_d)
    random.Random(8).shuffle(raw)
    (HERE / "raw.txt").write_text("".join(" ".join(w for w, _ in s) + "\n" for s in raw), encoding="utf-8")
    docs = HERE / "documents"
    docs.mkdir(exist_ok=True)
    write_jsonl(docs / "train.jsonl", documents(240, 11, train_c, train_d))
    write_jsonl(docs / "dev.jsonl", documents(150, 12, train_c, train_d) + documents(150, 13, dev_c, dev_d))
    write_jsonl(docs / "test.jsonl", documents(30, 14, train_c, train_d) + documents(30, 15, test_c, test_d))
    raw_docs = documents(20, 16, train_c, train_d) + documents(20, 17, test_c, test_d)
    (docs / "raw.txt").write_text("".join(r["text"] + "\n" for r in raw_docs), encoding="utf-8")
    print(f"wrote the demo corpus to {HERE}; names only in dev: {dev_c + dev_d}; only in test and raw.txt: {test_c + test_d}")


if __name__ == "__main__":
    main()
