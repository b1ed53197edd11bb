"""Records through SQLAlchemy: guideline registry, index builds, audit log, feedback, query events.

SQLite file by default; PostgreSQL (or any SQLAlchemy URL) by `DATABASE_URL`. Question text is
stored only after scrubbing, and never for questions in which identifiers were found.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (JSON, Boolean, Column, DateTime, Float, Integer, MetaData, String, Table,
                        Text, UniqueConstraint, create_engine, delete, func, insert, select, update)
from sqlalchemy.engine import Engine

metadata = MetaData()

guidelines = Table(
    "guidelines", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guideline_id", String(200), nullable=False, index=True),
    Column("version", String(50), nullable=False),
    Column("title", String(300), nullable=False),
    Column("publisher", String(300)),
    Column("specialty", String(100)),
    Column("source_url", String(1000)),
    Column("last_reviewed", String(20)),
    Column("status", String(20), nullable=False, index=True),
    Column("file_hash", String(64), nullable=False),
    Column("file_name", String(300)),
    Column("file_type", String(10)),
    Column("original_path", String(1000)),
    Column("chunk_count", Integer, default=0),
    Column("pages", Integer),
    Column("sections", JSON),
    Column("created_at", DateTime(timezone=True)),
    Column("created_by", String(100)),
    UniqueConstraint("guideline_id", "version", name="uq_guideline_version"),
)

builds = Table(
    "index_builds", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("collection", String(200), unique=True, nullable=False),
    Column("embedding_model", String(200)),
    Column("status", String(20), nullable=False),
    Column("chunk_count", Integer, default=0),
    Column("evaluation", JSON),
    Column("created_at", DateTime(timezone=True)),
    Column("created_by", String(100)),
)

audit = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), index=True),
    Column("actor", String(100)),
    Column("action", String(100)),
    Column("target", String(300)),
    Column("outcome", String(30)),
    Column("detail", Text),
)

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), index=True),
    Column("question", Text),
    Column("answer", Text),
    Column("rating", Integer),
    Column("comment", Text),
    Column("sources", JSON),
    Column("index_version", String(200)),
)

query_events = Table(
    "query_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), index=True),
    Column("question", Text),
    Column("level", String(20)),
    Column("abstained", Boolean),
    Column("top_title", String(300)),
    Column("cited", JSON),
    Column("identifiers_found", Boolean),
    Column("mode", String(50)),
    Column("ms", Float),
    Column("index_version", String(200)),
)

login_attempts = Table(
    "login_attempts", metadata,
    Column("user", String(100), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("locked_until", Float),  # epoch seconds; shared by every session and process
    Column("last_failure", Float),
)


def now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Thin, typed-enough access to the records; one engine per process."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        args = {"check_same_thread": False, "timeout": 30} if url.startswith("sqlite") else {}
        self.engine: Engine = create_engine(url, connect_args=args, pool_pre_ping=True)
        self._lock = threading.Lock()
        metadata.create_all(self.engine)

    def _run(self, statement: Any) -> Any:
        with self._lock, self.engine.begin() as conn:
            return conn.execute(statement)

    def _rows(self, statement: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(statement)]

    # Registry -------------------------------------------------------------------------------
    def add_guideline(self, **values: Any) -> int:
        values.setdefault("created_at", now())
        return self._run(insert(guidelines).values(**values)).inserted_primary_key[0]

    def guideline_rows(self, status: str | None = None) -> list[dict[str, Any]]:
        query = select(guidelines).order_by(guidelines.c.title, guidelines.c.id)
        if status:
            query = query.where(guidelines.c.status == status)
        return self._rows(query)

    def find_guideline(self, guideline_id: str, version: str | None = None,
                       status: str | None = None) -> dict[str, Any] | None:
        query = select(guidelines).where(guidelines.c.guideline_id == guideline_id)
        if version is not None:
            query = query.where(guidelines.c.version == version)
        if status is not None:
            query = query.where(guidelines.c.status == status)
        rows = self._rows(query.order_by(guidelines.c.id.desc()))
        return rows[0] if rows else None

    def find_by_hash(self, file_hash: str) -> dict[str, Any] | None:
        rows = self._rows(select(guidelines).where(guidelines.c.file_hash == file_hash,
                                                   guidelines.c.status == "active"))
        return rows[0] if rows else None

    def set_status(self, row_id: int, status: str, **extra: Any) -> None:
        self._run(update(guidelines).where(guidelines.c.id == row_id).values(status=status, **extra))

    def activate(self, row_id: int, guideline_id: str) -> None:
        """Make one version active and supersede the others, in one transaction."""
        with self._lock, self.engine.begin() as conn:
            conn.execute(update(guidelines).where(guidelines.c.guideline_id == guideline_id,
                                                  guidelines.c.status == "active")
                         .values(status="superseded"))
            conn.execute(update(guidelines).where(guidelines.c.id == row_id).values(status="active"))

    def delete_guideline_row(self, row_id: int) -> None:
        self._run(delete(guidelines).where(guidelines.c.id == row_id))

    def active_versions(self) -> set[tuple[str, str]]:
        rows = self._rows(select(guidelines.c.guideline_id, guidelines.c.version)
                          .where(guidelines.c.status == "active"))
        return {(r["guideline_id"], r["version"]) for r in rows}

    # Index builds ---------------------------------------------------------------------------
    def add_build(self, collection: str, embedding_model: str, status: str, actor: str) -> None:
        self._run(insert(builds).values(collection=collection, embedding_model=embedding_model,
                                        status=status, created_at=now(), created_by=actor))

    def update_build(self, collection: str, **values: Any) -> None:
        self._run(update(builds).where(builds.c.collection == collection).values(**values))

    def build_rows(self) -> list[dict[str, Any]]:
        return self._rows(select(builds).order_by(builds.c.id.desc()))

    # Audit, feedback, query events ----------------------------------------------------------
    def log(self, actor: str, action: str, target: str = "", outcome: str = "ok", detail: str = "") -> None:
        self._run(insert(audit).values(at=now(), actor=actor, action=action, target=target[:300],
                                       outcome=outcome, detail=detail[:4000]))

    def audit_rows(self, limit: int = 200) -> list[dict[str, Any]]:
        return self._rows(select(audit).order_by(audit.c.id.desc()).limit(limit))

    def add_feedback(self, question: str, answer: str, rating: int, comment: str,
                     sources: list[dict[str, Any]], index_version: str) -> int:
        """Store one rating; returns its row id, so a comment written afterwards can join it."""
        return self._run(insert(feedback).values(
            at=now(), question=question, answer=answer, rating=rating, comment=comment,
            sources=json.loads(json.dumps(sources)), index_version=index_version,
        )).inserted_primary_key[0]

    def set_feedback_comment(self, feedback_id: int, comment: str) -> bool:
        """The comment of a stored rating (written after the thumb); False if no such row."""
        return self._run(update(feedback).where(feedback.c.id == feedback_id)
                         .values(comment=comment)).rowcount == 1

    def feedback_rows(self, limit: int = 500) -> list[dict[str, Any]]:
        return self._rows(select(feedback).order_by(feedback.c.id.desc()).limit(limit))

    def add_query_event(self, **values: Any) -> None:
        values.setdefault("at", now())
        self._run(insert(query_events).values(**values))

    def query_event_rows(self, since_days: int = 90) -> list[dict[str, Any]]:
        since = now() - timedelta(days=since_days)
        return self._rows(select(query_events).where(query_events.c.at >= since)
                          .order_by(query_events.c.id))

    def purge_query_events(self, older_than_days: int) -> int:
        cutoff = now() - timedelta(days=older_than_days)
        return self._run(delete(query_events).where(query_events.c.at < cutoff)).rowcount

    # Sign-in lockout -------------------------------------------------------------------------
    def login_state(self, user: str) -> dict[str, Any]:
        """Consecutive failures and lock expiry (epoch seconds) for one user name."""
        rows = self._rows(select(login_attempts).where(login_attempts.c.user == user))
        return rows[0] if rows else {"user": user, "failures": 0, "locked_until": None,
                                     "last_failure": None}

    def set_login_state(self, user: str, failures: int, locked_until: float | None,
                        last_failure: float | None) -> None:
        """Replace one user's lockout record (delete + insert keeps it portable across databases)."""
        with self._lock, self.engine.begin() as conn:
            conn.execute(delete(login_attempts).where(login_attempts.c.user == user))
            conn.execute(insert(login_attempts).values(user=user, failures=failures,
                                                       locked_until=locked_until,
                                                       last_failure=last_failure))

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for name, t in (("guidelines", guidelines), ("feedback", feedback),
                                    ("query_events", query_events), ("audit", audit))}
