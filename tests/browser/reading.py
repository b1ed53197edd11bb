"""What a reader sees of an answer: where its parts sit in the viewport, how big its tap targets
are, and giving feedback through the answer's action row (thumbs, and a comment before or after
the thumb).

Boxes come from `getBoundingClientRect` in the page, so they are what is on screen after the app
has finished scrolling, not what the DOM order suggests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.browser.driver import completed_answers, settle

DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Box:
    """An element's box in viewport pixels, and the part of the viewport a reader can see."""

    top: float
    bottom: float
    height: float
    view_top: float     # below the app's header bar
    view_bottom: float  # above the chat input pinned to the bottom

    @property
    def in_view(self) -> bool:
        return self.top >= self.view_top - 1 and self.bottom <= self.view_bottom + 1


_BOX_JS = """e => {
  const r = e.getBoundingClientRect();
  const header = document.querySelector('[data-testid=stHeader]');
  const input = document.querySelector('[data-testid=stChatInput]');
  return {top: r.top, bottom: r.bottom, height: r.height,
          view_top: header ? Math.max(0, header.getBoundingClientRect().bottom) : 0,
          view_bottom: input ? input.getBoundingClientRect().top : innerHeight};
}"""


def box(locator: Any) -> Box:
    return Box(**locator.first.evaluate(_BOX_JS))


def still_box(locator: Any, attempts: int = 20) -> Box:
    """The element's box once it has stopped moving (the page may still be scrolling to it)."""
    last = box(locator)
    for _ in range(attempts):
        time.sleep(0.3)
        now = box(locator)
        if abs(now.top - last.top) < 1:
            return now
        last = now
    return last


def lead_paragraph(message: Any) -> Any:
    """The answer's first paragraph: the lead sentence, which ends with a citation link."""
    return message.get_by_test_id("stMarkdownContainer").filter(
        has=message.page.locator("a[href^='#source-']")).first.locator("p, li").first


def citation_link(message: Any, n: int) -> Any:
    """The first [n] link in the answer text."""
    return message.locator(f"[data-testid=stMarkdownContainer] a[href^='#source-'][href$='-{n}']").first


def small_tap_targets(message: Any, minimum: float = 44.0) -> list[tuple[str, float]]:
    """Visible buttons, summaries and links in `message` shorter than `minimum` pixels."""
    found = message.locator("button, summary, a").evaluate_all("""els => els
        .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
        .map(e => [(e.getAttribute('aria-label') || e.innerText || e.tagName).trim().slice(-40),
                   e.getBoundingClientRect().height])""")
    return [(label, height) for label, height in found if 0 < height < minimum]


def sideways_overflow(page: Any) -> tuple[int, int]:
    """(scrollWidth, innerWidth) of the document: equal when nothing scrolls sideways."""
    return tuple(page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]"))


def _write_comment(page: Any, message: Any, comment: str) -> None:
    """Open the row's comment popover and type `comment` (Enter commits it: a rerun)."""
    message.locator("[class*='st-key-comment-box-'] button").first.click()
    field = page.get_by_label("Comment (optional)").filter(visible=True)
    field.fill(comment)
    field.press("Enter")
    settle(page)


def give_feedback(page: Any, message: Any, thumb: str, comment: str | None = None) -> None:
    """Write the optional comment in the row's popover, then choose `thumb` (which sends both)."""
    if comment:
        _write_comment(page, message, comment)
        page.keyboard.press("Escape")
    message.get_by_role("radio", name=thumb).click()
    message.get_by_text("recorded").wait_for()  # "Recorded", or "Feedback recorded, thank you."
    settle(page)


def comment_after_rating(page: Any, message: Any, comment: str) -> None:
    """After a thumb: the row's "Add a comment" popover, its text, then "Save comment"."""
    _write_comment(page, message, comment)
    page.get_by_role("button", name="Save comment").filter(visible=True).click()
    message.get_by_text("Feedback recorded, thank you.").wait_for()
    settle(page)


_WATCH_QUESTION_JS = """(count) => {
  const watch = window.__guidelightWatch = {seen: false, stop: false};
  const frame = () => {
    if (watch.stop) return;
    const asked = Array.from(document.querySelectorAll('[data-testid=stChatMessage]'))
        .filter(m => m.querySelector('[data-testid=stChatMessageAvatarUser]'));
    if (asked.length >= count) {
      const r = asked[count - 1].getBoundingClientRect();
      const header = document.querySelector('[data-testid=stHeader]');
      const input = document.querySelector('[data-testid=stChatInput]');
      const top = header ? Math.max(0, header.getBoundingClientRect().bottom) : 0;
      const bottom = input ? input.getBoundingClientRect().top : innerHeight;
      if (r.top >= top - 1 && r.top + Math.min(r.height, 24) <= bottom + 1) watch.seen = true;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}"""


def question_seen_while_answering(page: Any, submit: Callable[[], None], count: int,
                                   timeout_s: float = 180.0) -> bool:
    """Call `submit` (which asks the conversation's `count`-th question) and report whether that
    question's bubble was on screen at some moment while its answer was being worked out.

    The page itself checks at every animation frame (an offline answer can take a few hundred
    milliseconds, the time between two polls from here); "on screen" is the bubble's first line,
    between the header and the chat input."""
    before = completed_answers(page)
    page.evaluate(_WATCH_QUESTION_JS, count)
    submit()
    deadline = time.monotonic() + timeout_s
    while completed_answers(page) <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = bool(page.evaluate("() => { window.__guidelightWatch.stop = true; "
                              "return window.__guidelightWatch.seen; }"))
    settle(page)
    return seen
