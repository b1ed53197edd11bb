"""The `Index` contract on both engines (Qdrant Edge, the default, and qdrant-client's local mode,
the server API's stand-in), and what only Edge's folder layout has to get right: the live pointer
replaced atomically, swaps under concurrent readers, recovery of unfinished shards at open."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import numpy as np
import pytest

from pipelines.index import DENSE, SPARSE, Point, Where, close_client, open_index
from pipelines.index.edge import META, POINTER, EdgeIndex
from tests.conftest import make_settings

DIM = 8


class Sparse:
    def __init__(self, indices: list[int], values: list[float]) -> None:
        self.indices, self.values = indices, values


def _vec(i: int) -> list[float]:
    v = np.zeros(DIM)
    v[i % DIM], v[(i + 1) % DIM] = 1.0, 0.2
    return v.tolist()


def _points(version: str, n: int = 24) -> list[Point]:
    return [Point(str(uuid.uuid4()), {DENSE: _vec(i), SPARSE: Sparse([i % 5, 99], [1.0, 0.5])},
                  {"guideline_id": f"g{i % 3}", "version": version, "publisher": f"P{i % 2}",
                   "specialty": "Cardiology" if i % 4 == 0 else "General", "text": f"t{i}"})
            for i in range(n)]


@pytest.fixture(params=["edge", "local"])
def index(request: pytest.FixtureRequest, tmp_path: Path):
    settings = make_settings(tmp_path / "data", vector_engine=request.param)
    yield open_index(settings)
    close_client(settings)


def test_the_contract_holds_on_both_engines(index) -> None:
    index.create_collection("c1", DIM, "model-a")
    index.write_points("c1", _points("1"))
    assert index.collections() == ["c1"] and index.count("c1") == 24
    assert index.collection_info("c1")["embedding_model"] == "model-a" and index.has_sentences("c1")
    index.set_collection_info("c1", embedding_model="model-b")
    assert index.collection_info("c1")["embedding_model"] == "model-b"
    assert index.swap_alias("c1") is None and index.live_collection() == "c1"

    hits = index.hybrid_search("c1", _vec(2), Sparse([2], [1.0]), 10, 5)
    exact = index.hybrid_search("c1", _vec(2), Sparse([2], [1.0]), 10, 5, exact=True)
    assert [h.id for h in exact] == [h.id for h in hits]  # 24 points: the graph is not needed
    # each hit is near in meaning (dense axis 2: i % 8 == 2) or shares the term (i % 5 == 2)
    assert len(hits) == 5 and DENSE in hits[0].vector
    assert all(int(h.payload["text"][1:]) % 8 == 2 or int(h.payload["text"][1:]) % 5 == 2 for h in hits)
    only = Where(any_of=(("publisher", ("P1",)),), equals=(("specialty", "General"),))
    filtered = index.hybrid_search("c1", _vec(2), Sparse([2], [1.0]), 24, 24, query_filter=only)
    assert filtered and all(h.payload["publisher"] == "P1" and h.payload["specialty"] == "General"
                            for h in filtered)
    assert len(filtered) == 12  # every odd point: none is Cardiology (i % 4 == 0 is even)

    index.delete_guideline("c1", "g0", "1")
    assert index.count("c1") == 16
    assert {h.payload["guideline_id"] for h in index.iter_points("c1", ["guideline_id"])} == {"g1", "g2"}
    some = [h.id for h in index.iter_points("c1", False)][:3]
    assert {h.id for h in index.retrieve("c1", some, ["text"])} == set(some)

    index.create_plain("past", DIM)
    index.write_points("past", [Point(str(uuid.uuid4()), {DENSE: _vec(i)},
                                      {"text": f"q{i}", "source": "curated" if i < 2 else "asked",
                                       "last_ts": float(i)}) for i in range(6)])
    near = index.nearest("past", _vec(3), 3, threshold=0.9, with_vectors=True)
    assert [h.payload["text"] for h in near] == ["q3"] and len(near[0].vector[DENSE]) == DIM
    index.set_payload("past", near[0].id, {"count": 2})
    assert index.retrieve("past", [near[0].id])[0].payload == {**near[0].payload, "count": 2}
    index.delete_where("past", Where(below=(("last_ts", 4.0),), not_equals=(("source", "curated"),)))
    assert sorted(h.payload["text"] for h in index.iter_points("past")) == ["q0", "q1", "q4", "q5"]

    index.drop("c1")
    assert "c1" not in index.collections() and index.count("c1") == 0


def test_edge_pointer_survives_a_reopen_and_the_previous_shard_stays(tmp_path: Path) -> None:
    import json

    edge = EdgeIndex(tmp_path / "edge", "guidelines")
    for name in ("old", "new"):
        edge.create_collection(name, DIM, "m")
        edge.write_points(name, _points(name))
    edge.create_plain("past", DIM)
    for name in ("old", "new", "past"):  # the write-ahead log is on, by configuration
        assert json.loads((tmp_path / "edge" / name / "edge_config.json").read_text())["wal_enabled"] is True
    edge.swap_alias("old")
    assert edge.swap_alias("new") == "old"
    edge.close()
    again = EdgeIndex(tmp_path / "edge", "guidelines")
    assert again.live_collection() == "new" and again.collections() == ["new", "old", "past"]
    assert again.count("old") == 24 and again.swap_alias("old") == "new"  # a rollback is one swap
    again.close()


def test_edge_recovery_at_open_removes_unfinished_shards_and_a_torn_pointer(tmp_path: Path) -> None:
    root = tmp_path / "edge"
    edge = EdgeIndex(root, "guidelines")
    edge.create_collection("live", DIM, "m")
    edge.swap_alias("live")
    edge.close()
    (root / "half").mkdir()  # a create that died before writing its META
    (root / "half" / "wal").mkdir()
    (root / f"{POINTER}.tmp").write_text('{"collec')  # a pointer write that died before the rename
    again = EdgeIndex(root, "guidelines")
    assert not (root / "half").exists() and not (root / f"{POINTER}.tmp").exists()
    assert again.recovered == ["removed unfinished shard half"]
    assert again.live_collection() == "live" and (root / "live" / META).exists()
    again.close()


def test_a_second_opener_in_the_same_folder_is_refused_with_the_message(tmp_path: Path) -> None:
    from pipelines.index import IndexLockedError

    first = EdgeIndex(tmp_path / "edge", "guidelines")
    with pytest.raises(IndexLockedError, match="already open in another process"):
        EdgeIndex(tmp_path / "edge", "guidelines")
    first.close()
    EdgeIndex(tmp_path / "edge", "guidelines").close()  # released on close


def test_a_search_during_swaps_reads_wholly_from_one_shard(tmp_path: Path) -> None:
    """The reader resolves the live name once per question, as the retriever does; however the
    pointer flips meanwhile, every hit of one search comes from one shard."""
    edge = EdgeIndex(tmp_path / "edge", "guidelines")
    for name in ("a", "b"):
        edge.create_collection(name, DIM, "m")
        edge.write_points(name, _points(name))
    edge.swap_alias("a")
    mixed, searches = [], []

    def swapper() -> None:
        for _ in range(200):
            edge.swap_alias("b" if edge.live_collection() == "a" else "a")

    thread = threading.Thread(target=swapper)
    thread.start()
    i = 0
    while thread.is_alive() or i < 300:
        name = edge.live_collection()
        hits = edge.hybrid_search(name, _vec(i), Sparse([i % 5], [1.0]), 10, 10)
        versions = {h.payload["version"] for h in hits}
        searches.append(name)
        if versions != {name}:
            mixed.append((name, versions))
        i += 1
    thread.join()
    assert not mixed
    assert set(searches) == {"a", "b"}  # searches ran on both sides of the swaps
    edge.close()


def test_both_engines_rank_a_hybrid_query_alike(tmp_path: Path) -> None:
    """The same points and queries give the same fused order on Edge and on the server's API
    (local mode): same RRF constant, same IDF, and equal fused scores ordered the same way
    (`break_ties`), so moving engines does not change answers."""
    rng = np.random.default_rng(8)
    points = [Point(str(uuid.uuid4()), {DENSE: rng.normal(size=DIM).tolist(),
                                        SPARSE: Sparse(sorted(rng.choice(40, 4, replace=False).tolist()),
                                                       rng.uniform(0.1, 2.0, 4).tolist())},
                    {"guideline_id": f"g{i}", "version": "1"}) for i in range(200)]
    orders = {}
    for engine in ("edge", "local"):
        settings = make_settings(tmp_path / engine, vector_engine=engine)
        index = open_index(settings)
        index.create_collection("c", DIM, "m")
        index.write_points("c", points)
        orders[engine] = [[h.id for h in index.hybrid_search(
            "c", rng2.normal(size=DIM).tolist(), Sparse([int(t) for t in rng2.choice(40, 3, replace=False)],
                                                        [1.0, 0.7, 0.3]), 20, 10)]
            for rng2 in [np.random.default_rng(s) for s in range(15)]]
        close_client(settings)
    assert orders["edge"] == orders["local"]
