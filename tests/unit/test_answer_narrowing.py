"""Answers for this patient: a dose per age band or an allergy alternative narrowed to the
patient's clause, a section written for another group left out, and a treatment question led
by the sentence that gives the regimen (issue 13, population and composition rules)."""

from __future__ import annotations

import pytest

from pipelines.answer.compose import Request, compose, regimen_bonus
from pipelines.answer.narrow import for_patient
from pipelines.answer.patient import fit, read_patient
from pipelines.grading import question_terms
from tests.unit.test_answer_rules import passage, vocab_of

BANDS = ("First choice for pneumonia in children is amoxicillin for 5 days: 125 mg three times daily "
         "at 1-11 months, 250 mg at 1-4 years and 500 mg at 5-17 years.")


@pytest.mark.parametrize("question, expected", [
    ("3yo pneumonia, amoxicillin dose",
     "First choice for pneumonia in children is amoxicillin for 5 days: 250 mg three times daily at 1-4 years."),
    ("8 month old with pneumonia",
     "First choice for pneumonia in children is amoxicillin for 5 days: 125 mg three times daily at 1-11 months."),
    ("pneumonia in a child, dose?", BANDS),  # no age stated: the whole sentence
])
def test_a_dose_per_age_band_is_narrowed_to_the_patients_band(question: str, expected: str) -> None:
    assert for_patient(BANDS, read_patient(question)) == expected


def test_a_lead_in_that_names_another_band_or_no_drug_is_not_narrowed() -> None:
    """Narrowing must not keep the first clause's band beside this patient's dose, nor show a dose
    without the drug it is for: such a sentence is shown whole."""
    band_first = "Amoxicillin for children: at 1-4 years 250 mg, at 5-11 years 500 mg three times daily."
    assert for_patient(band_first, read_patient("7yo chest infection")) == band_first
    no_drug = "125 mg at 1-11 months, 250 mg at 1-4 years and 500 mg at 5-17 years."
    assert for_patient(no_drug, read_patient("3yo pneumonia")) == no_drug


def test_a_sentence_listing_several_bands_is_for_the_child_whose_band_it_holds() -> None:
    assert not fit(read_patient("3yo pneumonia"), BANDS).conflict
    assert fit(read_patient("3yo pneumonia"), "Amoxicillin at 5-17 years is 500 mg three times daily.").conflict


def test_an_allergy_alternative_is_all_the_allergic_patient_is_shown() -> None:
    sentence = ("For extensive infection, offer oral flucloxacillin 500 mg four times daily for 5-7 days, "
                "or clarithromycin 250 mg twice daily for penicillin allergy.")
    assert for_patient(sentence, read_patient("infected eczema, pen allergic")) == \
        "For extensive infection, offer oral clarithromycin 250 mg twice daily for penicillin allergy."
    assert for_patient(sentence, read_patient("infected eczema, adult")) == sentence


def test_a_section_written_for_another_group_gives_no_sentence() -> None:
    passages = [passage(1, "Offer trimethoprim 200 mg twice daily for 3 days.", title="Urinary tract infection",
                        section="Management › Non-pregnant women aged 16 and over"),
                passage(2, "Treat lower UTI in men for 7 days with trimethoprim 200 mg twice daily.",
                        title="Urinary tract infection", section="Management › Men")]
    vocab = vocab_of(passages)
    question = "man with cystitis, how long trimethoprim"
    composition = compose(Request(question, question_terms(question, vocab), read_patient(question)), passages, vocab)
    assert "for 7 days" in composition.markdown and "for 3 days" not in composition.markdown
    assert composition.left_out.get("for women") == 1


def test_a_treatment_question_is_led_by_the_sentence_that_gives_the_regimen() -> None:
    text = ("Offer an oral antibiotic to people with cellulitis who do not need admission.\n"
            "Offer oral flucloxacillin 500 mg four times daily for 5 to 7 days.")
    passages = [passage(1, text, title="Cellulitis")]
    vocab = vocab_of(passages)
    question = "cellulitis antibiotic adult"
    composition = compose(Request(question, question_terms(question, vocab), read_patient(question)), passages, vocab)
    assert composition.markdown.startswith("Offer oral flucloxacillin 500 mg")
    assert regimen_bonus("amoxicillin dose for a 3yo") > regimen_bonus("which antibiotic for cellulitis") > 0
    assert regimen_bonus("what are the symptoms of cellulitis") == 0


def test_an_older_patient_named_without_an_age_is_not_given_the_under_65_line() -> None:
    patient = read_patient("levothyroxine starting dose in an elderly man with IHD")
    assert patient.older and patient.age is None and patient.describe() == "an older person, male"
    assert fit(patient, "For adults under 65 with no heart disease, start at 1.6 micrograms per kg.").conflict
    assert fit(patient, "For people aged 65 and over, start at 25 micrograms a day.").specific
    assert not fit(patient, "Offer levothyroxine to adults with overt hypothyroidism.").conflict
    assert not read_patient("8yo boy, older brother has asthma").older
