"""The guideline library service: ingest, version, retire, restore, delete (and, from
`pipelines.builds`, recover, rebuild and roll back).

Ordering keeps a crash harmless: the original is saved first, parsing and embedding happen before
anything is written to the index, new chunks are written before the registry makes them active,
and old chunks are deleted last. Retrieval serves only registry-active versions, and `recover()`
at start-up clears whatever an interrupted run left behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from pipelines.builds import IndexBuilds, Progress, no_progress
from pipelines.embeddings import BM25SparseEmbeddings, embedding_dimension
from pipelines.index import MAX_SENTENCES, Index, Vectors, new_collection_name
from pipelines.ingest import chunk_sections, library_files
from pipelines.models import Chunk, ParsedDocument, is_demo
from pipelines.parsing import ParserPool
from pipelines.store import Store
from pipelines.text import split_sentences
from pipelines.validate import IngestError, file_sha256

logger = logging.getLogger(__name__)
# What a full disk or an unavailable database raises from the records and the index (Edge's
# free-space check raises OSError ENOSPC before writing; local mode raised sqlite3 errors).
STORAGE_ERRORS = (SQLAlchemyError, sqlite3.Error, OSError)


@dataclass
class IngestReport:
    file_name: str
    status: str  # added | replaced | unchanged | failed
    title: str = ""
    guideline_id: str = ""
    version: str = ""
    chunks: int = 0
    seconds: float = 0.0
    reason: str = ""
    warnings: list[str] = field(default_factory=list)


def clash_reason(title: str, version: str, status: str) -> str:
    """Why this version cannot be published again, and what to do instead."""
    if status == "pending":
        return (f"version {version} of '{title}' is being published right now; wait for it to "
                "finish (the Library tab shows it).")
    if status == "active":
        return f"version {version} of '{title}' is already published."
    return (f"version {version} of '{title}' is in the library ({status}): choose it on the "
            "Library tab and press 'Restore this version'.")


class Library(IndexBuilds):
    """Everything that changes what the index serves goes through here."""

    def __init__(self, settings: Any, store: Store, index: Index, embeddings: Any,
                 parser: ParserPool) -> None:
        self.settings = settings
        self.store = store
        self.index = index
        self.embeddings = embeddings
        self.sparse = BM25SparseEmbeddings()
        self.parser = parser
        self._active: set[tuple[str, str]] | None = None
        self._built_with: dict[str, str | None] = {}
        self._active_at = 0.0

    # What is served ----------------------------------------------------------------------
    def active_versions(self, max_age_s: float = 5.0) -> set[tuple[str, str]]:
        if self._active is None or time.monotonic() - self._active_at > max_age_s:
            self._active = self.store.active_versions()
            self._active_at = time.monotonic()
        return self._active

    def _changed(self) -> None:
        self._active = None

    def ensure_live(self) -> str:
        """The live collection, creating an empty one behind the alias if there is none."""
        live = self.index.live_collection()
        if live:
            return live
        name = new_collection_name()
        self.index.create_collection(name, embedding_dimension(self.embeddings), self.embedding_name)
        self.store.add_build(name, self.embedding_name, "live", "system")
        self.index.swap_alias(name)
        return name

    def writable_live(self, name: str) -> str:
        """The live collection for a write, refused when it holds another model's vectors."""
        live = self.ensure_live()
        mismatch = self.embedding_mismatch(live)
        if mismatch:
            raise IngestError(name, mismatch)
        return live

    @property
    def embedding_name(self) -> str:
        return getattr(self.embeddings, "name", None) or self.settings.embedding_model

    def embedding_mismatch(self, collection: str | None = None) -> str | None:
        """A message when the live index (or `collection`) was built with another embedding model.

        A collection's model never changes after creation, so the answer is cached per name: the
        check runs before every question and every write, which is what keeps models unmixed.
        """
        live = collection or self.index.live_collection()
        if not live:
            return None
        if live not in self._built_with:
            self._built_with[live] = self.index.collection_info(live).get("embedding_model")
        built_with = self._built_with[live]
        if built_with and built_with != self.embedding_name:
            return (f"The live index was built with {built_with!r} but the app is configured for "
                    f"{self.embedding_name!r}: rebuild the index (Admin › Rebuild, or "
                    "`python -m pipelines reindex`) before answering questions.")
        return None

    # Ingest --------------------------------------------------------------------------------
    def parse(self, path: Path, display_name: str | None = None, overrides: dict[str, Any] | None = None,
              pages: Callable[[int, int], None] | None = None) -> tuple[ParsedDocument, list[Chunk]]:
        """Parse in the worker process; `pages(done, total)` hears of each PDF page read."""
        doc = self.parser.parse(path, display_name=display_name, overrides=overrides, pages=pages)
        return doc, chunk_sections(doc, self.settings.chunk_target_chars, self.settings.chunk_max_chars)

    def ingest_file(self, path: Path, *, actor: str = "system", display_name: str | None = None,
                    overrides: dict[str, Any] | None = None, progress: Progress = no_progress) -> IngestReport:
        """Ingest one file into the live index; never raises for a bad file."""
        name = display_name or path.name
        started = time.perf_counter()
        try:
            report = self._ingest(path, name, actor, overrides, progress)
        except IngestError as exc:
            report = IngestReport(name, "failed", reason=exc.reason)
        except OSError as exc:
            report = IngestReport(name, "failed",
                                  reason=f"the file could not be read or stored ({exc.strerror or exc}).")
        except STORAGE_ERRORS as exc:
            # e.g. a full disk: nothing was activated; recover() clears a pending row at start-up
            self._changed()
            report = IngestReport(name, "failed", reason="the library could not be written "
                                  f"({type(exc).__name__}: is the disk full?); the live index is unchanged.")
        report.seconds = time.perf_counter() - started
        outcome = "ok" if report.status != "failed" else "failed"
        try:
            self.store.log(actor, "ingest", name, outcome, report.reason or report.status)
        except STORAGE_ERRORS as exc:  # the report still reaches the admin on screen
            logger.warning("audit record of an ingest not written: %s", type(exc).__name__)
        return report

    def _ingest(self, path: Path, name: str, actor: str, overrides: dict[str, Any] | None,
                progress: Progress) -> IngestReport:
        progress(0.05, f"Checking {name}")
        digest = file_sha256(path)
        same = self.store.find_by_hash(digest)
        if same and not overrides:
            return IngestReport(name, "unchanged", same["title"], same["guideline_id"], same["version"],
                                same["chunk_count"])
        progress(0.15, f"Parsing {name}")

        def page_read(done: int, total: int) -> None:  # parsing spans 15 % → 45 % of the bar
            progress(0.15 + 0.30 * done / max(total, 1), f"Reading {name}: page {done} of {total}")

        doc, chunks = self.parse(path, name, overrides, pages=page_read)
        meta = doc.meta
        clash = self.store.find_guideline(meta.guideline_id, meta.version)
        if clash and clash["file_hash"] != digest and clash["status"] != "failed":
            raise IngestError(name, f"version {meta.version} of '{meta.title}' already exists with "
                                    "different content; give this file a new version number.")
        if clash and clash["status"] == "failed":
            # an earlier attempt died (crash, full disk): its row would block the retry
            self.store.delete_guideline_row(clash["id"])
        elif clash:
            raise IngestError(name, clash_reason(meta.title, meta.version, clash["status"]))
        progress(0.45, f"Embedding {len(chunks)} passages")
        vectors = self.embed(chunks)
        original = self._keep_original(path, digest)
        previous = self.store.find_guideline(meta.guideline_id, status="active")
        live = self.writable_live(name)
        row_id = self.store.add_guideline(
            guideline_id=meta.guideline_id, version=meta.version, title=meta.title,
            publisher=meta.publisher, specialty=meta.specialty, source_url=meta.source_url,
            last_reviewed=meta.last_reviewed, status="pending", file_hash=digest, file_name=name,
            file_type=doc.file_type, original_path=original.name, chunk_count=len(chunks),
            pages=doc.pages, sections=[" › ".join(s.path[1:]) for s in doc.sections], created_by=actor)
        try:  # all or nothing: anything stopping us here (a closed tab included) rolls back
            progress(0.8, "Writing to the index")
            self.index.upsert(live, chunks, vectors)
            self.store.activate(row_id, meta.guideline_id)
        except BaseException:
            self._roll_back(row_id, live, meta.guideline_id, meta.version)
            raise
        self._changed()
        if previous and previous["version"] != meta.version:
            self.index.delete_guideline(live, meta.guideline_id, previous["version"])
        progress(1.0, f"Published {meta.title}")
        status = "replaced" if previous else "added"
        return IngestReport(name, status, meta.title, meta.guideline_id, meta.version, len(chunks),
                            warnings=list(doc.warnings))

    def _roll_back(self, row_id: int, live: str, guideline_id: str, version: str) -> None:
        """Undo a half-written version: its points out of the index, its row marked failed (it
        can be resumed from the stored original, or discarded). Best effort: whatever it cannot
        undo, `recover()` clears at the next start."""
        try:
            self.index.delete_guideline(live, guideline_id, version)
            self.store.set_status(row_id, "failed")
        except Exception as exc:  # noqa: BLE001  (the original error matters more)
            logger.warning("roll-back of %s v%s incomplete: %s", guideline_id, version, type(exc).__name__)
        self._changed()

    def resume(self, row_id: int, actor: str, progress: Progress = no_progress) -> IngestReport:
        """Publish again an interrupted (failed) version from its stored original and details."""
        row = self._row(row_id)
        if row["status"] != "failed":
            raise ValueError(f"{row['title']} v{row['version']} is {row['status']}, not interrupted")
        return self.ingest_file(self.original_of(row), actor=actor, display_name=row["file_name"],
                                overrides=self._overrides(row), progress=progress)

    def embed(self, chunks: list[Chunk]) -> Vectors:
        """Dense and sparse vectors per chunk, and one dense vector per sentence (led by its
        section's name, so "Offer amoxicillin" is known to be about otitis media), embedded
        in one batch so that answering never has to."""
        texts = [c.embed_text for c in chunks]
        per_chunk = [split_sentences(c.text)[:MAX_SENTENCES] for c in chunks]
        flat = [f"{c.section.split(' › ')[-1]}: {s}" for c, sents in zip(chunks, per_chunk) for s in sents]
        flat_vectors = self.embeddings.embed_documents(flat) if flat else []
        sentences, at = [], 0
        for sents in per_chunk:
            sentences.append(flat_vectors[at:at + len(sents)])
            at += len(sents)
        return Vectors(self.embeddings.embed_documents(texts), self.sparse.embed_documents(texts), sentences)

    def original_of(self, row: dict[str, Any]) -> Path:
        """The stored original of a registry row (kept under the data folder, by content hash)."""
        return self.settings.originals_dir / Path(row["original_path"]).name

    def _keep_original(self, path: Path, digest: str) -> Path:
        folder = self.settings.originals_dir
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{digest}{path.suffix.lower()}"
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
            os.close(fd)
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        return target

    def ingest_folder(self, folder: Path, *, actor: str = "system",
                      progress: Progress = no_progress) -> list[IngestReport]:
        files = library_files(folder)
        reports = []
        for i, path in enumerate(files):
            progress(i / max(len(files), 1), f"Indexing {path.name} ({i + 1}/{len(files)})")
            reports.append(self.ingest_file(path, actor=actor))
        live = self.index.live_collection()
        if live and files:
            progress(0.99, "Building the search graph")
            self.index.optimize(live)
        progress(1.0, f"Indexed {len(files)} files")
        return reports

    def seed_if_empty(self, progress: Progress = no_progress) -> list[IngestReport]:
        """First run of a new install: index the bundled library. An install that has been used
        (anything in its audit log, such as the demonstration library removed) is never re-seeded."""
        if self.store.guideline_rows():
            if not self.index.live_collection():
                self.rebuild(progress=progress, actor="system")
            return []
        if self.store.audit_rows(limit=1):
            self.ensure_live()
            return []
        self.ensure_live()
        return self.ingest_folder(self.settings.library_dir, progress=progress)

    def remove_demo(self, actor: str) -> int:
        """Delete every version of every demonstration summary, in one audited action."""
        rows = [r for r in self.store.guideline_rows() if is_demo(r.get("publisher"))]
        live = self.index.live_collection()
        for row in rows:
            if live:
                self.index.delete_guideline(live, row["guideline_id"], row["version"])
            self.store.delete_guideline_row(row["id"])
        self._changed()
        self.store.log(actor, "remove demonstration library", f"{len(rows)} version(s)")
        return len(rows)

    # Lifecycle -----------------------------------------------------------------------------
    def retire(self, row_id: int, actor: str) -> None:
        row = self._row(row_id)
        self.store.set_status(row_id, "retired")
        self._changed()
        live = self.index.live_collection()
        if live:
            self.index.delete_guideline(live, row["guideline_id"], row["version"])
        self.store.log(actor, "retire", f"{row['title']} v{row['version']}")

    def restore(self, row_id: int, actor: str, progress: Progress = no_progress) -> None:
        """Make a retired or superseded version the served one again, from its original."""
        row = self._row(row_id)
        doc, chunks = self.parse(self.original_of(row), row["file_name"], self._overrides(row))
        vectors = self.embed(chunks)
        previous = self.store.find_guideline(row["guideline_id"], status="active")
        live = self.writable_live(row["file_name"] or row["title"])
        self.index.upsert(live, chunks, vectors)
        self.store.activate(row_id, row["guideline_id"])
        self._changed()
        if previous and previous["id"] != row_id:
            self.index.delete_guideline(live, row["guideline_id"], previous["version"])
        self.store.log(actor, "restore", f"{row['title']} v{row['version']}")
        progress(1.0, "Restored")

    def delete(self, row_id: int, actor: str) -> None:
        row = self._row(row_id)
        live = self.index.live_collection()
        if live:
            self.index.delete_guideline(live, row["guideline_id"], row["version"])
        self.store.delete_guideline_row(row_id)
        self._changed()
        self.store.log(actor, "delete", f"{row['title']} v{row['version']}")

    def _row(self, row_id: int) -> dict[str, Any]:
        row = next((r for r in self.store.guideline_rows() if r["id"] == row_id), None)
        if row is None:
            raise KeyError(f"No guideline with id {row_id}")
        return row

    @staticmethod
    def _overrides(row: dict[str, Any]) -> dict[str, Any]:
        keys = ("title", "publisher", "source_url", "last_reviewed", "specialty", "version")
        return {k: row[k] for k in keys if row.get(k)}
