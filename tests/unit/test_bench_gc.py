"""The scale benchmark counts the full garbage collections that land among its timed questions."""

from __future__ import annotations

import gc

from pipelines.bench_scale_measure import gc_pauses


def test_full_collections_inside_the_block_are_counted_and_timed() -> None:
    with gc_pauses() as pauses:
        gc.collect(1)  # a young collection is not a full one
        assert pauses["gc_full"] == 0
        gc.collect()
        gc.collect()
    assert pauses["gc_full"] == 2
    assert pauses["gc_full_ms"] >= 0.0


def test_nothing_is_counted_after_the_block() -> None:
    with gc_pauses() as pauses:
        pass
    gc.collect()
    assert pauses["gc_full"] == 0
