"""A clinical lead in chromium reads Insights: a clinician's thumbs-down with the comment written
after it and a low-confidence answer are listed beside the questions the library could not
answer, a refused red-flag question is flagged as a likely wrong refusal, and the lists download
as CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from pipelines.store import Store
from tests.browser.driver import (ADMIN_PASSWORD, ANSWER_TIMEOUT_MS, AppProcess, Camera, ask, last_answer,
                                  new_page, open_app, settle)
from tests.browser.reading import comment_after_rating, give_feedback
from tests.browser.test_browser_admin import sign_in

pytestmark = pytest.mark.browser

COMMENT = "Browser test: the answer left out the colchicine dose"
LOW_QUESTION = "Browser test: gout flare while on a thiazide, what next?"
REFUSED = "Browser test: crushing chest pain for an hour, what should I do?"


def grid_text(page: Any, title: str) -> str:
    """The text of the table under the bold heading that starts with `title` (the grid's
    accessible DOM, which mirrors its canvas)."""
    heading = page.get_by_text(re.compile("^" + re.escape(title))).first
    heading.wait_for(timeout=ANSWER_TIMEOUT_MS)
    block = heading.locator("xpath=ancestor::div[contains(@class,'stElementContainer')][1]")
    grid = block.locator("xpath=following::div[@data-testid='stDataFrame'][1]")
    grid.wait_for()
    # The grid fills its accessible DOM after it draws: wait for a first cell, not just the frame.
    grid.locator("[role=gridcell], td").first.wait_for(state="attached", timeout=ANSWER_TIMEOUT_MS)
    return grid.evaluate("e => e.innerText + ' ' + Array.from(e.querySelectorAll('[role=gridcell],td'))"
                         ".map(c => c.textContent).join(' | ')")


def test_insights_list_a_thumbs_down_and_a_low_confidence_answer(admin_app: AppProcess, browser: Any) -> None:
    camera = Camera("insights")
    clinician = new_page(browser)
    open_app(clinician, admin_app.url)
    ask(clinician, "How should acute gout be treated?")
    answer = last_answer(clinician)
    give_feedback(clinician, answer, "Thumbs down")
    comment_after_rating(clinician, answer, COMMENT)  # the comment joins the rating already sent
    clinician.context.close()
    # A low-confidence answer and a refusal as the query log records them (the same SQLite file).
    store = Store(f"sqlite:///{admin_app.data_dir / 'app.db'}")
    store.add_query_event(question=LOW_QUESTION, level="low", abstained=False, top_title="Gout",
                          cited=[{"title": "Gout", "section": "Managing flares"}])
    store.add_query_event(question=REFUSED, level="insufficient", abstained=True, top_title="Hypertension",
                          cited=[])

    lead = new_page(browser)
    lead.goto(f"{admin_app.url}/admin")
    lead.get_by_label("User name").wait_for(timeout=ANSWER_TIMEOUT_MS)
    settle(lead)
    sign_in(lead, ADMIN_PASSWORD)
    lead.get_by_role("tab", name="Insights").click()
    settle(lead)
    assert COMMENT in grid_text(lead, "Thumbs-down feedback (")
    assert LOW_QUESTION in grid_text(lead, "Low-confidence answers (")
    refusals = grid_text(lead, "Likely wrong refusals (")
    assert REFUSED in refusals and "Red flag: Acute coronary syndrome" in refusals
    lead.get_by_text(re.compile(r"^Questions the library could not answer \(")).wait_for()
    camera.shot(lead, "insights", focus=lead.get_by_text(re.compile(r"^Likely wrong refusals")).first,
                docs_name="admin-insights")

    with lead.expect_download() as download_info:
        lead.get_by_role("button", name="Download all feedback (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text("utf-8-sig"))))
    assert any(r["Comment"] == COMMENT and r["Rating"] == "not helpful" for r in rows), rows
    with lead.expect_download() as download_info:
        lead.get_by_role("button", name="Download gaps and refusals (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text("utf-8-sig"))))
    assert any(r["Example"] == REFUSED and r["Kind"] == "likely wrong refusal" for r in rows), rows
    lead.context.close()
