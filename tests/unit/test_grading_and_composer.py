"""Confidence grading as a pure function of Evidence, and the offline extractive composer on
hand-made passages: house format, copied sentences only, no repeats, citations from [1]."""

from __future__ import annotations

import re

import pytest

from pipelines.answer.compose import Request, compose, intents
from pipelines.answer.phrasing import root
from pipelines.answer.confidence import Thresholds, grade
from pipelines.grading import (Evidence, asks_to_differentiate, discussed, measure,
                               named_conditions, question_terms)
from pipelines.models import Passage
from pipelines.retrieval import Vocabulary
from pipelines.text import split_sentences

T = Thresholds()


@pytest.mark.parametrize("evidence, level", [
    (Evidence(0.70, 3, 0.95, ()), "high"),
    (Evidence(0.70, 1, 0.95, ()), "moderate"),           # one guideline only: not high
    (Evidence(0.50, 3, 0.70, ("x",)), "moderate"),
    (Evidence(0.50, 3, 0.50, ("x", "y")), "low"),
    (Evidence(0.40, 3, 0.60, ()), "low"),
    (Evidence(0.20, 3, 1.00, ()), "insufficient"),        # below the similarity floor
    (Evidence(0.80, 3, 0.20, ("poem", "sea")), "insufficient"),  # key terms missing
    (Evidence(0.45, 2, 0.40, ("sea",)), "insufficient"),  # weak on both gates
    (Evidence(0.70, 3, 0.95, (), support=0.6), "low"),    # a model answer half unsupported
    (Evidence(0.70, 3, 0.95, (), support=0.3), "insufficient"),
    (Evidence(0.70, 3, 0.95, (), support=1.0), "high"),
])
def test_grade_levels(evidence: Evidence, level: str) -> None:
    assert grade(evidence, T).level == level


def test_grade_reasons_name_the_missing_terms() -> None:
    confidence = grade(Evidence(0.8, 3, 0.2, ("poem", "sea")), T)
    assert any("poem" in r and "sea" in r for r in confidence.reasons)
    assert confidence.label == "No guidance found"


def test_grade_is_monotonic_in_similarity() -> None:
    order = ["insufficient", "low", "moderate", "high"]
    levels = [order.index(grade(Evidence(s / 100, 3, 0.9, ()), T).level) for s in range(0, 100, 5)]
    assert levels == sorted(levels) and levels[0] == 0 and levels[-1] == 3


def passage(n: int, text: str, title: str = "Leg cramps", section: str = "Assessment",
            similarity: float = 0.7) -> Passage:
    return Passage(id=f"p{n}", text=text, title=title, publisher="Demo", section=section, page=n,
                   url="https://example.org", last_reviewed="2024-01-01", specialty="General",
                   guideline_id=title.lower().replace(" ", "-"), version="1", similarity=similarity,
                   rank=n)


PASSAGES = [
    passage(1, "Nocturnal leg cramps are sudden, painful contractions of the calf muscles at night.\n"
               "- Cramps last seconds to minutes and the muscle is hard and tender afterwards.\n"
               "- Claudication causes calf pain on walking that is relieved by rest.\n"
               "Leg cramps are common in older adults and in pregnancy.", section="Overview"),
    passage(2, "Differentiate cramps from restless legs syndrome, which causes an urge to move the "
               "legs without muscle contraction. Peripheral neuropathy causes burning or numbness "
               "rather than muscle cramps. Deep vein thrombosis causes persistent calf swelling "
               "and tenderness, not brief cramps.", section="Differential diagnosis", similarity=0.66),
    passage(3, "Drugs that can cause leg cramps include diuretics, statins and long-acting beta "
               "agonists. Check renal function, electrolytes and thyroid function if cramps are "
               "frequent.", section="Investigations", similarity=0.6),
    passage(4, "Stretching the calf muscles before bed may help some people with night cramps. "
               "Quinine is not routinely recommended because of serious adverse effects.",
            title="Leg cramps", section="Management", similarity=0.58),
]
VOCAB = Vocabulary.from_payloads([{"title": p.title, "section": p.section, "text": p.text}
                                  for p in PASSAGES] + [{"title": "Gout", "section": "Overview",
                                                         "text": "Gout is crystal arthritis."}])
QUESTION = "How can I differentiate nocturnal leg cramps from other causes of leg pain?"


@pytest.fixture(scope="module")
def composition():
    return compose(Request(QUESTION, question_terms(QUESTION, VOCAB)), PASSAGES, VOCAB)


def test_composer_writes_the_house_format(composition) -> None:
    lines = composition.markdown.split("\n")
    bullets = [line for line in lines if line.startswith("- ")]
    assert 3 <= len(bullets) <= 6
    assert all(b.startswith("- **") for b in bullets)
    assert lines[0] and not lines[0].startswith(("-", "**"))  # a lead sentence first
    assert re.search(r"\[\d+\]$", lines[0])
    assert not any("In summary" in line for line in lines)  # no fake summary offline


def _plain(line: str) -> str:
    line = re.sub(r"\s*\[\d+\]", "", line).strip()
    line = line.removeprefix("**In summary**:").removeprefix("- ").strip()
    return line.replace("**", "")  # key phrases are bolded in place: the words are the passage's


def test_every_sentence_is_copied_from_a_passage(composition) -> None:
    texts = [" ".join(p.text.split()) for p in PASSAGES]
    sentences = [_plain(line) for line in composition.markdown.split("\n") if line.strip()]
    assert sentences
    for sentence in sentences:
        assert any(sentence in text for text in texts), sentence


def test_no_sentence_repeats(composition) -> None:
    sentences = [_plain(line) for line in composition.markdown.split("\n") if line.strip()]
    assert len(sentences) == len(set(sentences))


def test_citations_number_from_one_and_match_used_passages(composition) -> None:
    cited = [int(n) for n in re.findall(r"\[(\d+)\]", composition.markdown)]
    assert sorted(set(cited)) == list(range(1, len(composition.used) + 1))
    assert cited[0] == 1
    for line in composition.markdown.split("\n"):
        for n in re.findall(r"\[(\d+)\]", line):
            assert _plain(line) in " ".join(composition.used[int(n) - 1].text.split())


@pytest.mark.parametrize("word, family", [
    ("treated", "treat"), ("treating", "treat"), ("treatment", "treat"), ("managed", "manag"),
    ("management", "manag"), ("doses", "dose"), ("give", "give"), ("need", "need"),
])
def test_root_joins_word_families(word: str, family: str) -> None:
    assert root(word) == family


@pytest.mark.parametrize("question, asked", [
    ("How should acute gout be treated?", ["treatment"]),
    ("cellulitis abx choice and dose", ["treatment"]),
    ("which kids with croup need hospital?", ["referral"]),
    ("red flags in back pain", ["red flags"]),
    ("how to confirm a diagnosis of hypertension", ["diagnosis"]),
    ("leg cramps", []),
])
def test_intents_say_what_a_question_asks_for(question: str, asked: list[str]) -> None:
    assert intents(question) == asked


def test_a_treatment_question_is_answered_from_the_management_passage() -> None:
    about = passage(1, "Gout typically causes sudden flares of severe joint pain in the big toe.",
                    title="Gout", section="Overview", similarity=0.62)
    netting = passage(2, "Advise people to seek help if a joint keeps getting worse despite treatment.",
                      title="Gout", section="Safety netting", similarity=0.66)
    management = passage(7, "Treating a gout flare: offer an NSAID, colchicine or a short oral "
                            "corticosteroid course first line.", title="Gout", section="Management",
                         similarity=0.55)
    passages = [about, netting, management]
    vocab = Vocabulary.from_payloads([{"title": p.title, "section": p.section, "text": p.text} for p in passages])
    question = "How should acute gout be treated?"
    composition = compose(Request(question, question_terms(question, vocab)), passages, vocab)
    assert composition.markdown.startswith("Treating a gout flare: offer an NSAID")
    assert composition.used[0] is management
    # Without the question's intent and word families it was the overview that led.
    plain = compose(Request("", ["acute", "gout", "treated"]), passages, vocab)
    assert not plain.markdown.startswith("Treating a gout flare")


def test_composer_returns_nothing_without_passages() -> None:
    empty = compose(Request("cramp", ["cramp"]), [], VOCAB)
    assert empty.markdown == "" and empty.used == []


def test_measure_finds_terms_and_agreement() -> None:
    evidence = measure(QUESTION, PASSAGES, VOCAB)
    assert evidence.agreement == 4
    assert evidence.top_similarity == pytest.approx(0.7)
    assert evidence.coverage > 0.6
    off_topic = measure("write me a poem about the sea", PASSAGES, VOCAB)
    assert off_topic.coverage < 0.3 and "poem" in off_topic.missing_terms


def test_split_sentences_keeps_list_items_apart() -> None:
    parts = split_sentences(PASSAGES[0].text)
    assert parts[1].startswith("Cramps last") and parts[2].startswith("Claudication")


# Named conditions the library mentions only in passing -------------------------------------------
@pytest.mark.parametrize("question, conditions", [
    ("open-angle glaucoma first line eye drops", ["open-angle glaucoma"]),
    ("red eye with halos - acute angle closure glaucoma?", ["acute angle-closure glaucoma"]),
    ("Crohns flare in pregnancy", ["crohn's disease"]),
    ("new AF in a 70yo, rate control?", ["atrial fibrillation"]),
    ("migraines and the pill", ["migraine"]),
    ("18 month old, cap refill 3 sec, no focus", []),   # "cap" is not pneumonia here
    ("calf pain on walking", []),                        # symptoms are not conditions
])
def test_named_conditions_longest_name_first(question: str, conditions: list[str]) -> None:
    assert list(named_conditions(question)) == conditions


@pytest.mark.parametrize("question, subjects", [
    ("TSH 28, low FT4, 74yo with known angina - levothyroxine starting dose?", []),
    ("pmh of asthma, now has gout - naproxen ok?", ["gout"]),
    ("pulse irregular at the flu clinic, no previous stroke - anticoag?", []),
    ("flu symptoms in a care home resident", ["influenza"]),
])
def test_conditions_named_as_history_or_setting_are_not_the_subject(question: str, subjects: list[str]) -> None:
    assert list(named_conditions(question, history=False)) == subjects
    assert len(named_conditions(question)) >= len(subjects)


def test_a_condition_in_a_list_of_others_is_not_discussed() -> None:
    listed = passage(1, "Consider other causes of bowel symptoms, including coeliac disease, "
                        "ovarian cancer, endometriosis, thyroid disease and medication side effects.",
                     title="Irritable bowel syndrome")
    about = passage(2, "Suspected acute angle-closure glaucoma (severe pain, halos, nausea): "
                       "emergency same-day ophthalmology.", title="Conjunctivitis")
    assert not discussed(named_conditions("endometriosis treatment")["endometriosis"], [listed])
    assert discussed(named_conditions("acute glaucoma")["acute angle-closure glaucoma"], [about])
    assert discussed(named_conditions("IBS diet")["irritable bowel syndrome"], [listed])  # by title


def test_a_condition_in_brackets_within_a_list_is_still_listed_in_passing() -> None:
    listed = passage(1, "Think about septic arthritis, calcium pyrophosphate deposition (pseudogout), "
                        "inflammatory arthritis and cellulitis in a hot swollen joint.", title="Gout")
    aside = passage(2, "Consider admission for croup in a child with an airway abnormality (such as "
                       "laryngomalacia), Down's syndrome, chronic lung disease or immunodeficiency.",
                    title="Croup", section="Referral")
    assert not discussed(named_conditions("pseudogout flare")["pseudogout"], [listed])
    assert not discussed(named_conditions("laryngomalacia surgery?")["laryngomalacia"], [aside])


@pytest.mark.parametrize("section, sentence", [
    ("Assessment › Stroke and TIA mimics", "Bell's palsy affects the whole side of the face."),
    ("Assessment › Telling acute otitis media from other ear problems",
     "Otitis externa causes pain on moving the tragus and a swollen ear canal."),
    ("Assessment and diagnosis", "Bell's palsy affects the forehead too, whereas stroke usually spares it."),
    ("Assessment and diagnosis", "Insect bite reactions and Lyme disease can also look similar."),
])
def test_a_condition_named_only_to_tell_it_apart_is_not_guidance_on_it(section: str, sentence: str) -> None:
    mimic = passage(1, sentence, title="Stroke and TIA", section=section)
    question = "bell's palsy prednisolone dose" if "palsy" in sentence else (
        "otitis externa drops" if "externa" in sentence else "lyme disease doxycycline")
    named = named_conditions(question)
    assert named and measure(question, [mimic], VOCAB).unheld_conditions == tuple(named)
    # Asked to tell the conditions apart, the same passage is the answer.
    assert discussed(next(iter(named.values())), [mimic], differentials=True)
    assert asks_to_differentiate(f"how do I tell {question.split()[0]} from stroke")


def test_red_flag_advice_about_a_condition_still_counts() -> None:
    red_flag = passage(1, "Suspected acute angle-closure glaucoma (severe pain, halos, headache, nausea): "
                          "emergency same-day ophthalmology.", title="Conjunctivitis", section="Red flags")
    named = named_conditions("acute angle closure glaucoma - how urgent is referral?")
    assert discussed(named["acute angle-closure glaucoma"], [red_flag], differentials=False)


def test_a_question_about_a_condition_held_only_in_passing_abstains_naming_it() -> None:
    listed = passage(1, "Differentiate cramps from restless legs syndrome, peripheral neuropathy, "
                        "deep vein thrombosis and sciatica.", section="Differential diagnosis")
    evidence = measure("restless legs syndrome treatment", [listed], VOCAB)
    assert evidence.unheld_conditions == ("restless legs syndrome",)
    confidence = grade(evidence, T)
    assert confidence.level == "insufficient"
    assert "restless legs syndrome" in confidence.reasons[0]
    # The same passages do answer a question about what they are about.
    assert measure("leg cramps or restless legs syndrome?", [listed], VOCAB).unheld_conditions == ()


def test_own_guidance_goes_ahead_of_demonstration_passages_only_when_both_are_held() -> None:
    from pipelines.index import Hit
    from pipelines.ordering import DEMO_RANK_PENALTY, own_guidance_first

    demo, own = "Demonstration summary (based on NICE NG153)", "NHS Example Trust"

    def point(i: int, publisher: str) -> Hit:
        return Hit(str(i), 1.0 / (i + 1), {"publisher": publisher})

    assert DEMO_RANK_PENALTY == 4
    ranked = [point(0, demo)] + [point(i, own) for i in range(1, 6)]
    order = [p.id for p in own_guidance_first(ranked, {demo, own})]
    assert order == ["1", "2", "3", "4", "0", "5"]  # four places lower (a tie goes to own guidance), not last
    assert [p.id for p in own_guidance_first(ranked, {demo})] == [p.id for p in ranked]
    assert [p.id for p in own_guidance_first(ranked, {own})] == [p.id for p in ranked]
