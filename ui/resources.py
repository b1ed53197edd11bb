"""Process-wide resources shared by every session: one Settings, one Assistant (one index client).

`st.cache_resource` makes these shared across all users of this server process, which is what
Qdrant local mode needs (one client per process). Per-user state lives in `st.session_state`.
The Assistant is opened and its library prepared in a background thread started at launch
(`prepare_at_launch`, the app's lifespan) or, failing that, by the first visitor; anyone who
arrives before it is ready watches its progress.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import streamlit as st

from pipelines.assistant import Assistant
from pipelines.config import Settings, get_settings
from pipelines.startup import BackgroundStartup

POLL_S = 0.5


@st.cache_resource(show_spinner=False)
def app_settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner=False)
def background_startup() -> BackgroundStartup:
    """Started once per process; the same job for every session."""
    return BackgroundStartup(lambda: Assistant.create(app_settings())).start()


@asynccontextmanager
async def prepare_at_launch(app: Any) -> AsyncIterator[None]:
    """Lifespan of the ASGI app: start preparing the library before anyone visits."""
    background_startup()
    yield


def _assistant() -> Assistant:
    """The shared Assistant, once prepared (no page elements: for tests and scripts)."""
    job = background_startup()
    job.wait()
    return job.assistant


def get_assistant() -> Assistant:
    """The shared Assistant; while it is being prepared, this visitor sees the progress.

    On a new install that is the indexing of the demonstration library; on later starts only
    opening the saved index.
    """
    job = background_startup()
    status = job.status()
    if not status.done:
        waiting = st.empty()
        with waiting.container():
            st.caption("Guidelight is preparing its guideline library (on a new install, once: the "
                       "bundled library is indexed). This page carries on by itself when it is ready.")
            bar = st.progress(status.fraction, text=status.message)
        while not status.done:
            status = job.wait(POLL_S)
            bar.progress(status.fraction, text=status.message or "Ready")
        waiting.empty()
    if status.error:
        st.error(status.error)
        st.stop()
    return job.assistant
