"""Model mode against the loopback OpenAI-compatible server: streaming, verification of what the
model says, every endpoint failure falling back to a labelled offline answer, recovery, privacy."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from pipelines.assistant import Assistant
from pipelines.config import Settings
from pipelines.models import Answer
from tests.support.llm_server import INJECTION_REPLY, LLMServer, free_port, model_settings, prompt_text

QUESTION = "How can I differentiate nocturnal leg cramps from other causes of leg pain?"
FALLBACK = "offline-fallback"


@pytest.fixture
def server(module_llm: LLMServer) -> LLMServer:
    module_llm.reset()
    return module_llm


@pytest.fixture(scope="module")
def make_model(shared_copy: Settings, reader: Assistant) -> Callable[..., Assistant]:
    """Model-mode Assistants over the module's copy of the seeded library (`reader` started it)."""
    def build(server: LLMServer | None = None, **overrides) -> Assistant:
        return Assistant.create(model_settings(shared_copy, server, **overrides))
    return build


def assert_fallback(answer: Answer) -> None:
    assert answer.mode == FALLBACK
    assert any("offline extractive answer instead" in n for n in answer.notices), answer.notices
    assert answer.citations and answer.answer.startswith(answer.answer.lstrip())
    assert any(c.title == "Leg cramps" for c in answer.citations)


def test_streaming_yields_text_pieces_then_a_model_answer(server: LLMServer, make_model) -> None:
    items = list(make_model(server).stream(QUESTION))
    pieces, answer = items[:-1], items[-1]
    assert isinstance(answer, Answer)
    assert len(pieces) >= 3 and all(isinstance(p, str) for p in pieces)
    assert answer.mode == "model:test-model"
    assert answer.confidence.level != "insufficient"
    assert any(c.title == "Leg cramps" for c in answer.citations)
    assert answer.answer.splitlines()[2].startswith("- **")
    assert "first_token" in answer.timings_ms
    assert len(server.requests) == 1 and server.requests[0]["stream"] is True
    assert "<passages>" in server.requests[0]["messages"][-1]["content"]


def test_citations_number_the_passages_given(server: LLMServer, make_model) -> None:
    answer = make_model(server).ask(QUESTION)
    for c in answer.citations:
        assert answer.sources[c.n - 1].title == c.title and f"[{c.n}]" in answer.answer


def test_citation_to_a_passage_not_given_is_removed(server: LLMServer, make_model) -> None:
    server.set("cite_missing")
    answer = make_model(server).ask(QUESTION)
    assert answer.mode == "model:test-model"
    assert "[9]" not in answer.answer
    assert all(1 <= c.n <= len(answer.sources) for c in answer.citations)
    assert any("1 invalid citation(s)" in n for n in answer.notices), answer.notices


def test_unsupported_sentence_is_removed_and_flagged(server: LLMServer, make_model) -> None:
    server.set("unsupported")
    answer = make_model(server).ask(QUESTION)
    assert "grapefruit" not in answer.answer
    assert any("1 unsupported sentence(s)" in n for n in answer.notices), answer.notices
    assert any("supported by the passages" in r for r in answer.confidence.reasons)


def test_server_error_falls_back_after_two_retries(server: LLMServer, make_model) -> None:
    server.set("http_500")
    answer = make_model(server).ask(QUESTION)
    assert_fallback(answer)
    assert len(server.requests) == 3  # the first try and at most two retries


def test_rate_limit_honours_retry_after(server: LLMServer, make_model) -> None:
    server.set("http_429")
    answer = make_model(server).ask(QUESTION)
    assert_fallback(answer)
    assert len(server.requests) == 3
    gaps = [b - a for a, b in zip(server.arrivals, server.arrivals[1:])]
    assert all(gap >= 0.95 for gap in gaps), gaps  # Retry-After: 1 was waited, not the 0.5 s default


def test_hanging_endpoint_times_out_and_falls_back(server: LLMServer, make_model) -> None:
    server.set("hang")
    started = time.monotonic()
    answer = make_model(server, llm_timeout_s=1.0).ask(QUESTION)
    elapsed = time.monotonic() - started
    assert_fallback(answer)
    assert any("Timeout" in n for n in answer.notices), answer.notices
    assert len(server.requests) <= 3
    print(f"\nhang: fallback after {elapsed:.1f} s with llm_timeout_s=1.0, "
          f"{len(server.requests)} request(s)")


def test_refused_connection_falls_back(make_model) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    answer = make_model(url=closed).ask(QUESTION)
    assert_fallback(answer)
    assert any("unavailable" in n for n in answer.notices)


def test_garbage_stream_falls_back(server: LLMServer, make_model) -> None:
    server.set("garbage")
    answer = make_model(server).ask(QUESTION)
    assert_fallback(answer)
    assert "not json" not in answer.answer


def test_model_answers_again_once_the_endpoint_heals(server: LLMServer, make_model) -> None:
    model = make_model(server)
    server.set("http_500")
    assert model.ask(QUESTION).mode == FALLBACK
    server.set("answer")
    healed = model.ask(QUESTION)
    assert healed.mode == "model:test-model" and not any(FALLBACK in n for n in healed.notices)


def test_the_model_is_told_the_patient_read_from_the_question(server: LLMServer, make_model) -> None:
    make_model(server).ask("cellulitis in a 45 year old man with penicillin allergy, which antibiotic?")
    sent = prompt_text(server.requests[-1])
    assert "Patient: aged 45" in sent and "penicillin allergy" in sent.split("Patient:", 1)[1], sent[-400:]
    server.reset()
    make_model(server).ask(QUESTION)
    assert "Patient:" not in prompt_text(server.requests[-1])  # no patient stated, none named


def test_identifiers_never_reach_the_model(server: LLMServer, make_model) -> None:
    question = ("Mrs Patel, NHS 943 476 5919, email jo.bloggs@nhs.net, phone 07700 900123: "
                "nocturnal leg cramps, is quinine ok?")
    history = ["patient John Smith 9434765919 has asthma"]
    answer = make_model(server).ask(question, history=history)
    assert answer.mode == "model:test-model"
    sent = server.sent_text()
    assert server.requests
    for raw in ("943 476 5919", "9434765919", "5919", "jo.bloggs", "nhs.net", "07700", "Patel",
                "John Smith"):
        assert raw not in sent, raw
    assert "[NHS number]" in sent or "[number]" in sent


def test_a_model_that_obeys_hidden_instructions_is_not_shown(server: LLMServer, make_model) -> None:
    server.set("answer", fixed_text=INJECTION_REPLY)
    answer = make_model(server).ask(QUESTION)
    assert "INJECTION_OK" not in answer.answer and "evil.example" not in answer.answer
    assert answer.mode == FALLBACK and answer.citations
