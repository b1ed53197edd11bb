"""Publishing on the server: one Publish press becomes a job in a thread of the app process, so it
finishes (or, on a failure, rolls back: see `Library._ingest`) whatever happens to the browser tab
that started it. The page only watches the job's progress and shows its results.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipelines.library import IngestReport, Progress
from pipelines.reports import ChangeReport

logger = logging.getLogger(__name__)


@dataclass
class PendingUpload:
    """An uploaded file saved to disk, with the metadata the admin confirmed."""

    path: Path
    display_name: str
    overrides: dict[str, Any] | None = None


@dataclass
class PublishResult:
    report: IngestReport
    changes: ChangeReport | None = None


@dataclass(frozen=True)
class FileProgress:
    name: str
    fraction: float = 0.0
    message: str = "Waiting"


class PublishJob:
    """Publishing a list of files in a background thread, with per-file progress.

    Args:
        publish: runs the publish, given `progress_for(i)` (the AdminService's `publish`).
        names: the files' display names, in order.
        cleanup: called when the job ends, however it ends (removes the uploaded copies).
    """

    def __init__(self, publish: Callable[[Callable[[int], Progress]], list[PublishResult]],
                 names: list[str], cleanup: Callable[[], None] = lambda: None) -> None:
        self.id = uuid.uuid4().hex
        self._publish, self._cleanup = publish, cleanup
        self._files = [FileProgress(name) for name in names]
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.results: list[PublishResult] = []
        self.error = ""

    def start(self) -> PublishJob:
        threading.Thread(target=self._run, name=f"guidelight-publish-{self.id[:6]}", daemon=True).start()
        return self

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def files(self) -> list[FileProgress]:
        with self._lock:
            return list(self._files)

    def progress_for(self, i: int) -> Progress:
        def progress(fraction: float, message: str) -> None:
            with self._lock:
                self._files[i] = replace(self._files[i], fraction=max(0.0, min(1.0, fraction)), message=message)
        return progress

    def _run(self) -> None:
        try:
            self.results = self._publish(self.progress_for)
        except Exception as exc:  # noqa: BLE001  (shown to whoever watches; logged in full)
            logger.exception("publishing stopped")
            self.error = f"Publishing stopped with {type(exc).__name__}; see the server log."
        finally:
            try:
                self._cleanup()
            finally:
                self._done.set()
