"""A sentence that gives one choice per group, narrowed to this patient's.

Dosing sentences often list a dose per age band ("125 mg three times daily at 1-11 months, 250 mg
at 1-4 years and 500 mg at 5-17 years"), and treatment sentences an alternative for an allergy
("flucloxacillin 500 mg four times daily, or clarithromycin 250 mg twice daily for penicillin
allergy"). Shown whole, the answer would carry another group's dose beside this patient's. When
the question states the patient's age or allergy, the sentence keeps its lead-in ("The
flucloxacillin dose for impetigo in children is") and the clause for this patient only; a
frequency the bands share, printed once in the first clause, goes with the clause kept.
"""

from __future__ import annotations

import re

from pipelines.answer.patient import _PENICILLINS, _S_ALLERGY, Patient, age_bands

_CLAUSES = re.compile(r",\s*(?:and\s+|or\s+)?|;\s*|\s+(?:and|or)\s+(?=\d)")
_ALTERNATIVES = re.compile(r",?\s+or\s+")
# A dose: "500 mg", "62.5–125 mg", "10 mg/kg", "50 micrograms", "400 IU".
DOSE = re.compile(r"\b\d+(?:[.,]\d+)?(?:\s?(?:-|–|to)\s?\d+(?:[.,]\d+)?)?\s?"
                  r"(?:mg|micrograms?|mcg|g|ml|mmol|units?|IU)(?:/kg)?\b", re.I)
_FREQUENCY = re.compile(r"\b(?:once|twice|three times|four times)(?: a day| daily)?\b|\bevery \d+ hours\b", re.I)


def for_patient(sentence: str, patient: Patient) -> str:
    """`sentence`, or only its lead-in and the clause for this patient when it lists one per group."""
    if patient.age is not None:
        narrowed = _age_clause(sentence, patient.age)
        if narrowed:
            return narrowed
    if patient.penicillin_allergy:
        narrowed = _allergy_clause(sentence)
        if narrowed:
            return narrowed
    return sentence


def _finish(text: str) -> str:
    text = text.strip().rstrip(",;")
    return text if text.endswith((".", ")", "!", "?")) else text + "."


def _age_clause(sentence: str, age: float) -> str | None:
    clauses = [c for c in _CLAUSES.split(sentence.strip()) if c and c.strip()]
    banded = [(c, any(holds)) for c in clauses for holds in [age_bands(c, age)] if holds]
    kept = [c for c, holds in banded if holds]
    if len(banded) < 2 or len(kept) != 1 or not DOSE.search(kept[0]):
        return None
    first, clause = clauses[0], kept[0].strip()
    dose = DOSE.search(first)
    lead = first[:dose.start()] if dose else ""
    if clause == first.strip():
        lead = ""  # the kept clause is the first one: it has its lead-in already
    elif not lead.strip() or age_bands(lead, age):
        return None  # no lead-in naming the drug, or one that names another band: shown whole
    shared = _FREQUENCY.search(first)
    if shared and not _FREQUENCY.search(clause):
        own = DOSE.search(clause)
        if own:
            clause = f"{clause[:own.end()]} {shared.group(0)}{clause[own.end():]}"
    return _finish(f"{lead}{clause}")


def _allergy_clause(sentence: str) -> str | None:
    def drug(text: str) -> re.Match[str] | None:  # a penicillin given, not the allergy named
        return _PENICILLINS.search(_S_ALLERGY.sub(lambda m: " " * len(m.group(0)), text))

    if not (_S_ALLERGY.search(sentence) and drug(sentence)):
        return None
    options = _ALTERNATIVES.split(sentence.strip())
    if len(options) < 2:
        return None
    for_allergy = [o for o in options if _S_ALLERGY.search(o) and not drug(o)]
    if len(for_allergy) != 1:
        return None
    penicillin = drug(sentence)
    start = sentence.find(for_allergy[0])
    if penicillin is None or penicillin.start() > start:
        return None
    return _finish(f"{sentence[:penicillin.start()]}{for_allergy[0].strip()}")
