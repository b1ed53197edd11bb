"""The order a search's hits are shown in, after the engine's fused ranking: the organisation's
own guidance ahead of the bundled demonstration summaries, and within each guideline what it
recommends ahead of its rationale and research."""

from __future__ import annotations

from pipelines.index import Hit
from pipelines.models import is_demo

DEMO_RANK_PENALTY = 4  # places a demonstration passage drops beside the organisation's own guidance


def own_guidance_first(points: list[Hit], publishers: set[str]) -> list[Hit]:
    """The fused ranking with the organisation's own guidance ahead of the bundled
    demonstration summaries: once a library holds both, a demonstration passage counts as
    found `DEMO_RANK_PENALTY` places lower, so a real guideline on the same question leads
    while a topic only the demonstration library covers is still found. A library of
    demonstration summaries alone (or of none) keeps its ranking unchanged."""
    demo = [is_demo(p) for p in publishers]
    if all(demo) or not any(demo):
        return points

    def place(item: tuple[int, Hit]) -> tuple[int, bool]:
        position, point = item
        late = is_demo((point.payload or {}).get("publisher"))
        return position + DEMO_RANK_PENALTY * late, late  # a tie goes to the own guidance

    return [point for _, point in sorted(enumerate(points), key=place)]


# What a guideline's passages are shown in, best first: what it recommends (a recommendation or
# a table), then what it explains around that (background), then why (rationale), then what it
# asks to be studied (research). The fused rank orders passages within one kind.
KIND_ORDER = {"recommendation": 0, "table": 0, "background": 1, "rationale": 2, "research": 3}


def recommendations_first(points: list[Hit]) -> list[Hit]:
    """The fused ranking with each guideline keeping its places but filling them with its own
    passages in `KIND_ORDER`: which guidelines rank where is unchanged, and a guideline's
    recommendation is shown before its committee's rationale that the search ranked higher (the
    rationale repeats the recommendation's words, so it often does)."""
    queues: dict[str, list[Hit]] = {}
    for point in points:
        queues.setdefault((point.payload or {}).get("guideline_id", ""), []).append(point)
    for queue in queues.values():
        queue.sort(key=lambda h: KIND_ORDER.get((h.payload or {}).get("kind", ""), 1))  # stable
    return [queues[(point.payload or {}).get("guideline_id", "")].pop(0) for point in points]
