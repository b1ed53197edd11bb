"""A clinician in chromium against the real offline app: the whole journey, keyboard-only use,
badge contrast, and a guideline carrying hostile markup rendered inert."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from pipelines.export import DISCLAIMER
from tests.browser.documents import HOSTILE_QUESTION, HOSTILE_TITLE
from tests.browser.driver import (SEED_QUESTION, AppProcess, Camera, Timings, Watch, ask, assert_inert,
                                  citation_titles, completed_answers, contrast_ratio, last_answer,
                                  new_page, open_app, over, parse_rgb, record, settle)
from tests.browser.reading import give_feedback

pytestmark = pytest.mark.browser

EARLIER_QUESTION = "What causes nocturnal leg cramps?"
FOLLOW_UP = "What about in pregnancy?"
OFF_TOPIC = "How do I restring a classical guitar?"
WCAG_AA_NORMAL_TEXT = 4.5


def open_citation(message: Any, n: int) -> Any:
    """Click source [n] of an assistant turn open; returns its expander."""
    expander = message.get_by_test_id("stExpander").filter(
        has=message.page.locator("summary", has_text=f"[{n}]")).first
    expander.locator("summary").click()
    expander.get_by_test_id("stExpanderDetails").wait_for(state="visible")
    return expander


def test_clinician_journey(offline_app: AppProcess, browser: Any, timings: Timings) -> None:
    camera = Camera("clinician-journey")
    # An earlier clinician's question is what the related-questions panel offers.
    earlier = new_page(browser)
    open_app(earlier, offline_app.url)
    record(timings, "offline", ask(earlier, EARLIER_QUESTION))
    earlier.context.close()

    page = new_page(browser)
    open_app(page, offline_app.url)
    camera.shot(page, "start")
    result = ask(page, SEED_QUESTION)
    record(timings, "offline", result)
    answer = last_answer(page)
    badge = answer.locator(".stMarkdownBadge").first
    assert re.search(r"confidence|No guidance found", badge.inner_text()), badge.inner_text()
    body = answer.inner_text()
    assert "[1]" in body and "Sources" in body, body[:500]
    assert DISCLAIMER in body
    titles = citation_titles(answer)
    assert titles and titles[0].lstrip().startswith("[1]"), titles
    camera.shot(page, "answer", focus=badge, docs_name="chat-answer")

    # Citation [1] opens the exact passage with its provenance.
    expander = open_citation(answer, 1)
    details = expander.get_by_test_id("stExpanderDetails").inner_text()
    title, section = titles[0].split("]", 1)[1].split(" — ", 1)
    assert f"Guideline: {title.strip()}" in details
    assert f"Section: {section.strip()}" in details
    assert "Last reviewed:" in details and "Publisher:" in details
    passage = expander.locator("blockquote").inner_text()
    assert len(passage) > 80, passage
    camera.shot(page, "citation-1-open", focus=expander.locator("summary"), docs_name="citation-open")

    # A related question (asked earlier by someone else) is one click away.
    related = answer.locator("[class*='st-key-related-'] button")
    assert related.count() >= 1, "no related questions offered"
    picked = related.first.inner_text().split("\n")[-1].strip()
    camera.shot(page, "related-questions", focus=related.first)
    before = completed_answers(page)
    related.first.click()
    page.wait_for_function(f"() => document.querySelectorAll('[data-testid=stDownloadButton]').length > {before}")
    settle(page)
    assert completed_answers(page) == before + 1
    bubbles = page.get_by_test_id("stChatMessage").filter(
        has=page.get_by_test_id("stChatMessageAvatarUser")).all_inner_texts()
    assert picked in bubbles[-1], (picked, bubbles[-1])
    assert last_answer(page).locator(".stMarkdownBadge").count() == 1
    camera.shot(page, "related-answered", focus=last_answer(page).locator(".stMarkdownBadge"))

    # A follow-up is answered in the context of the conversation.
    result = ask(page, FOLLOW_UP)
    record(timings, "offline", result)
    follow = last_answer(page)
    assert follow.locator(".stMarkdownBadge").count() == 1
    assert "Leg cramps" in " ".join(citation_titles(follow)), citation_titles(follow)
    camera.shot(page, "follow-up", focus=follow.locator(".stMarkdownBadge"))

    # Thumbs-up feedback with a comment, from the answer's action row, confirmed on screen.
    give_feedback(page, follow, "Thumbs up", "Clear and well cited.")
    camera.shot(page, "feedback-sent", focus=follow.get_by_text("Feedback recorded"))

    # The first answer downloads as Markdown, citations included.
    first = page.get_by_test_id("stChatMessage").filter(
        has=page.get_by_test_id("stChatMessageAvatarAssistant")).first
    with page.expect_download() as download_info:
        first.get_by_role("button", name="Download as Markdown").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".md")
    markdown = Path(download.path()).read_text("utf-8")
    assert markdown.startswith(f"# {SEED_QUESTION}")
    assert "## Sources" in markdown and "\\[1\\] " + title.strip() in markdown
    assert DISCLAIMER in markdown
    page.context.close()


def test_keyboard_only_chat_and_badge_contrast(offline_app: AppProcess, browser: Any,
                                               timings: Timings) -> None:
    camera = Camera("keyboard-only")
    page = new_page(browser)
    open_app(page, offline_app.url)
    assert tab_until(page, "textarea[data-testid=stChatInputTextArea]", 30), "Tab never reached the chat input"
    camera.shot(page, "input-focused")
    record(timings, "offline", ask(page, SEED_QUESTION, typed=True))

    # From the answer, Tab reaches source [1]; Enter opens it.
    assert tab_until(page, "summary", 60, text="[1]"), "Tab never reached citation [1]"
    page.keyboard.press("Enter")
    expander = page.get_by_test_id("stExpander").filter(has=page.locator("summary", has_text="[1]")).first
    expander.get_by_test_id("stExpanderDetails").wait_for(state="visible")
    assert "Guideline:" in expander.get_by_test_id("stExpanderDetails").inner_text()
    camera.shot(page, "citation-opened-by-keyboard", focus=expander)

    # Two more questions by keyboard, so badges of more than one level are on the page.
    for question in (OFF_TOPIC, "When should I start a statin for primary prevention?"):
        assert tab_until(page, "textarea[data-testid=stChatInputTextArea]", 120), "input not reachable"
        record(timings, "offline", ask(page, question, typed=True))
    camera.shot(page, "badges", focus=last_answer(page).locator(".stMarkdownBadge"))

    measured = badge_contrasts(page)
    assert len({m["background"] for m in measured}) >= 2, measured
    for m in measured:
        assert m["ratio"] >= WCAG_AA_NORMAL_TEXT, m
    page.context.close()


def tab_until(page: Any, selector: str, limit: int, text: str | None = None) -> bool:
    """Press Tab until the focused element matches `selector` (and holds `text`)."""
    check = """([selector, text]) => { const e = document.activeElement;
        return !!e && e.matches(selector) && (!text || (e.innerText || '').includes(text)); }"""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(check, [selector, text]):
            return True
    return False


def badge_contrasts(page: Any) -> list[dict[str, Any]]:
    """Text/background contrast of every confidence badge, from computed styles."""
    styles = page.locator(".stMarkdownBadge").evaluate_all("""els => els.map(e => {
        const s = getComputedStyle(e); return {text: e.innerText, color: s.color,
        background: s.backgroundColor, page: getComputedStyle(document.querySelector('.stApp')).backgroundColor};
    })""")
    out = []
    for style in styles:
        page_bg = parse_rgb(style["page"])[:3]
        background = over(parse_rgb(style["background"]), page_bg)
        colour = over(parse_rgb(style["color"]), background)
        out.append({**style, "ratio": round(contrast_ratio(colour, background), 2)})
    assert out, "no confidence badges on the page"
    return out


# Hostile content ---------------------------------------------------------------------------------
def test_hostile_guideline_markup_is_inert(offline_app: AppProcess, browser: Any, pixel: Any) -> None:
    camera = Camera("hostile-guideline")
    page = new_page(browser)
    watch = Watch(page)
    open_app(page, offline_app.url)
    ask(page, HOSTILE_QUESTION)
    answer = last_answer(page)
    hostile = [t for t in citation_titles(answer) if HOSTILE_TITLE.split(" (")[0] in t]
    assert hostile, f"the hostile guideline was not cited: {citation_titles(answer)}"
    for label in hostile:
        n = int(label.split("]")[0].strip("[ "))
        open_citation(answer, n)
    camera.shot(page, "answer", focus=answer.locator(".stMarkdownBadge"))
    camera.shot(page, "passages", focus=answer.get_by_test_id("stExpanderDetails").first)
    text = answer.inner_text()
    # The markup reached the screen, as text: shown inert, not executed and not fetched.
    assert "alert(1)" in text, text[:1500]
    assert_inert(page, watch, pixel)
    page.context.close()


# Related questions -------------------------------------------------------------------------------
NO_NEIGHBOURS = "What is the CHA2DS2-VASc threshold for anticoagulation in AF?"  # nearest stored: 0.47
CLOSE_TO_CURATED = "What dose of amoxicillin for a child with otitis media?"
OTITIS_CURATED = "Which children with acute otitis media need antibiotics?"


def test_no_close_neighbours_means_no_suggestions(offline_app: AppProcess, browser: Any) -> None:
    camera = Camera("related-questions")
    page = new_page(browser)
    open_app(page, offline_app.url)
    ask(page, NO_NEIGHBOURS)
    answer = last_answer(page)
    assert answer.locator(".stMarkdownBadge").count() == 1
    assert "Related questions" not in answer.inner_text()
    assert answer.locator("[class*='st-key-related-'] button").count() == 0
    camera.shot(page, "none-offered", focus=answer.get_by_role("button", name="Download as Markdown"))

    # A question with a close curated neighbour is offered it, labelled as a suggestion.
    ask(page, CLOSE_TO_CURATED)
    answer = last_answer(page)
    text = answer.inner_text()
    assert "Related questions" in text and "Suggested" in text, text[-800:]
    offered = [b.split("\n")[-1].strip() for b in answer.locator("[class*='st-key-related-'] button").all_inner_texts()]
    assert OTITIS_CURATED in offered and NO_NEIGHBOURS not in offered, offered
    camera.shot(page, "suggested", focus=answer.get_by_text("Suggested", exact=True))
    page.context.close()
