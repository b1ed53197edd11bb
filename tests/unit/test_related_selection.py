"""Choosing the related questions offered under an answer (pure: no store, no model).

The threshold holds for curated and asked questions alike, the conversation's own questions are
never offered back (however they are worded), and too few close questions means fewer, not
padding."""

from __future__ import annotations

import pytest

from pipelines.related import ASKED_BY_COLLEAGUES, SUGGESTED, Candidate, question_key, select_related

MIN, SAME = 0.55, 0.93


def pick(candidates: list[Candidate], asked: list[str], limit: int = 5, vectors=()) -> list[str]:
    return [r.text for r in select_related(candidates, asked, limit, MIN, SAME, vectors)]


def test_curated_questions_below_the_threshold_are_not_offered() -> None:
    candidates = [Candidate("What is the treatment ladder for acne vulgaris?", 1, 0.36, "curated"),
                  Candidate("How do I use CRB65 in community-acquired pneumonia?", 1, 0.33, "curated")]
    assert pick(candidates, ["When should I anticoagulate in atrial fibrillation?"]) == []


def test_close_questions_come_nearest_first_and_fewer_rather_than_padded() -> None:
    candidates = [Candidate("Far?", 1, 0.40, "curated"), Candidate("Close?", 3, 0.62, "asked"),
                  Candidate("Closer?", 1, 0.80, "curated")]
    assert pick(candidates, ["Mine?"]) == ["Closer?", "Close?"]
    assert pick(candidates, ["Mine?"], limit=1) == ["Closer?"]


@pytest.mark.parametrize("asked", [
    "How do I treat nocturnal leg cramps?",       # the very question
    "how do I treat nocturnal leg cramps",        # typed differently
    "  How do I treat   nocturnal leg cramps ?",  # spacing
])
def test_the_question_itself_is_never_offered(asked: str) -> None:
    candidates = [Candidate("How do I treat nocturnal leg cramps?", 4, 0.9, "asked")]
    assert pick(candidates, [asked]) == []


def test_a_rewording_merged_with_the_question_is_the_same_question() -> None:
    candidates = [Candidate("How should I treat nocturnal leg cramps?", 2, 0.95, "asked"),
                  Candidate("What causes leg cramps at night?", 1, 0.7, "asked")]
    assert pick(candidates, ["How do I treat nocturnal leg cramps?"]) == ["What causes leg cramps at night?"]


def test_earlier_questions_of_the_conversation_are_not_offered_by_text_or_by_meaning() -> None:
    candidates = [Candidate("How should acute gout be treated?", 1, 0.8, "curated", [1.0, 0.0]),
                  Candidate("Which gout drugs prevent flares?", 1, 0.7, "asked", [0.96, 0.28]),
                  Candidate("When is allopurinol started?", 1, 0.6, "asked", [0.0, 1.0])]
    earlier = ["How should gout be treated when acute?"]  # reworded: only its vector matches
    assert pick(candidates, ["What if colchicine is not tolerated?", *earlier],
                vectors=[[1.0, 0.0]]) == ["When is allopurinol started?"]
    assert pick(candidates, ["What if colchicine is not tolerated?", "How should acute gout be treated?"]) == [
        "Which gout drugs prevent flares?", "When is allopurinol started?"]


def test_labels_say_where_a_question_comes_from() -> None:
    chosen = select_related([Candidate("A?", 1, 0.7, "curated"), Candidate("B?", 2, 0.6, "asked")],
                            ["Mine?"], 5, MIN, SAME)
    assert [(r.text, r.label) for r in chosen] == [("A?", SUGGESTED), ("B?", ASKED_BY_COLLEAGUES)]


def test_duplicates_in_the_store_are_offered_once() -> None:
    candidates = [Candidate("Is it gout?", 1, 0.7, "curated"), Candidate("is it gout", 2, 0.69, "asked")]
    assert pick(candidates, ["Mine?"]) == ["Is it gout?"]


def test_question_key_ignores_case_spacing_and_question_mark() -> None:
    assert question_key(" When  should I start a Statin? ") == question_key("when should i start a statin")
