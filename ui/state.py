"""Per-session chat state, kept in `st.session_state` (one browser tab = one conversation).

Only scrubbed text is kept: an exchange remembers the question as the assistant searched it
(identifiers replaced), so an NHS number typed by mistake does not linger even in session memory,
and follow-ups send only scrubbed earlier questions as history.
"""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from pipelines.models import Answer
from pipelines.related import RelatedQuestion, question_key

EXCHANGES = "chat_exchanges"
QUEUED = "chat_queued_question"


@dataclass
class Exchange:
    """One question and what came back: an answer, or a clear error."""

    question: str
    answer: Answer | None = None
    related: list[RelatedQuestion] = field(default_factory=list)
    error: str | None = None
    feedback_sent: int | None = None  # the rating stored, +1 or -1
    feedback_id: int | None = None    # its stored row, which a later comment joins
    comment_sent: bool = False
    feedback_problem: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])


class ChatState:
    """Typed access to this session's conversation."""

    def __init__(self, session: MutableMapping[str, Any] | None = None) -> None:
        self._session = st.session_state if session is None else session
        self._session.setdefault(EXCHANGES, [])

    @property
    def exchanges(self) -> list[Exchange]:
        return self._session[EXCHANGES]

    def history(self) -> list[str]:
        """Earlier questions of this conversation (scrubbed), oldest first, for follow-ups."""
        return [x.answer.question for x in self.exchanges if x.answer is not None]

    def add(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)

    def withdraw_offer(self, question: str) -> None:
        """Earlier related-question panels stop offering `question`: it is being asked."""
        asked = question_key(question)
        for earlier in self.exchanges:
            earlier.related = [r for r in earlier.related if question_key(r.text) != asked]

    def find(self, exchange_id: str) -> Exchange | None:
        return next((x for x in self.exchanges if x.id == exchange_id), None)

    def queue(self, question: str) -> None:
        """Ask `question` on the next run (starter and related-question buttons)."""
        self._session[QUEUED] = question

    def take_queued(self) -> str | None:
        return self._session.pop(QUEUED, None)

    def reset(self) -> None:
        """Start a new conversation: forget every exchange and any queued question."""
        self._session[EXCHANGES] = []
        self._session.pop(QUEUED, None)
