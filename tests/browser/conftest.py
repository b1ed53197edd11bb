"""Browser tier: the real app (`streamlit run`) in subprocesses, driven by Debian's chromium.

Three app processes, each over its own copy of the seeded demonstration library, started when a
test first needs them and stopped at the end of the session:
- `offline_app`: the embedded default (no model), plus a test guideline full of hostile markup;
- `model_app`: the same library in model mode against the loopback OpenAI-compatible server,
  which here streams its reply in small, paced pieces so the browser can watch it grow;
- `admin_app`: a ten-guideline copy with an admin password, so the lead's full index rebuild
  takes about a minute instead of five (every original is parsed again).
Each app answers one warm-up question before the tests (cold start is reported, not mixed into
the per-question timings). Timings the browser saw go to `test-artifacts/browser-timings.json`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.browser.documents import HOSTILE_TITLE, hostile_text
from tests.browser.driver import (ADMIN_PASSWORD, ADMIN_USER, ARTIFACTS, CHROMIUM, CHROMIUM_ARGS,
                                  AppProcess, Timings, app_env, ask, new_page, open_app)
from tests.support.llm_server import LLMServer, free_port
from tests.support.data_copy import copy_data

WARM_UP_QUESTION = "How do I confirm a diagnosis of hypertension?"
ADMIN_LIBRARY = ("Leg cramps", "Peripheral arterial disease", "Hypertension", "Lipid modification",
                 "Urinary tract infection", "Croup", "Asthma", "Gout", "Atrial fibrillation", "Sepsis")
_RECORDED: dict[str, Any] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the timings the browser saw, when any were measured."""
    if not _RECORDED:
        return
    terminalreporter.section("timings the browser saw (ms)")
    for key, summary in _RECORDED.items():
        terminalreporter.write_line(f"{key}: {summary}")


@pytest.fixture(scope="session")
def timings() -> Iterator[Timings]:
    recorded = Timings()
    yield recorded
    if not recorded.values:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    summary = recorded.summary()
    (ARTIFACTS / "browser-timings.json").write_text(json.dumps(
        {"summary": summary, "values": recorded.values}, indent=2) + "\n")
    _RECORDED.update(summary)


# Chromium ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium through Playwright (Playwright cannot download browsers here)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`); "
                    ".ci/run does this.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# Loopback listeners -----------------------------------------------------------------------------
class PixelListener:
    """Counts every HTTP request: a hostile guideline's image points here, and must never load."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                listener.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return None

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/pixel.png"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="session")
def pixel() -> Iterator[PixelListener]:
    listener = PixelListener()
    yield listener
    listener.close()


class _PacedWriter:
    """Wraps a handler's output: each server-sent event waits `delay_s` before it is written."""

    def __init__(self, raw: Any, delay_s: float) -> None:
        self.raw, self.delay_s = raw, delay_s

    def write(self, data: bytes) -> int:
        if data.startswith(b"data: "):
            time.sleep(self.delay_s)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


class PacedLLMServer(LLMServer):
    """The loopback model server, streaming its reply in `pieces` events `delay_s` apart."""

    def __init__(self, delay_s: float = 0.12, pieces: int = 30) -> None:
        super().__init__()
        self.chunks_per_reply = pieces
        base = self._httpd.RequestHandlerClass

        class Paced(base):  # type: ignore[misc, valid-type]
            def _events(self, payloads: list[str], done: bool) -> None:
                raw, self.wfile = self.wfile, _PacedWriter(self.wfile, delay_s)
                try:
                    super()._events(payloads, done)
                finally:
                    self.wfile = raw

        self._httpd.RequestHandlerClass = Paced


@pytest.fixture(scope="session")
def llm() -> Iterator[PacedLLMServer]:
    server = PacedLLMServer().start()
    yield server
    server.close()


# Data folders -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def seeded_library(request: pytest.FixtureRequest) -> Path:
    """The seeded demonstration library (the shared `seeded_template`).

    For local iteration only, GUIDELIGHT_BROWSER_SEEDED_DIR may name a folder seeded earlier
    (never changed: the apps get copies), which saves the seeding on every run.
    """
    reuse = os.environ.get("GUIDELIGHT_BROWSER_SEEDED_DIR")
    if reuse:
        return Path(reuse)
    return request.getfixturevalue("seeded_template")


def _open(data_dir: Path) -> Any:
    from pipelines.assistant import Assistant
    from pipelines.config import Settings

    return Assistant.create(Settings(_env_file=None, data_dir=data_dir))


def _close(assistant: Any) -> None:
    from pipelines.index import close_client

    assistant.library.parser.close()
    close_client(assistant.settings)


@pytest.fixture(scope="session")
def chat_template(seeded_library: Path, pixel: PixelListener,
                  tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded library plus one test guideline whose text carries hostile markup."""
    data_dir = tmp_path_factory.mktemp("browser-chat") / "data"
    copy_data(seeded_library, data_dir)
    source = data_dir.parent / "quillfeather-fever.txt"
    source.write_text(hostile_text(pixel.url), encoding="utf-8")
    assistant = _open(data_dir)
    try:
        report = assistant.library.ingest_file(source, actor="browser-tests")
    finally:
        _close(assistant)
    assert report.status != "failed", f"{HOSTILE_TITLE} was not ingested: {report.reason}"
    return data_dir


def _copy(template: Path, tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    data_dir = tmp_path_factory.mktemp(name) / "data"
    copy_data(template, data_dir)
    return data_dir


def _trim_library(data_dir: Path, keep: tuple[str, ...]) -> list[str]:
    """Delete every guideline whose title starts with none of `keep`; returns the kept titles."""
    assistant = _open(data_dir)
    kept = []
    try:
        for row in assistant.store.guideline_rows():
            if row["title"].startswith(keep):
                kept.append(row["title"])
            else:
                assistant.library.delete(row["id"], actor="browser-tests")
    finally:
        _close(assistant)
    return kept


def _gold_subset(titles: list[str], target: Path, per_title: int = 3, abstain: int = 4) -> Path:
    """The gold questions about `titles` (a few each) plus a few that must abstain."""
    from pipelines.config import Settings

    source = Settings(_env_file=None).eval_questions
    picked, counts, abstained = [], dict.fromkeys(titles, 0), 0
    for line in source.read_text("utf-8").splitlines():
        item = json.loads(line)
        if item.get("abstain"):
            if abstained < abstain:
                picked.append(line)
                abstained += 1
            continue
        for title in titles:
            if counts[title] < per_title and any(e.lower() in title.lower() for e in item["expect"]):
                picked.append(line)
                counts[title] += 1
                break
    target.write_text("\n".join(picked) + "\n", encoding="utf-8")
    return target


# The apps ---------------------------------------------------------------------------------------
def _run_app(name: str, data_dir: Path, browser: Any, timings: Timings, **env: str) -> Iterator[AppProcess]:
    app = AppProcess(name, free_port(), data_dir, app_env(data_dir, **env),
                     ARTIFACTS / f"browser-app-{name}.log").start()
    try:
        timings.add(f"{name}.server_start_to_healthy", app.started_s * 1000)
        page = new_page(browser)
        started = time.perf_counter()
        open_app(page, app.url)
        timings.add(f"{name}.first_page_load", (time.perf_counter() - started) * 1000)
        warm = ask(page, WARM_UP_QUESTION)
        timings.add(f"{name}.cold_first_question_complete", warm.complete_ms)
        page.context.close()
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="session")
def offline_app(chat_template: Path, browser: Any, timings: Timings,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """The app in its default offline mode over a copy of the chat template."""
    yield from _run_app("offline", _copy(chat_template, tmp_path_factory, "app-offline"), browser, timings)


@pytest.fixture(scope="session")
def model_app(chat_template: Path, llm: PacedLLMServer, browser: Any, timings: Timings,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """The app in model mode, talking to the paced loopback server."""
    data_dir = _copy(chat_template, tmp_path_factory, "app-model")
    yield from _run_app("model", data_dir, browser, timings, OPENAI_API_KEY="test",
                        OPENAI_BASE_URL=f"{llm.url}/v1", LLM_MODEL="test-model",
                        GUIDELIGHT_LLM_TIMEOUT_S="15")


@pytest.fixture(scope="session")
def admin_app(seeded_library: Path, browser: Any, timings: Timings,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """The app with an admin password (argon2 hash made here) over a ten-guideline library."""
    from argon2 import PasswordHasher

    data_dir = _copy(seeded_library, tmp_path_factory, "app-admin")
    kept = _trim_library(data_dir, ADMIN_LIBRARY)
    assert len(kept) == len(ADMIN_LIBRARY), f"expected {len(ADMIN_LIBRARY)} guidelines, kept {kept}"
    gold = _gold_subset(kept, data_dir.parent / "gold-subset.jsonl")
    yield from _run_app("admin", data_dir, browser, timings,
                        GUIDELIGHT_ADMIN_USER=ADMIN_USER,
                        GUIDELIGHT_ADMIN_PASSWORD_HASH=PasswordHasher().hash(ADMIN_PASSWORD),
                        GUIDELIGHT_EVAL_QUESTIONS=str(gold))
