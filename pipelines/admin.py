"""The admin services beneath the admin page: preview, publish, library actions, versions,
rebuild, insights. Every method takes an `AdminSession` and refuses without a valid one.

The page is one client of this facade and the CLI another; nothing here imports Streamlit.
Audit entries name the signed-in user; `Library` writes most of them itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from pipelines import evaluate
from pipelines.auth import AdminSession, Authenticator
from pipelines.document_identifiers import document_identifier_kinds
from pipelines.insights import CoverageCheck, Insights, feedback_frame, low_confidence_frame, review_gaps
from pipelines.library import IngestReport, Progress, no_progress
from pipelines.models import GuidelineMeta
from pipelines.publishing import PendingUpload, PublishJob, PublishResult
from pipelines.reports import (ChangeReport, Gap, compare_sections, group_similar, library_frame,
                               questions_citing, section_texts, unanswered_questions)
from pipelines.safety import looks_like_injection
from pipelines.validate import IngestError

__all__ = ["AdminService", "UploadPreview", "PendingUpload", "PublishResult", "PublishJob", "group_similar",
           "Gap", "document_identifier_kinds"]

SHORT_TEXT_CHARS = 400
FIRST_PASSAGES = 3

@dataclass
class UploadPreview:
    """What publishing a file would do, shown before anything is written."""

    file_name: str
    meta: GuidelineMeta | None = None
    sections: list[str] = field(default_factory=list)
    pages: int | None = None
    chunks: int = 0
    characters: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    replaces: dict[str, Any] | None = None
    blocked: str = ""  # why publishing would fail, known already: Publish stays disabled
    first_passages: list[str] = field(default_factory=list)

    @property
    def publishable(self) -> bool:
        return not self.error and not self.blocked

    @property
    def unconfirmed(self) -> list[str]:
        """Details the document did not state: the lead types them or confirms publishing without."""
        return missing_details(self.meta) if self.meta else []


def missing_details(meta: GuidelineMeta) -> list[str]:
    """Publisher and date, when neither the document nor the lead gave them (a review-date
    warning can never fire on a guideline with no date)."""
    missing = []
    if not meta.publisher or "unknown" in meta.publisher.lower():
        missing.append("publisher")
    if not (meta.last_reviewed or meta.review_date):
        missing.append("last reviewed date")
    return missing


class AdminService:
    """Admin operations over one Assistant's library and records."""

    def __init__(self, assistant: Any, auth: Authenticator) -> None:
        self.assistant = assistant
        self.library = assistant.library
        self.store = assistant.store
        self.settings = assistant.settings
        self.auth = auth
        self._coverage = CoverageCheck()
        self._jobs: dict[str, PublishJob] = {}

    # Upload ---------------------------------------------------------------------------------
    def preview(self, session: AdminSession, path: Path, display_name: str,
                overrides: dict[str, Any] | None = None) -> UploadPreview:
        """Parse without publishing: sections, pages, chunks and warnings."""
        self.auth.require(session)
        try:
            doc, chunks = self.library.parse(path, display_name, overrides)
        except IngestError as exc:
            return UploadPreview(display_name, error=exc.reason,
                                 warnings=[f"Cannot be published: {exc.reason}"])
        text = "\n".join(s.text for s in doc.sections)
        preview = UploadPreview(display_name, doc.meta, [" › ".join(s.path[1:]) or "Introduction"
                                                         for s in doc.sections],
                                doc.pages, len(chunks), len(text), list(doc.warnings))
        preview.warnings += self._content_warnings(text, len(chunks))
        preview.replaces, replace_warnings, preview.blocked = self._replacement(doc.meta, path)
        preview.warnings += replace_warnings
        preview.first_passages = [c.text for c in chunks[:FIRST_PASSAGES]]
        return preview

    def _content_warnings(self, text: str, chunks: int) -> list[str]:
        warnings = []
        if len(text.strip()) < SHORT_TEXT_CHARS or chunks < 2:
            warnings.append(f"Very short: only {len(text.strip())} characters of text in {chunks} "
                            "passage(s). Check the file is complete and not a scanned image.")
        kinds = self.identifier_kinds(text)
        if kinds:
            warnings.append("Possible patient identifiers found (" + ", ".join(kinds) + "). A "
                            "guideline must not contain patient data: remove them before publishing.")
        if looks_like_injection(text):
            warnings.append("The text contains instructions aimed at an AI assistant (prompt "
                            "injection); check the source before publishing.")
        return warnings

    @staticmethod
    def identifier_kinds(text: str) -> list[str]:
        return document_identifier_kinds(text)

    def _replacement(self, meta: GuidelineMeta, path: Path) -> tuple[dict[str, Any] | None, list[str], str]:
        """(the active version this replaces, warnings, why publishing would fail or "")."""
        from pipelines.library import clash_reason, file_sha256

        active = self.store.find_guideline(meta.guideline_id, status="active")
        same_version = self.store.find_guideline(meta.guideline_id, meta.version)
        if same_version and same_version["status"] == "failed":
            return active, ["An earlier attempt to publish this version was interrupted and rolled "
                            "back; publishing now replaces it."], ""
        if same_version:
            if same_version["file_hash"] != file_sha256(path):
                return None, [], (f"Version {meta.version} of '{meta.title}' already exists with "
                                  "different content: give this file a new version number.")
            if same_version["status"] == "active":
                return None, [], (f"This file is already published as '{meta.title}' "
                                  f"v{meta.version}; publishing would change nothing.")
            reason = clash_reason(meta.title, meta.version, same_version["status"])
            return None, [], reason[:1].upper() + reason[1:]
        if active:
            return active, [f"Replaces the published version {active['version']} of "
                            f"'{active['title']}' (uploaded by {active.get('created_by') or '?'}); "
                            "the old version is kept and can be restored."], ""
        namesakes = [r for r in self.store.guideline_rows("active")
                     if r["title"].casefold() == meta.title.casefold()]
        return None, [f"'{r['title']}' from {r.get('publisher') or 'an unknown publisher'} is also "
                      "published; both are kept. Retire that one on the Library tab if this file "
                      "replaces it." for r in namesakes], ""

    def publish(self, session: AdminSession, uploads: list[PendingUpload],
                progress_for: Callable[[int], Progress] = lambda i: no_progress) -> list[PublishResult]:
        """Publish each file in turn; a failure is reported and the others go on."""
        self.auth.require(session)
        results = []
        for i, upload in enumerate(uploads):
            progress = progress_for(i)
            before = {r["guideline_id"]: r for r in self.store.guideline_rows("active")}
            try:
                report = self.library.ingest_file(upload.path, actor=session.user,
                                                  display_name=upload.display_name,
                                                  overrides=upload.overrides or None, progress=progress)
            except Exception as exc:  # anything unexpected: clean up, report, carry on
                self.library.recover()
                report = IngestReport(upload.display_name, "failed",
                                      reason=f"{type(exc).__name__}: {str(exc)[:200]}")
                self.store.log(session.user, "ingest", upload.display_name, "failed", report.reason)
            progress(1.0, report.reason if report.status == "failed" else f"{report.status}: {report.title}")
            changes = None
            previous = before.get(report.guideline_id)
            if report.status == "replaced" and previous:
                changes = self._try_change_report(session, report.guideline_id, previous["id"])
            results.append(PublishResult(report, changes))
        return results

    def start_publish(self, session: AdminSession, uploads: list[PendingUpload],
                      cleanup: Callable[[], None] = lambda: None) -> PublishJob:
        """`publish` in a background job: it completes on the server even if the tab closes."""
        self.auth.require(session)
        job = PublishJob(lambda progress_for: self.publish(session, uploads, progress_for),
                         [u.display_name for u in uploads], cleanup)
        self._jobs = {k: j for k, j in self._jobs.items() if not j.done} | {job.id: job}
        return job.start()

    def publish_job(self, session: AdminSession, job_id: str) -> PublishJob | None:
        self.auth.require(session)
        return self._jobs.get(job_id)

    def running_jobs(self) -> list[PublishJob]:
        """Publishes still running on the server, whichever tab (open or closed) started them."""
        return [job for job in self._jobs.values() if not job.done]

    def resume(self, session: AdminSession, row_id: int, progress: Progress = no_progress) -> IngestReport:
        """Publish an interrupted version again from its stored original."""
        return self.library.resume(row_id, self.auth.require(session).user, progress)

    def _try_change_report(self, session: AdminSession, guideline_id: str,
                           old_row_id: int) -> ChangeReport | None:
        """The change report after a replacement; its failure must not fail the publish."""
        try:
            return self.change_report(session, guideline_id, old_row_id)
        except (IngestError, OSError, KeyError):
            return None

    # Library --------------------------------------------------------------------------------
    def table(self, session: AdminSession, today: date | None = None) -> pd.DataFrame:
        self.auth.require(session)
        return library_frame(self.store.guideline_rows(), today or date.today(),
                             self.settings.review_interval_days)

    def retire(self, session: AdminSession, row_id: int) -> None:
        self.library.retire(row_id, self.auth.require(session).user)

    def restore(self, session: AdminSession, row_id: int, progress: Progress = no_progress) -> None:
        self.library.restore(row_id, self.auth.require(session).user, progress)

    def delete(self, session: AdminSession, row_id: int) -> None:
        self.library.delete(row_id, self.auth.require(session).user)

    def remove_demo(self, session: AdminSession) -> int:
        """Remove the bundled demonstration summaries (every version), audited."""
        return self.library.remove_demo(self.auth.require(session).user)

    def original(self, session: AdminSession, row_id: int, audit: bool = True) -> tuple[Path, str]:
        """The stored original and the name to download it as (audited when downloaded)."""
        user = self.auth.require(session).user
        row = self.library._row(row_id)
        path = self.library.original_of(row)
        if audit:
            self.store.log(user, "download", f"{row['title']} v{row['version']}",
                           "ok" if path.is_file() else "failed")
        return path, row.get("file_name") or path.name

    def versions(self, session: AdminSession, guideline_id: str) -> list[dict[str, Any]]:
        self.auth.require(session)
        return [r for r in self.store.guideline_rows() if r["guideline_id"] == guideline_id]

    def change_report(self, session: AdminSession, guideline_id: str, old_row_id: int,
                      new_row_id: int | None = None, since_days: int = 90) -> ChangeReport:
        """Sections added, removed and changed between two versions (re-parsed from their
        originals), and the recent questions whose answers cited a removed or changed one."""
        self.auth.require(session)
        old = self.library._row(old_row_id)
        new = (self.library._row(new_row_id) if new_row_id is not None
               else self.store.find_guideline(guideline_id, status="active"))
        if new is None:
            raise KeyError(f"No active version of {guideline_id}")
        old_texts, new_texts = self._sections_of(old), self._sections_of(new)
        added, removed, changed, unchanged = compare_sections(old_texts, new_texts)
        report = ChangeReport(new["title"], old["version"], new["version"], added, removed, changed,
                              unchanged)
        report.questions = questions_citing(self.store.query_event_rows(since_days), guideline_id,
                                            old["title"], old["version"], report.touched)
        return report

    def _sections_of(self, row: dict[str, Any]) -> dict[str, str]:
        _, chunks = self.library.parse(self.library.original_of(row), row["file_name"],
                                       self.library._overrides(row))
        return section_texts(chunks)

    # Index ----------------------------------------------------------------------------------
    def gold_evaluator(self, questions_path: Path | None = None) -> Callable[[str], dict[str, Any]]:
        """Scores one collection on the gold set (the rebuild gate's measure)."""
        questions = evaluate.load_questions(questions_path or self.settings.eval_questions)

        def score(collection: str) -> dict[str, Any]:
            return evaluate.summarise(list(evaluate.run(self.assistant, questions, collection=collection)))
        return score

    def rebuild(self, session: AdminSession, progress: Progress = no_progress, force: bool = False,
                questions_path: Path | None = None) -> dict[str, Any]:
        """Rebuild into a new collection; swapped only if gold-set hit@5 holds (or `force`)."""
        user = self.auth.require(session).user
        if force:
            self.store.log(user, "rebuild", "index", "ok", "started with the quality override")
        return self.library.rebuild(actor=user, progress=progress, force=force,
                                    evaluate=self.gold_evaluator(questions_path))

    def rollback(self, session: AdminSession) -> str:
        return self.library.rollback(self.auth.require(session).user)

    def builds(self, session: AdminSession) -> pd.DataFrame:
        self.auth.require(session)
        rows = self.store.build_rows()
        return pd.DataFrame([{"Collection": b["collection"], "Status": b["status"],
                              "Chunks": b["chunk_count"], "Embedding model": b["embedding_model"],
                              "hit@5": (b["evaluation"] or {}).get("hit@5"), "Built": b["created_at"],
                              "By": b["created_by"]} for b in rows])

    def embedding_mismatch(self, session: AdminSession) -> str | None:
        self.auth.require(session)
        return self.library.embedding_mismatch()

    # Insights and audit -----------------------------------------------------------------------
    def events(self, session: AdminSession, since_days: int = 90) -> list[dict[str, Any]]:
        self.auth.require(session)
        return self.store.query_event_rows(since_days)

    def feedback(self, session: AdminSession) -> list[dict[str, Any]]:
        self.auth.require(session)
        return self.store.feedback_rows()

    def gaps(self, session: AdminSession, since_days: int = 90, threshold: float = 0.75,
             limit: int = 300, events: list[dict[str, Any]] | None = None) -> list[Gap]:
        """Unanswered questions grouped by meaning (the assistant's own embeddings)."""
        events = self.events(session, since_days) if events is None else events
        questions = unanswered_questions(events)[:limit]
        if not questions:
            return []
        vectors = self.assistant.retriever.embeddings.embed_documents(questions)
        return group_similar(questions, vectors, threshold)

    def insights(self, session: AdminSession, since_days: int = 90) -> Insights:
        """Wrong refusals, gaps (covered once a new guideline answers them), low-confidence
        answers and feedback, for the Insights tab and its CSV downloads."""
        events, feedback = self.events(session, since_days), self.feedback(session)
        covered_by = self._coverage.for_library(lambda q: self.assistant.ask(q, log=False),
                                                self.store.guideline_rows("active"))
        return Insights(review_gaps(self.gaps(session, since_days, events=events), events, covered_by),
                        low_confidence_frame(events), feedback_frame(feedback, only_negative=True),
                        feedback_frame(feedback))

    def log_export(self, session: AdminSession, what: str, rows: int) -> None:
        """Downloads of question and feedback records are audited, like originals."""
        self.store.log(self.auth.require(session).user, "export", what, "ok", f"{rows} row(s)")

    def audit(self, session: AdminSession, limit: int = 200) -> pd.DataFrame:
        self.auth.require(session)
        rows = self.store.audit_rows(limit)
        return pd.DataFrame([{"When": r["at"], "Who": r["actor"], "Action": r["action"],
                              "Target": r["target"], "Outcome": r["outcome"], "Detail": r["detail"]}
                             for r in rows], columns=["When", "Who", "Action", "Target", "Outcome", "Detail"])
