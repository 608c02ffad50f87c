"""Write the demo corpus: pharmacology sentences with DRUG and DISEASE entities.

Everything here (vocabulary, templates) is written by this project. The
output is deterministic; ``train.tsv``/``dev.tsv`` (IOB2, one token per
line, the same format as NCBI-disease) and ``raw.txt`` (unlabelled text, one
doc per line) are committed beside this file and regenerated with

    python -m autolabel_spacy.demo.make_corpus
"""
from __future__ import annotations

import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

DRUGS = [
    "aspirin", "ibuprofen", "paracetamol", "metformin", "insulin", "warfarin", "heparin",
    "atorvastatin", "simvastatin", "lisinopril", "amlodipine", "omeprazole", "amoxicillin",
    "doxycycline", "prednisone", "methotrexate", "tamoxifen", "cisplatin", "morphine",
    "naloxone", "levothyroxine", "sertraline", "fluoxetine", "lithium", "valproate",
    "carbamazepine", "salbutamol", "furosemide", "digoxin", "clopidogrel",
]
DISEASES = [
    "diabetes", "type 2 diabetes", "hypertension", "heart failure", "atrial fibrillation",
    "asthma", "chronic obstructive pulmonary disease", "pneumonia", "tuberculosis",
    "breast cancer", "lung cancer", "colorectal cancer", "leukemia", "migraine", "epilepsy",
    "depression", "bipolar disorder", "schizophrenia", "rheumatoid arthritis", "osteoporosis",
    "hypothyroidism", "gastric ulcer", "kidney failure", "stroke", "Parkinson disease",
    "Alzheimer disease", "sepsis", "anemia", "psoriasis", "cystic fibrosis",
]
TEMPLATES = [
    "{DRUG} is widely used to treat {DISEASE} .",
    "Patients with {DISEASE} received {DRUG} twice daily .",
    "We report a case of {DISEASE} after long-term use of {DRUG} .",
    "{DRUG} reduced the risk of {DISEASE} in older adults .",
    "The combination of {DRUG} and {DRUG} was well tolerated .",
    "Treatment with {DRUG} did not improve {DISEASE} outcomes .",
    "Children with {DISEASE} are often given {DRUG} .",
    "{DISEASE} is a common complication of {DISEASE} .",
    "Adverse effects of {DRUG} include nausea and headache .",
    "The incidence of {DISEASE} increased during the study period .",
    "A trial compared {DRUG} with placebo in {DISEASE} .",
    "Switching from {DRUG} to {DRUG} lowered blood pressure .",
    "Screening for {DISEASE} is recommended every two years .",
    "Doses of {DRUG} were adjusted for kidney function .",
    "No link between {DRUG} and {DISEASE} was found .",
    "The clinic enrolled 120 volunteers in March .",
    "Blood samples were collected before breakfast .",
]


def sentence(rng: random.Random) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for piece in rng.choice(TEMPLATES).split():
        if piece in ("{DRUG}", "{DISEASE}"):
            label = piece[1:-1]
            words = rng.choice(DRUGS if label == "DRUG" else DISEASES).split()
            if not tokens:
                words[0] = words[0][:1].upper() + words[0][1:]
            tokens += [(w, ("B-" if i == 0 else "I-") + label) for i, w in enumerate(words)]
        else:
            tokens.append((piece, "O"))
    return tokens


def write(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    blocks = ["\n".join(f"{w}\t{t}" for w, t in sentence(rng)) for _ in range(n)]
    path.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")


def write_raw(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    path.write_text("\n".join(" ".join(w for w, _ in sentence(rng)) for _ in range(n)) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write(HERE / "train.tsv", 300, seed=1)
    write(HERE / "dev.tsv", 80, seed=2)
    write_raw(HERE / "raw.txt", 50, seed=3)
    print(f"wrote demo corpus to {HERE}")
