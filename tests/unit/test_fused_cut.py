"""Which fused candidates get their payloads and vectors read: those that can make the cut."""

from pipelines.index.base import DENSE, Hit, break_ties, can_make_cut


def _hit(pid: str, score: float, vector: list[float] | None = None) -> Hit:
    return Hit(pid, score, {}, {DENSE: vector} if vector else {})


def test_a_group_of_equal_scores_at_the_cut_is_kept_whole() -> None:
    # RRF gives first-in-one-list the same score as first-in-the-other: a group of three equal
    # scores straddles place 2 here, and the one closest in meaning must be able to win it.
    hits = [_hit("a", 0.5), _hit("b", 0.3), _hit("c", 0.3), _hit("d", 0.3), _hit("e", 0.1)]
    kept = can_make_cut(hits, 2)
    assert [h.id for h in kept] == ["a", "b", "c", "d"]
    assert [h.id for h in can_make_cut(hits, 1)] == ["a"]
    assert can_make_cut(hits, 9) == hits


def test_the_cut_then_orders_the_group_by_closeness() -> None:
    query = [1.0, 0.0]
    hits = [_hit("a", 0.5, [1.0, 0.0]), _hit("b", 0.3, [0.0, 1.0]), _hit("c", 0.3, [0.6, 0.8]),
            _hit("d", 0.3, [1.0, 0.1]), _hit("e", 0.1, [1.0, 0.0])]
    # "d" is the closest of the tied three: it takes place 2 although the engine listed it last.
    assert [h.id for h in break_ties(can_make_cut(hits, 2), query)[:2]] == ["a", "d"]


def test_scores_equal_once_rounded_count_as_one_group() -> None:
    hits = [_hit("a", 0.3000000000001), _hit("b", 0.3), _hit("c", 0.2)]
    assert [h.id for h in can_make_cut(hits, 1)] == ["a", "b"]
