"""Rendering one answer the way DESIGN.md describes, with Streamlit elements only.

Every piece of untrusted text (answer body, passages, titles, past questions, notices that quote
titles) goes through `neutralise_markdown` before any element that renders Markdown, and nothing
here uses `unsafe_allow_html`. The only links added to that text are the citation markers [n],
pointing at this page's own `#source-<exchange>-<n>` fragments (`link_citations`). Confidence is
shown with colour, icon and words together, in colours set in `.streamlit/config.toml` to meet
WCAG AA contrast.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from pipelines.export import DISCLAIMER, answer_to_markdown
from pipelines.models import Answer, Citation
from pipelines.related import ASKED_BY_COLLEAGUES, SUGGESTED
from pipelines.render_safety import link_citations, safe_url
from pipelines.render_safety import neutralise_markdown as safe
from pipelines.review import is_review_notice
from ui.state import Exchange

LEVEL_STYLE: dict[str, tuple[str, str]] = {
    "high": ("green", ":material/verified:"),
    "moderate": ("blue", ":material/check_circle:"),
    "low": ("orange", ":material/warning:"),
    "insufficient": ("gray", ":material/search_off:"),
}
REVIEW_ICON = ":material/history:"  # marks a source past its review interval
ABSTAIN_MESSAGE = ("**No guidance found.** The library holds no guideline that answers this "
                   "question, so Guidelight does not answer it.")


def question_bubble(text: str) -> None:
    with st.chat_message("user"):
        st.markdown(safe(text))


def confidence(answer: Answer, key: str) -> None:
    """The badge, with the reasons one click away in a popover."""
    colour, icon = LEVEL_STYLE[answer.confidence.level]
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.badge(answer.confidence.label, icon=icon, color=colour)  # type: ignore[arg-type]
        if answer.confidence.reasons:
            with st.popover("Why this confidence?", icon=":material/help:", type="tertiary",
                            key=f"why-{key}"):
                st.markdown("\n".join(f"- {safe(r)}" for r in answer.confidence.reasons))


def red_flags(answer: Answer) -> None:
    """Red-flag banners: the first thing an answer shows."""
    for flag in answer.red_flags:
        st.error(f"**Red flag — {safe(flag.name)}.** {safe(flag.message)}", icon=":material/emergency:")


def notices(answer: Answer) -> None:
    """Notices (identifiers removed, fallbacks, shortening), after the lead so it stays in view."""
    for notice in answer.notices:
        if is_review_notice(notice):
            continue
        privacy = notice.startswith("Identifiers were removed")
        st.info(safe(notice), icon=":material/shield_person:" if privacy else ":material/info:")


def source_key(key: str, n: int) -> str:
    """The widget key of source n's expander; its CSS class `st-key-…` is what [n] links to."""
    return f"source-{key}-{n}"


def body(answer: Answer, key: str) -> None:
    """The answer text, each citation marker [n] a link that opens source n below."""
    if answer.abstained:
        nearest = "".join(f"\n- {safe(title)}" for title in answer.nearest_guidelines)
        extra = f"\n\nNearest guidelines the library does have:{nearest}" if nearest else ""
        st.warning(ABSTAIN_MESSAGE + extra, icon=":material/search_off:")
        return
    fragments = {c.n: source_key(key, c.n) for c in answer.citations}
    st.markdown(link_citations(safe(answer.answer), fragments))


def citations(answer: Answer, key: str) -> None:
    """Numbered sources, each opening the exact passage with its provenance and source link."""
    if not answer.citations:
        return
    st.markdown("**Sources**")
    for citation in answer.citations:
        label = f"\\[{citation.n}\\] {safe(citation.title)} — {safe(citation.section or 'passage')}"
        icon = REVIEW_ICON if citation.review_overdue else ":material/menu_book:"
        with st.expander(label, icon=icon, key=source_key(key, citation.n)):
            _citation_detail(citation)
    for notice in answer.notices:
        if is_review_notice(notice):
            st.caption(f"{REVIEW_ICON} {safe(notice)}")


def _citation_detail(citation: Citation) -> None:
    facts = [f"**Guideline:** {safe(citation.title)}", f"**Publisher:** {safe(citation.publisher)}",
             f"**Section:** {safe(citation.section or '—')}",
             f"**Page:** {safe(citation.page_label) or '—'}",
             f"**Last reviewed:** {safe(citation.last_reviewed or 'unknown')}"
             + (" (past its review interval: check for a newer version)" if citation.review_overdue else "")]
    st.markdown("  \n".join(facts))
    quoted = "\n".join(f"> {safe(line)}" for line in citation.text.splitlines() if line.strip())
    st.markdown(quoted or "> (empty passage)")
    url = safe_url(citation.url)
    if url:
        st.link_button("Open the source", url, icon=":material/open_in_new:")
    else:
        st.caption("No web address recorded for this guideline.")


def provenance(answer: Answer) -> None:
    if answer.mode == "offline-extractive":
        made = "Offline answer: sentences copied from the passages, no language model."
    elif answer.mode == "offline-fallback":
        made = "Offline fallback answer: sentences copied from the passages."
    elif answer.mode == "abstain":
        made = "No answer given."
    else:
        made = f"Written by {answer.mode.removeprefix('model:')} and checked against the passages."
    total = answer.timings_ms.get("total")
    timing = f" · {total / 1000:.1f} s" if total is not None else ""
    st.caption(f"{made}{timing} · {DISCLAIMER}")


def related(exchange: Exchange, on_pick: Callable[[str], None]) -> None:
    """Close questions only, colleagues' first, each group labelled; one click asks it."""
    if not exchange.related:
        return
    st.markdown("**Related questions**")
    for label in (ASKED_BY_COLLEAGUES, SUGGESTED):
        group = [(i, q) for i, q in enumerate(exchange.related) if q.label == label]
        if group:
            st.caption(label)
        for i, question in group:
            # No `help=`: Streamlit then draws a second, hidden copy of the button for touch
            # screens, and the group's caption already says where the question comes from.
            st.button(safe(question.text), key=f"related-{exchange.id}-{i}", type="tertiary",
                      icon=":material/subdirectory_arrow_right:",
                      on_click=on_pick, args=(question.text,))


def actions(exchange: Exchange, on_feedback: Callable[[str], None],
            on_new: Callable[[], None] | None) -> None:
    """One compact row under the answer: thumbs, a comment, download, copy, new conversation."""
    assert exchange.answer is not None
    markdown = answer_to_markdown(exchange.answer)
    with st.container(horizontal=True, vertical_alignment="center", gap="small",
                      key=f"actions-{exchange.id}"):
        feedback(exchange, on_feedback)
        st.download_button("Download as Markdown", markdown, file_name="guidelight-answer.md",
                           mime="text/markdown", key=f"download-{exchange.id}", on_click="ignore",
                           icon=":material/download:", type="tertiary")
        with st.popover("Copy", icon=":material/content_copy:", type="tertiary"):
            st.caption("The answer with its sources, as Markdown (copy button at the top right).")
            st.code(markdown, language="markdown", wrap_lines=True)
        _new_conversation(exchange, on_new)
    if exchange.feedback_problem:
        st.caption(exchange.feedback_problem)


def _new_conversation(exchange: Exchange, on_new: Callable[[], None] | None) -> None:
    if on_new is not None:
        st.button("New conversation", icon=":material/add_comment:", type="tertiary",
                  key=f"new-{exchange.id}", on_click=on_new)


def feedback(exchange: Exchange, on_send: Callable[[str], None]) -> None:
    """Thumbs up/down, sent when chosen, with the comment if one was written first; or the
    comment popover's Send button. One rating per answer is stored; a comment written after the
    thumb joins that rating (the popover stays, as "Add a comment", until a comment is saved)."""
    rated = exchange.feedback_sent is not None
    if rated:
        st.caption(":material/check: Feedback recorded, thank you." if exchange.comment_sent
                   else ":material/check: Recorded")  # short: the row stays one line on a phone
    else:
        st.feedback("thumbs", key=f"rating-{exchange.id}", on_change=on_send, args=(exchange.id,))
    if exchange.comment_sent:
        return
    # No `help=` on the popover: Streamlit would draw a hidden second button for touch screens.
    with st.popover("Add a comment" if rated else "Comment", icon=":material/rate_review:",
                    type="tertiary", key=f"comment-box-{exchange.id}"):
        st.text_input("Comment (optional)", key=f"comment-{exchange.id}", max_chars=1000,
                      placeholder="What was right or wrong? Please do not include patient details.")
        st.caption("Added to the rating you gave." if rated
                   else "Optional. Sent with your thumbs up or down.")
        st.button("Save comment" if rated else "Send feedback", key=f"send-{exchange.id}",
                  on_click=on_send, args=(exchange.id,))


def answer(exchange: Exchange, on_pick: Callable[[str], None], on_feedback: Callable[[str], None],
           on_new: Callable[[], None] | None = None) -> None:
    """The whole assistant turn for one exchange (answer or error), answer first: red flags,
    badge, lead and points, then sources, provenance, related questions and the action row.

    Args:
        on_new: given for the newest answer only, which then offers "New conversation".
    """
    if exchange.error:
        st.error(exchange.error, icon=":material/error:")
        _new_conversation(exchange, on_new)
        return
    assert exchange.answer is not None
    result = exchange.answer
    red_flags(result)
    confidence(result, exchange.id)
    body(result, exchange.id)
    notices(result)
    citations(result, exchange.id)
    provenance(result)
    related(exchange, on_pick)
    actions(exchange, on_feedback, on_new)
