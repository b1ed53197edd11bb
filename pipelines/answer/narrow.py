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

from pipelines.answer.patient import _PENICILLINS, _S_ALLERGY, Patient, _age_conflict

_CLAUSES = re.compile(r",\s*(?:and\s+|or\s+)?|;\s*|\s+(?:and|or)\s+(?=\d)")
_ALTERNATIVES = re.compile(r",?\s+or\s+")
_DOSE = re.compile(r"\b\d+(?:[.,]\d+)?(?:\s?(?:-|–|to)\s?\d+(?:[.,]\d+)?)?\s?(?:mg|micrograms?|mcg|g|ml|units?)(?:/kg)?\b",
                   re.I)
_FREQUENCY = re.compile(r"\b(?:once|twice|three times|four times)(?: a day| daily)?\b|\bevery \d+ hours\b", re.I)
_BAND = re.compile(r"\b\d{1,2}\s*(?:months?|years?)?\s*(?:to|-|–|until)\s*\d{1,2}\s*(?:months?|years?)\b"
                   r"|\b(?:under|over|aged)\s+\d{1,2}\b", re.I)


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
    banded = [(c, not _age_conflict(c, age)) for c in clauses if _BAND.search(c)]
    kept = [c for c, holds in banded if holds]
    if len(banded) < 2 or len(kept) != 1 or not _DOSE.search(kept[0]):
        return None
    first = clauses[0]
    dose = _DOSE.search(first)
    lead = first[:dose.start()] if dose else ""
    clause = kept[0].strip()
    if clause.startswith(lead.strip()) and lead.strip():
        lead = ""  # the kept clause is the first one: it has its lead-in already
    shared = _FREQUENCY.search(first)
    if shared and not _FREQUENCY.search(clause):
        own = _DOSE.search(clause)
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
