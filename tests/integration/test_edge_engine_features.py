"""The behaviours of Qdrant Edge (`qdrant-edge-py==0.9.0`, beta) that the embedded engine relies
on once it is wired in (issue 15), checked against the pinned release so an upgrade that changes
one fails here first.

Real shards in a temporary folder: a dense and a sparse (IDF modifier) vector fused by RRF in one
query (40 points, so a full scan: HNSW itself is not exercised here), keyword payload filters, the boolean-match quirk of 0.9.0 (store flags as integers),
the write-ahead log surviving a close and reload, and one process owning a shard folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from qdrant_edge import (CountRequest, Distance, EdgeConfig, EdgeShard,
                         EdgeSparseVectorParams, EdgeVectorParams, FieldCondition, Filter,
                         Fusion, MatchValue, Modifier, PayloadSchemaType, Point, Prefetch, Query,
                         QueryRequest, SparseVector, UpdateOperation)

DIM = 4


def _config() -> EdgeConfig:
    return EdgeConfig(vectors={"dense": EdgeVectorParams(size=DIM, distance=Distance.Cosine)},
                      sparse_vectors={"sparse": EdgeSparseVectorParams(modifier=Modifier.Idf)})


def _axis(i: int) -> list[float]:
    return [1.0 if k == i % DIM else 0.05 for k in range(DIM)]


def _shard(folder: Path) -> EdgeShard:
    """40 points: dense vectors along four axes, sparse terms 0..3 plus a term 9 they all share,
    a keyword guideline id, and a flag stored both as a boolean and as an integer."""
    folder.mkdir(parents=True, exist_ok=True)
    shard = EdgeShard.create(str(folder), _config())
    shard.update(UpdateOperation.upsert_points([
        Point(i, {"dense": _axis(i), "sparse": SparseVector([i % DIM, 9], [1.0, 1.0])},
              {"guideline_id": f"g{i % 4}", "active": i < 10, "active_n": int(i < 10)})
        for i in range(40)]))
    shard.update(UpdateOperation.create_field_index("guideline_id", PayloadSchemaType.Keyword))
    shard.update(UpdateOperation.create_field_index("active", PayloadSchemaType.Bool))
    shard.update(UpdateOperation.create_field_index("active_n", PayloadSchemaType.Integer))
    return shard


def _count(shard: EdgeShard, condition: FieldCondition) -> int:
    return shard.count(CountRequest(filter=Filter(must=[condition])))


def test_hybrid_dense_and_idf_sparse_fused_by_rrf_in_one_query(tmp_path: Path) -> None:
    shard = _shard(tmp_path / "shard")
    # Dense points at axis 1, sparse at term 2: the fused top 10 holds points from both lists
    # and nothing that only shares term 9, which every point carries.
    request = QueryRequest(limit=10, with_payload=True, query=Fusion.Rrf(60), prefetches=[
        Prefetch(limit=10, query=Query.Nearest(_axis(1), using="dense")),
        Prefetch(limit=10, query=Query.Nearest(SparseVector([2, 9], [1.0, 1.0]), using="sparse"))])
    hits = shard.query(request)
    assert len(hits) == 10
    assert {h.id % DIM for h in hits} == {1, 2}
    assert all(h.payload["guideline_id"] in {"g1", "g2"} for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    shard.close()


def test_keyword_filter_restricts_the_query(tmp_path: Path) -> None:
    shard = _shard(tmp_path / "shard")
    only_g3 = Filter(must=[FieldCondition("guideline_id", match=MatchValue("g3"))])
    hits = shard.query(QueryRequest(limit=5, with_payload=True, filter=only_g3,
                                    query=Query.Nearest(_axis(1), using="dense")))
    assert hits and all(h.payload["guideline_id"] == "g3" for h in hits)
    assert _count(shard, FieldCondition("guideline_id", match=MatchValue("g3"))) == 10
    shard.close()


def test_a_boolean_match_finds_nothing_in_0_9_0_so_flags_are_stored_as_integers(
        tmp_path: Path) -> None:
    shard = _shard(tmp_path / "shard")
    assert _count(shard, FieldCondition("active_n", match=MatchValue(1))) == 10
    # The binding reads True as the integer 1, which the boolean index never holds. If this
    # starts to find the 10 active points, the quirk is fixed and the integer flags can go.
    assert _count(shard, FieldCondition("active", match=MatchValue(True))) == 0
    shard.close()


def test_writes_survive_close_and_reload_and_a_second_opener_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "shard"
    shard = _shard(folder)
    shard.update(UpdateOperation.delete_points([0, 1]))
    with pytest.raises(Exception, match="WouldBlock"):
        EdgeShard.load(str(folder))
    shard.close()
    reopened = EdgeShard.load(str(folder))
    assert reopened.count(CountRequest()) == 38
    assert _count(reopened, FieldCondition("active_n", match=MatchValue(1))) == 8
    reopened.close()
