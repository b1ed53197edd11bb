"""Scale-out: the records (registry, builds, audit, feedback, query events, lockout, purge) behave
the same on SQLite and on a real PostgreSQL server chosen by `DATABASE_URL`.

Every test runs twice through `records_url`: a SQLite file, then a fresh database on the server
the session fixture starts from Debian's binaries. The last test drives the whole Assistant
(ingest, ask, feedback, retire) with its records on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from pipelines import store as records
from pipelines.store import Store
from tests.conftest import make_settings


@pytest.fixture
def store(records_url: str) -> Iterator[Store]:
    store = Store(records_url)
    yield store
    store.engine.dispose()


def add_row(store: Store, guideline_id: str = "gout", version: str = "1", status: str = "pending",
            **extra) -> int:
    values = dict(guideline_id=guideline_id, version=version, title=f"{guideline_id} v{version}",
                  publisher="NICE", specialty="rheumatology", source_url="https://example.org",
                  last_reviewed="2024-01-01", status=status, file_hash=f"{guideline_id}{version}" * 4,
                  file_name=f"{guideline_id}.md", file_type="md", original_path="x.md",
                  chunk_count=7, pages=2, sections=["Diagnosis", "Treatment › Acute"],
                  created_by="test")
    values.update(extra)
    return store.add_guideline(**values)


def test_registry_versions_supersede_and_hash_lookup(store: Store) -> None:
    first = add_row(store, version="1")
    store.activate(first, "gout")
    second = add_row(store, version="2")
    store.activate(second, "gout")
    statuses = {r["version"]: r["status"] for r in store.guideline_rows()}
    assert statuses == {"1": "superseded", "2": "active"}
    assert store.active_versions() == {("gout", "2")}
    assert store.find_guideline("gout", status="active")["id"] == second
    assert store.find_by_hash("gout2" * 4)["version"] == "2"
    assert store.find_by_hash("gout1" * 4) is None  # only active rows count as already ingested
    assert store.find_guideline("gout", "2")["sections"] == ["Diagnosis", "Treatment › Acute"]


def test_registry_rejects_a_duplicate_version(store: Store) -> None:
    add_row(store, version="1")
    with pytest.raises(IntegrityError):
        add_row(store, version="1")
    assert len(store.guideline_rows()) == 1


def test_registry_status_changes_and_delete(store: Store) -> None:
    row = add_row(store, status="pending")
    assert [r["id"] for r in store.guideline_rows("pending")] == [row]
    store.set_status(row, "failed")
    assert store.guideline_rows("pending") == []
    store.delete_guideline_row(row)
    assert store.guideline_rows() == []


def test_index_builds_keep_evaluation_json(store: Store) -> None:
    store.add_build("guidelines_a", "all-MiniLM-L6-v2", "building", "test")
    store.update_build("guidelines_a", status="live", chunk_count=120,
                       evaluation={"hit@5": 0.93, "mrr": 0.81})
    store.add_build("guidelines_b", "all-MiniLM-L6-v2", "building", "test")
    rows = store.build_rows()
    assert [r["collection"] for r in rows] == ["guidelines_b", "guidelines_a"]
    assert rows[1]["evaluation"] == {"hit@5": 0.93, "mrr": 0.81} and rows[1]["chunk_count"] == 120


def test_audit_log_is_newest_first_and_truncates_long_targets(store: Store) -> None:
    for i in range(5):
        store.log("admin", "retire", f"guideline {i}")
    store.log("admin", "ingest", "t" * 1000, "failed", "d" * 10_000)
    rows = store.audit_rows(limit=3)
    assert len(rows) == 3
    assert rows[0]["action"] == "ingest" and len(rows[0]["target"]) == 300 and len(rows[0]["detail"]) == 4000
    assert rows[1]["target"] == "guideline 4"


def test_feedback_round_trips_sources(store: Store) -> None:
    sources = [{"n": 1, "title": "Gout", "section": "Acute › Colchicine"}]
    store.add_feedback("How should acute gout be treated?", "Colchicine or an NSAID.", -1,
                       "missing renal dosing", sources, "guidelines_x")
    (row,) = store.feedback_rows()
    assert (row["rating"], row["comment"], row["sources"]) == (-1, "missing renal dosing", sources)


def test_query_events_purge_only_expired(store: Store) -> None:
    old = records.now() - timedelta(days=200)
    store.add_query_event(question="old question", level="high", abstained=False, top_title="Gout",
                          cited=[{"title": "Gout"}], identifiers_found=False, mode="offline", ms=12.5,
                          index_version="g1", at=old)
    store.add_query_event(question=None, level="insufficient", abstained=True, top_title=None, cited=[],
                          identifiers_found=True, mode="abstain", ms=3.0, index_version="g1")
    assert [r["question"] for r in store.query_event_rows(since_days=365)] == ["old question", None]
    assert store.purge_query_events(older_than_days=180) == 1
    (kept,) = store.query_event_rows(since_days=365)
    assert kept["identifiers_found"] is True and kept["question"] is None


def test_login_lockout_state_is_replaced_not_duplicated(store: Store) -> None:
    assert store.login_state("admin")["failures"] == 0
    store.set_login_state("admin", 3, None, 1000.0)
    store.set_login_state("admin", 5, 2000.0, 1500.0)
    state = store.login_state("admin")
    assert (state["failures"], state["locked_until"]) == (5, 2000.0)


def test_concurrent_writers_lose_nothing(store: Store) -> None:
    def write(worker: int) -> None:
        for i in range(25):
            store.log(f"worker{worker}", "ask", f"q{i}")
            store.add_query_event(question=f"q{worker}-{i}", level="high", abstained=False)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = store.counts()
    assert (counts["audit"], counts["query_events"]) == (200, 200)


def test_tables_accept_the_longest_values_the_app_writes(store: Store) -> None:
    """PostgreSQL enforces String(n) where SQLite does not: the app must stay within them."""
    with store.engine.begin() as conn:
        conn.execute(insert(records.query_events).values(at=records.now(), top_title="T" * 300,
                                                         index_version="g" * 200, mode="m" * 50))
    assert store.counts()["query_events"] == 1


def test_assistant_runs_on_this_records_database(records_url: str, tmp_path: Path, parser_pool,
                                                 small_library: Path) -> None:
    """Ingest, ask, feedback, retire and restart with the records on this database."""
    from pipelines.assistant import Assistant
    from pipelines.index import close_client

    settings = make_settings(tmp_path / "data", database_url=records_url, library_dir=small_library)
    assistant = Assistant.create(settings)
    assistant.library.parser = parser_pool
    try:
        assistant.startup()
        assert assistant.status()["records"] == records_url.split("://")[0]
        assert len(assistant.store.guideline_rows("active")) == len(list(small_library.iterdir()))
        answer = assistant.ask("How should acute gout be treated?")
        assert answer.sources and answer.sources[0].title == "Gout"
        assistant.feedback(answer, 1, "clear")
        row = next(r for r in assistant.store.guideline_rows("active") if r["title"] == "Gout")
        assistant.library.retire(row["id"], "admin")
        after = assistant.ask("How should acute gout be treated?")
        assert all(p.title != "Gout" for p in after.sources)
        assert assistant.store.feedback_rows()[0]["comment"] == "clear"
        assert [e["action"] for e in assistant.store.audit_rows()][0] == "retire"
    finally:
        assistant.store.engine.dispose()
        close_client(settings)
