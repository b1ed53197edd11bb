"""Driving the whole app (`streamlit_app.py` and its navigation) with Streamlit's AppTest.

Shared by the page tests and the access tests: a private copy of the seeded library as the app's
data folder, new sessions on the chat or admin page, signing in, asking, and what counts as
"admin content" on a page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from pipelines.config import get_settings
from pipelines.index import close_client
from tests.support.data_copy import copy_data

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def app_data(seeded_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             **env: str) -> Iterator[Path]:
    """A private copy of the seeded library as the app's data folder, plus any `env` settings.

    Settings and `st.cache_resource` are process-wide, so both are cleared around the test and
    the app's Qdrant client is released, as a fresh server process would find them.
    """
    data_dir = tmp_path / "data"
    copy_data(seeded_template, data_dir)
    monkeypatch.setenv("GUIDELIGHT_DATA_DIR", str(data_dir))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    st.cache_resource.clear()
    try:
        yield data_dir
    finally:
        settings = get_settings()
        st.cache_resource.clear()
        close_client(settings)
        get_settings.cache_clear()


def open_chat() -> AppTest:
    """A new browser session on the chat page (the default page)."""
    return AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240).run()


def open_admin(at: AppTest | None = None) -> AppTest:
    """The admin page, in a new session or (given `at`) in the same one."""
    at = at or open_chat()
    at.switch_page("pages/admin.py")
    return at.run()


def sign_in(at: AppTest, password: str, user: str = "admin") -> AppTest:
    at.text_input(key="admin_sign_in_user").input(user)
    at.text_input(key="admin_sign_in_password").input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    return at.run()


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question)
    return at.run()


def badge_labels(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if "-badge[" in m.value]


def admin_buttons(at: AppTest) -> list:
    return [b for b in at.button if b.key and b.key.startswith("admin_") and b.key != "admin_sign_out"]


def assert_no_admin_content(at: AppTest) -> None:
    """No library table, uploader, admin tab, admin action button or admin token on the page."""
    from ui.admin_access import TOKEN_KEY

    assert not at.exception
    assert len(at.dataframe) == 0 and len(at.file_uploader) == 0 and len(at.tabs) == 0
    assert not admin_buttons(at)
    assert TOKEN_KEY not in at.session_state
