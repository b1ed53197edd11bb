"""Asking one question from the chat page: stream (model) or answer at once (offline), never crash.

Any failure becomes an exchange with a plain error message; the exception is logged server-side
by type and stack only (never its message, which could quote the question), and the page stays
usable.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator

import streamlit as st

from pipelines.assistant import Assistant
from pipelines.models import Answer
from pipelines.related import RelatedQuestion
from pipelines.render_safety import StreamEscaper
from pipelines.retrieval import SearchFilters
from ui.state import ChatState, Exchange

logger = logging.getLogger("guidelight.chat")

ERROR_MESSAGE = ("Sorry, Guidelight could not answer just now. Your conversation is kept: please "
                 "try again, and tell the service team if it keeps happening.")


def shown_question(assistant: Assistant, question: str) -> str:
    """The question as it will be searched (identifiers replaced), for the chat bubble."""
    try:
        return assistant.scrubber.scrub(question).text
    except Exception:  # the bubble must never show what the scrubber could not check
        return "(question hidden)"


def ask(assistant: Assistant, state: ChatState, question: str, shown: str,
        filters: SearchFilters) -> Exchange:
    """Answer `question` in the current chat message and add the exchange to the conversation."""
    exchange = Exchange(question=shown)
    try:
        history = state.history()
        answer = _answer(assistant, question, history, filters)
        exchange.answer = answer
        exchange.related = _related(assistant, answer, history)
    except Exception as exc:  # noqa: BLE001  (anything: the page must stay usable)
        _log_failure(exc)
        exchange.error = ERROR_MESSAGE
    state.add(exchange)
    return exchange


def _answer(assistant: Assistant, question: str, history: list[str], filters: SearchFilters) -> Answer:
    if assistant.generation is None:
        with st.spinner("Searching the guidelines…"):
            return assistant.ask(question, history, filters)
    holder: dict[str, Answer] = {}
    preview = st.empty()
    with preview.container():
        st.write_stream(_safe_pieces(assistant.stream(question, history, filters), holder))
    preview.empty()
    if "answer" not in holder:
        raise RuntimeError("the answer stream ended without an answer")
    return holder["answer"]


def _safe_pieces(stream: Iterator[str | Answer], holder: dict[str, Answer]) -> Iterator[str]:
    """Streamed text made inert word by word; the finished Answer is kept aside."""
    escaper = StreamEscaper()
    for item in stream:
        if isinstance(item, Answer):
            holder["answer"] = item
            continue
        safe = escaper.feed(item)
        if safe:
            yield safe
    tail = escaper.flush()
    if tail:
        yield tail


def _related(assistant: Assistant, answer: Answer, history: list[str]) -> list[RelatedQuestion]:
    """Related questions are a nicety: if they fail, the answer still stands."""
    try:
        return assistant.related(answer, history)
    except Exception as exc:  # noqa: BLE001
        _log_failure(exc)
        return []


def _log_failure(exc: BaseException) -> None:
    stack = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("Answering failed with %s (message withheld: it may quote the question)\n%s",
                 type(exc).__name__, stack)


def send_feedback(assistant: Assistant, state: ChatState, exchange_id: str) -> None:
    """Callback of the thumbs and of the comment popover's button. Before a rating: store the
    rating with the comment written so far, once per answer. After it: the comment joins the
    stored rating."""
    exchange = state.find(exchange_id)
    if exchange is None or exchange.answer is None:
        return
    comment = (st.session_state.get(f"comment-{exchange_id}") or "").strip()
    if exchange.feedback_sent is not None:
        _add_comment(assistant, exchange, comment)
        return
    rating = st.session_state.get(f"rating-{exchange_id}")
    if rating is None:
        exchange.feedback_problem = "Choose thumbs up or thumbs down before sending."
        return
    try:
        exchange.feedback_id = assistant.feedback(exchange.answer, 1 if rating == 1 else -1, comment)
    except Exception as exc:  # noqa: BLE001
        _log_failure(exc)
        exchange.feedback_problem = "Feedback could not be saved just now; please try again."
        return
    exchange.feedback_sent = 1 if rating == 1 else -1
    exchange.comment_sent = bool(comment)
    exchange.feedback_problem = None


def _add_comment(assistant: Assistant, exchange: Exchange, comment: str) -> None:
    if exchange.comment_sent:
        return  # a thumb and the Send button in the same run: the comment went with the thumb
    if not comment:
        exchange.feedback_problem = "Write a comment first."
        return
    try:
        saved = exchange.feedback_id is not None and assistant.feedback_comment(exchange.feedback_id,
                                                                              comment)
    except Exception as exc:  # noqa: BLE001
        _log_failure(exc)
        saved = False
    if not saved:
        exchange.feedback_problem = "The comment could not be saved just now; please try again."
        return
    exchange.comment_sent = True
    exchange.feedback_problem = None
