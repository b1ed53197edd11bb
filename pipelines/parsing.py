"""Parses files in a separate worker process with a time limit and a memory limit.

A hung or exploding parser is killed and reported as an `IngestError`; the calling process (the
app or the CLI) is unaffected. The worker is reused across files so imports are paid once.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from pipelines.ingest import parse_document
from pipelines.ingest.pdf_pages import bare_main
from pipelines.models import ParsedDocument
from pipelines.validate import IngestError, Limits


def _limit_memory(megabytes: int) -> None:
    import resource

    if megabytes <= 0:
        return
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class ParserPool:
    """One parser worker process, replaced whenever a parse is killed or crashes."""

    def __init__(self, limits: Limits, *, timeout_s: float, memory_mb: int, max_pages: int) -> None:
        self.limits = limits
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.max_pages = max_pages
        self._pool: ProcessPoolExecutor | None = None
        self._manager: Any = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context,
                                             initializer=_limit_memory, initargs=(self.memory_mb,))
        return self._pool

    def parse(self, path: Path, *, display_name: str | None = None, overrides: dict[str, Any] | None = None,
              pages: Callable[[int, int], None] | None = None) -> ParsedDocument:
        """Parse one file in the worker; `pages(done, total)` is called as PDF pages are read.

        Raises:
            IngestError: the file is invalid, the parse timed out, or the worker ran out of memory.
        """
        name = display_name or path.name
        with self._lock:
            queue = self._queue() if pages else None
            with bare_main():  # the worker process starts here, on the first submit
                future = self._executor().submit(_parse_reporting, path, self.limits, queue, display_name=name,
                                                 overrides=overrides, max_pages=self.max_pages)
            try:
                if queue is not None and pages is not None:
                    _relay(future, queue, pages, self.timeout_s)
                return future.result(timeout=self.timeout_s)
            except FutureTimeout:
                self._kill()
                raise IngestError(name, f"parsing took longer than {self.timeout_s:.0f} s and was "
                                        "stopped; the file may be malformed or too complex.") from None
            except BrokenProcessPool:
                self._kill()
                raise IngestError(name, "the parser process crashed (the file may need more than "
                                        f"{self.memory_mb} MB of memory to read).") from None
            except MemoryError:
                self._kill()
                raise IngestError(name, f"reading the file needed more than {self.memory_mb} MB of "
                                        "memory and was stopped.") from None

    def _queue(self) -> Any:
        """A queue the worker can write page progress to (a manager's, so it can be sent)."""
        if self._manager is None:
            with bare_main():
                self._manager = multiprocessing.get_context("spawn").Manager()
        return self._manager.Queue()

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
            if self._manager is not None:
                self._manager.shutdown()
                self._manager = None


def _parse_reporting(path: Path, limits: Limits, queue: Any, **kwargs: Any) -> ParsedDocument:
    """The worker's task: parse, putting (pages done, total) on `queue` as pages are read."""
    report = (lambda done, total: queue.put((done, total))) if queue is not None else None
    return parse_document(path, limits, pages=report, **kwargs)


def _relay(future: Any, queue: Any, pages: Callable[[int, int], None], timeout_s: float) -> None:
    """Pass the worker's page progress on until the parse ends (or its time is up)."""
    import queue as queues
    import time

    deadline = time.monotonic() + timeout_s
    while not future.done() and time.monotonic() < deadline:
        try:
            done, total = queue.get(timeout=0.2)
        except queues.Empty:
            continue
        except (EOFError, OSError, BrokenPipeError):
            return
        pages(done, total)
    try:  # what the worker said just before it finished
        while True:
            pages(*queue.get_nowait())
    except (queues.Empty, EOFError, OSError, BrokenPipeError):
        return
