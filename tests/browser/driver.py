"""Driving the real app in chromium: the app process, asking questions, timing what the eye sees.

Streamlit marks its root element `data-test-script-state="running" | "notRunning"` and stale
elements `data-stale="true"`; these, and the widgets' `data-testid`s, are the only hooks used, so
the tests read the page the way a person does (labels, roles, visible text).

Timings come from a MutationObserver installed in the page before a question is submitted: it
notes the moment Enter was pressed, every change in the length of the new answer's visible text,
and the moment the answer's download button (the last element an answer renders) appears.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
ANSWER_TIMEOUT_MS = 180_000
ADMIN_USER = "admin"
ADMIN_PASSWORD = "browser-test-passphrase-7"  # hashed with argon2 by the admin_app fixture
SEED_QUESTION = "How can I differentiate nocturnal leg cramps from other causes of leg pain?"


# The app process --------------------------------------------------------------------------------
@dataclass
class AppProcess:
    """One `streamlit run streamlit_app.py` on a free local port, over its own data folder."""

    name: str
    port: int
    data_dir: Path
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    started_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120.0) -> AppProcess:
        """Start the server and wait for `/_stcore/health`; fail with the log if it dies."""
        command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
                   "--server.port", str(self.port), "--server.address", "127.0.0.1",
                   "--server.headless", "true", "--browser.gatherUsageStats", "false",
                   "--server.fileWatcherType", "none"]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        started = time.perf_counter()
        # Own process group: stopping it also stops the parser worker the app spawns.
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} app exited with {self.process.returncode}:\n{self.log_tail()}")
            if self._healthy():
                self.started_s = time.perf_counter() - started
                return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} app not healthy after {timeout_s:.0f} s:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM to the app's process group, SIGKILL if it has not gone within 15 s."""
        if self.process is None or self.process.poll() is not None:
            return
        pgid = os.getpgid(self.process.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=5)
        try:  # anything of the group still alive (the parser worker)
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def app_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of an app process: offline, no configured model unless `extra` adds one."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLM_MODEL", "QDRANT_URL",
                        "QDRANT_API_KEY", "DATABASE_URL") and not k.startswith("GUIDELIGHT_")}
    env.update({"GUIDELIGHT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", "DO_NOT_TRACK": "1", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


# Measurements and pages ----------------------------------------------------------------------------
class Timings:
    """Named lists of milliseconds, summarised and written to test-artifacts at session end."""

    def __init__(self) -> None:
        self.values: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def add(self, name: str, ms: float | None) -> None:
        if ms is None:
            return
        with self._lock:
            self.values.setdefault(name, []).append(round(float(ms), 1))

    def summary(self) -> dict[str, dict[str, float]]:
        return {name: {"n": len(v), "min": min(v), "median": round(statistics.median(v), 1),
                       "max": max(v)} for name, v in sorted(self.values.items())}


def new_page(browser: Any, viewport: dict[str, int] | None = None) -> Any:
    """A page in a fresh browser context (its own cookies: a separate Streamlit session)."""
    context = browser.new_context(viewport=viewport or VIEWPORT, accept_downloads=True)
    context.set_default_timeout(60_000)
    return context.new_page()


# Waiting ----------------------------------------------------------------------------------------
def settle(page: Any, timeout_ms: int = ANSWER_TIMEOUT_MS) -> None:
    """Wait until the script run has finished and nothing on the page is stale."""
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]",
                           state="attached", timeout=timeout_ms)
    page.wait_for_function("() => !document.querySelector('[data-stale=true]')", timeout=timeout_ms)


def open_app(page: Any, url: str) -> None:
    """Load the chat page and wait until it is ready for a question."""
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=ANSWER_TIMEOUT_MS)
    settle(page)


_COMPLETED_JS = """() => Array.from(document.querySelectorAll('[data-testid=stChatMessage]'))
  .filter(m => m.querySelector('[data-testid=stChatMessageAvatarAssistant]'))
  .filter(m => m.querySelector('[data-testid=stDownloadButton]')
            || (m.querySelector('[data-testid=stAlertContentError]') && !m.querySelector('.stMarkdownBadge')))
  .length"""


def completed_answers(page: Any) -> int:
    """Assistant turns fully rendered: an answer (ends with its download button) or an error."""
    return int(page.evaluate(_COMPLETED_JS))


def wait_for_answers(page: Any, count: int, timeout_ms: int = ANSWER_TIMEOUT_MS) -> None:
    """Wait until `count` assistant turns are fully rendered and the page has settled."""
    page.wait_for_function(f"() => ({_COMPLETED_JS})() >= {count}", timeout=timeout_ms)
    settle(page, timeout_ms)


# Asking, with timings ---------------------------------------------------------------------------
_PROBE_JS = """(index) => {
  const probe = {t0: null, first: null, done: null, samples: []};
  window.__answerProbe = probe;
  const assistant = () => Array.from(document.querySelectorAll('[data-testid=stChatMessage]'))
      .filter(m => m.querySelector('[data-testid=stChatMessageAvatarAssistant]'));
  const answerText = (m) => Array.from(m.querySelectorAll('[data-testid=stMarkdownContainer]'))
      .filter(e => !e.closest('[data-testid=stSpinner]') && !e.closest('[data-stale=true]'))
      .map(e => e.innerText).join('').trim().length;
  const look = () => {
    if (probe.t0 === null || probe.done !== null) return;
    const message = assistant()[index];
    if (!message || message.closest('[data-stale=true]')) return;
    const now = performance.now();
    const length = answerText(message);
    const last = probe.samples.length ? probe.samples[probe.samples.length - 1][1] : 0;
    if (length !== last) probe.samples.push([now - probe.t0, length]);
    if (length > 0 && probe.first === null) probe.first = now - probe.t0;
    if (message.querySelector('[data-testid=stDownloadButton]')) {
      probe.done = now - probe.t0; observer.disconnect();
    }
  };
  const observer = new MutationObserver(look);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && probe.t0 === null) probe.t0 = performance.now();
  }, {capture: true});
}"""


@dataclass
class AskResult:
    """What the browser saw for one question (milliseconds from pressing Enter)."""

    question: str
    first_text_ms: float | None
    complete_ms: float | None
    samples: list[tuple[float, int]] = field(default_factory=list)

    @property
    def distinct_growing_lengths(self) -> list[int]:
        """Text lengths seen before completion, keeping only increases."""
        seen: list[int] = []
        for t, length in self.samples:
            if self.complete_ms is not None and t >= self.complete_ms:
                break
            if length > 0 and (not seen or length > seen[-1]):
                seen.append(length)
        return seen


def ask(page: Any, question: str, *, typed: bool = False) -> AskResult:
    """Submit `question` in the chat input (Enter) and wait for its whole answer.

    Args:
        typed: type key by key (keyboard-only use) into the already focused input, instead of
            filling the input located by its test id.
    """
    before = completed_answers(page)
    page.evaluate(_PROBE_JS, before)
    if typed:
        page.keyboard.type(question)
        page.keyboard.press("Enter")
    else:
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill(question)
        box.press("Enter")
    page.wait_for_function(f"() => ({_COMPLETED_JS})() > {before}", timeout=ANSWER_TIMEOUT_MS)
    settle(page)
    probe = page.evaluate("() => window.__answerProbe")
    return AskResult(question, probe["first"], probe["done"],
                     [(float(t), int(n)) for t, n in probe["samples"]])


def last_answer(page: Any) -> Any:
    """The newest assistant turn (a locator)."""
    return page.get_by_test_id("stChatMessage").filter(
        has=page.get_by_test_id("stChatMessageAvatarAssistant")).last


def citation_titles(message: Any) -> list[str]:
    """The labels ("[n] Title — Section") of the numbered source expanders in one assistant turn
    (the expander's icon name, also in its text, left out)."""
    labels = message.get_by_test_id("stExpander").locator("summary").all_inner_texts()
    return [label[label.index("["):].strip() for label in labels if re.search(r"\[\d+\]", label)]


def record(timings: Timings, mode: str, result: AskResult) -> None:
    """File one question's browser timings under `mode` (offline / model)."""
    timings.add(f"{mode}.question_to_first_visible_text", result.first_text_ms)
    timings.add(f"{mode}.question_to_complete_answer", result.complete_ms)


# Hostile content ---------------------------------------------------------------------------------
class Watch:
    """Dialogs opened and requests made by a page."""

    def __init__(self, page: Any) -> None:
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", lambda request: self.requests.append(request.url))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


def assert_inert(page: Any, watch: Watch, pixel: Any) -> None:
    """No dialog, no request for the pixel or the `src=x` image, and no live element in the DOM."""
    page.wait_for_timeout(1500)  # give any injected handler or image time to fire
    assert watch.dialogs == [], watch.dialogs
    assert pixel.paths == [], f"the pixel listener was contacted: {pixel.paths}"
    assert not [u for u in watch.requests if "pixel.png" in u or u.rstrip("/").endswith("/x")], watch.requests
    live = page.evaluate("""() => {
        const main = document.querySelector('[data-testid=stMain]') || document.body;
        return {
          scripts: Array.from(main.querySelectorAll('script')).map(s => s.textContent).filter(t => t.includes('alert')),
          images: Array.from(main.querySelectorAll('img')).map(i => i.getAttribute('src') || '')
                   .filter(s => s === 'x' || s.includes('pixel.png')),
          handlers: Array.from(main.querySelectorAll('[onerror],[onload],[onclick]')).length,
          links: Array.from(main.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))
                   .filter(h => /^\\s*(javascript|data|vbscript):/i.test(h)),
        };
    }""")
    assert live == {"scripts": [], "images": [], "handlers": 0, "links": []}, live


# Screenshots ------------------------------------------------------------------------------------
class Camera:
    """Numbered screenshots of one test's steps under test-artifacts/screenshots/."""

    def __init__(self, test_name: str) -> None:
        self.test_name = test_name
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(self, page: Any, step: str, *, focus: Any = None, docs_name: str | None = None) -> Path:
        """Save the viewport (scrolled to `focus` if given); optionally also as a README image.

        README images are written only when GUIDELIGHT_DOCS_SCREENSHOTS=1, so an ordinary test
        run never changes files under docs/.
        """
        if focus is not None:
            bring_into_view(page, focus)
        self.count += 1
        path = SCREENSHOTS / f"{self.test_name}-{self.count:02d}-{step}.png"
        page.screenshot(path=str(path))
        if docs_name and os.environ.get("GUIDELIGHT_DOCS_SCREENSHOTS") == "1":
            save_for_docs(path, DOCS_SCREENSHOTS / f"{docs_name}.png")
        return path


def bring_into_view(page: Any, focus: Any, attempts: int = 5) -> None:
    """Scroll `focus` to the middle of the viewport and make sure it stays there.

    The chat view sticks to the bottom while it thinks the user has not scrolled, and may pull
    the page back after a programmatic scroll; a wheel turn first, then check and retry. An
    element that is already gone (a finished progress bar) is left alone.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    inside = "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight - 80; }"
    for _ in range(attempts):
        try:
            page.mouse.move(VIEWPORT["width"] * 0.6, VIEWPORT["height"] * 0.5)
            page.mouse.wheel(0, -300)
            time.sleep(0.2)
            focus.first.evaluate("e => e.scrollIntoView({block: 'center'})", timeout=3_000)
            time.sleep(0.5)
            if focus.first.evaluate(inside, timeout=3_000):
                return
        except PlaywrightTimeout:
            return


def save_for_docs(source: Path, target: Path, max_bytes: int = 300_000) -> None:
    """Copy a screenshot for the README, shrunk (palette, then smaller) below `max_bytes`."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    image = Image.open(source).convert("RGB")
    width = image.width
    while True:
        scaled = image if width == image.width else image.resize(
            (width, round(image.height * width / image.width)), Image.LANCZOS)
        scaled.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
        if target.stat().st_size < max_bytes or width < 600:
            return
        width = int(width * 0.85)


# Colour contrast (WCAG 2.x) ---------------------------------------------------------------------
def parse_rgb(css: str) -> tuple[float, float, float, float]:
    """`rgb(r, g, b)` or `rgba(r, g, b, a)` → (r, g, b, a)."""
    inside = css[css.index("(") + 1:css.rindex(")")].replace("/", ",")
    parts = [p.strip() for p in inside.replace(" ", ",").split(",") if p.strip()]
    r, g, b = (float(p) for p in parts[:3])
    a = float(parts[3]) if len(parts) > 3 else 1.0
    return r, g, b, a


def over(fg: tuple[float, float, float, float], bg: tuple[float, float, float]) -> tuple[float, float, float]:
    """Colour `fg` with its alpha composited over an opaque `bg`."""
    a = fg[3]
    return tuple(fg[i] * a + bg[i] * (1 - a) for i in range(3))  # type: ignore[return-value]


def relative_luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
