"""Guidelight entry point: page routing, theme and the shared sidebar. Builds nothing itself.

`streamlit run streamlit_app.py` first imports this file as a module and finds `app`, an ASGI
app whose lifespan starts preparing the guideline library at launch (indexing the bundled
library on a new install), before anyone visits. Each visitor's session then runs the file as
the page script (`__main__`), which draws the shell below.
"""

from __future__ import annotations

import streamlit as st

import pipelines  # noqa: F401  (offline environment before any model library loads)
from ui.resources import get_assistant, prepare_at_launch


def main() -> None:
    st.set_page_config(page_title="Guidelight — clinical guideline assistant", page_icon="🩺",
                       layout="wide")
    chat = st.Page("pages/chat.py", title="Ask a question", icon=":material/chat:", default=True)
    admin = st.Page("pages/admin.py", title="Library admin", icon=":material/admin_panel_settings:",
                    url_path="admin")
    page = st.navigation([chat, admin])
    sidebar(get_assistant().status())
    page.run()


def sidebar(status: dict) -> None:
    with st.sidebar:
        st.markdown("**Guidelight**")
        mode = status["mode"]
        st.caption(f"Answers: {'offline composer (no model)' if mode == 'offline-extractive' else mode.removeprefix('model:')}")
        st.caption(f"Library: {status['guidelines']} guidelines · {status['chunks']} passages")
        st.caption(f"Index version: `{status['index_version'] or 'none'}`")
        if status.get("embedding_mismatch"):
            st.warning(status["embedding_mismatch"])
        st.caption("The bundled library holds demonstration summaries written for Guidelight, "
                   "not official guidance.")


if __name__ == "__main__":
    main()
else:
    app = st.App(__file__, lifespan=prepare_at_launch)
