"""Process-wide resources shared by every session: one Settings, one Assistant (one index client).

`st.cache_resource` makes these shared across all users of this server process, which is what
Qdrant local mode needs (one client per process). Per-user state lives in `st.session_state`.
"""

from __future__ import annotations

import threading

import streamlit as st

from pipelines.assistant import Assistant
from pipelines.config import Settings, get_settings
from pipelines.index import IndexLockedError

_startup_lock = threading.Lock()


@st.cache_resource(show_spinner=False)
def app_settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner="Opening the guideline index…")
def _assistant() -> Assistant:
    return Assistant.create(app_settings())


def get_assistant() -> Assistant:
    """The shared Assistant, started (recovered, seeded) before first use, with progress shown.

    On a new install the first visitor sees a progress bar while the demonstration library is
    indexed (about a minute on 2 cores); everyone after gets the ready index at once.
    """
    try:
        assistant = _assistant()
    except IndexLockedError as exc:
        st.error(str(exc))
        st.stop()
    if getattr(assistant, "_started", False):
        return assistant
    with _startup_lock:
        if not getattr(assistant, "_started", False):
            bar = st.progress(0.0, text="Preparing the guideline library…")

            def progress(fraction: float, message: str) -> None:
                bar.progress(max(0.0, min(1.0, fraction)), text=message)

            assistant.startup(progress)
            assistant._started = True
            bar.empty()
    return assistant
