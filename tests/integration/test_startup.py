"""Preparing the library in the background (`pipelines.startup`): a real Assistant over a new
install indexes a small library in a thread, once however often it is started, and a failure
becomes a message every visitor can be shown."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipelines.assistant import Assistant
from pipelines.config import Settings
from pipelines.index import close_client
from pipelines.startup import OPENING, BackgroundStartup, StartupStatus
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
SMALL_LIBRARY = ("gout.pdf", "croup.html", "atrial-fibrillation.md")


def small_install(tmp_path: Path) -> Settings:
    library = tmp_path / "library"
    library.mkdir()
    for name in SMALL_LIBRARY:
        shutil.copy(ROOT / "data" / "guidelines" / name, library / name)
    return make_settings(tmp_path / "data", library_dir=library)


def test_a_new_install_is_indexed_in_the_background_once(tmp_path: Path) -> None:
    settings = small_install(tmp_path)
    opened: list[Assistant] = []

    def open_assistant() -> Assistant:
        opened.append(Assistant.create(settings))
        return opened[-1]

    job = BackgroundStartup(open_assistant)
    assert job.status() == StartupStatus(0.0, OPENING, done=False)  # nothing runs until started
    try:
        job.start().start()
        status = job.wait(timeout=600)
        assert status == StartupStatus(1.0, "Ready", done=True, error=None)
        assert len(opened) == 1 and job.assistant is opened[0]
        assert job.assistant.status()["guidelines"] == len(SMALL_LIBRARY)
        assert job.assistant.ask("How should acute gout be treated?", log=False).citations
    finally:
        for assistant in opened:
            assistant.library.parser.close()
        close_client(settings)


def test_a_failed_start_is_reported_not_raised(tmp_path: Path) -> None:
    def broken() -> Assistant:
        raise OSError("No space left on device")

    job = BackgroundStartup(broken).start()
    status = job.wait(timeout=60)
    assert status.done and status.error and "OSError" in status.error
    try:
        job.assistant
    except RuntimeError as exc:
        assert "OSError" in str(exc)
    else:
        raise AssertionError("a failed start must not hand out an Assistant")
