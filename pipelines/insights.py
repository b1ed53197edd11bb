"""Insights a clinical lead can act on: wrong refusals, library gaps, weak answers, thumbs-down.

Pure shaping of the records (`Store` rows) into typed values and frames, plus one cheap check
against the live index: a gap counts as covered once a guideline published after it was last
asked now answers its example question above "insufficient". Exports are CSV with formula-like
cells neutralised, because the questions are typed by users and the file opens in a spreadsheet.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from pipelines.grading import named_conditions
from pipelines.reports import Gap
from pipelines.safety import red_flags

GAP_COLUMNS = ["Kind", "Asked", "Example", "Other wordings", "Last asked", "Nearest guideline",
               "Why flagged", "Now answered by"]
FEEDBACK_COLUMNS = ["At", "Rating", "Question", "Comment", "Cited", "Index"]
LOW_COLUMNS = ["At", "Question", "Nearest guideline", "Cited"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ReviewedGap:
    """A group of unanswered questions, with what the lead should make of it."""

    gap: Gap
    last_asked: datetime | None = None
    nearest_title: str = ""
    wrong_refusal: str = ""  # why the refusal looks wrong, or "" for a plain gap
    covered_by: str = ""  # a guideline that now answers it, or ""

    @property
    def kind(self) -> str:
        if self.covered_by:
            return "covered"
        return "likely wrong refusal" if self.wrong_refusal else "gap"


@dataclass
class Insights:
    """Everything the Insights tab lists, newest first."""

    gaps: list[ReviewedGap] = field(default_factory=list)
    low_confidence: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LOW_COLUMNS))
    negative_feedback: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FEEDBACK_COLUMNS))
    feedback: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FEEDBACK_COLUMNS))

    def of_kind(self, kind: str) -> list[ReviewedGap]:
        return [g for g in self.gaps if g.kind == kind]


# Decisions -------------------------------------------------------------------------------------
def refusal_flag(question: str, nearest_title: str | None) -> str:
    """Why refusing `question` looks wrong ("" if it does not): a red flag fired, so it is an
    urgent clinical question; or the nearest guideline's title names a condition it asks about."""
    flags = red_flags(question)
    if flags:
        return f"Red flag: {flags[0].name}"
    if nearest_title:
        shared = [c for c in named_conditions(question, history=False) if c in named_conditions(nearest_title)]
        if shared:
            return f"The nearest guideline, {nearest_title}, is about {shared[0]}"
    return ""


def newest_events(events: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The latest stored event for each question text."""
    latest: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.get("question"):
            latest[event["question"]] = event
    return latest


def review_gaps(gaps: Sequence[Gap], events: Sequence[dict[str, Any]],
                covered_by: Callable[[ReviewedGap], str] = lambda gap: "") -> list[ReviewedGap]:
    """Each gap with its last ask, nearest guideline, refusal flag and coverage.

    Args:
        gaps: unanswered questions grouped by meaning.
        events: the query events they came from (for dates and nearest titles).
        covered_by: the title of a guideline that now answers the gap, or "".
    """
    latest = newest_events(events)
    reviewed = []
    for gap in gaps:
        seen = [latest[q] for q in gap.questions if q in latest]
        dates = [e["at"] for e in seen if isinstance(e.get("at"), datetime)]
        nearest = next((e.get("top_title") for e in seen if e.get("top_title")), "") or ""
        flag = next((f for f in (refusal_flag(q, latest.get(q, {}).get("top_title")) for q in gap.questions) if f), "")
        item = ReviewedGap(gap, max(dates, key=as_utc) if dates else None, nearest, flag)
        item.covered_by = covered_by(item)
        reviewed.append(item)
    return reviewed


def as_utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for the UTC times the store writes; PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def published_since(rows: Sequence[dict[str, Any]], moment: datetime | None) -> bool:
    """Has any active guideline been published after `moment` (always, when it is unknown)?"""
    created = [as_utc(r["created_at"]) for r in rows if isinstance(r.get("created_at"), datetime)]
    return moment is None or any(c > as_utc(moment) for c in created)


# Frames ----------------------------------------------------------------------------------------
def gaps_frame(gaps: Sequence[ReviewedGap]) -> pd.DataFrame:
    return pd.DataFrame.from_records([{
        "Kind": g.kind, "Asked": g.gap.count, "Example": g.gap.label,
        "Other wordings": " | ".join(g.gap.questions[1:4]), "Last asked": g.last_asked,
        "Nearest guideline": g.nearest_title, "Why flagged": g.wrong_refusal,
        "Now answered by": g.covered_by} for g in gaps], columns=GAP_COLUMNS)


def low_confidence_frame(events: Sequence[dict[str, Any]], limit: int = 100) -> pd.DataFrame:
    """Answers given with low confidence, newest first: the ones most worth a lead's check."""
    rows = [{"At": e.get("at"), "Question": e["question"], "Nearest guideline": e.get("top_title") or "",
             "Cited": _titles(e.get("cited"))}
            for e in reversed(list(events)) if e.get("level") == "low" and e.get("question")]
    return pd.DataFrame.from_records(rows[:limit], columns=LOW_COLUMNS)


def feedback_frame(rows: Sequence[dict[str, Any]], only_negative: bool = False) -> pd.DataFrame:
    """Feedback newest first (as `Store.feedback_rows` returns it), with comments and sources."""
    records = [{"At": r.get("at"), "Rating": "helpful" if (r.get("rating") or 0) > 0 else "not helpful",
                "Question": r.get("question") or "", "Comment": r.get("comment") or "",
                "Cited": _titles(r.get("sources")), "Index": r.get("index_version") or ""}
               for r in rows if not only_negative or (r.get("rating") or 0) < 0]
    return pd.DataFrame.from_records(records, columns=FEEDBACK_COLUMNS)


def _titles(items: Any) -> str:
    titles = (i.get("title", "") if isinstance(i, dict) else str(i) for i in items or [])
    return ", ".join(dict.fromkeys(t for t in titles if t))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheets read the accents) in which no cell can run as a
    formula: text starting with = + - @ is prefixed with an apostrophe (OWASP CSV injection)."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].map(lambda v: isinstance(v, str)).any():  # text, whatever its dtype
            safe[column] = safe[column].map(_inert)
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8-sig")


def _inert(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


# Coverage --------------------------------------------------------------------------------------
Cited = tuple[str, str, str]  # guideline id, version, title


class CoverageCheck:
    """Whether a guideline published since a gap was last asked now answers it: the gap's example
    question is re-asked (not logged) on the live index, only when something was published after
    that ask, and once per state of the library (answers are remembered until it changes)."""

    def __init__(self) -> None:
        self._library: frozenset[tuple[str, str]] = frozenset()
        self._answers: dict[str, list[Cited]] = {}

    def for_library(self, ask: Callable[[str], Any],
                    active_rows: Sequence[dict[str, Any]]) -> Callable[[ReviewedGap], str]:
        """A `covered_by` for `review_gaps`, given `ask` (the assistant's, unlogged) and the
        active registry rows."""
        library = frozenset((str(r["guideline_id"]), str(r["version"])) for r in active_rows)
        if library != self._library:
            self._library, self._answers = library, {}

        def covered_by(gap: ReviewedGap) -> str:
            new = {(str(r["guideline_id"]), str(r["version"])) for r in active_rows
                   if published_since([r], gap.last_asked)}
            if not new:
                return ""
            question = gap.gap.label
            if question not in self._answers:
                self._answers[question] = _cited(ask(question))
            return next((title for gid, version, title in self._answers[question] if (gid, version) in new), "")
        return covered_by


def _cited(answer: Any) -> list[Cited]:
    """What an answer drew on; nothing when it abstained."""
    if answer.abstained:
        return []
    return [(str(c.guideline_id), str(c.version), c.title) for c in answer.citations]
