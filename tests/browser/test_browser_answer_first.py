"""Answer first, on a desktop and a phone: after asking, the new answer's badge and lead sentence
are on screen (measured boxes, not DOM order); a related question asked from mid-page is followed
while it is answered; a red flag comes before everything else; [n] in the text opens source n;
and at 390 px nothing scrolls sideways, every tap target in the answer is at least 44 px high and
the sidebar's filters can be reached."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.driver import (ARTIFACTS, SEED_QUESTION, AppProcess, Camera, ask, last_answer,
                                  new_page, open_app, settle)
from tests.browser.reading import (DESKTOP, PHONE, box, citation_link, lead_paragraph,
                                   question_seen_while_answering, sideways_overflow,
                                   small_tap_targets, still_box)

pytestmark = pytest.mark.browser

EARLIER = "How should acute gout be treated?"  # a whole answer above the new one
COLLEAGUE_QUESTION = "How do I treat nocturnal leg cramps?"  # close to SEED_QUESTION
RED_FLAG_QUESTION = "Central crushing chest pain 20 minutes ago, what do I do?"
MEASURED: dict[str, Any] = {}


def _record(name: str, **boxes: Any) -> None:
    """Keep the measured boxes in test-artifacts/answer-first-boxes.json for the report."""
    MEASURED[name] = {k: vars(v) for k, v in boxes.items()}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "answer-first-boxes.json").write_text(json.dumps(MEASURED, indent=2) + "\n")


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_badge_and_lead_are_in_view_after_asking(offline_app: AppProcess, browser: Any,
                                                   screen: str) -> None:
    viewport = DESKTOP if screen == "desktop" else PHONE
    camera = Camera(f"answer-first-{screen}")
    page = new_page(browser, viewport)
    open_app(page, offline_app.url)
    ask(page, EARLIER)
    ask(page, SEED_QUESTION)  # the second answer, with a whole answer above it
    answer = last_answer(page)
    # Both measured once the page has stopped moving: the badge settling first does not mean the
    # scroll is over (a CI run measured the lead after a late scroll had moved it off screen).
    still_box(answer.locator(".stMarkdownBadge"))
    lead = still_box(lead_paragraph(answer))
    badge = box(answer.locator(".stMarkdownBadge"))
    _record(screen, badge=badge, lead=lead)
    assert badge.in_view, f"badge off screen on {screen}: {badge}"
    assert lead.in_view, f"lead sentence off screen on {screen}: {lead}"
    assert badge.bottom <= lead.top, (badge, lead)
    camera.shot(page, "answer-in-view", docs_name="chat-phone" if screen == "phone" else None)
    page.context.close()


def test_a_related_question_is_followed_then_answered_badge_first(offline_app: AppProcess,
                                                                  browser: Any) -> None:
    colleague = new_page(browser)
    open_app(colleague, offline_app.url)
    ask(colleague, COLLEAGUE_QUESTION)  # what the related panel will offer
    colleague.context.close()
    page = new_page(browser, PHONE)
    open_app(page, offline_app.url)
    ask(page, EARLIER)
    ask(page, SEED_QUESTION)
    related = last_answer(page).locator("[class*='st-key-related-'] button")
    assert related.count() >= 1, "no related question offered"
    assert related.count() == related.filter(visible=True).count()  # no hidden twins
    related.first.scroll_into_view_if_needed()
    assert question_seen_while_answering(page, related.first.click, 3), \
        "the related question was never on screen while it was answered"
    badge = still_box(last_answer(page).locator(".stMarkdownBadge"))
    _record("phone-related", badge=badge)
    assert badge.in_view, badge
    page.context.close()


def test_red_flag_banner_comes_first_on_the_phone(offline_app: AppProcess, browser: Any) -> None:
    camera = Camera("red-flag-phone")
    page = new_page(browser, PHONE)
    open_app(page, offline_app.url)
    ask(page, RED_FLAG_QUESTION)
    answer = last_answer(page)
    first = answer.get_by_test_id("stElementContainer").first
    assert first.get_by_test_id("stAlertContentError").count() == 1, first.inner_text()
    assert "Red flag —" in first.inner_text(), first.inner_text()
    # Both boxes once the page has stopped moving, read one after the other (a box read while
    # the answer is still being placed can put the banner below a badge read a moment later).
    still_box(first)
    still_box(answer.locator(".stMarkdownBadge"))
    banner, badge = box(first), box(answer.locator(".stMarkdownBadge"))
    _record("phone-red-flag", banner=banner, badge=badge)
    assert banner.in_view and badge.in_view, (banner, badge)
    assert banner.bottom <= badge.top, (banner, badge)
    camera.shot(page, "banner-first")
    page.context.close()


def test_phone_fits_the_width_has_44px_targets_and_reaches_the_filters(offline_app: AppProcess,
                                                                        browser: Any) -> None:
    camera = Camera("phone")
    page = new_page(browser, PHONE)
    open_app(page, offline_app.url)
    ask(page, SEED_QUESTION)
    answer = last_answer(page)
    scroll_width, width = sideways_overflow(page)
    assert scroll_width <= width, f"the page scrolls sideways: {scroll_width} > {width}"
    row = answer.locator("[class*='st-key-actions-']")
    assert row.get_by_role("radio", name="Thumbs up").count() == 1
    assert row.get_by_role("button", name="Download as Markdown").count() == 1
    assert row.get_by_role("button", name="New conversation").count() == 1
    assert answer.locator("a[href^='#source-']").count() >= 1
    assert small_tap_targets(answer) == []
    # Thumbs up and down, Comment, Download, Copy, New conversation: all shown (no hidden twins),
    # on one line.
    controls = row.locator("button")
    assert controls.count() == controls.filter(visible=True).count() == 6
    tops = {round(still_box(c).top) for c in controls.all()}
    assert len(tops) == 1, f"the action row wraps: tops {sorted(tops)}"
    camera.shot(page, "action-row", focus=row, docs_name="chat-phone-actions")

    page.get_by_test_id("stExpandSidebarButton").click()
    filters = page.get_by_test_id("stSidebar").get_by_text("Filter the library")
    filters.wait_for(state="visible")
    # Reachable: scrolling the sidebar brings the filters wholly on screen. Before scrolling, CI
    # once found them below the first screen (cause not found); the message shows the sidebar.
    filters.scroll_into_view_if_needed()
    place = still_box(filters)
    assert 0 <= place.top and place.bottom <= PHONE["height"], (
        place, page.get_by_test_id("stSidebar").inner_text()[:600])
    filters.click()
    page.get_by_test_id("stSidebar").get_by_text("Publisher").wait_for(state="visible")
    assert small_tap_targets(page.get_by_test_id("stSidebar")) == []
    assert sideways_overflow(page)[0] <= width
    camera.shot(page, "sidebar-filters")
    page.context.close()


def test_clicking_1_in_the_text_opens_source_1(offline_app: AppProcess, browser: Any) -> None:
    camera = Camera("citation-link")
    page = new_page(browser, DESKTOP)
    open_app(page, offline_app.url)
    ask(page, SEED_QUESTION)
    answer = last_answer(page)
    source = answer.get_by_test_id("stExpander").filter(
        has=page.locator("summary", has_text="[1]")).first
    assert not source.get_by_test_id("stExpanderDetails").is_visible()
    citation_link(answer, 1).click()
    details = source.get_by_test_id("stExpanderDetails")
    details.wait_for(state="visible")
    settle(page)
    passage = details.locator("blockquote")
    assert len(passage.inner_text()) > 80, passage.inner_text()
    assert "Guideline:" in details.inner_text()
    shown = still_box(passage)
    assert shown.top < shown.view_bottom and shown.bottom > shown.view_top, shown  # on screen
    camera.shot(page, "source-1-opened")
    page.context.close()
