"""The finished `Answer` from the chain's state: citations numbered as shown, the notices a
clinician reads beside the answer (identifiers removed, sources past their review date), and the
refusal text that names the nearest guidelines the library does have."""

from __future__ import annotations

from datetime import date
from typing import Any

from pipelines.models import Answer, Citation, Confidence, Passage
from pipelines.review import review_notice, review_overdue

ABSTAIN_TEXT = "No guidance in the library answers this question."


def abstain_text(passages: list[Passage]) -> str:
    nearest = list(dict.fromkeys(p.title for p in passages))[:3]
    if not nearest:
        return ABSTAIN_TEXT
    return ABSTAIN_TEXT + " The nearest guidelines the library does have: " + "; ".join(nearest) + "."


def stale_notices(citations: list[Citation], interval_days: int) -> list[str]:
    """Marks each citation past the review interval; one quiet line names them all."""
    today = date.today()
    for c in citations:
        c.review_overdue = review_overdue(c.last_reviewed, today, interval_days)
    notice = review_notice([c.n for c in citations if c.review_overdue], interval_days)
    return [notice] if notice else []


def finish(state: dict[str, Any], text: str, cited: list[Passage], confidence: Confidence, mode: str,
           notices: list[str], review_interval_days: int, live_collection: str) -> Answer:
    safety = state["safety"]
    if safety["found"]:
        notices.insert(0, "Identifiers were removed from your question before it was searched: "
                       + ", ".join(safety["found"]) + ".")
    if mode.startswith("model"):
        given = state.get("given") or state["passages"]
        citations = [Citation.from_passage(given.index(p) + 1, p) for p in cited]
    else:
        citations = [Citation.from_passage(n, p) for n, p in enumerate(cited, 1)]
    notices += stale_notices(citations, review_interval_days)
    return Answer(
        question=safety["text"], answer=text, confidence=confidence, citations=citations,
        # a model's [n] numbers the passages it was given, which are then the sources shown
        sources=(state.get("given") or state["passages"]) if mode.startswith("model") else state["passages"],
        mode=mode, timings_ms=state["timings"],
        index_version=state.get("collection") or live_collection, redacted=safety["found"],
        red_flags=safety["red_flags"], notices=notices,
        nearest_guidelines=list(dict.fromkeys(p.title for p in state["passages"]))[:3]
        if confidence.level == "insufficient" else [],
        search_query=state["search_query"])
