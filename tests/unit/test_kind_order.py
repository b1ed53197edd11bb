"""Within one guideline, what it recommends is shown before its rationale and research; which
guideline ranks where is left as the fused search ranked it. And NICE's "Terms used in this
guideline" is background, not a recommendation."""

from __future__ import annotations

from pipelines.index.base import Hit
from pipelines.ingest.kinds import section_kind
from pipelines.ordering import recommendations_first


def _hit(n: int, guideline: str, kind: str) -> Hit:
    return Hit(str(n), 1.0 / n, {"guideline_id": guideline, "kind": kind})


def test_a_guidelines_recommendation_takes_the_place_of_its_higher_ranked_rationale() -> None:
    fused = [_hit(1, "ng136", "rationale"), _hit(2, "sign", "background"), _hit(3, "ng136", "research"),
             _hit(4, "ng136", "recommendation"), _hit(5, "sign", "recommendation"), _hit(6, "ng136", "table")]
    ordered = recommendations_first(fused)
    assert [h.payload["guideline_id"] for h in ordered] == [h.payload["guideline_id"] for h in fused]
    assert [h.id for h in ordered] == ["4", "5", "6", "1", "2", "3"]
    assert sorted(h.id for h in ordered) == sorted(h.id for h in fused)


def test_passages_of_one_kind_keep_the_fused_order() -> None:
    fused = [_hit(n, "g", "recommendation") for n in range(1, 6)]
    assert [h.id for h in recommendations_first(fused)] == ["1", "2", "3", "4", "5"]


def test_terms_used_in_the_guideline_are_background() -> None:
    assert section_kind(("Recommendations", "Terms used in this guideline", "Severe hypertension")) == "background"
    assert section_kind(("Recommendations", "1.4 Treating and monitoring hypertension")) == "recommendation"
