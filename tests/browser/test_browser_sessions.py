"""Several clinicians at once: four browser tabs, each its own Streamlit session, asking at the
same moment of one app process (the shared Assistant, index client and records).

This is the concurrent-sessions check. AppTest cannot do it: each AppTest run swaps
module-wide Streamlit state for its length (`Runtime._instance`, a patched `config.get_option`),
so runs in parallel threads undo each other's set-up and fail in ways a served app never does.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import pytest

from tests.browser.driver import (ROOT, AppProcess, Timings, ask, completed_answers, last_answer,
                                  new_page, open_app, wait_for_answers)

pytestmark = pytest.mark.browser

TABS = 4
ROUNDS = 2
ANSWERABLE = [row["q"] for row in (json.loads(line) for line in
              (ROOT / "data" / "eval" / "questions.jsonl").read_text("utf-8").splitlines() if line.strip())
              if not row.get("abstain")]


def submit(page: Any, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")


def user_bubbles(page: Any) -> list[str]:
    return page.get_by_test_id("stChatMessage").filter(
        has=page.get_by_test_id("stChatMessageAvatarUser")).all_inner_texts()


def test_four_tabs_ask_at_once(offline_app: AppProcess, browser: Any, timings: Timings) -> None:
    plans = [ANSWERABLE[14 * t:14 * t + ROUNDS] for t in range(TABS)]  # four different topics
    assert len({q for plan in plans for q in plan}) == TABS * ROUNDS
    tabs = [new_page(browser) for _ in range(TABS)]
    for tab in tabs:
        open_app(tab, offline_app.url)

    concurrent_ms: list[float] = []
    for round_ in range(ROUNDS):
        started = time.perf_counter()
        for tab, plan in zip(tabs, plans):  # all four questions are in flight together
            submit(tab, plan[round_])
        for tab, plan in zip(tabs, plans):
            wait_for_answers(tab, round_ + 1)
            concurrent_ms.append((time.perf_counter() - started) * 1000)
        for tab, plan in zip(tabs, plans):  # each tab holds its own conversation, nobody else's
            assert completed_answers(tab) == round_ + 1
            bubbles = user_bubbles(tab)
            assert len(bubbles) == round_ + 1, bubbles  # (a bubble's text starts with its avatar)
            assert all(b.strip().endswith(q) for b, q in zip(bubbles, plan)), (bubbles, plan)
            answer = last_answer(tab)
            assert answer.locator(".stMarkdownBadge").count() == 1, answer.inner_text()[:300]
            assert "Sources" in answer.inner_text()
            assert answer.get_by_test_id("stException").count() == 0

    single = new_page(browser)  # baseline in the same run: one tab alone, the same questions
    open_app(single, offline_app.url)
    alone_ms = [ask(single, question).complete_ms for question in [p[0] for p in plans]]
    for tab in [*tabs, single]:
        tab.context.close()
    for ms in concurrent_ms:
        timings.add("sessions.four_tabs_question_to_answer", ms)
    for ms in alone_ms:
        timings.add("sessions.one_tab_question_to_answer", ms)
    print(f"\n[figure] four tabs at once: median {statistics.median(concurrent_ms):.0f} ms "
          f"vs one tab alone {statistics.median(alone_ms):.0f} ms")
