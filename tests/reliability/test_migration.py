"""An install made on qdrant-client's local mode moves to Qdrant Edge at start-up, losing no
guideline, version, retirement or past question; when the move fails its checks the old index is
kept and the next start, with the cause fixed, completes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.assistant import Assistant
from pipelines.config import Settings
from pipelines.index import close_client, open_index
from pipelines.index.migrate import MigrationError, legacy_index
from pipelines.store import Store

GOUT = "How should acute gout be treated?"


def _settings(data_dir: Path, library: Path, engine: str) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, library_dir=library, vector_engine=engine)


def _open(settings: Settings, pool, progress=None) -> Assistant:
    assistant = Assistant.create(settings)
    assistant.library.parser = pool
    assistant.startup(progress or (lambda f, m: None))
    return assistant


def _questions(settings: Settings) -> dict[str, int]:
    return {h.payload["text"]: int(h.payload.get("count", 1))
            for h in open_index(settings).iter_points(settings.queries_collection)}


@pytest.fixture
def local_install(tmp_path: Path, small_library: Path, parser_pool) -> Settings:
    """A local-mode install: the small library, one guideline retired, one restored to an older
    state by a second version, questions asked (stored as past questions, one twice)."""
    settings = _settings(tmp_path / "data", small_library, "local")
    assistant = _open(settings, parser_pool)
    retired = next(r for r in assistant.store.guideline_rows("active") if r["title"] != "Gout")
    assistant.library.retire(retired["id"], "lead")
    for question in (GOUT, GOUT, "What is the first-line antibiotic for a lower UTI in a woman?"):
        assistant.ask(question)
    close_client(settings)
    return settings


def test_a_local_mode_install_moves_to_edge_and_loses_nothing(local_install: Settings, parser_pool) -> None:
    store = Store(local_install.db_url)
    rows_before = [(r["id"], r["guideline_id"], r["version"], r["status"]) for r in store.guideline_rows()]
    questions_before = _questions(local_install)
    close_client(local_install)
    assert legacy_index(local_install.index_path) and sum(questions_before.values()) > len(questions_before)

    edge = _settings(local_install.data_dir, local_install.library_dir, "edge")
    messages: list[str] = []
    assistant = _open(edge, parser_pool, lambda f, m: messages.append(m))

    assert messages[0].startswith("Moving the index to the new engine (Qdrant Edge)")
    assert any("Re-indexing" in m for m in messages) and "Moved the index to Qdrant Edge" in messages
    assert not legacy_index(edge.index_path) and not (edge.index_path / "collection").exists()
    assert [(r["id"], r["guideline_id"], r["version"], r["status"])
            for r in store.guideline_rows()] == rows_before  # versions and retirements untouched
    live = assistant.index.live_collection()
    served = {(p["guideline_id"], p["version"]) for p in assistant.index.scroll_payloads(
        live, ["guideline_id", "version"])}
    assert served == store.active_versions() and "retired" in {r[3] for r in rows_before}
    assert _questions(edge) == questions_before  # every past question, with its count
    assert assistant.index.engine == "edge"
    answer = assistant.ask(GOUT)
    assert answer.sources and answer.sources[0].title == "Gout"
    assert any(a["action"] == "migrate-index" for a in store.audit_rows())


def test_a_move_that_fails_its_checks_keeps_the_old_index_and_the_next_start_completes_it(
        local_install: Settings, parser_pool) -> None:
    store = Store(local_install.db_url)
    gout = next(r for r in store.guideline_rows("active") if r["title"] == "Gout")
    original = local_install.originals_dir / Path(gout["original_path"]).name
    kept = original.read_bytes()
    original.unlink()  # an original lost from data/originals

    edge = _settings(local_install.data_dir, local_install.library_dir, "edge")
    with pytest.raises(MigrationError, match="The old index is kept") as failure:
        _open(edge, parser_pool)
    assert "Gout" in str(failure.value)
    assert legacy_index(edge.index_path)  # nothing removed
    close_client(edge)

    original.write_bytes(kept)
    assistant = _open(edge, parser_pool)
    assert not legacy_index(edge.index_path)
    assert assistant.ask(GOUT).sources[0].title == "Gout"
