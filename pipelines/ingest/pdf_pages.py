"""A PDF's pages as `PageContent`, read by several processes when the document is long.

Reading a page's characters, fonts and positions took most of an ingest when pdfminer read them
(pure Python, about 0.11 s a NICE page here); PDFium now reads them for pdfplumber
(`pdf_objects`), and `GUIDELIGHT_PDF_READER=pdfminer` goes back to pdfminer. Pages do not
depend on each other, so a long PDF is read in runs of pages by a small pool of processes, one
per core, and put back in page order. The result is the same as reading the pages one after the
other (a test compares them). The pool's processes start from a fork server (no threads are
copied) and end when the process that asked for them dies (their task pipe closes; on Linux
they are also sent SIGKILL), so a parse stopped for taking too long leaves nothing running.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipelines.ingest.pdf_lines import Line, PageContent, read_page
from pipelines.ingest.pdf_objects import page_objects, usable

PageProgress = Callable[[int, int], None]
PARALLEL_MIN_PAGES = 24  # below this, starting processes costs more than it saves
RUN = 8  # pages a process reads per task (progress is reported after each run)
MAX_PROCESSES = 4
# Characters and ruling lines come from PDFium (C) rather than pdfminer (Python): `pdf_objects`.
_PDFIUM_LOCK = threading.Lock()
USE_PDFIUM = os.environ.get("GUIDELIGHT_PDF_READER", "pdfium") != "pdfminer"


def processes_for(pages: int) -> int:
    """How many processes read a document of `pages` pages (1: read here)."""
    if pages < PARALLEL_MIN_PAGES:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_PROCESSES, pages // RUN))


def fallback_page(reader: Any, number: int) -> PageContent:
    """Plain text for a page whose layout could not be read: one line per text line."""
    page = reader.pages[number - 1]
    text = page.extract_text() or ""
    height = float(page.mediabox.height)
    content = PageContent(number, float(page.mediabox.width), height)
    step = height / (len(text.splitlines()) + 2)
    for i, raw in enumerate(ln for ln in text.splitlines() if ln.strip()):
        top = step * (i + 1)
        content.lines.append(Line(raw.strip(), number, 0, 0, top, top + 10, 10.0, False))
    return content


def read_run(path: str, first: int, last: int, each: Callable[[int], None] | None = None,
             pdfium: bool | None = None) -> tuple[list[PageContent], list[str]]:
    """Pages `first`..`last` (1-based, inclusive), each by its layout or else as plain text;
    `each(number)` after each page; `pdfium`: PDFium reads the characters (default `USE_PDFIUM`)."""
    import pdfplumber

    pages, warnings, plain = [], [], None
    fast = _pdfium(path) if (USE_PDFIUM if pdfium is None else pdfium) else None
    with pdfplumber.open(path) as pdf:
        for number in range(first, last + 1):
            page = pdf.pages[number - 1]
            try:
                pages.append(_read_page(page, fast, number))
            except Exception as exc:  # noqa: BLE001 - any parser failure: use the simpler reader
                if plain is None:
                    from pypdf import PdfReader

                    plain = PdfReader(path)
                pages.append(fallback_page(plain, number))
                warnings.append(f"page {number}: layout unreadable ({type(exc).__name__}); plain text used")
            page.flush_cache()
            if each:
                each(number)
    if fast is not None:
        with _PDFIUM_LOCK:
            fast.close()
    return pages, warnings


def _read_page(page: Any, fast: Any, number: int) -> PageContent:
    """One page from PDFium's objects where it can give them; a page that does not read from
    them is read from pdfminer's, as before PDFium was used."""
    if fast is not None and _use_pdfium(page, fast, number):
        try:
            return read_page(page, number)
        except Exception:  # noqa: BLE001 - the same page from pdfminer's objects
            page.flush_cache()
    return read_page(page, number)


def _pdfium(path: str) -> Any:
    """The document opened by PDFium, or None (then pdfplumber reads every page itself)."""
    try:
        import pypdfium2

        with _PDFIUM_LOCK:
            return pypdfium2.PdfDocument(path)
    except Exception:  # noqa: BLE001 - PDFium refusing a file costs the speed, not the file
        return None


def _use_pdfium(page: Any, fast: Any, number: int) -> bool:
    """Give the pdfplumber page PDFium's objects (`pdf_objects`), where its geometry allows;
    False when it does not, or PDFium fails (pdfplumber then reads the page itself).
    PDFium is not thread-safe: one thread of a process uses it at a time."""
    try:
        with _PDFIUM_LOCK:
            pdf_page = fast[number - 1]
            try:
                if not usable(pdf_page):
                    return False
                page._objects = page_objects(pdf_page, float(page.height), float(page.initial_doctop))
                return True
            finally:
                pdf_page.close()
    except Exception:  # noqa: BLE001 - pdfplumber then reads this page itself
        return False


@contextmanager
def bare_main() -> Iterator[None]:
    """Show a worker being started an empty `__main__`, so it does not re-run the host script.

    A spawned worker first re-runs the parent's `__main__` file. Under `streamlit run` that file
    is the app script (`streamlit_app.py`), which cannot run outside Streamlit, so the worker died
    before parsing anything. The worker needs nothing from `__main__`.
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__file__", None) is None:
        yield
        return
    stub = types.ModuleType("__main__")
    sys.modules["__main__"] = stub
    try:
        yield
    finally:
        if sys.modules.get("__main__") is stub:
            sys.modules["__main__"] = main


def _die_with_parent() -> None:
    """Linux: be killed when the process that started this one dies (a stopped parse)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _read_task(task: tuple[str, int, int, bool]) -> tuple[int, list[PageContent], list[str]]:
    path, first, last, pdfium = task
    pages, warnings = read_run(path, first, last, pdfium=pdfium)
    return first, pages, warnings


def read_all(path: Path, total: int, progress: PageProgress | None = None) -> tuple[list[PageContent], list[str]]:
    """Every page of the PDF, in order, with the pages that fell back to plain text noted."""
    workers = processes_for(total)
    if workers == 1:
        return read_run(str(path), 1, total, (lambda n: progress(n, total)) if progress else None)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    tasks = [(str(path), first, min(first + RUN - 1, total), USE_PDFIUM) for first in range(1, total + 1, RUN)]
    runs: dict[int, tuple[list[PageContent], list[str]]] = {}
    done = 0
    with bare_main(), context.Pool(workers, initializer=_die_with_parent) as pool:
        for first, got, notes in pool.imap_unordered(_read_task, tasks):
            runs[first] = (got, notes)
            done += len(got)
            if progress:
                progress(done, total)
    ordered = [runs[first] for first in sorted(runs)]
    return [p for got, _ in ordered for p in got], [w for _, notes in ordered for w in notes]
