"""The related-questions store behind the chat page's panel, through the real Assistant:
starters seeded, near-duplicates merged with a count, only moderate-or-better answers kept,
identifier-bearing questions never kept, and the panel offering only close questions (curated or
asked), never the question itself or the conversation's earlier ones."""

from __future__ import annotations

from pipelines.assistant import Assistant
from pipelines.related import ASKED_BY_COLLEAGUES, CURATED, SUGGESTED

EARLIER = "How do I treat nocturnal leg cramps?"
SEED = "How can I differentiate nocturnal leg cramps from other causes of leg pain?"


def stored(assistant: Assistant) -> dict[str, int]:
    """Question text → count, for every point in the related-questions collection."""
    points = assistant.index.iter_points(assistant.settings.queries_collection)
    return {p.payload["text"]: int(p.payload.get("count", 1)) for p in points}


def test_starters_are_seeded_once(assistant: Assistant) -> None:
    assert stored(assistant) == {q: 1 for q in CURATED}
    assert assistant.related_store.seed_starters() == 0


def test_near_duplicate_is_merged_with_a_count(assistant: Assistant) -> None:
    assistant.ask(EARLIER)
    assistant.ask("how do I treat nocturnal leg cramps")
    counts = stored(assistant)
    assert counts[EARLIER] == 2
    assert len(counts) == len(CURATED) + 1


def test_only_moderate_or_better_answers_are_stored(assistant: Assistant) -> None:
    before = stored(assistant)
    answer = assistant.ask("write me a poem about autumn")
    assert answer.confidence.level == "insufficient"
    assert stored(assistant) == before


def test_questions_with_identifiers_are_never_stored(assistant: Assistant) -> None:
    before = stored(assistant)
    # Moderate when clean, so only the identifier filter keeps it out of the store.
    answer = assistant.ask("Nocturnal leg cramps treatment quinine stretching 943 476 5919")
    assert answer.redacted == ["NHS number"] and answer.confidence.level in ("high", "moderate")
    assert stored(assistant) == before


def test_related_offers_earlier_questions_but_not_itself(assistant: Assistant) -> None:
    assistant.ask(EARLIER)
    answer = assistant.ask(SEED)
    related = [r.text for r in assistant.related(answer)]
    assert EARLIER in related and SEED not in related
    assert len(related) <= assistant.settings.related_limit


def test_a_question_with_no_close_neighbours_gets_no_suggestions(assistant: Assistant) -> None:
    # The nearest curated question (AF anticoagulation) is at cosine 0.47: on a neighbouring
    # topic, not an answer to this one, so nothing is offered rather than five unrelated starters.
    answer = assistant.ask("What is the CHA2DS2-VASc threshold for anticoagulation in AF?")
    assert assistant.related(answer) == []


def test_curated_suggestions_pass_the_same_threshold_and_are_labelled(assistant: Assistant) -> None:
    assistant.ask(EARLIER)
    answer = assistant.ask("What dose of amoxicillin for a child with otitis media?")
    related = assistant.related(answer)
    assert related and all(r.similarity >= assistant.settings.related_min_similarity for r in related)
    curated = [r for r in related if r.text in CURATED]
    assert curated and all(r.label == SUGGESTED for r in curated)
    assert all(r.label == ASKED_BY_COLLEAGUES for r in related if r.text not in CURATED)
    assert EARLIER not in [r.text for r in related]  # leg cramps is not close to otitis media


def test_the_conversation_s_own_questions_are_not_offered(assistant: Assistant) -> None:
    assistant.ask(EARLIER)  # by a colleague: offered under SEED
    assert EARLIER in [r.text for r in assistant.related(assistant.ask(SEED))]
    answer = assistant.ask(SEED, history=[EARLIER])  # this clinician asked it a moment ago
    assert EARLIER not in [r.text for r in assistant.related(answer, [EARLIER])]
    reworded = "How should I treat nocturnal leg cramps?"  # merged into EARLIER's count
    assert EARLIER not in [r.text for r in assistant.related(answer, [reworded])]


def test_a_reworded_repeat_is_not_offered_its_own_earlier_wording(assistant: Assistant) -> None:
    assistant.ask(EARLIER)
    answer = assistant.ask("How should I treat nocturnal leg cramps?")  # stored as EARLIER, count 2
    assert stored(assistant)[EARLIER] == 2
    assert EARLIER not in [r.text for r in assistant.related(answer)]


def test_retention_deletes_expired_questions_and_keeps_curated(assistant: Assistant) -> None:
    import time

    related = assistant.related_store
    vector = assistant.retriever.embeddings.embed_query("statin dose after a heart attack")
    related._insert("Old question past the retention period?", vector, source="asked",
                    ts=time.time() - 200 * 86400)
    related._insert("Recent question within the retention period?", vector, source="asked")
    assistant.settings.query_retention_days = 180
    assistant.startup()  # start-up runs the retention job
    kept = stored(assistant)
    assert "Old question past the retention period?" not in kept
    assert "Recent question within the retention period?" in kept
    assert set(CURATED) <= set(kept)  # curated starters never expire
