"""Rendering of the admin page's Library, Index and Audit tabs (Upload and Insights have their
own modules). Each function reads widgets, calls `AdminService`, renders.

Only called after a valid sign-in; the services check the session again regardless.
"""

from __future__ import annotations

import zlib
from typing import Any

import pandas as pd
import streamlit as st

from pipelines.admin import AdminService
from pipelines.auth import AdminSession
from pipelines.reports import ChangeReport


def progress_bar(label: str):
    """A `progress(fraction, message)` callback drawing one st.progress bar."""
    bar = st.progress(0.0, text=label)
    return lambda fraction, message: bar.progress(max(0.0, min(1.0, fraction)), text=message)


# Library -------------------------------------------------------------------------------------
def library_tab(service: AdminService, session: AdminSession) -> None:
    table = service.table(session)
    active = table[table["Status"] == "active"]
    for job in service.running_jobs():
        st.info("Publishing on the server now (it finishes even if the tab that started it was "
                "closed): " + "; ".join(f"{f.name} — {f.message} ({f.fraction:.0%})" for f in job.files()),
                icon=":material/sync:")
    unfinished = int(table["Status"].isin(["pending", "failed"]).sum())
    if unfinished:
        st.warning(f"{unfinished} version(s) not completely published: choose one below to resume "
                   "or discard it.", icon=":material/pending:")
    st.markdown(f"**{len(active)} active guidelines** · {int(active['Review overdue'].sum())} past "
                f"their review interval ({service.settings.review_interval_days // 365} years) · "
                f"{len(table) - len(active)} other versions")
    _demo_notice(service, session, active)
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "id": None, "Review overdue": st.column_config.CheckboxColumn("Review overdue"),
        "Demonstration": st.column_config.CheckboxColumn("Demonstration"),
        "Uploaded at": st.column_config.DatetimeColumn("Uploaded at", format="YYYY-MM-DD HH:mm")})
    if table.empty:
        return
    labels = {int(r.id): f"{r.Title} · v{r.Version} · {r.Status}" for r in table.itertuples()}
    # The key carries the statuses so the box redraws its labels after retire/restore; the
    # chosen row is remembered separately so the selection survives that redraw.
    ids, chosen = list(labels), st.session_state.get("admin_row_id")
    row_id = st.selectbox("Guideline version", ids, format_func=labels.get,
                          index=ids.index(chosen) if chosen in ids else 0,
                          key=f"admin_row_{zlib.crc32(repr(sorted(labels.items())).encode())}")
    st.session_state["admin_row_id"] = row_id
    row = table[table["id"] == row_id].iloc[0]
    _row_actions(service, session, int(row_id), row)
    _version_changes(service, session, int(row_id))


def _demo_notice(service: AdminService, session: AdminSession, active: pd.DataFrame) -> None:
    """The bundled summaries are this project's words: say so, and offer to remove them."""
    demo = int(active["Demonstration"].sum()) if not active.empty else 0
    if not demo:
        return
    own = len(active) - demo
    message = (f"{demo} active guidelines are demonstration summaries written for Guidelight, not "
               "official guidance.")
    if own:
        message += (f" They sit beside your {own} own document(s) and can outrank them: remove them "
                    "before clinical use.")
    st.warning(message)
    sure = st.checkbox("Yes, remove every demonstration summary", key="admin_demo_sure")
    if st.button("Remove the demonstration library", key="admin_remove_demo", disabled=not sure):
        removed = service.remove_demo(session)
        st.toast(f"Removed {removed} demonstration version(s)")
        st.rerun()


def _interrupted(service: AdminService, session: AdminSession, row_id: int, row: pd.Series) -> bool:
    """A version whose publishing is running or was interrupted: Resume or Discard, nothing else."""
    if row["Status"] == "pending":
        st.info("Being published on the server now; it finishes even if the tab that started it "
                "was closed. This page shows the result once it is done.")
        return True
    if row["Status"] != "failed":
        return False
    st.warning("Publishing this version was interrupted and rolled back: nothing of it is served.")
    left, right = st.columns(2)
    if left.button("Resume publishing", key="admin_resume", type="primary"):
        with st.spinner("Publishing from the stored original…"):
            report = service.resume(session, row_id)
        st.toast(f"{report.title or row['Title']}: {report.status}")
        st.rerun()
    if right.button("Discard", key="admin_discard"):
        service.delete(session, row_id)
        st.toast(f"Discarded the interrupted {row['Title']} v{row['Version']}")
        st.rerun()
    return True


def _row_actions(service: AdminService, session: AdminSession, row_id: int, row: pd.Series) -> None:
    if _interrupted(service, session, row_id, row):
        return
    cols = st.columns(4)
    if row["Status"] == "active" and cols[0].button("Retire", key="admin_retire"):
        service.retire(session, row_id)
        st.toast(f"Retired {row['Title']} v{row['Version']}")
        st.rerun()
    if row["Status"] in ("retired", "superseded") and cols[1].button("Restore this version",
                                                                       key="admin_restore"):
        with st.spinner("Re-indexing the stored original…"):
            service.restore(session, row_id)
        st.toast(f"Restored {row['Title']} v{row['Version']}")
        st.rerun()
    sure = cols[2].checkbox("Confirm delete", key="admin_confirm_delete")
    if cols[2].button("Delete", key="admin_delete", disabled=not sure):
        service.delete(session, row_id)
        st.rerun()
    path, name = service.original(session, row_id, audit=False)
    if path.is_file():
        cols[3].download_button("Download original", path.read_bytes(), file_name=name,
                                key="admin_download",
                                on_click=lambda: service.original(session, row_id, audit=True))
    else:
        cols[3].error("The stored original is missing.")


def _version_changes(service: AdminService, session: AdminSession, row_id: int) -> None:
    row = service.library._row(row_id)
    others = [r for r in service.versions(session, row["guideline_id"]) if r["id"] != row_id]
    if row["status"] != "active" or not others:
        return
    with st.expander(f"What changed in v{row['version']}"):
        old = st.selectbox("Compare with", [r["id"] for r in others], key="admin_compare_with",
                           format_func=lambda i: next(f"v{r['version']} ({r['status']})" for r in others
                                                      if r["id"] == i))
        if st.button("Show changes", key="admin_show_changes"):
            render_change_report(service.change_report(session, row["guideline_id"], old, row_id))


def render_change_report(report: ChangeReport) -> None:
    st.markdown(f"**{report.title}: v{report.old_version} → v{report.new_version}** · "
                f"{len(report.added)} added · {len(report.removed)} removed · {len(report.changed)} "
                f"changed · {report.unchanged} unchanged sections")
    for label, sections in (("Added", report.added), ("Removed", report.removed), ("Changed", report.changed)):
        if sections:
            st.markdown(f"*{label}:* " + "; ".join(sections))
    if report.questions:
        st.markdown("**Recent questions whose answers cited a changed or removed section**")
        st.dataframe(pd.DataFrame([{"When": q.at, "Question": q.question, "Section": q.section}
                                   for q in report.questions]), hide_index=True)
    else:
        st.caption("No recent questions cited the changed sections.")


# Index ---------------------------------------------------------------------------------------
def index_tab(service: AdminService, session: AdminSession) -> None:
    mismatch = service.embedding_mismatch(session)
    if mismatch:
        st.error("Rebuild required. " + mismatch)
    st.markdown("A rebuild indexes every stored original into a new collection, runs the gold "
                "question set on it and on the live index, and swaps only if hit@5 did not drop. "
                "Clinicians keep getting answers from the live index throughout.")
    force = st.checkbox("Swap even if quality drops (recorded in the audit log)", key="admin_force")
    if st.button("Rebuild index", type="primary", key="admin_rebuild"):
        st.session_state["_admin_last_rebuild"] = service.rebuild(
            session, progress=progress_bar("Starting the rebuild…"), force=force)
    report = st.session_state.get("_admin_last_rebuild")
    if report:
        render_rebuild(report)
    builds = service.builds(session)
    st.dataframe(builds, hide_index=True, width="stretch")
    if not builds.empty and (builds["Status"] == "previous").any():
        if st.button("Roll back to the previous index", key="admin_rollback"):
            st.success(f"The live index is now {service.rollback(session)}.")
            st.session_state.pop("_admin_last_rebuild", None)


def render_rebuild(report: dict[str, Any]) -> None:
    if report["swapped"]:
        st.success(f"Swapped: {report['collection']} is live ({report['chunks']} passages).")
    else:
        st.error("Not swapped: the new index scored lower on the gold set; the live index is unchanged.")
    for failed in report.get("failed") or []:
        st.warning(f"{failed['title']} could not be re-indexed: {failed['reason']}")
    metrics = ["n", "hit@1", "hit@5", "mrr", "abstain_precision", "abstain_recall", "p50_ms", "p95_ms"]
    live, new = report.get("live") or {}, report.get("new") or {}
    if new:
        st.dataframe(pd.DataFrame({"Live index": [live.get(m) for m in metrics],
                                   "New index": [new.get(m) for m in metrics]}, index=metrics))


# Audit --------------------------------------------------------------------------------------
def audit_tab(service: AdminService, session: AdminSession) -> None:
    st.dataframe(service.audit(session), hide_index=True, width="stretch")
