"""Model mode in chromium: the app talks to the loopback OpenAI-compatible server, which streams
its reply in paced pieces; the browser must see the answer grow, then the checked, cited answer.
The same server then returns hostile markup, which must stay inert while streaming and after."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.driver import (SEED_QUESTION, AppProcess, Camera, Timings, Watch, ask, assert_inert,
                                  citation_titles, last_answer, new_page, open_app, record)

pytestmark = pytest.mark.browser


@pytest.fixture
def healthy_llm(llm: Any) -> Iterator[Any]:
    """The session's loopback server, reset to a grounded answer before and after the test."""
    llm.reset("answer")
    yield llm
    llm.reset("answer")


def test_model_answer_streams_into_the_page(model_app: AppProcess, healthy_llm: Any, browser: Any,
                                            timings: Timings) -> None:
    camera = Camera("model-mode")
    page = new_page(browser)
    open_app(page, model_app.url)
    result = ask(page, SEED_QUESTION)
    record(timings, "model", result)

    growing = result.distinct_growing_lengths
    print(f"\n[figure] model mode: the answer text was seen at {len(growing)} increasing lengths "
          f"before completion: {growing}")
    assert len(growing) >= 2, f"the answer did not visibly grow while streaming: {result.samples}"
    assert result.first_text_ms is not None and result.complete_ms is not None
    assert result.first_text_ms < result.complete_ms
    requests = healthy_llm.requests
    assert requests and requests[-1].get("stream") is True, "the app did not ask the model to stream"

    answer = last_answer(page)
    assert answer.locator(".stMarkdownBadge").count() == 1
    assert citation_titles(answer), "the model answer has no citations"
    assert "Written by test-model" in answer.inner_text()
    camera.shot(page, "streamed-answer", focus=answer.locator(".stMarkdownBadge"), docs_name="model-answer")
    page.context.close()


def hostile_reply(pixel_url: str) -> str:
    return (
        "Nocturnal leg cramps occur at rest <script>alert(1)</script> and settle with stretching [1].\n\n"
        "- **Claudication**: pain on walking <img src=x onerror=alert(1)> that eases at rest [1].\n"
        "- **Leaflet**: read more [click](javascript:alert(1)) about leg cramps [1].\n"
        f"- **Chart**: ![t]({pixel_url}) shows the course of leg cramps [1].\n"
    )


def test_model_markup_is_inert(model_app: AppProcess, healthy_llm: Any, browser: Any, pixel: Any) -> None:
    camera = Camera("model-hostile")
    healthy_llm.set("answer", fixed_text=hostile_reply(pixel.url))
    page = new_page(browser)
    watch = Watch(page)
    open_app(page, model_app.url)
    result = ask(page, SEED_QUESTION)
    assert healthy_llm.requests, "the model was never called"
    assert len(result.distinct_growing_lengths) >= 1, result.samples
    camera.shot(page, "answer", focus=last_answer(page).locator(".stMarkdownBadge"))
    assert_inert(page, watch, pixel)
    page.context.close()
