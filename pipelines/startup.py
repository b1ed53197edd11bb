"""Preparing the library in the background: one thread per process, progress anyone can read.

The app starts it at launch (and, failing that, its first visitor does); every visitor until it
finishes sees the same progress instead of starting, or waiting on, work of their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pipelines.index import IndexLockedError

logger = logging.getLogger(__name__)
OPENING = "Opening the guideline index…"


@dataclass(frozen=True)
class StartupStatus:
    """How far preparing the library has got."""

    fraction: float = 0.0
    message: str = OPENING
    done: bool = False
    error: str | None = None


class BackgroundStartup:
    """Open the Assistant and run its start-up (recover, seed, purge) in a daemon thread.

    Args:
        open_assistant: builds the Assistant (`Assistant.create(settings)`); called in the thread,
            so loading the embedding model does not hold up whoever starts it.
    """

    def __init__(self, open_assistant: Callable[[], Any]) -> None:
        self._open = open_assistant
        self._status = StartupStatus()
        self._assistant: Any | None = None
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> BackgroundStartup:
        """Start the thread (once; later calls do nothing) and return self."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="guidelight-startup", daemon=True)
                self._thread.start()
        return self

    def status(self) -> StartupStatus:
        with self._lock:
            return self._status

    def wait(self, timeout: float | None = None) -> StartupStatus:
        """The status once finished, or after `timeout` seconds, whichever is first."""
        self._finished.wait(timeout)
        return self.status()

    @property
    def assistant(self) -> Any:
        """The prepared Assistant; an error if start-up has not finished or failed."""
        status = self.status()
        if not status.done or self._assistant is None:
            raise RuntimeError(status.error or "the library is still being prepared")
        return self._assistant

    def _progress(self, fraction: float, message: str) -> None:
        with self._lock:
            self._status = replace(self._status, fraction=max(0.0, min(1.0, fraction)), message=message)

    def _run(self) -> None:
        try:
            assistant = self._open()
            self._progress(0.0, "Preparing the guideline library…")
            assistant.startup(self._progress)
            self._assistant = assistant
            self._finish(StartupStatus(1.0, "Ready", done=True))
        except IndexLockedError as exc:
            self._finish(StartupStatus(0.0, "", done=True, error=str(exc)))
        except Exception as exc:  # noqa: BLE001  (reported to every visitor, logged in full)
            logger.exception("Preparing the guideline library failed")
            self._finish(StartupStatus(0.0, "", done=True, error=(
                f"Guidelight could not prepare the guideline library ({type(exc).__name__}); the "
                "server log has the details. Restart the app once the cause is fixed.")))

    def _finish(self, status: StartupStatus) -> None:
        with self._lock:
            self._status = status
        self._finished.set()
