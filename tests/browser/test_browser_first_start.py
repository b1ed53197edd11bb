"""A new install as `streamlit run streamlit_app.py` meets it: the bundled library is indexed from
launch, before anyone visits, and the first visitor watches that progress, then asks."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.driver import (ARTIFACTS, SEED_QUESTION, AppProcess, Camera, Timings,
                                  app_env, ask, last_answer, new_page, settle)
from tests.support.llm_server import free_port

pytestmark = pytest.mark.browser
INDEXING_DEADLINE_S = 600  # a waiting limit, not a measured claim: the real timings are recorded


def active_guidelines(db: Path) -> int:
    """Active rows in the app's registry, read without disturbing the app (0 before it exists)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
            return connection.execute("SELECT count(*) FROM guidelines WHERE status = 'active'").fetchone()[0]
    except sqlite3.OperationalError:  # the table is being created
        return 0


def test_first_start_indexes_at_launch_and_the_first_visitor_sees_progress(
        browser: Any, timings: Timings, tmp_path: Path) -> None:
    camera = Camera("first-start")
    data_dir = tmp_path / "data"  # a new install: no index, no records
    app = AppProcess("first-start", free_port(), data_dir, app_env(data_dir),
                     ARTIFACTS / "browser-app-first-start.log")
    launched = time.perf_counter()
    app.start()
    try:
        # Nobody has visited yet, and the library is being indexed all the same.
        deadline = time.monotonic() + INDEXING_DEADLINE_S
        while active_guidelines(data_dir / "app.db") == 0:
            assert time.monotonic() < deadline, f"nothing indexed without a visitor:\n{app.log_tail()}"
            time.sleep(0.5)
        timings.add("first-start.launch_to_first_guideline_indexed", (time.perf_counter() - launched) * 1000)

        page = new_page(browser)
        page.goto(app.url)
        progress = page.get_by_test_id("stProgress")
        progress.wait_for(timeout=60_000)
        assert "Indexing" in progress.inner_text(), progress.inner_text()
        camera.shot(page, "progress", docs_name="first-start-progress")

        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=INDEXING_DEADLINE_S * 1000)
        settle(page)
        timings.add("first-start.launch_to_ready", (time.perf_counter() - launched) * 1000)
        assert progress.count() == 0
        sidebar = page.get_by_test_id("stSidebar").inner_text()
        assert f"Library: {active_guidelines(data_dir / 'app.db')} guidelines" in sidebar, sidebar
        ask(page, SEED_QUESTION)
        timings.add("first-start.launch_to_first_answer", (time.perf_counter() - launched) * 1000)
        assert last_answer(page).locator(".stMarkdownBadge").count() == 1
        page.context.close()
    finally:
        app.stop()
