"""Access: query parameters, repeated wrong passwords, two sessions at once, and concurrent
AppTest sessions of the chat page.

Everything runs for real: the whole app (`streamlit_app.py` and its navigation) through
Streamlit's AppTest over a private copy of the seeded library, a real argon2 hash, a real
records store. `st.cache_resource` is process-wide, so several AppTest instances in one process
share one Assistant and one Authenticator exactly as browser tabs of one server would.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.auth import MAX_LOCK_S, Authenticator, hash_password
from pipelines.store import Store
from tests.conftest import make_settings
from tests.reliability.conftest import report
from tests.support.apptest import (admin_buttons, app_data, ask, assert_no_admin_content,
                                   open_admin, open_chat, sign_in)
from ui.admin_access import TOKEN_KEY

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "access test password"  # a throw-away test password; its hash is made at run time
HASH = hash_password(PASSWORD)
HASH_LITERAL = re.compile(r"\$argon2(?:id|i|d)\$v=\d+\$m=\d+")  # the start of a real encoded hash


class Clock:
    """A settable clock, so lockout and backoff are tested without sleeping."""

    def __init__(self) -> None:
        self.now = 2_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def app_env(seeded_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the seeded library as the app's data folder, with an admin hash."""
    with app_data(seeded_template, tmp_path, monkeypatch, GUIDELIGHT_ADMIN_PASSWORD_HASH=HASH) as data_dir:
        yield data_dir


# Query parameters ------------------------------------------------------------------------------
def test_query_parameters_do_not_open_admin(app_env: Path) -> None:
    """Nothing in the URL grants admin: the page trusts only a signed token in session state."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240)
    at.query_params["admin"] = "1"
    at.query_params["token"] = "forged"
    at.query_params["user"] = "admin"
    at.query_params[TOKEN_KEY] = "YWRtaW58OTk5OTk5OTk5OTl8eHx5"
    at.run()
    at = open_admin(at)
    assert_no_admin_content(at)
    assert any(t.label == "Password" for t in at.text_input), "the sign-in form is shown instead"
    at.query_params["admin"] = "true"
    at.run()  # a rerun with the parameters still set changes nothing
    assert_no_admin_content(at)


# Wrong passwords ---------------------------------------------------------------------------------
def tracked_and_committable_files() -> list[str]:
    """Files git tracks plus untracked files it does not ignore (what a commit could include)."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return sorted({name for name in listing.split("\0") if name})


def test_twenty_wrong_passwords_lock_out_with_backoff_and_leak_nothing(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    settings = make_settings(tmp_path / "data", admin_password_hash=HASH, lockout_after=5, lockout_base_s=30)
    store = Store(settings.db_url)
    auth = Authenticator(settings, store, clock=clock)
    wrong = [f"wrong-guess-{i:02d}-qzx" for i in range(20)]
    caplog.set_level(logging.DEBUG)  # every logger, every level
    locks: list[float] = []
    for attempt, password in enumerate(wrong, start=1):
        result = auth.sign_in("admin", password)
        assert not result.ok
        locks.append(result.locked_for_s)
        if result.locked_for_s:
            refused = auth.sign_in("admin", PASSWORD)
            assert not refused.ok and "Too many failed sign-ins" in refused.message, \
                f"the right password must be refused while locked (after attempt {attempt})"
            assert auth.sign_in("admin", "another guess").locked_for_s > 0  # not counted while locked
            clock.now += result.locked_for_s + 1
    expected = [0.0] * 4 + [min(MAX_LOCK_S, 30 * 2 ** k) for k in range(16)]
    assert locks == expected, "locked from the 5th failure, doubling each time up to the cap"
    report("access: lockout backoff (s) for failures 5..20", locks=locks[4:])
    unknown = auth.sign_in("nobody", "whatever password")
    known_wrong_msg = "Wrong user name or password."
    assert unknown.message == known_wrong_msg, "an unknown user gets the same answer (no enumeration)"
    assert auth.sign_in("admin", PASSWORD).ok, "unlocked once the wait has passed"

    secrets_ = [*wrong, "another guess", PASSWORD, HASH, HASH.rsplit("$", 1)[-1]]
    logged = [f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records]
    rows = store.audit_rows(limit=1000)
    assert len(rows) >= 20 and any(r["outcome"] == "failed" for r in rows)  # the failures were audited
    audit = json.dumps(rows, default=str)
    for secret in secrets_:
        assert not any(secret in line for line in logged), "a password or the hash reached a log record"
        assert secret not in audit, "a password or the hash reached the audit log"

    assert HASH_LITERAL.match(HASH), "the pattern recognises a real hash (so the search can fail)"
    files = tracked_and_committable_files()
    assert ".env" not in files and ".streamlit/secrets.toml" not in files
    leaking = [name for name in files if (ROOT / name).is_file()
               and HASH_LITERAL.search((ROOT / name).read_bytes().decode("utf-8", "replace"))]
    assert leaking == [], f"committed argon2 hash literal in {leaking}"
    fixture_source = (ROOT / "tests" / "app" / "test_admin.py").read_text("utf-8")
    assert "HASH = hash_password(PASSWORD)" in fixture_source, "the app tests build their hash at run time"


# Two sessions --------------------------------------------------------------------------------
def test_two_sessions_one_admin_other_sees_nothing(app_env: Path) -> None:
    question = "How should an acute attack of gout be treated?"
    a = ask(open_chat(), question)
    assert not a.exception and len(a.chat_message) == 2
    open_admin(a)
    sign_in(a, PASSWORD)
    assert not a.exception
    assert len(a.dataframe) >= 1 and len(a.file_uploader) == 1 and admin_buttons(a)
    assert TOKEN_KEY in a.session_state

    b = open_admin()  # a second browser tab of the same server process
    assert_no_admin_content(b)
    assert any(t.label == "Password" for t in b.text_input)
    b.switch_page("pages/chat.py")
    b.run()
    assert not b.exception
    assert not b.chat_message and b.session_state["chat_exchanges"] == []
    shown = " ".join([m.value for m in b.markdown] + [x.label for x in b.button])
    assert question not in shown and "gout" not in shown.lower()

    a.run()  # A is unaffected by B's visit: still signed in, conversation kept
    assert len(a.dataframe) >= 1 and len(a.file_uploader) == 1
    assert len(a.session_state["chat_exchanges"]) == 1


