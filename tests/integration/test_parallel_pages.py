"""A long PDF's pages are read by several processes: the same pages as one process reads, in
order, with progress, and nothing left running when the reader is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.ingest import pdf_pages
from tests.support.realistic_docs import nice_style_guideline

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def guideline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parallel") / "nice-style.pdf"
    nice_style_guideline(path)
    return path


def _pages(path: Path) -> int:
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        return len(pdf.pages)


def test_pages_read_by_several_processes_are_the_pages_one_process_reads(
        guideline: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    total = _pages(guideline)
    one, one_notes = pdf_pages.read_all(guideline, total)
    monkeypatch.setattr(pdf_pages, "PARALLEL_MIN_PAGES", 2)
    monkeypatch.setattr(pdf_pages, "RUN", 3)  # several runs, finishing in any order
    monkeypatch.setattr(pdf_pages, "processes_for", lambda pages: 2)
    seen: list[tuple[int, int]] = []
    many, many_notes = pdf_pages.read_all(guideline, total, lambda done, of: seen.append((done, of)))
    assert [p.number for p in many] == list(range(1, total + 1))
    assert many == one and many_notes == one_notes
    assert seen[-1] == (total, total) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) == -(-total // 3)  # one report per run of pages


def test_a_long_document_is_read_by_one_process_per_core_and_a_short_one_here() -> None:
    assert pdf_pages.processes_for(pdf_pages.PARALLEL_MIN_PAGES - 1) == 1
    cores = len(os.sched_getaffinity(0))
    assert pdf_pages.processes_for(150) == max(1, min(cores, pdf_pages.MAX_PROCESSES))


READER = """
import multiprocessing, sys
from pathlib import Path
from pipelines.ingest import pdf_pages
pdf_pages.PARALLEL_MIN_PAGES, pdf_pages.RUN = 2, 1  # one task a page: killed with most to do
pdf_pages.processes_for = lambda pages: 2
def report(done, total):
    print(*[p.pid for p in multiprocessing.active_children()], flush=True)
pdf_pages.read_all(Path(sys.argv[1]), int(sys.argv[2]), report)
"""


def test_killing_the_reader_leaves_no_page_process_running(guideline: Path) -> None:
    reader = subprocess.Popen([sys.executable, "-c", READER, str(guideline), str(_pages(guideline))],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert reader.stdout is not None
    workers = [int(pid) for pid in reader.stdout.readline().split()]
    assert workers, "no page processes were running"
    reader.send_signal(signal.SIGKILL)
    reader.wait(timeout=10)
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in workers if _running(pid)]
    assert not alive, f"page processes {alive} outlived the killed reader"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has finished; it only waits to be reaped
