"""The admin page through Streamlit's AppTest, from the real entry point and its navigation:
refusal without sign-in (including forged session state), lockout, the library table, and
retire / restore changing what the chat cites."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.auth import hash_password
from pipelines.config import get_settings
from tests.support.apptest import app_data, assert_no_admin_content, open_admin, open_chat, sign_in
from tests.support.realistic_docs import trust_prescribing_document

PASSWORD = "admin test password"
HASH = hash_password(PASSWORD)
FORGED_KEYS = ["admin", "is_admin", "authenticated", "signed_in", "logged_in", "admin_signed_in",
               "admin_authenticated", "admin_session", "admin_user", "admin_token",
               "_guidelight_admin_token", "user", "role"]


def row_picker(at: AppTest):
    """The library tab's guideline-version picker (its key changes with the rows' statuses)."""
    return next(box for box in at.selectbox if box.label == "Guideline version")


@pytest.fixture
def app_env(seeded_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the seeded library as the app's data folder, with a password hash."""
    with app_data(seeded_template, tmp_path, monkeypatch, GUIDELIGHT_ADMIN_PASSWORD_HASH=HASH,
                  GUIDELIGHT_LOCKOUT_AFTER="3") as data_dir:
        yield data_dir


def test_admin_refuses_without_sign_in(app_env: Path) -> None:
    at = open_admin()
    assert_no_admin_content(at)
    assert any(t.label == "Password" for t in at.text_input)


def test_forged_session_state_still_refuses(app_env: Path) -> None:
    at = open_admin()
    for key in FORGED_KEYS:
        at.session_state[key] = True
    at.run()
    assert_no_admin_content(at)
    at.session_state["_guidelight_admin_token"] = "YWRtaW58OTk5OTk5OTk5OTl8eHx5"
    at.run()
    assert_no_admin_content(at)


def test_wrong_passwords_lock_out_even_the_right_one(app_env: Path) -> None:
    at = open_admin()
    for _ in range(2):
        sign_in(at, "not the password")
        assert any("Wrong user name or password" in e.value for e in at.error)
    sign_in(at, "still not it")
    assert any("Too many failed sign-ins" in e.value for e in at.error)
    sign_in(at, PASSWORD)
    assert any("Too many failed sign-ins" in e.value for e in at.error)
    assert_no_admin_content(at)


def test_signed_in_admin_sees_the_demo_library_and_the_audit_log(app_env: Path) -> None:
    at = sign_in(open_admin(), PASSWORD)
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table[table["Status"] == "active"]) == 48
    assert {"Title", "Publisher", "Version", "Last reviewed", "Review overdue", "Chunks", "Status",
            "Uploaded by", "Uploaded at"} <= set(table.columns)
    assert len(at.file_uploader) == 1
    audit = at.dataframe[-1].value
    assert ((audit["Action"] == "sign-in") & (audit["Outcome"] == "ok")).any()
    next(b for b in at.button if b.label == "Sign out").click()
    at.run()
    assert_no_admin_content(at)


def cited_titles(question: str) -> set[str]:
    from ui.resources import _assistant

    return {c.title for c in _assistant().ask(question, log=False).citations}


def test_retire_then_restore_changes_what_the_chat_cites(app_env: Path) -> None:
    question = "How should an acute attack of gout be treated?"
    at = sign_in(open_admin(), PASSWORD)
    assert "Gout" in cited_titles(question)
    table = at.dataframe[0].value
    gout = int(table[(table["Title"] == "Gout") & (table["Status"] == "active")]["id"].iloc[0])
    row_picker(at).set_value(gout).run()
    at.button(key="admin_retire").click().run()
    assert not at.exception
    assert "Gout" not in cited_titles(question)
    row_picker(at).set_value(gout).run()
    at.button(key="admin_restore").click().run()
    assert not at.exception
    assert "Gout" in cited_titles(question)
    actions = at.dataframe[-1].value["Action"].tolist()
    assert "retire" in actions and "restore" in actions


def test_no_hash_configured_shows_the_first_run_message(app_env: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUIDELIGHT_ADMIN_PASSWORD_HASH")
    get_settings.cache_clear()
    at = open_admin()
    assert any("python -m pipelines hash-password" in w.value for w in at.warning)
    assert_no_admin_content(at)
    assert not any(t.label == "Password" for t in at.text_input)


def test_insights_list_thumbs_down_low_confidence_and_wrong_refusals(app_env: Path) -> None:
    from pipelines.store import Store
    from tests.support.apptest import ask

    chat = ask(open_chat(), "How should acute gout be treated?")
    exchange_id = chat.session_state["chat_exchanges"][-1].id
    chat.feedback(key=f"rating-{exchange_id}").set_value(0)
    chat.text_input(key=f"comment-{exchange_id}").set_value("No colchicine dose given")
    next(b for b in chat.button if b.label == "Send feedback").click()
    chat.run()
    store = Store(get_settings().db_url)
    store.add_query_event(question="Gout flare while on a thiazide: what next?", level="low",
                          abstained=False, top_title="Gout", cited=[{"title": "Gout"}])
    store.add_query_event(question="Crushing chest pain for an hour: what should I do?", level="insufficient",
                          abstained=True, top_title="Stable angina", cited=[])

    at = sign_in(open_admin(), PASSWORD)
    assert not at.exception
    titles = [m.value for m in at.markdown if m.value.startswith("**")]
    assert "**Likely wrong refusals (1)**" in titles and "**Thumbs-down feedback (1)**" in titles
    gout_level = chat.session_state["chat_exchanges"][-1].answer.confidence.level
    assert f"**Low-confidence answers ({1 + (gout_level == 'low')})**" in titles
    frames = [d.value for d in at.dataframe]
    refusals = next(f for f in frames if "Why flagged" in f.columns)
    assert refusals["Why flagged"].tolist() == ["Red flag: Acute coronary syndrome"]
    low = next(f for f in frames if "Nearest guideline" in f.columns and "Example" not in f.columns)
    assert low["Question"].tolist()[0] == "Gout flare while on a thiazide: what next?"  # newest first
    thumbs = next(f for f in frames if "Comment" in f.columns)
    assert thumbs["Comment"].tolist() == ["No colchicine dose given"]
    assert {"Download gaps and refusals (CSV)", "Download all feedback (CSV)"} <= {
        b.label for b in at.get("download_button")}


class TabClosed(BaseException):
    """Raised where Streamlit would stop a script run whose tab closed."""


def interrupted_publish(path: Path, title: str) -> None:
    from ui.resources import _assistant

    def stop_at_write(fraction: float, message: str) -> None:  # noqa: ARG001
        if message == "Writing to the index":
            raise TabClosed

    path.write_text(f"---\ntitle: {title}\npublisher: Test publisher\nlast_reviewed: 2025-01-01\n---\n"
                    f"# {title}\n\n## Advice\n\n" + "Offer the first-line option and review in a week. " * 20)
    with pytest.raises(TabClosed):
        _assistant().library.ingest_file(path, actor="admin", progress=stop_at_write)


def test_an_interrupted_version_is_resumed_or_discarded_from_the_library_tab(app_env: Path, tmp_path: Path) -> None:
    interrupted_publish(tmp_path / "tattoo.md", "Tattoo aftercare")
    interrupted_publish(tmp_path / "diving.md", "Fitness to dive")
    at = sign_in(open_admin(), PASSWORD)
    assert any("2 version(s) not completely published" in w.value for w in at.warning)
    table = at.dataframe[0].value
    ids = {t: int(table[table["Title"] == t]["id"].iloc[0]) for t in ("Tattoo aftercare", "Fitness to dive")}
    assert set(table[table["id"].isin(ids.values())]["Status"]) == {"failed"}

    row_picker(at).set_value(ids["Tattoo aftercare"]).run()
    assert [b.label for b in at.button if b.key in ("admin_resume", "admin_discard", "admin_retire")] == [
        "Resume publishing", "Discard"]
    at.button(key="admin_resume").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table[table["Title"] == "Tattoo aftercare"]["Status"].tolist() == ["active"]  # one row, live
    assert "Tattoo aftercare" in cited_titles("What aftercare should I advise after a new tattoo?")

    row_picker(at).set_value(ids["Fitness to dive"]).run()
    at.button(key="admin_discard").click().run()
    assert not at.exception
    assert "Fitness to dive" not in at.dataframe[0].value["Title"].tolist()
    assert not any("not completely published" in w.value for w in at.warning)


def test_preview_of_a_trust_pdf_shows_what_it_found_and_asks_when_details_are_missing(
        app_env: Path, tmp_path: Path) -> None:
    trust = tmp_path / "trust_cough.pdf"
    truth = trust_prescribing_document(trust)
    bare = tmp_path / "ward-notes.txt"
    bare.write_text("Ward notes on fictional cough\n\nOffer fluids and rest, and review in a week "
                    "if the cough is no better. " * 8, encoding="utf-8")
    at = sign_in(open_admin(), PASSWORD)
    at.file_uploader[0].set_value([(trust.name, trust.read_bytes(), "application/pdf")]).run(timeout=240)
    assert not at.exception
    summary = " ".join(m.value for m in at.markdown)
    assert truth.title in summary and truth.publisher in summary  # the version box, read
    found = next(c.value for c in at.caption if c.value.startswith("Found in the document"))
    assert "next review 2026-06-01" in found and "published 2024-06-01" in found  # "June 2026"
    assert not [w for w in at.warning if "does not state its" in w.value]
    assert not at.button(key="admin_publish").disabled  # nothing to confirm

    at.file_uploader[0].set_value([(bare.name, bare.read_bytes(), "text/plain")]).run(timeout=240)
    warning = next(w.value for w in at.warning if "does not state its" in w.value)
    assert "publisher" in warning and "last reviewed date" in warning
    assert at.button(key="admin_publish").disabled  # Publish waits for the lead's say-so
    next(c for c in at.checkbox if c.label.startswith("Publish without")).check().run(timeout=240)
    assert not at.button(key="admin_publish").disabled
