"""Publishing is all or nothing, in chromium: a lead closes the tab while a long guideline is being
published; the server finishes it anyway, and a new tab finds the version live and cited."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.driver import (ADMIN_PASSWORD, ANSWER_TIMEOUT_MS, AppProcess, Camera, ask, citation_titles,
                                  last_answer, new_page, open_app, settle)
from tests.browser.test_browser_admin import sign_in

pytestmark = pytest.mark.browser

TITLE = "Marsh fever in walkers (TEST DOCUMENT)"
QUESTION = "What is the first-line treatment for marsh fever after a long walk?"
SECTIONS = 160  # enough passages that publishing takes a few seconds: time to close the tab


def write_long_guideline(path: Path) -> Path:
    """A Markdown guideline with many sections, so embedding it takes a while."""
    body = "\n\n".join(
        f"## Recommendation {n}\n\nFor marsh fever after a long walk, offer oral fenwort tablets "
        f"{n % 7 + 1} times a day for {n % 5 + 3} days as the first-line treatment, review the walker "
        f"after {n % 4 + 2} days and safety-net for spreading redness, rigors or confusion. Record "
        f"the walking route, the water crossed and the date the fever began (note {n})."
        for n in range(1, SECTIONS + 1))
    path.write_text(f"---\ntitle: {TITLE}\npublisher: Guidelight browser tests\nlast_reviewed: 2026-01-01\n"
                    f"specialty: Testing\n---\n# {TITLE}\n\n{body}\n", encoding="utf-8")
    return path


def open_admin_signed_in(browser: Any, app: AppProcess) -> Any:
    page = new_page(browser)
    page.goto(f"{app.url}/admin")
    page.get_by_label("User name").wait_for(timeout=ANSWER_TIMEOUT_MS)
    settle(page)
    sign_in(page, ADMIN_PASSWORD)
    page.get_by_role("tab", name="Library").wait_for()
    return page


def test_closing_the_tab_mid_publish_still_publishes(admin_app: AppProcess, browser: Any,
                                                     tmp_path: Path) -> None:
    camera = Camera("publish-tab-closed")
    document = write_long_guideline(tmp_path / "marsh-fever.md")
    lead = open_admin_signed_in(browser, admin_app)
    lead.get_by_role("tab", name="Upload").click()
    lead.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(document))
    lead.get_by_text(re.compile(r"page\(s\) · \d+ section\(s\) · \d+ passage\(s\)")).wait_for(timeout=ANSWER_TIMEOUT_MS)
    settle(lead)
    lead.get_by_text("Section tree and first passages").first.click()  # the lead checks them
    assert "Recommendation 1" in lead.get_by_test_id("stExpanderDetails").first.inner_text()
    lead.get_by_role("button", name=re.compile(r"Publish 1 file")).click()
    lead.get_by_test_id("stProgress").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    camera.shot(lead, "publishing")
    lead.context.close()  # the lead walks away mid-publish

    # A new tab: the version is published (the server finished it), never stuck half-way.
    deadline = time.monotonic() + ANSWER_TIMEOUT_MS / 1000
    seen_running = False
    while True:
        lead = open_admin_signed_in(browser, admin_app)
        text = lead.get_by_test_id("stMain").inner_text()
        seen_running = seen_running or "Publishing on the server now" in text
        if "Publishing on the server now" not in text and "not completely published" not in text:
            break
        assert time.monotonic() < deadline, "the publish never finished on the server"
        lead.context.close()
        time.sleep(2)
    picker = lead.get_by_role("combobox", name="Guideline version")
    picker.click()
    lead.keyboard.type("Marsh fever")
    lead.get_by_role("option", name=re.compile("Marsh fever")).first.click()
    settle(lead)
    assert picker.input_value() == f"{TITLE} · v1 · active"
    assert seen_running, "the new tab never showed the publish still running (it ended too soon to test)"
    camera.shot(lead, "published-after-tab-closed")
    lead.context.close()

    clinician = new_page(browser)
    open_app(clinician, admin_app.url)
    ask(clinician, QUESTION)
    assert any("Marsh fever" in t for t in citation_titles(last_answer(clinician))), citation_titles(last_answer(clinician))
    clinician.context.close()
