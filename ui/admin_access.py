"""Admin sign-in for the Streamlit page: the shared Authenticator and the per-tab session token.

Session state holds only an opaque signed token; whether anyone is signed in is decided by
`Authenticator.validate`, so setting `st.session_state["admin"] = True` (or any other key)
grants nothing.
"""

from __future__ import annotations

import streamlit as st

from pipelines.admin import AdminService
from pipelines.auth import FIRST_RUN_HELP, AdminSession, Authenticator
from ui.resources import app_settings, get_assistant

TOKEN_KEY = "_guidelight_admin_token"


@st.cache_resource(show_spinner=False)
def _authenticator(_store: object) -> Authenticator:
    return Authenticator(app_settings(), _store)


def get_authenticator() -> Authenticator:
    """One Authenticator per server process: its signing secret lives only in this process."""
    return _authenticator(get_assistant().store)


@st.cache_resource(show_spinner=False)
def _service(_assistant: object, _auth: Authenticator) -> AdminService:
    return AdminService(_assistant, _auth)


def get_admin_service() -> AdminService:
    return _service(get_assistant(), get_authenticator())


def current_session(auth: Authenticator) -> AdminSession | None:
    """The signed-in admin of this browser tab, renewed on activity; None otherwise."""
    token = st.session_state.get(TOKEN_KEY)
    session = auth.validate(token)
    if session is None:
        if auth.expired(token):
            auth.store.log(auth.user, "sign-out", "admin", "ok", "session timed out")
            st.info("Your admin session timed out. Sign in again.")
        st.session_state.pop(TOKEN_KEY, None)
        return None
    session = auth.renew(session)
    st.session_state[TOKEN_KEY] = session.token
    return session


def first_run_message() -> None:
    st.warning(FIRST_RUN_HELP, icon=":material/key:")


def sign_in_form(auth: Authenticator) -> None:
    """The sign-in form; on success the token is stored and the page reruns."""
    st.info("Sign in to manage the guideline library.")
    with st.form("admin_sign_in"):
        user = st.text_input("User name", key="admin_sign_in_user")
        password = st.text_input("Password", type="password", key="admin_sign_in_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    result = auth.sign_in(user, password)
    if result.ok:
        st.session_state[TOKEN_KEY] = result.session.token
        st.rerun()
    elif result.locked_for_s:
        st.error(result.message, icon=":material/lock_clock:")
    else:
        st.error(result.message)


def sign_out(auth: Authenticator, session: AdminSession) -> None:
    auth.sign_out(session)
    st.session_state.pop(TOKEN_KEY, None)
    st.rerun()
