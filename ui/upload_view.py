"""The admin page's Upload tab: preview each file (metadata to confirm, section tree, first
passages, warnings), then publish on the server and watch it. Reads widgets, calls
`AdminService`, renders; only called after a valid sign-in.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from pipelines.admin import AdminService, PendingUpload, PublishJob, UploadPreview
from pipelines.auth import AdminSession
from pipelines.render_safety import neutralise_markdown as safe
from ui.admin_views import render_change_report

UPLOAD_TYPES = ["pdf", "docx", "html", "htm", "md", "markdown", "txt"]
META_FIELDS = [("title", "Title"), ("publisher", "Publisher"), ("code", "Guideline code"),
               ("specialty", "Specialty"), ("version", "Version"),
               ("last_reviewed", "Last reviewed (YYYY-MM-DD)"), ("review_date", "Next review (YYYY-MM-DD)"),
               ("source_url", "Source URL")]


# Upload --------------------------------------------------------------------------------------
def _upload_dir() -> Path:
    folder = st.session_state.get("_admin_upload_dir")
    if not folder or not Path(folder).is_dir():
        folder = tempfile.mkdtemp(prefix="guidelight-upload-")
        st.session_state["_admin_upload_dir"] = folder
    return Path(folder)


def _saved(uploaded: Any) -> Path:
    """Uploaded bytes written to a temp file (the parser works on files, in another process)."""
    path = _upload_dir() / f"{uploaded.file_id}{Path(uploaded.name).suffix.lower()}"
    if not path.exists():
        path.write_bytes(uploaded.getvalue())
    return path


def upload_tab(service: AdminService, session: AdminSession) -> None:
    job_id = st.session_state.get("_admin_publish_job")
    job = service.publish_job(session, job_id) if job_id else None
    if job is not None:
        _watch(job)
    files = st.file_uploader("Guideline files (PDF, DOCX, HTML, Markdown, text)", type=UPLOAD_TYPES,
                             accept_multiple_files=True, key="admin_uploads")
    if not files:
        st.caption("Uploaded files are previewed here before anything is published.")
        return
    pending: list[PendingUpload] = []
    for uploaded in files:
        path = _saved(uploaded)
        with st.expander(uploaded.name, expanded=True):
            preview, overrides = _file_form(service, session, uploaded, path)
            render_preview(preview)
            confirmed = _confirm_missing(preview, uploaded.file_id)
        if preview.publishable and confirmed:
            pending.append(PendingUpload(path, uploaded.name, overrides))
    if st.button(f"Publish {len(pending)} file(s)", type="primary", disabled=not pending, key="admin_publish"):
        _publish(service, session, pending)


def _file_form(service: AdminService, session: AdminSession, uploaded: Any,
               path: Path) -> tuple[UploadPreview, dict[str, str] | None]:
    key = f"_admin_preview_{uploaded.file_id}"
    if key not in st.session_state:
        with st.spinner(f"Reading {uploaded.name}…"):
            st.session_state[key] = (service.preview(session, path, uploaded.name), None)
    preview, overrides = st.session_state[key]
    if preview.meta is None:
        return preview, overrides
    with st.form(f"admin_meta_{uploaded.file_id}"):
        cols = st.columns(3)
        typed = {name: cols[i % 3].text_input(label, value=str(getattr(preview.meta, name) or ""))
                 for i, (name, label) in enumerate(META_FIELDS)}
        if st.form_submit_button("Update preview with these details"):
            changed = {k: v for k, v in typed.items() if v and v != str(getattr(preview.meta, k) or "")}
            merged = {**(overrides or {}), **changed} or None
            st.session_state[key] = (service.preview(session, path, uploaded.name, merged), merged)
            st.rerun()
    return preview, overrides


def _confirm_missing(preview: UploadPreview, file_id: str) -> bool:
    """Publishing without a publisher or date needs the lead's say-so."""
    missing = preview.unconfirmed if preview.publishable else []
    if not missing:
        return True
    st.warning("The document does not state its " + " or ".join(missing) + ". Type it above, or "
               "confirm that it should be published without.")
    return st.checkbox(f"Publish without a {' or '.join(missing)}", key=f"admin_confirm_{file_id}")


def render_preview(preview: UploadPreview) -> None:
    if preview.error:
        st.error(f"{preview.file_name}: {preview.error}")
        return
    meta = preview.meta
    st.markdown(f"**{meta.title}** v{meta.version} · {meta.publisher}"
                + (f" · {meta.code}" if meta.code else "")
                + f" · {preview.pages or '—'} page(s) · {len(preview.sections)} section(s) · "
                f"{preview.chunks} passage(s)")
    dates = [f"{label} {value}" for label, value in (("published", meta.published), ("last reviewed",
             meta.last_reviewed), ("next review", meta.review_date)) if value]
    if dates:
        st.caption("Found in the document: " + ", ".join(dates))
    st.caption("Sections: " + "; ".join(dict.fromkeys(preview.sections)))
    with st.expander("Section tree and first passages, to check before publishing"):
        st.markdown(section_tree(preview.sections) or "(no sections found)")
        for n, passage in enumerate(preview.first_passages, 1):
            st.caption(f"Passage {n}")
            st.text(passage[:600] + ("…" if len(passage) > 600 else ""))
    if preview.blocked:
        st.error(f"Cannot be published: {preview.blocked}")
    for warning in preview.warnings:
        st.warning(warning)


def section_tree(sections: list[str]) -> str:
    """Section paths ("Management › Adults") as a nested Markdown list, each heading once."""
    lines, seen = [], set()
    for label in sections:
        parts = label.split(" › ")
        for depth in range(len(parts)):
            path = tuple(parts[:depth + 1])
            if path not in seen:
                seen.add(path)
                lines.append("  " * depth + f"- {safe(parts[depth])}")
    return "\n".join(lines)


def _publish(service: AdminService, session: AdminSession, pending: list[PendingUpload]) -> None:
    """Start the publish on the server (it finishes even if this tab closes), then watch it."""
    folder = st.session_state.pop("_admin_upload_dir", "")
    job = service.start_publish(session, pending, cleanup=lambda: shutil.rmtree(folder, ignore_errors=True))
    st.session_state["_admin_publish_job"] = job.id
    for key in [k for k in st.session_state if str(k).startswith("_admin_preview_")]:
        del st.session_state[key]
    _watch(job)


def _watch(job: PublishJob) -> None:
    """One progress bar per file until the job ends, then its results."""
    bars = [st.progress(f.fraction, text=f"{f.name}: {f.message}") for f in job.files()]
    while not job.wait(0.5):
        for bar, f in zip(bars, job.files(), strict=True):
            bar.progress(f.fraction, text=f"{f.name}: {f.message}")
    for bar in bars:
        bar.empty()
    st.session_state.pop("_admin_publish_job", None)
    if job.error:
        st.error(job.error)
    for result in job.results:
        report = result.report
        if report.status == "failed":
            st.error(f"{report.file_name} was not published: {report.reason}")
        else:
            st.success(f"{report.file_name}: {report.status} · {report.title} v{report.version} · "
                       f"{report.chunks} passages")
        if result.changes:
            render_change_report(result.changes)
