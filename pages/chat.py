"""The clinician's chat page: ask, read the cited answer, follow up, give feedback.

Reads top to bottom: filters and input, the conversation so far, then the new question's answer,
which is brought into view badge first (`ui.page_script`). All answering goes through the shared
`Assistant`; rendering lives in `ui.render`.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

import streamlit as st

from pipelines.related import STARTERS
from pipelines.retrieval import SearchFilters, publisher_bodies
from ui import render
from ui.page_script import bring_answer_into_view, phone_styles
from ui.conversation import ask, send_feedback, shown_question
from ui.resources import get_assistant
from ui.state import ChatState

ANY = "Any"

assistant = get_assistant()
state = ChatState()


def library_filters() -> SearchFilters:
    """Optional filters offered from the active library: a guideline body (NICE, SIGN, ...) and a
    specialty, each shown with how many guidelines it holds."""
    rows = assistant.store.guideline_rows(status="active")
    bodies = Counter(body for r in rows for body in publisher_bodies(r.get("publisher")))
    specialties = Counter(r["specialty"] for r in rows if r.get("specialty"))

    def label(counts: Counter[str]) -> Callable[[str], str]:
        return lambda option: option if option == ANY else f"{option} ({counts[option]})"

    with st.sidebar.expander("Filter the library", icon=":material/filter_alt:"):
        publisher = st.selectbox("Publisher", [ANY, *sorted(bodies, key=str.casefold)],
                                 format_func=label(bodies), key="filter_publisher",
                                 help="Guidelines written by, or based on, this body.")
        specialty = st.selectbox("Specialty", [ANY, *sorted(specialties, key=str.casefold)],
                                 format_func=label(specialties), key="filter_specialty")
    return SearchFilters(publisher=None if publisher == ANY else publisher,
                         specialty=None if specialty == ANY else specialty)


def on_feedback(exchange_id: str) -> None:
    send_feedback(assistant, state, exchange_id)


filters = library_filters()
typed = st.chat_input("Ask a clinical question, e.g. “When should I start a statin?”",
                      max_chars=assistant.settings.max_question_chars, submit_mode="disable")
question = typed or state.take_queued()
shown = shown_question(assistant, question) if question else ""
state.withdraw_offer(shown)

phone_styles()
st.title("Ask the guidelines")
st.caption("Answers come only from the guideline library, with numbered citations. "
           "Do not enter patient identifiers: any found are removed before searching.")

for exchange in state.exchanges:
    newest = exchange is state.exchanges[-1] and not question
    render.question_bubble(exchange.question)
    with st.chat_message("assistant"):
        render.answer(exchange, state.queue, on_feedback, state.reset if newest else None)

if not state.exchanges and not question:
    st.markdown("**Try one of these questions**")
    for i, starter in enumerate(STARTERS[:6]):
        st.button(starter, key=f"starter-{i}", icon=":material/arrow_forward:", type="secondary",
                  on_click=state.queue, args=(starter,))

if question:
    render.question_bubble(shown)
    with st.chat_message("assistant"):
        render.answer(ask(assistant, state, question, shown, filters), state.queue, on_feedback,
                      state.reset)
        bring_answer_into_view()
