"""Faults around the index: concurrent writers and readers, a second process on the same local
index, and an index built with another embedding model.

All real: Qdrant local mode on a tmp folder, the MiniLM embedder, the CLI in a subprocess.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from pipelines.assistant import Assistant
from pipelines.config import Settings
from pipelines.index import close_client
from pipelines.models import Chunk
from tests.reliability.conftest import ROOT, report

QUESTIONS = ["How should acute gout be treated?", "bronchiolitis red flags in infants",
             "falls risk assessment in older people", "first line antibiotic for acute otitis media",
             "osteoarthritis exercise advice", "when to refer a child with bronchiolitis"]


def copies(chunks: list[Chunk], writer: int) -> list[Chunk]:
    """The same passages under a writer-specific guideline id, so every point id is distinct."""
    return [dataclasses.replace(c, guideline_id=f"{c.guideline_id}-w{writer}") for c in chunks]


def test_eight_writers_and_eight_searchers_lose_nothing(small_settings: Settings, parser_pool,
                                                        small_library: Path) -> None:
    assistant = Assistant.create(small_settings)
    assistant.library.parser = parser_pool
    live = assistant.index.live_collection()
    before = assistant.index.count(live)
    _, chunks = assistant.library.parse(small_library / "gout.pdf")
    vectors = assistant.library.embed(chunks)
    errors: list[str] = []
    searches = [0]
    done = threading.Event()

    def write(w: int) -> None:
        try:
            for _ in range(3):  # repeated upserts of the same ids must not duplicate points
                assistant.index.upsert(live, copies(chunks, w), vectors, batch=4)
        except Exception as exc:
            errors.append(f"writer {w}: {type(exc).__name__}: {exc}")

    def search(s: int) -> None:
        i = 0
        while not done.is_set() or i < 3:
            try:
                assistant.retriever.search(QUESTIONS[(s + i) % len(QUESTIONS)], None, live)
                searches[0] += 1
            except Exception as exc:
                errors.append(f"searcher {s}: {type(exc).__name__}: {exc}")
            i += 1

    writers = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    searchers = [threading.Thread(target=search, args=(s,)) for s in range(8)]
    for t in writers + searchers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    for t in searchers:
        t.join()
    report("8 writers + 8 searchers", errors=len(errors), searches=searches[0],
           points_written=8 * len(chunks))
    assert errors == []
    assert assistant.index.count(live) == before + 8 * len(chunks)


def run_cli(data_dir: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "GUIDELIGHT_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pipelines", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    return result, time.perf_counter() - started


def test_second_process_fails_fast_and_first_keeps_working(small_settings: Settings, parser_pool) -> None:
    assistant = Assistant.create(small_settings)
    assistant.library.parser = parser_pool
    assistant.startup()
    result, seconds = run_cli(small_settings.data_dir, "status")
    report("second process on the index", exit_code=result.returncode, seconds=round(seconds, 2))
    assert result.returncode == 2
    assert "already open in another process" in result.stderr
    assert "QDRANT_URL" in result.stderr and "Traceback" not in result.stderr
    answer = assistant.ask("How should acute gout be treated?")
    assert answer.sources and answer.sources[0].title == "Gout"
    assert assistant.status()["chunks"] > 0


def test_cli_works_once_the_first_process_lets_go(small_settings: Settings) -> None:
    """The lock is the process's, not a stale file: after close, another process gets in."""
    Assistant.create(small_settings)
    close_client(small_settings)
    result, _ = run_cli(small_settings.data_dir, "status", "--json")
    assert result.returncode == 0, result.stderr
    assert '"chunks"' in result.stdout


def relabel_live(assistant: Assistant, model: str) -> str:
    """Mark the live collection as built with another embedding model (what an index built
    under `GUIDELIGHT_EMBEDDING_MODEL=openai:...` carries)."""
    live = assistant.index.live_collection()
    assistant.index.set_collection_info(live, embedding_model=model)
    return live


def test_index_from_another_embedding_model_is_never_mixed(small_settings: Settings, parser_pool,
                                                           small_library: Path) -> None:
    first = Assistant.create(small_settings)
    old = relabel_live(first, "openai:text-embedding-3-small")
    before = first.index.count(old)
    assistant = Assistant.create(small_settings)
    assistant.library.parser = parser_pool
    assistant.startup()

    mismatch = assistant.library.embedding_mismatch()
    assert mismatch and "rebuild" in mismatch
    assert assistant.status()["embedding_mismatch"] == mismatch
    answer = assistant.ask("How should acute gout be treated?")
    assert answer.abstained and answer.citations == [] and answer.sources == []
    assert any("rebuild" in n.lower() for n in answer.notices)

    ingest = assistant.library.ingest_file(ROOT / "data" / "guidelines" / "impetigo.md", actor="admin")
    assert ingest.status == "failed" and "rebuild" in ingest.reason.lower()
    assert assistant.index.count(old) == before  # nothing written into the other model's index

    rebuilt = assistant.library.rebuild(actor="admin")
    assert rebuilt["swapped"] and assistant.library.embedding_mismatch() is None
    assert assistant.ask("How should acute gout be treated?").sources[0].title == "Gout"
