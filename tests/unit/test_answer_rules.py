"""The answer rules on hand-made passages: the patient in the question, emergencies, follow-ups,
spelling repair, placeholders, repeats and table rows (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.answer.compose import Request, compose, redundant, candidates
from pipelines.answer.emergency import urgent_action
from pipelines.answer.followup import condense
from pipelines.answer.patient import avoided_for, fit, read_patient
from pipelines.answer.phrasing import is_instruction, key_phrase, row_text, table_rows
from pipelines.grading import _covered, drug_class, measure, question_terms
from pipelines.models import Passage
from pipelines.retrieval import Vocabulary
from pipelines.safety import red_flags, search_text


def passage(n: int, text: str, title: str = "Sore throat", section: str = "Management",
            similarity: float = 0.6, kind: str = "recommendation") -> Passage:
    return Passage(id=f"p{n}", text=text, title=title, publisher="Demo", section=section, page=n,
                   url="", last_reviewed="2024-01-01", specialty="General",
                   guideline_id=title.lower().replace(" ", "-"), version="1", similarity=similarity,
                   rank=n, kind=kind)


def vocab_of(passages: list[Passage]) -> Vocabulary:
    return Vocabulary.from_payloads([{"title": p.title, "section": p.section, "text": p.text} for p in passages])


# The patient ------------------------------------------------------------------------------------
@pytest.mark.parametrize("question, facts", [
    ("68F new AF, CHA2DS2-VASc 3", {"age": 68, "sex": "female", "adult": True}),
    ("8yo with an asthma attack", {"age": 8, "child": True, "adult": False}),
    ("28 weeks pregnant with a UTI", {"pregnant": True, "sex": "female", "age": None}),
    ("pen allergic cellulitis", {"penicillin_allergy": True}),
    ("eGFR 25, UTI - nitrofurantoin?", {"egfr": 25}),
    ("6 month old baby with fever", {"infant": True, "child": True}),
    ("not pregnant, 30F dysuria", {"pregnant": False, "not_pregnant": True}),
])
def test_the_patient_is_read_from_the_question(question: str, facts: dict) -> None:
    patient = read_patient(question)
    for name, value in facts.items():
        assert getattr(patient, name) == value, name


@pytest.mark.parametrize("question, sentence, conflict", [
    ("68F new AF", "Consider anticoagulation for men with a CHA2DS2-VASc score of 1.", True),
    ("68F new AF", "Offer anticoagulation to people with a CHA2DS2-VASc score of 2 or more.", False),
    ("8yo asthma attack", "In adults, give prednisolone 40-50 mg daily for 5 days.", True),
    ("8yo asthma attack", "For children aged 2 to 5 years, give prednisolone 20 mg.", True),
    ("8yo asthma attack", "For children aged 6 to 11 years, give prednisolone 30 to 40 mg.", False),
    ("45M cellulitis, penicillin allergy", "Offer flucloxacillin 500 mg four times a day.", True),
    ("45M cellulitis, penicillin allergy", "If penicillin allergy, offer clarithromycin 500 mg.", False),
    ("40M sore throat", "In pregnancy, offer erythromycin.", True),
])
def test_a_sentence_for_another_population_conflicts(question: str, sentence: str, conflict: bool) -> None:
    assert bool(fit(read_patient(question), sentence).conflict) is conflict


def test_a_drug_the_guideline_says_to_avoid_for_this_patient_is_not_offered() -> None:
    patient = read_patient("28 weeks pregnant, UTI")
    sentences = ["Avoid trimethoprim in the first trimester of pregnancy.",
                 "Offer trimethoprim 200 mg twice a day for 3 days.",
                 "Offer nitrofurantoin 100 mg modified-release twice a day for 7 days."]
    avoided = avoided_for(patient, sentences)
    assert "trimethoprim" in avoided
    assert fit(patient, sentences[1], avoided).conflict
    assert not fit(patient, sentences[2], avoided).conflict
    assert not avoided_for(read_patient("30F UTI"), sentences)  # not pregnant: nothing avoided


def test_the_population_specific_line_leads_and_the_other_population_is_left_out() -> None:
    text = ("Offer phenoxymethylpenicillin 500 mg four times a day for 5 to 10 days.\n"
            "If penicillin allergy, offer clarithromycin 250 mg to 500 mg twice a day for 5 days.\n"
            "Offer paracetamol or ibuprofen for pain relief in sore throat.")
    passages = [passage(1, text)]
    vocab = vocab_of(passages)
    question = "sore throat, penicillin allergy, which antibiotic"
    composition = compose(Request(question, question_terms(question, vocab), read_patient(question)), passages, vocab)
    assert composition.markdown.startswith("If penicillin allergy, offer clarithromycin")
    assert "phenoxymethylpenicillin" not in composition.markdown
    assert composition.left_out == {"a penicillin (allergy)": 1}
    # The same passage without the allergy: the penicillin is offered, the allergy line does not lead.
    plain = "sore throat which antibiotic"
    other = compose(Request(plain, question_terms(plain, vocab), read_patient(plain)), passages, vocab)
    assert "phenoxymethylpenicillin" in other.markdown
    assert not other.markdown.startswith("If penicillin allergy")


# Emergencies -----------------------------------------------------------------------------------
def test_a_presentation_red_flag_is_answered_with_the_guidelines_urgent_action() -> None:
    question = "central crushing chest pain 20 minutes ago at the surgery, what do I do?"
    flags = red_flags(question)
    assert flags and flags[0].presenting
    passages = [passage(1, "Chest pain can have many causes, including reflux and muscle strain.",
                        title="Chest pain (acute coronary syndrome)", section="Overview", similarity=0.55),
                passage(2, "Call 999 for anyone with suspected acute coronary syndrome and chest pain in the "
                           "last 12 hours. Give aspirin 300 mg unless they are allergic.",
                        title="Chest pain (acute coronary syndrome)", section="Red flags", similarity=0.5)]
    urgent = urgent_action(flags, passages, read_patient(question), question)
    assert urgent is not None and urgent.text.startswith("Call 999")
    vocab = vocab_of(passages)
    composition = compose(Request(question, question_terms(question, vocab)), passages, vocab, urgent)
    assert composition.markdown.startswith("**Urgent:** Call 999")


def test_naming_a_condition_shows_the_banner_but_does_not_make_it_an_emergency() -> None:
    flags = red_flags("when to start a DOAC after an ischaemic stroke in AF")
    assert [f.name for f in flags] == ["Stroke or TIA"] and not flags[0].presenting
    passages = [passage(1, "Call 999 for anyone with current stroke symptoms.", title="Stroke and TIA")]
    assert urgent_action(flags, passages, read_patient("x")) is None


def test_asking_which_of_two_it_is_is_not_answered_as_the_emergency() -> None:
    question = "45M epigastric burning after meals, crushing chest pain - ACS or reflux?"
    passages = [passage(1, "Call 999 for suspected acute coronary syndrome with chest pain now.",
                        title="Chest pain (acute coronary syndrome)")]
    assert urgent_action(red_flags(question), passages, read_patient(question), question) is None


# Spelling, placeholders, coverage ----------------------------------------------------------------
def test_spelling_repair_never_rewrites_an_english_word() -> None:
    vocab = Vocabulary.from_payloads([{"title": "Cushing's syndrome", "section": "", "text": "cushing amoxicillin"}])
    assert vocab.correct("crushing") is None  # an English word: kept, never "cushing"
    assert vocab.correct("amoxicilin") == "amoxicillin"  # a misspelling no dictionary knows


def test_spelling_repair_compares_only_the_lengths_difflib_could_accept() -> None:
    """Repair looks only at library terms of a length close enough to pass the cutoff, and
    finds what difflib finds among every term with the same first letter."""
    import difflib
    import itertools

    words = ["nitrofurantoin", "nitrofurantoins", "nitrates", "nitrazepam", "nitroglycerin",
             "clarithromycin", "clindamycin", "clopidogrel", "flucloxacillin", "fluconazole",
             "trimethoprimsulfa", "trimethoprim", "tamsulosin", "terbinafine"]
    vocab = Vocabulary.from_payloads([{"title": "", "section": "", "text": " ".join(words)}])
    misspelt = ["nitrofurantion", "nitrofurantoinss", "nitrofuran", "clarithromicin", "clindamicyn",
                "flucloxacilin", "flucloxacillinnn", "trimethoprimsulf", "tamsulosine", "terbinafin"]
    for word in itertools.chain(misspelt, [w[::-1] for w in misspelt]):
        if not word.isalpha() or word in vocab.df:
            continue
        options = [t for t in vocab.df if len(t) >= 5 and t[0] == word[0]]
        want = difflib.get_close_matches(word, options, n=1, cutoff=0.85)
        assert vocab.correct(word) == (want[0] if want else None), word
    assert vocab.correct("nitrofurantion") == "nitrofurantoin"


def test_placeholders_and_vignette_detail_do_not_count_as_missing_terms() -> None:
    text = "Offer amoxicillin 500 mg three times a day for 5 days for community-acquired pneumonia."
    passages = [passage(1, text, title="Pneumonia", section="Management")]
    others = [{"title": f"Guideline {i}", "section": "Overview", "text": f"topic{i} advice and follow up"}
              for i in range(40)]
    vocab = Vocabulary.from_payloads(others + [{"title": "Pneumonia", "section": "Management", "text": text}])
    question = search_text("NHS number [NHS number] pneumonia amoxicillin dose, fell twice last week")
    assert "[" not in question
    evidence = measure(question, passages, vocab)
    assert "nhs" not in evidence.missing_terms and evidence.coverage > 0.6


def test_coverage_uses_word_families_openings_and_drug_classes() -> None:
    present = {"wheeze", "vomiting"}
    roots = {"wheez", "vomit"}
    assert _covered("vomited", present, roots, "")
    assert _covered("wheezy", present, roots, "")  # shares the opening "wheez"
    assert drug_class("ramipril") == ("ace inhibitor", "ace inhibitors", "acei")
    assert _covered("ramipril", set(), set(), " offer an ace inhibitor ")
    assert not _covered("ramipril", set(), set(), " offer a statin ")


# Follow-ups ----------------------------------------------------------------------------------
@pytest.mark.parametrize("question, merged", [
    ("and in pregnancy?", True),
    ("what about if penicillin allergic", True),
    ("what dose?", True),
    ("AF anticoagulation CKD", False),  # names a condition of its own
    ("statin for CKD", False),
])
def test_a_short_question_is_merged_only_when_it_is_a_follow_up(question: str, merged: bool) -> None:
    result = condense(question, ["first line statin for primary prevention"])
    assert result.merged is merged
    assert result.query.startswith("first line statin") is merged


@pytest.mark.parametrize("question, merged", [
    ("still not at target, what to add?", True),  # seven words, every one everyday English
    ("how long should the course of treatment be for her", True),
    ("what is the first line treatment for gout flare", False),  # names a condition
    ("is atorvastatin or rosuvastatin better after a heart attack", False),  # names drugs
    ("which test confirms coeliac disease in a child of nine", False),
])
def test_a_longer_question_of_everyday_words_only_is_a_follow_up(question: str, merged: bool) -> None:
    assert condense(question, ["58F hypertension, on amlodipine 10mg"]).merged is merged


def test_a_follow_ups_own_fact_changes_the_answer() -> None:
    text = ("Offer flucloxacillin 500 mg four times a day for 5 to 7 days for cellulitis.\n"
            "If penicillin allergy, offer clarithromycin 500 mg twice a day for 5 to 7 days.")
    passages = [passage(1, text, title="Cellulitis")]
    vocab = vocab_of(passages)
    first = "cellulitis antibiotic"
    follow = condense("what if penicillin allergic", [first])
    before = compose(Request(first, question_terms(first, vocab), read_patient(first)), passages, vocab)
    after = compose(Request(follow.query, question_terms(follow.query, vocab), read_patient(follow.query),
                            list(follow.own_terms)), passages, vocab)
    assert before.markdown.startswith("Offer flucloxacillin")
    assert after.markdown.startswith("If penicillin allergy") and "flucloxacillin" not in after.markdown


# Composition -----------------------------------------------------------------------------------
def test_sentences_that_mean_the_same_are_not_both_bullets() -> None:
    text = ("Nocturnal leg cramps are common in older adults and usually harmless.\n"
            "Nocturnal leg cramps often affect older people and are mostly benign.")
    p = passage(1, text, title="Leg cramps", section="Overview")
    p.sentence_similarity = (0.6, 0.59)
    v = np.array([[1.0, 0.0], [0.95, 0.31]], dtype=np.float32)
    p.sentence_vectors = v / np.linalg.norm(v, axis=1, keepdims=True)
    vocab = vocab_of([p])
    ranked = candidates(Request("leg cramps", ["leg", "cramp"]), [p], vocab)
    assert redundant(ranked[1], ranked[:1])


def test_a_sentence_close_in_meaning_with_its_own_number_or_drug_is_not_a_repeat() -> None:
    text = ("An ABPI below about 0.5 suggests severe disease.\n"
            "An ABPI below 0.9 supports a diagnosis of PAD.\n"
            "Women without a uterus are given oestrogen-only HRT.\n"
            "Women with a uterus need oestrogen plus a progestogen to protect the endometrium.\n"
            "An ABPI below about 0.5 means the disease is severe.")
    p = passage(1, text, title="Peripheral arterial disease", section="Diagnosis")
    p.sentence_similarity = (0.6, 0.59, 0.58, 0.57, 0.56)
    v = np.array([[1.0, 0.0], [0.97, 0.24], [0.0, 1.0], [0.2, 0.98], [0.99, 0.14]], dtype=np.float32)
    p.sentence_vectors = v / np.linalg.norm(v, axis=1, keepdims=True)
    ranked = candidates(Request("abpi", ["abpi"]), [p], vocab_of([p]))

    def said(start: str):
        return next(c for c in ranked if c.text.startswith(start))

    first, other_threshold = said("An ABPI below about 0.5 suggests"), said("An ABPI below 0.9")
    assert not redundant(other_threshold, [first])  # 0.9 is another threshold than 0.5
    assert not redundant(said("Women with a uterus"), [said("Women without")])  # a progestogen
    assert redundant(said("An ABPI below about 0.5 means"), [first, other_threshold])  # same fact


def test_key_phrases_are_whole_or_absent() -> None:
    assert key_phrase("Offer amoxicillin for 5 days.")[0] == "Offer amoxicillin"
    assert key_phrase("Treating a flare: offer an NSAID.")[0] == "Treating a flare:"
    phrase, rest = key_phrase("A long and winding subject of many words here is what matters most.")
    assert phrase == "" and rest.startswith("A long")  # no verb in reach: nothing bolded
    assert is_instruction("If penicillin allergy, offer clarithromycin.")
    assert not is_instruction("Cellulitis is a skin infection.")


def test_a_dose_row_is_shown_with_its_drug_and_population() -> None:
    text = ("| Population | Antibiotic and dose |\n| --- | --- |\n"
            "| Children 1 to 11 months | Amoxicillin 125 mg three times a day |\n"
            "| Adults | Amoxicillin 500 mg three times a day |")
    rows = table_rows(text)
    line = "| Adults | Amoxicillin 500 mg three times a day |"
    assert rows[line] == ["Population", "Antibiotic and dose"]
    assert row_text(line, rows[line]) == "Adults — Amoxicillin 500 mg three times a day"
    p = passage(1, text, title="Otitis media", section="Antibiotic doses", kind="table")
    vocab = vocab_of([p])
    question = "45M otitis media amoxicillin dose"
    composition = compose(Request(question, question_terms(question, vocab), read_patient(question)), [p], vocab)
    assert composition.markdown.startswith("Adults — Amoxicillin 500 mg")
    assert "125 mg" not in composition.markdown  # the children's row is left out for an adult


def test_a_follow_up_of_a_follow_up_keeps_the_first_subject() -> None:
    history = ["sore throat 3 days, feverpain 4, what abx?", "what if pen allergic?"]
    result = condense("and in pregnancy?", history)
    assert result.merged and result.query.startswith("sore throat 3 days")
    assert "pen allergic" in result.query and result.query.endswith("and in pregnancy?")
    fresh = condense("statin for CKD", history)  # a subject of its own: searched alone
    assert not fresh.merged and fresh.query == "statin for CKD"


def test_urgency_ranks_an_ambulance_over_hours_over_a_clinic_and_reads_resolved() -> None:
    from pipelines.answer.emergency import RESOLVED, urgency
    assert urgency("Call 999 for any sudden focal neurological deficit that is present now.") == 2
    assert urgency("Send to the emergency department now.") == 2
    assert urgency("Refer immediately for specialist assessment.") == 1
    assert urgency("Review within 4 hours of onset.") == 1
    assert urgency("Refer to the TIA clinic within 24 hours of symptom onset.") == 0
    assert RESOLVED.search("arm weakness yesterday, now fully resolved")
    assert not RESOLVED.search("arm weakness started 30 minutes ago")
    for ongoing in ("crushing chest pain since yesterday, still there", "speech not resolved yet",
                    "no longer able to lift the arm", "weakness hasn't settled"):
        assert not RESOLVED.search(ongoing), ongoing
