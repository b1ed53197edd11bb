"""A Qdrant shard snapshot seeds the live Edge index (`python -m pipelines seed-edge FILE`), and
one that cannot serve this install is refused with nothing live changed.

There is no Qdrant server in the tests: the snapshots are archives of shard folders, which is the
layout a server's shard snapshot carries and what `EdgeShard.unpack_snapshot` reads."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from pipelines.assistant import Assistant
from pipelines.config import Settings
from pipelines.index import Point, close_client
from pipelines.index.seed import SeedError, seed_from_snapshot

GOUT = "How should acute gout be treated?"


def archive(folder: Path, target: Path) -> Path:
    with tarfile.open(target, "w") as tar:
        for item in sorted(folder.iterdir()):
            if item.name != "guidelight.json":  # Guidelight's own file is not in a server's snapshot
                tar.add(item, arcname=item.name)
    return target


def snapshot_of(settings: Settings, collection: str, target: Path) -> Path:
    close_client(settings)  # flushed and closed, as a server's snapshot is taken of a consistent shard
    return archive(settings.index_path / "edge" / collection, target)


def test_a_snapshot_goes_live_and_the_previous_index_stays_for_rollback(seeded_settings: Settings,
                                                                        tmp_path: Path) -> None:
    first = Assistant.create(seeded_settings)
    live = first.index.live_collection()
    points = first.index.count(live)
    snap = snapshot_of(seeded_settings, live, tmp_path / "shard-0.snapshot")

    assistant = Assistant.create(seeded_settings)
    report = seed_from_snapshot(assistant, snap, actor="lead")
    assert report.collection != live and report.previous == live
    assert report.points == points and report.sentences
    assert assistant.index.live_collection() == report.collection
    answer = assistant.ask(GOUT, log=False)
    assert not answer.abstained and answer.sources[0].title == "Gout"
    builds = {b["collection"]: b["status"] for b in assistant.store.build_rows()}
    assert builds[report.collection] == "live" and builds[live] == "previous"
    assert assistant.library.rollback("lead") == live
    assert assistant.index.live_collection() == live
    close_client(seeded_settings)


def test_a_snapshot_that_cannot_serve_this_install_is_refused_and_nothing_changes(
        seeded_settings: Settings, tmp_path: Path) -> None:
    assistant = Assistant.create(seeded_settings)
    live, before = assistant.index.live_collection(), set(assistant.index.collections())
    # the past-questions store: a dense vector only, no sparse vector
    plain = snapshot_of(seeded_settings, seeded_settings.queries_collection, tmp_path / "plain.snapshot")
    # a guideline collection holding one guideline of the 48
    assistant = Assistant.create(seeded_settings)
    one = next(h for h in assistant.index.iter_points(live, True, vectors=True, page=64))
    assistant.index.create_collection("partial", 384, assistant.library.embedding_name)
    assistant.index.write_points("partial", [Point(one.id, dict(one.vector), one.payload)], 8)
    partial = snapshot_of(seeded_settings, "partial", tmp_path / "partial.snapshot")
    torn = tmp_path / "torn.snapshot"
    torn.write_bytes(partial.read_bytes()[:1000])

    assistant = Assistant.create(seeded_settings)
    assistant.index.drop("partial")
    for snap, says in ((plain, "not a Guidelight collection"), (partial, "lacks 47 guideline version"),
                       (torn, "could not be read"), (tmp_path / "absent", "No snapshot file")):
        with pytest.raises(SeedError, match=says):
            seed_from_snapshot(assistant, snap)
        assert assistant.index.live_collection() == live
        assert set(assistant.index.collections()) == before
    assert len(list((seeded_settings.index_path / "edge").iterdir())) == len(before) + 2  # LIVE, .lock
    close_client(seeded_settings)
