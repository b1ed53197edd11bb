"""Library admin: sign-in, then upload, library, index rebuild, insights and the audit log.

Nothing below the sign-in check renders without a valid signed session token.
"""

from __future__ import annotations

import streamlit as st

from ui.admin_access import (current_session, first_run_message, get_admin_service,
                             get_authenticator, sign_in_form, sign_out)
from ui.admin_views import audit_tab, index_tab, library_tab
from ui.insights_view import insights_tab
from ui.upload_view import upload_tab

st.title("Library admin")
auth = get_authenticator()
if not auth.configured:
    first_run_message()
    st.stop()
session = current_session(auth)
if session is None:
    sign_in_form(auth)
    st.stop()

service = get_admin_service()
left, right = st.columns([4, 1])
left.caption(f"Signed in as **{session.user}** · the session ends after "
             f"{service.settings.session_timeout_min} minutes without activity.")
if right.button("Sign out", key="admin_sign_out"):
    sign_out(auth, session)

library, upload, index, insights, audit = st.tabs(["Library", "Upload", "Index", "Insights", "Audit log"])
with library:
    library_tab(service, session)
with upload:
    upload_tab(service, session)
with index:
    index_tab(service, session)
with insights:
    insights_tab(service, session)
with audit:
    audit_tab(service, session)
