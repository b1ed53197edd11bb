"""The clinician's chat page through Streamlit's AppTest, from the real entry point.

Every test runs the whole app (`streamlit_app.py`, its navigation and the chat page) over a
private copy of the seeded demonstration library: real Qdrant local mode, real SQLite, the real
offline composer; model mode talks to the loopback OpenAI-compatible server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from pipelines.config import Settings, get_settings
from pipelines.export import DISCLAIMER
from pipelines.index import open_index
from pipelines.related import CURATED, STARTERS
from pipelines.render_safety import link_citations, neutralise_markdown
from pipelines.store import Store
from tests.support.apptest import app_data, ask, badge_labels, open_chat
from tests.support.llm_server import LLMServer, llm_server  # noqa: F401  (fixture)
from ui.conversation import ERROR_MESSAGE
from ui.render import LEVEL_STYLE, source_key

SEED = "How can I differentiate nocturnal leg cramps from other causes of leg pain?"
EARLIER = "How do I treat nocturnal leg cramps?"  # high confidence; cosine 0.81 to SEED
NHS_QUESTION = "Nocturnal leg cramps treatment quinine stretching 943 476 5919"  # moderate
NHS_FORMS = ("943 476 5919", "9434765919", "943-476-5919")


@pytest.fixture
def chat_env(seeded_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A private copy of the seeded library as the app's data folder; caches cleared around it."""
    with app_data(seeded_template, tmp_path, monkeypatch):
        yield get_settings()


def last(at: AppTest):
    """The newest exchange of this session's conversation."""
    return at.session_state["chat_exchanges"][-1]


def related_buttons(at: AppTest) -> list:
    return [b for b in at.button if b.key and b.key.startswith("related-")]


def past_query_texts(settings: Settings) -> list[str]:
    """Every question stored in the related-questions collection (the app's own client)."""
    points = open_index(settings).iter_points(settings.queries_collection)
    return [p.payload.get("text", "") for p in points]


def test_first_screen_shows_starters_and_sidebar(chat_env: Settings) -> None:
    at = open_chat()
    assert not at.exception
    starters = [b.label for b in at.button if b.key and b.key.startswith("starter-")]
    assert starters == STARTERS[:6]
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "Library: 48 guidelines" in sidebar and "offline composer" in sidebar
    assert len(at.chat_input) == 1
    assert [s.label for s in at.sidebar.selectbox] == ["Publisher", "Specialty"]
    assert not at.chat_message


def test_publisher_filter_offers_bodies_and_restricts_the_answer(chat_env: Settings) -> None:
    at = open_chat()
    publisher = at.sidebar.selectbox(key="filter_publisher")
    assert publisher.options[0] == "Any" and len(publisher.options) < 15
    assert "NICE (48)" in publisher.options and "FSRH (1)" in publisher.options
    assert not any(o.startswith("Demonstration summary") for o in publisher.options)
    publisher.select("FSRH").run()
    ask(at, "emergency contraception after unprotected sex, which method?")
    assert not at.exception
    answer = last(at).answer
    assert answer.citations and all("FSRH" in c.publisher for c in answer.citations)
    assert any("publisher FSRH" in n for n in answer.notices)


def test_starter_button_asks_its_question(chat_env: Settings) -> None:
    at = open_chat()
    next(b for b in at.button if b.key == "starter-1").click()
    at.run()
    assert not at.exception
    assert last(at).answer.question == STARTERS[1]
    assert not [b for b in at.button if b.key and b.key.startswith("starter-")]


def test_seed_question_shows_cited_answer_confidence_and_related(chat_env: Settings) -> None:
    other_user = open_chat()
    ask(other_user, EARLIER)  # an earlier question by someone else feeds the related panel
    at = open_chat()
    ask(at, SEED)
    assert not at.exception and not at.error
    answer = last(at).answer
    assert answer.citations and answer.confidence.level in ("high", "moderate")
    shown = link_citations(neutralise_markdown(answer.answer),
                           {c.n: source_key(last(at).id, c.n) for c in answer.citations})
    assert shown in [m.value for m in at.markdown]
    assert f"[\\[1\\]](#source-{last(at).id}-1)" in shown  # [1] in the text opens source 1
    colour, icon = LEVEL_STYLE[answer.confidence.level]
    assert badge_labels(at) == [f":{colour}-badge[{icon} {answer.confidence.label}]"]
    sources = [e.label for e in at.expander if e.label.startswith("\\[")]
    assert len(sources) == len(answer.citations) and sources[0].startswith("\\[1\\] ")
    first = answer.citations[0]
    expander = next(e for e in at.expander if e.label.startswith("\\[1\\]"))
    detail = " ".join(m.value for m in expander.markdown)
    for fact in (first.publisher, "Last reviewed", first.last_reviewed, "Section"):
        assert fact in detail
    assert at.link_button[0].url == first.url
    related = [b.label for b in related_buttons(at)]
    assert related[0] == EARLIER and len(related) <= 5  # the nearest earlier question comes first
    offered = last(at).related
    assert all(r.similarity >= chat_env.related_min_similarity for r in offered)  # curated too
    assert "Asked by colleagues" in [c.value for c in at.caption]
    assert ("Suggested" in [c.value for c in at.caption]) == any(r.text in CURATED for r in offered)
    assert any(DISCLAIMER in c.value for c in at.caption)


def test_related_never_offers_this_conversation_s_questions(chat_env: Settings) -> None:
    ask(open_chat(), EARLIER)  # a colleague's question, close to SEED
    at = ask(open_chat(), EARLIER)
    ask(at, SEED)
    assert not at.exception
    assert EARLIER not in [b.label for b in related_buttons(at)]
    assert SEED not in [b.label for b in related_buttons(at)]


def test_a_question_with_no_close_neighbours_offers_nothing(chat_env: Settings) -> None:
    at = ask(open_chat(), "How do I restring a classical guitar?")
    assert not at.exception
    assert related_buttons(at) == [] and last(at).related == []
    assert "**Related questions**" not in [m.value for m in at.markdown]


def test_review_dates_are_one_quiet_line_and_a_mark_on_each_source(
        seeded_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A one-day interval makes every dated source overdue: the case of most demo guidelines.
    with app_data(seeded_template, tmp_path, monkeypatch, GUIDELIGHT_REVIEW_INTERVAL_DAYS="1"):
        at = ask(open_chat(), SEED)
        assert not at.exception
        answer = last(at).answer
        overdue = [c.n for c in answer.citations if c.review_overdue]
        assert len(overdue) >= 2
        assert not at.warning  # no box per guideline
        lines = [c.value for c in at.caption if "last reviewed more than" in c.value]
        assert len(lines) == 1
        assert lines[0].endswith("Sources " + " ".join(f"\\[{n}\\]" for n in overdue)
                                 + " were last reviewed more than 1 day ago — check the source for updates.")
        marked = [e for e in at.expander if e.label.startswith("\\[") and e.proto.icon == ":material/history:"]
        assert len(marked) == len(overdue)


def test_clicking_a_related_question_asks_it(chat_env: Settings) -> None:
    ask(open_chat(), EARLIER)
    at = ask(open_chat(), SEED)
    related_buttons(at)[0].click()
    at.run()
    assert not at.exception
    assert [x.answer.question for x in at.session_state["chat_exchanges"]] == [SEED, EARLIER]
    assert len(at.chat_message) == 4


def test_follow_up_is_searched_with_the_conversation(chat_env: Settings) -> None:
    at = ask(open_chat(), "How should acute gout be treated?")
    ask(at, "What if colchicine is not tolerated?")
    assert not at.exception
    expected = "How should acute gout be treated? What if colchicine is not tolerated?"
    assert last(at).answer.search_query == expected
    assert len(at.chat_message) == 4


def test_new_conversation_forgets_the_history(chat_env: Settings) -> None:
    at = ask(open_chat(), SEED)
    next(b for b in at.button if b.label == "New conversation").click()
    at.run()
    assert not at.chat_message and at.session_state["chat_exchanges"] == []
    assert [b for b in at.button if b.key and b.key.startswith("starter-")]
    ask(at, "What if colchicine is not tolerated?")
    assert last(at).answer.search_query == "What if colchicine is not tolerated?"


def test_off_topic_question_abstains_visibly(chat_env: Settings) -> None:
    at = ask(open_chat(), "write me a poem about autumn")
    assert not at.exception
    answer = last(at).answer
    assert answer.abstained
    assert badge_labels(at) == [":gray-badge[:material/search_off: No guidance found]"]
    warning = at.warning[0].value
    assert "No guidance found" in warning
    assert all(title in warning for title in answer.nearest_guidelines) and answer.nearest_guidelines
    assert not [e for e in at.expander if e.label.startswith("\\[")]


def test_nhs_number_is_removed_shown_and_never_stored(chat_env: Settings) -> None:
    at = open_chat()
    related_before = past_query_texts(chat_env)
    ask(at, NHS_QUESTION)
    assert not at.exception
    assert any("Identifiers were removed" in i.value and "NHS number" in i.value for i in at.info)
    shown = " ".join(m.value for m in at.markdown)
    assert not any(form in shown for form in NHS_FORMS)
    assert last(at).question == "Nocturnal leg cramps treatment quinine stretching [NHS number]"
    assert last(at).answer.confidence.level in ("high", "moderate")  # would be stored if clean
    events = Store(chat_env.db_url).query_event_rows()
    assert events[-1]["identifiers_found"] and events[-1]["question"] is None
    assert not any(form in str(row) for row in events for form in NHS_FORMS)
    assert past_query_texts(chat_env) == related_before  # not stored, not even merged as a count
    points = list(open_index(chat_env).iter_points(chat_env.queries_collection))
    assert not any(form in str(p.payload) for p in points for form in NHS_FORMS)
    assert sum(int(p.payload.get("count", 1)) for p in points) == len(points)


def test_feedback_with_comment_is_recorded(chat_env: Settings) -> None:
    at = ask(open_chat(), SEED)
    exchange_id = last(at).id
    at.text_input(key=f"comment-{exchange_id}").set_value("Missed the quinine warning")
    next(b for b in at.button if b.label == "Send feedback").click()  # no thumb chosen yet
    at.run()
    assert "Choose thumbs up or thumbs down" in " ".join(c.value for c in at.caption)
    assert Store(chat_env.db_url).feedback_rows() == []
    at.feedback(key=f"rating-{exchange_id}").set_value(0)  # the thumb sends, with the comment
    at.run()
    rows = Store(chat_env.db_url).feedback_rows()
    assert len(rows) == 1
    assert rows[0]["rating"] == -1 and rows[0]["comment"] == "Missed the quinine warning"
    assert rows[0]["question"] == SEED and rows[0]["sources"][0]["n"] == 1
    assert any("Feedback recorded" in c.value for c in at.caption)
    assert not at.feedback and "Send feedback" not in [b.label for b in at.button]
    at.run()
    assert len(Store(chat_env.db_url).feedback_rows()) == 1  # once per answer


def test_a_thumb_alone_is_recorded_at_once_and_a_later_comment_joins_it(chat_env: Settings) -> None:
    at = ask(open_chat(), SEED)
    exchange_id = last(at).id
    at.feedback(key=f"rating-{exchange_id}").set_value(1)
    at.run()
    rows = Store(chat_env.db_url).feedback_rows()
    assert [(r["rating"], r["comment"]) for r in rows] == [(1, "")]
    assert not at.feedback  # rated: the thumbs give way to the comment box
    save = next(b for b in at.button if b.label == "Save comment")
    save.click()
    at.run()  # nothing written yet
    assert "Write a comment first." in " ".join(c.value for c in at.caption)
    at.text_input(key=f"comment-{exchange_id}").set_value(
        "Good, but Mrs Jane Smith (NHS 943 476 5919) needed the renal dose")
    next(b for b in at.button if b.label == "Save comment").click()
    at.run()
    rows = Store(chat_env.db_url).feedback_rows()
    assert len(rows) == 1 and rows[0]["rating"] == 1  # the same row, not a second rating
    assert "needed the renal dose" in rows[0]["comment"]
    assert "943 476 5919" not in rows[0]["comment"] and "Jane Smith" not in rows[0]["comment"]
    assert any("Feedback recorded, thank you." in c.value for c in at.caption)
    assert "Save comment" not in [b.label for b in at.button]


def test_answer_first_red_flag_badge_lead_then_one_action_row(chat_env: Settings) -> None:
    at = ask(open_chat(), "Central crushing chest pain 20 minutes ago, what do I do?")
    assert not at.exception
    exchange = last(at)
    assert exchange.answer.red_flags
    turn = at.chat_message[1]
    shown = [n for n in turn if n.type in ("error", "warning", "info", "markdown")]
    assert shown[0].type == "error" and "Red flag" in shown[0].value
    assert "-badge[" in shown[1].value  # then the confidence badge
    lead = link_citations(neutralise_markdown(exchange.answer.answer),
                          {c.n: source_key(exchange.id, c.n) for c in exchange.answer.citations})
    values = [n.value for n in shown]
    assert values.index(lead) == 3 and "Why this confidence" not in values[2]  # 2: the reasons,
    # inside the badge's "Why this confidence?" popover; then the answer, lead sentence first
    row = turn.get_by_key(f"actions-{exchange.id}")
    labels = [w.label for w in row.button] + [w.label for w in row.get("download_button")]
    assert {"Send feedback", "New conversation", "Download as Markdown"} <= set(labels)
    assert row.get("feedback") and row.get("popover")
    assert len([b for b in at.button if b.label == "New conversation"]) == 1


def test_answer_downloads_and_copies_as_markdown(chat_env: Settings) -> None:
    at = ask(open_chat(), SEED)
    answer = last(at).answer
    assert at.download_button[0].label == "Download as Markdown"
    markdown = at.code[0].value
    assert markdown.startswith(f"# {SEED}")
    assert answer.confidence.label in markdown and DISCLAIMER in markdown
    for citation in answer.citations:
        assert f"\\[{citation.n}\\] {citation.title}" in markdown


def test_failure_shows_a_plain_error_and_keeps_the_app_usable(chat_env: Settings,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    at = ask(open_chat(), SEED)
    first_id = last(at).id
    open_index(chat_env).drop(chat_env.queries_collection)  # a damaged related-questions store
    secret = "How do I treat nocturnal leg cramps in a pilot?"  # confident, so it is recorded
    with caplog.at_level(logging.ERROR, logger="guidelight.chat"):
        ask(at, secret)
    assert not at.exception
    assert [e.value for e in at.error] == [ERROR_MESSAGE]
    # The engine's own error for a missing store (KeyError on Edge), named, its message withheld
    assert "Answering failed with KeyError" in caplog.text and "pilot" not in caplog.text
    assert len(at.chat_message) == 4 and len(at.chat_input) == 1
    at.feedback(key=f"rating-{first_id}").set_value(1)  # the earlier answer still works
    at.run()
    assert not at.exception
    assert [r["rating"] for r in Store(chat_env.db_url).feedback_rows()] == [1]


def test_model_mode_streams_and_labels_the_model(chat_env: Settings, llm_server: LLMServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.url + "/v1")
    monkeypatch.setenv("LLM_MODEL", "test-model")
    monkeypatch.setenv("GUIDELIGHT_LLM_TIMEOUT_S", "5")
    get_settings.cache_clear()
    st.cache_resource.clear()
    at = open_chat()
    assert "Answers: test-model" in [c.value for c in at.sidebar.caption]
    ask(at, SEED)
    assert not at.exception
    answer = last(at).answer
    assert answer.mode == "model:test-model" and answer.citations
    assert llm_server.requests and llm_server.requests[-1].get("stream") is True
    assert any("Written by test-model" in c.value for c in at.caption)
