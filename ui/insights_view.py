"""The admin Insights tab: what a clinical lead should act on first, then the trends.

Reads `AdminService.insights` and renders it; each list is downloadable as CSV (the download is
audited). Only called after a valid sign-in; the service checks the session again regardless.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pipelines.admin import AdminService
from pipelines.auth import AdminSession
from pipelines.insights import Insights, csv_bytes, gaps_frame
from pipelines.reports import feedback_per_day, levels_per_day, questions_per_day

DATES = {"Last asked": st.column_config.DatetimeColumn("Last asked", format="YYYY-MM-DD HH:mm"),
         "At": st.column_config.DatetimeColumn("At", format="YYYY-MM-DD HH:mm")}


def insights_tab(service: AdminService, session: AdminSession) -> None:
    insights = service.insights(session)
    _act_on(insights)
    _downloads(service, session, insights)
    _trends(service, session)


def _act_on(insights: Insights) -> None:
    wrong = insights.of_kind("likely wrong refusal")
    _table(f"Likely wrong refusals ({len(wrong)})", gaps_frame(wrong),
           "Refused, but a red flag fired or the nearest guideline is about the condition asked: "
           "check the answer, not the library.", "None.", drop=["Kind", "Now answered by"])
    gaps = insights.of_kind("gap")
    _table(f"Questions the library could not answer ({len(gaps)} gaps)", gaps_frame(gaps),
           "Grouped by meaning: the guidance to add.", "None so far.",
           drop=["Kind", "Why flagged", "Now answered by"])
    covered = insights.of_kind("covered")
    if covered:
        _table(f"Gaps now covered ({len(covered)})", gaps_frame(covered),
               "A guideline published since they were asked now answers them.", "",
               drop=["Kind", "Why flagged"])
    _table(f"Low-confidence answers ({len(insights.low_confidence)})", insights.low_confidence,
           "Answered, but with little support in the passages: worth checking.", "None.")
    _table(f"Thumbs-down feedback ({len(insights.negative_feedback)})", insights.negative_feedback,
           "What clinicians said was wrong or unhelpful.", "None.", drop=["Rating"])


def _table(title: str, frame: pd.DataFrame, caption: str, empty: str, drop: list[str] | None = None) -> None:
    st.markdown(f"**{title}**")
    if frame.empty:
        st.caption(empty)
        return
    st.caption(caption)
    st.dataframe(frame.drop(columns=drop or []), hide_index=True, width="stretch", column_config=DATES)


def _downloads(service: AdminService, session: AdminSession, insights: Insights) -> None:
    gaps, feedback = gaps_frame(insights.gaps), insights.feedback
    with st.container(horizontal=True):
        st.download_button("Download gaps and refusals (CSV)", csv_bytes(gaps), "guidelight-gaps.csv",
                           "text/csv", key="admin_download_gaps", icon=":material/download:",
                           on_click=service.log_export, args=(session, "gaps", len(gaps)))
        st.download_button("Download all feedback (CSV)", csv_bytes(feedback), "guidelight-feedback.csv",
                           "text/csv", key="admin_download_feedback", icon=":material/download:",
                           on_click=service.log_export, args=(session, "feedback", len(feedback)))


def _trends(service: AdminService, session: AdminSession) -> None:
    events, feedback = service.events(session), service.feedback(session)
    if not events:
        st.caption("No questions asked yet.")
        return
    st.markdown("**Questions per day**")
    st.bar_chart(questions_per_day(events))
    st.markdown("**Confidence levels per day**")
    st.bar_chart(levels_per_day(events))
    if feedback:
        st.markdown("**Feedback per day**")
        st.bar_chart(feedback_per_day(feedback))
