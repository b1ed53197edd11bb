"""A clinical lead in chromium: sign-in (after a wrong password), upload a new guideline PDF with a
preview and a progress bar, publish it and see clinicians' answers cite it, retire it and see them
stop, then rebuild the whole index while another browser keeps asking questions."""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.documents import ZORBLAX_QUESTION, ZORBLAX_TITLE, write_zorblax_pdf
from tests.browser.driver import (ADMIN_PASSWORD, ADMIN_USER, ANSWER_TIMEOUT_MS, AppProcess, Camera,
                                  Timings, ask, citation_titles, completed_answers, last_answer,
                                  new_page, open_app, settle)

pytestmark = pytest.mark.browser

REBUILD_TIMEOUT_MS = 600_000
QUESTIONS_DURING_REBUILD = [
    "How can I differentiate nocturnal leg cramps from other causes of leg pain?",
    "When should I start a statin for primary prevention?",
    "Which children with croup need hospital assessment?",
    "How should acute gout be treated?",
    "What is the first-line antibiotic for a lower UTI in a non-pregnant woman?",
    "When should I anticoagulate a patient with atrial fibrillation?",
]


def sign_in(page: Any, password: str) -> None:
    page.get_by_label("User name").fill(ADMIN_USER)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    time.sleep(0.3)
    settle(page)


def script_running(page: Any) -> bool:
    return page.locator("[data-testid=stApp]").get_attribute("data-test-script-state") == "running"


def ask_fresh(page: Any, app: AppProcess, question: str) -> Any:
    """A clinician's question in a new conversation; returns the answer turn."""
    open_app(page, app.url)
    ask(page, question)
    return last_answer(page)


def wait_for_table(page: Any) -> None:
    """The library table is drawn on a canvas after the page settles; wait until it is wide."""
    page.get_by_test_id("stDataFrame").first.wait_for()
    page.wait_for_function("""() => Array.from(document.querySelectorAll('[data-testid=stDataFrame] canvas'))
        .some(c => c.getBoundingClientRect().width > 300)""")
    page.wait_for_timeout(1000)


def cites_zorblax(answer: Any) -> bool:
    return any("Zorblax" in title for title in citation_titles(answer))


def test_clinical_lead_publishes_retires_and_rebuilds(admin_app: AppProcess, browser: Any,
                                                      timings: Timings, tmp_path: Path) -> None:
    camera = Camera("clinical-lead")
    pdf = write_zorblax_pdf(tmp_path / "zorblax-syndrome-test.pdf")
    lead, clinician = new_page(browser), new_page(browser)

    # A clinician first finds nothing about Zorblax syndrome.
    before = ask_fresh(clinician, admin_app, ZORBLAX_QUESTION)
    assert not cites_zorblax(before)

    # Sign-in: a wrong password is refused and shows nothing of the admin page.
    lead.goto(f"{admin_app.url}/admin")
    lead.get_by_label("User name").wait_for(timeout=ANSWER_TIMEOUT_MS)
    settle(lead)
    sign_in(lead, "not-the-password")
    lead.get_by_text("Wrong user name or password").wait_for()
    assert lead.get_by_role("tab", name="Upload").count() == 0
    camera.shot(lead, "wrong-password")
    sign_in(lead, ADMIN_PASSWORD)
    lead.get_by_role("tab", name="Library").wait_for()
    assert lead.get_by_text("Signed in as").count() == 1
    wait_for_table(lead)
    camera.shot(lead, "library", docs_name="admin-library")

    # Upload: the preview shows what publishing would do, before anything is written.
    lead.get_by_role("tab", name="Upload").click()
    uploaded_at = time.perf_counter()
    lead.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(pdf))
    preview = lead.get_by_text(re.compile(r"page\(s\) · \d+ section\(s\) · \d+ passage\(s\)"))
    preview.wait_for(timeout=ANSWER_TIMEOUT_MS)
    settle(lead)
    timings.add("upload.file_chosen_to_preview", (time.perf_counter() - uploaded_at) * 1000)
    assert ZORBLAX_TITLE in preview.inner_text()
    assert "Treating Zorblax syndrome" in lead.get_by_text("Sections:").inner_text()
    camera.shot(lead, "upload-preview", docs_name="upload-preview")

    # Publish, with a progress bar while it is indexed.
    published_at = time.perf_counter()
    lead.get_by_role("button", name=re.compile(r"Publish 1 file")).click()
    lead.get_by_test_id("stProgress").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    camera.shot(lead, "publishing-progress", focus=lead.get_by_test_id("stProgress").first)
    done = lead.get_by_text(re.compile(r"added · " + re.escape(ZORBLAX_TITLE)))
    done.wait_for(timeout=ANSWER_TIMEOUT_MS)
    settle(lead)
    timings.add("upload.publish_click_to_published", (time.perf_counter() - published_at) * 1000)
    camera.shot(lead, "published")

    # A clinician's question about the new recommendation now cites it.
    answer = ask_fresh(clinician, admin_app, ZORBLAX_QUESTION)
    timings.add("upload.file_chosen_to_cited_answer", (time.perf_counter() - uploaded_at) * 1000)
    timings.add("upload.publish_click_to_cited_answer", (time.perf_counter() - published_at) * 1000)
    assert cites_zorblax(answer), citation_titles(answer)
    assert "quarblinol" in answer.inner_text()
    camera.shot(clinician, "answer-cites-new-guideline", focus=answer.locator(".stMarkdownBadge"))

    # The lead retires it; the same question no longer cites it.
    lead.get_by_role("button", name=f"Remove {pdf.name}").click()  # done with the upload
    settle(lead)
    lead.get_by_role("tab", name="Library").click()
    version = lead.get_by_role("combobox", name="Guideline version")
    version.click()
    lead.keyboard.type("Zorblax")
    lead.get_by_role("option", name=re.compile("Zorblax")).first.click()
    settle(lead)
    assert version.input_value() == f"{ZORBLAX_TITLE} · v1 · active"
    active_before = lead.get_by_text(re.compile(r"^\d+ active guidelines$")).inner_text()
    lead.get_by_role("button", name="Retire", exact=True).click()
    # The selected row is now retired: it offers "Restore this version" instead of "Retire".
    lead.get_by_role("button", name="Restore this version").wait_for(timeout=60_000)
    settle(lead)
    assert lead.get_by_role("button", name="Retire", exact=True).count() == 0
    active_after = lead.get_by_text(re.compile(r"^\d+ active guidelines$")).inner_text()
    assert int(active_after.split()[0]) == int(active_before.split()[0]) - 1, (active_before, active_after)
    camera.shot(lead, "retired")
    answer = ask_fresh(clinician, admin_app, ZORBLAX_QUESTION)
    assert not cites_zorblax(answer), citation_titles(answer)
    assert "quarblinol" not in answer.inner_text()
    camera.shot(clinician, "answer-after-retire", focus=answer.locator(".stMarkdownBadge"))

    # A full rebuild while a clinician keeps asking: every question is answered.
    lead.get_by_role("tab", name="Index").click()
    lead.get_by_role("button", name="Rebuild index").click()
    lead.get_by_test_id("stProgress").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    rebuild_started = time.perf_counter()
    camera.shot(lead, "rebuild-progress")
    asked, during = keep_asking(clinician, admin_app, lead, timings)
    settle(lead, REBUILD_TIMEOUT_MS)
    timings.add("rebuild.duration_seen_by_lead", (time.perf_counter() - rebuild_started) * 1000)
    camera.shot(lead, "rebuild-done")
    alerts = lead.get_by_test_id("stAlert").all_inner_texts()
    assert any(a.startswith("Swapped: ") for a in alerts), alerts
    assert during >= 1, "no question was answered while the rebuild ran"
    failed = [q for q, ok in asked if not ok]
    assert not failed, f"questions not answered during the rebuild: {failed}"

    # The rebuilt index serves only active guidelines: the retired one stays out.
    answer = ask_fresh(clinician, admin_app, ZORBLAX_QUESTION)
    assert not cites_zorblax(answer), citation_titles(answer)
    lead.context.close()
    clinician.context.close()


def keep_asking(page: Any, app: AppProcess, lead: Any, timings: Timings) -> tuple[list[tuple[str, bool]], int]:
    """Ask question after question until the lead's rebuild finishes.

    Returns every (question, answered) pair and how many answers completed while it still ran.
    """
    asked: list[tuple[str, bool]] = []
    during = 0
    for question in itertools.cycle(QUESTIONS_DURING_REBUILD):
        if not script_running(lead) or len(asked) >= 40:
            break
        open_app(page, app.url)
        result = ask(page, question)
        timings.add("rebuild.question_to_complete_answer", result.complete_ms)
        answer = last_answer(page)
        ok = completed_answers(page) == 1 and answer.locator(".stMarkdownBadge").count() == 1
        asked.append((question, ok))
        during += script_running(lead)
    return asked, during
