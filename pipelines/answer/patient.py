"""The patient in the question, and whether a guideline sentence is written for them.

A question states facts about one patient ("8yo", "28 weeks pregnant", "pen allergic", "eGFR 25",
"68F"). A guideline sentence may be written for a population ("In children under 5...", "men with
a CHA2DS2-VASc score of 1", "If penicillin allergy, offer clarithromycin"). `fit` compares them:
a sentence for another population is not offered as this patient's answer, one for exactly this
patient's group is preferred, and a drug the passages themselves say to avoid for this patient
is never offered. These are readings of English phrases of age, sex, pregnancy, allergy and
kidney function, not lists of diagnoses: they hold for any guideline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ADULT_AGE = 18

# --- the question ------------------------------------------------------------------------------
_AGE = re.compile(r"\b(\d{1,3})\s*(?:-|\s)?(?:yo|y/o|y\.o\.|yrs?|years?|yr)(?:[\s-]*old)?\b"
                  r"|\b(\d{1,3})\s*([mf])\b|\baged\s+(\d{1,3})\b|\b(\d{1,3})\s*-?\s*year\s*-?\s*old", re.I)
_MONTHS_OLD = re.compile(r"\b(\d{1,2})\s*(?:-|\s)?(?:months?|mo|mths?|weeks?|wks?|days?)(?:[\s-]*old)\b", re.I)
_CHILD_WORDS = re.compile(r"\b(child|children|kid|kids|toddler|infant|baby|babies|newborn|neonate|boy|girl"
                          r"|son|daughter|paediatric|pediatric|schoolchild)\b", re.I)
_INFANT_WORDS = re.compile(r"\b(infant|baby|babies|newborn|neonate)\b", re.I)
_ADULT_WORDS = re.compile(r"\b(man|woman|men|women|adult|gentleman|lady|husband|wife|grandmother"
                          r"|grandfather|elderly|pensioner|mum|mother|father|dad)\b", re.I)
_FEMALE = re.compile(r"\b(woman|women|female|lady|girl|she|her|mum|mother|wife|daughter|grandmother)\b"
                     r"|\b\d{1,3}\s*f\b", re.I)
_MALE = re.compile(r"\b(man|men|male|gentleman|boy|he|his|him|father|dad|husband|son|grandfather)\b"
                   r"|\b\d{1,3}\s*m\b", re.I)
_PREGNANT = re.compile(r"\b(pregnan\w*|antenatal|\d{1,2}\s*/\s*40|\d{1,2}\s*(weeks?|wks?)\s*(pregnant|gestation)"
                       r"|trimester)\b", re.I)
_NOT_PREGNANT = re.compile(r"\b(not|isn't|isnt|no)\s+(\w+\s+)?pregnan", re.I)
_BREASTFEEDING = re.compile(r"\b(breast\s*-?\s*feed\w*|lactat\w*)\b", re.I)
_PENICILLIN_ALLERGY = re.compile(r"\b(pen(icillin)?|pcn|amoxicillin)\s*-?\s*allerg\w*|allerg\w*\s+(to\s+)?"
                                 r"(pen(icillin)?|pcn|amoxicillin)\b|\bpenicillin[- ]sensitiv\w*", re.I)
_EGFR = re.compile(r"\begfr\s*(?:of\s*|is\s*|=\s*|:\s*|~\s*)?(\d{1,3})\b", re.I)
# An older person named without an age: NICE's "older people" are 65 and over.
_OLDER_WORDS = re.compile(r"\b(elderly|frail|pensioner|older (?:adult|person|people|patient|man|woman|lady|gentleman)s?"
                          r"|old (?:lady|man|woman|gentleman)|over[- ]65s?)\b", re.I)
OLDER_AGE = 65
_SEVERE_RENAL = re.compile(r"\b(ckd\s*(stage\s*)?(g?4|g?5)|dialysis|renal failure|kidney failure|esrf)\b", re.I)


@dataclass(frozen=True)
class Patient:
    age: float | None = None  # years (0.5 for six months)
    child: bool = False
    infant: bool = False
    adult: bool = False
    sex: str | None = None  # "female" | "male"
    pregnant: bool = False
    not_pregnant: bool = False
    breastfeeding: bool = False
    penicillin_allergy: bool = False
    egfr: int | None = None
    severe_renal: bool = False
    older: bool = False  # "elderly", "older woman": 65 or over, no age given

    @property
    def stated(self) -> bool:
        return self != Patient()

    def describe(self) -> str:
        """The facts read from the question, in plain words (shown with the answer)."""
        parts = []
        if self.age is not None:
            parts.append(f"aged {self.age:g}" if self.age >= 1 else "under 1 year")
        elif self.child:
            parts.append("a child")
        elif self.older:
            parts.append("an older person")
        if self.sex:
            parts.append(self.sex)
        if self.pregnant:
            parts.append("pregnant")
        if self.breastfeeding:
            parts.append("breastfeeding")
        if self.penicillin_allergy:
            parts.append("penicillin allergy")
        if self.egfr is not None:
            parts.append(f"eGFR {self.egfr}")
        elif self.severe_renal:
            parts.append("severe kidney disease")
        return ", ".join(parts)


def read_patient(question: str) -> Patient:
    """The patient facts a question states; nothing is assumed that it does not say."""
    text = question
    age: float | None = None
    match = _AGE.search(text)
    if match:
        number = next(g for g in (match.group(1), match.group(2), match.group(4), match.group(5)) if g)
        age = float(number)
    months = _MONTHS_OLD.search(text)
    if months and age is None:
        unit = months.group(0).lower()
        n = float(months.group(1))
        age = n / 12 if "mo" in unit or "mth" in unit else n / 52 if "w" in unit else n / 365
    sex = None
    sex_match = re.search(r"\b\d{1,3}\s*([mf])\b", text, re.I)
    if sex_match:
        sex = "female" if sex_match.group(1).lower() == "f" else "male"
    elif _FEMALE.search(text) and not _MALE.search(text):
        sex = "female"
    elif _MALE.search(text) and not _FEMALE.search(text):
        sex = "male"
    pregnant = bool(_PREGNANT.search(text)) and not _NOT_PREGNANT.search(text)
    if pregnant:
        sex = "female"
    child = (age is not None and age < ADULT_AGE) or (age is None and bool(_CHILD_WORDS.search(text)))
    adult = (age is not None and age >= ADULT_AGE) or (age is None and not child and (
        bool(_ADULT_WORDS.search(text)) or pregnant))
    egfr_match = _EGFR.search(text)
    return Patient(
        age=age, child=child, infant=(age is not None and age < 1) or (age is None and bool(_INFANT_WORDS.search(text))),
        adult=adult, sex=sex, pregnant=pregnant, not_pregnant=bool(_NOT_PREGNANT.search(text)),
        breastfeeding=bool(_BREASTFEEDING.search(text)),
        penicillin_allergy=bool(_PENICILLIN_ALLERGY.search(text)),
        egfr=int(egfr_match.group(1)) if egfr_match else None, severe_renal=bool(_SEVERE_RENAL.search(text)),
        older=age is None and not child and bool(_OLDER_WORDS.search(text)))


# --- the sentence -------------------------------------------------------------------------------
_S_CHILD = re.compile(r"\b(children|child|infants?|babies|baby|neonates?|newborns?|toddlers?|paediatric"
                      r"|young people|under\s+(1[0-8]|[1-9])s?\b|boys|girls)\b", re.I)
_S_ADULT = re.compile(r"\b(adults?|aged (1[6-9]|[2-9]\d) (years )?(and|or) (over|older)|over (1[6-9]|[2-9]\d) years"
                      r"|(1[6-9]|[2-9]\d) years (and|or) (over|older)|older (people|adults)|men|women)\b", re.I)
_S_PREGNANT = re.compile(r"\b(pregnan\w*|antenatal|trimester)\b", re.I)
_S_BREASTFEEDING = re.compile(r"\b(breast\s*-?feed\w*|lactat\w*)\b", re.I)
_S_MEN = re.compile(r"\b(men|males?|man)\b", re.I)
_S_WOMEN = re.compile(r"\b(women|females?|woman)\b", re.I)
_S_ALLERGY = re.compile(r"\b(penicillin|beta-lactam)\s+(allerg\w*|hypersensitiv\w*)|allerg\w*\s+to\s+penicillin"
                        r"|\bpenicillin[- ]allergic\b", re.I)
# "aged 1 to 5 years", "6 to 11 years", "12 to 17 years", "1 month to 11 months", "18 years and over"
_RANGE = re.compile(r"\b(\d{1,2})\s*(months?|years?)?\s*(?:to|-|–|until)\s*(\d{1,2})\s*(months?|years?)\b", re.I)
_UNDER = re.compile(r"\b(?:under|younger than|less than|below)\s+(\d{1,2})\s*(months?|years?)\b", re.I)
# Unitless ages only after a word that says they are ages ("adults under 65", "children aged 5 to
# 11", "people aged 65 and over"): "eGFR below 30" and "BMI over 25" are not ages.
_AGED = r"(?:adults?|children|child|people|persons?|patients|those|women|men|aged|age|anyone|infants)"
_AGED_RANGE = re.compile(rf"\b{_AGED}\s+(?:aged\s+)?(\d{{1,2}})\s*(?:to|-|–)\s*(\d{{1,2}})\b(?!\s*(?:kg|mg|%|months?))", re.I)
_AGED_UNDER = re.compile(rf"\b{_AGED}\s+(?:aged\s+)?(?:under|younger than|below|less than)\s+(\d{{1,2}})\b(?!\s*(?:kg|mg|%|months?|weeks?))", re.I)
_AGED_OVER = re.compile(rf"\b{_AGED}\s+(?:aged\s+)?(?:over|older than|above)\s+(\d{{1,2}})\b(?!\s*(?:kg|mg|%))"
                        rf"|\b{_AGED}\s+aged\s+(\d{{1,2}})\s*(?:years?\s+)?(?:and|or)\s+(?:over|older|above)\b", re.I)
# Written for people who do not have a condition, or are not pregnant.
_WITHOUT = re.compile(r"\b(?:without|who do not have|with no|no history of)\s+([a-z0-9' -]{3,40})", re.I)
_S_NOT_PREGNANT = re.compile(r"\b(non-?pregnant|not pregnant|who are not pregnant)\b", re.I)
_SYSTEMIC_DOSE = re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|g|micrograms?)\b(?!/kg)", re.I)
_PENICILLINS = re.compile(r"\b(\w*cillin|co-amoxiclav|piperacillin|tazocin|penicillin v)\b", re.I)
_AVOID = re.compile(r"\b(avoid\w*|do not (use|offer|give|prescribe)|don't (use|give)|contraindicated|not recommended"
                    r"|should not be (used|given|offered|prescribed)|must not)\b", re.I)
_EGFR_LIMIT = re.compile(r"\begfr\b[^.]{0,30}?(?:below|under|less than|<|of less than)\s*(\d{2})", re.I)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _years(value: str, unit: str | None) -> float:
    n = float(value)
    return n / 12 if unit and unit.lower().startswith("month") else n


def age_bands(sentence: str, age: float) -> list[bool]:
    """For each age band the sentence names, whether it holds this age."""
    holds: list[bool] = []
    for match in _RANGE.finditer(sentence):
        unit = match.group(4)
        low = _years(match.group(1), match.group(2) or unit)
        high = _years(match.group(3), unit)
        if low <= high and "kg" not in sentence[match.end():match.end() + 4]:
            holds.append(low <= age < high + 1)
    for match in _UNDER.finditer(sentence):
        holds.append(age < _years(match.group(1), match.group(2)))
    for match in _AGED_RANGE.finditer(sentence):
        low, high = float(match.group(1)), float(match.group(2))
        if low <= high:
            holds.append(low <= age < high + 1)
    for match in _AGED_UNDER.finditer(sentence):
        holds.append(age < float(match.group(1)))
    for match in _AGED_OVER.finditer(sentence):
        holds.append(age >= float(match.group(1) or match.group(2)))
    return holds


def _age_conflict(sentence: str, age: float) -> bool:
    """The sentence names age bands and none of them holds this age. A sentence that lists
    several bands ("125 mg at 1-11 months, 250 mg at 1-4 years and 500 mg at 5-17 years") is a
    dosing row for each of them: it is for this child when one of its bands is."""
    holds = age_bands(sentence, age)
    return bool(holds) and not any(holds)


def drug_words(sentence: str) -> set[str]:
    """Words of a sentence English rarely uses (zipf below 2.5): the drug and test names."""
    from pipelines.retrieval import english_word

    return {w for w in re.findall(r"[a-z][a-z-]{4,}", sentence.lower()) if not english_word(w)}


@dataclass
class Fit:
    """How one sentence suits the patient: `conflict` keeps it out, `specific` prefers it."""

    conflict: str | None = None  # why it is for someone else
    specific: bool = False  # written for this patient's group
    other_group: bool = False  # written for a group the patient is not known to be in


def avoided_for(patient: Patient, sentences: list[str]) -> set[str]:
    """Drugs the passages themselves say to avoid for this patient ("Avoid trimethoprim in the
    first trimester of pregnancy", "do not use nitrofurantoin if eGFR is below 45")."""
    out: set[str] = set()
    for sentence in sentences:
        if not _AVOID.search(sentence):
            continue
        applies = ((patient.pregnant and _S_PREGNANT.search(sentence))
                   or (patient.breastfeeding and _S_BREASTFEEDING.search(sentence))
                   or (patient.penicillin_allergy and _S_ALLERGY.search(sentence)))
        limit = _EGFR_LIMIT.search(sentence)
        if limit and patient.egfr is not None and patient.egfr < int(limit.group(1)):
            applies = True
        if applies:
            out |= drug_words(_AVOID.split(sentence, maxsplit=1)[-1]) - drug_words("pregnancy breastfeeding")
    return out


def fit(patient: Patient, sentence: str, avoided: set[str] = frozenset(),  # type: ignore[assignment]
        conditions: tuple[str, ...] = ()) -> Fit:
    """Whether `sentence` is written for this patient, someone else, or anyone. `conditions` are
    the ones the question says the patient has: a sentence "for people without type 2 diabetes"
    is not for them."""
    result = Fit()
    child_s, adult_s = bool(_S_CHILD.search(sentence)), bool(_S_ADULT.search(sentence))
    if patient.adult and child_s and not adult_s:
        result.conflict = "for children"
    elif patient.child and adult_s and not child_s and not re.search(r"young people|aged 1[2-7]", sentence, re.I):
        result.conflict = "for adults"
    elif patient.age is not None and _age_conflict(sentence, patient.age):
        result.conflict = "for another age group"
    elif patient.older and all(_age_conflict(sentence, a) for a in range(OLDER_AGE, 100, 5)):
        result.conflict = "for another age group"  # "adults under 65" for an elderly patient
    men, women = bool(_S_MEN.search(sentence)), bool(_S_WOMEN.search(sentence))
    if patient.sex == "female" and men and not women:
        result.conflict = result.conflict or "for men"
    if patient.sex == "male" and (women and not men or _S_PREGNANT.search(sentence)):
        result.conflict = result.conflict or "for women"
    not_pregnant_s = bool(_S_NOT_PREGNANT.search(sentence))
    pregnancy_s = bool(_S_PREGNANT.search(_S_NOT_PREGNANT.sub(" ", sentence)))
    if patient.pregnant and not_pregnant_s and not pregnancy_s:
        result.conflict = result.conflict or "for people who are not pregnant"
    for match in _WITHOUT.finditer(sentence):
        lacking = match.group(1).lower()
        if any(c in lacking for c in conditions):
            result.conflict = result.conflict or f"for people without {next(c for c in conditions if c in lacking)}"
    banded = bool(_RANGE.search(sentence) or _UNDER.search(sentence) or _AGED_RANGE.search(sentence)
                  or _AGED_UNDER.search(sentence))
    if patient.child and banded and not result.conflict:
        child_s = True  # "at 1-4 years is 250 mg": an age band that holds this child
    if patient.child and not child_s and _SYSTEMIC_DOSE.search(sentence) and "kg" not in sentence.lower():
        result.conflict = result.conflict or "an adult dose"
    if pregnancy_s and (patient.child or patient.not_pregnant) and not patient.pregnant:
        result.conflict = result.conflict or "for pregnancy"
    allergy_s = bool(_S_ALLERGY.search(sentence))
    if patient.penicillin_allergy:
        if _PENICILLINS.search(sentence) and not allergy_s and not _AVOID.search(sentence):
            result.conflict = result.conflict or "a penicillin (allergy)"
    used = drug_words(sentence) & avoided
    if used and not _AVOID.search(sentence):
        result.conflict = result.conflict or f"{', '.join(sorted(used))} (to be avoided for this patient)"
    result.specific = bool(
        (patient.pregnant and pregnancy_s) or (patient.breastfeeding and _S_BREASTFEEDING.search(sentence))
        or (patient.penicillin_allergy and allergy_s) or (patient.child and child_s)
        or (patient.older and not result.conflict and bool(_AGED_OVER.search(sentence) or _AGED_RANGE.search(sentence)))
        or (patient.egfr is not None and re.search(r"\begfr\b|renal|kidney function", sentence, re.I)))
    result.other_group = not result.specific and bool(
        (pregnancy_s and not patient.pregnant) or (allergy_s and not patient.penicillin_allergy)
        or (child_s and not adult_s and not patient.child))
    return result
