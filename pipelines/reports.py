"""Pure shaping of records for the admin page: library table, version changes, insights, gaps.

Everything here takes plain rows (as `Store` returns them) and returns typed values or pandas
frames, so each decision is testable without a database, an index or Streamlit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Sequence

import numpy as np
import pandas as pd

from pipelines.models import is_demo
from pipelines.review import review_overdue

LEVELS = ("high", "moderate", "low", "insufficient")


# Library table ---------------------------------------------------------------------------------
def library_frame(rows: Sequence[dict[str, Any]], today: date, interval_days: int) -> pd.DataFrame:
    """One line per registry row, newest version of each guideline first within its title."""
    records = [{
        "id": r["id"], "Title": r["title"], "Publisher": r.get("publisher") or "",
        "Demonstration": is_demo(r.get("publisher")),
        "Version": r["version"], "Last reviewed": r.get("last_reviewed") or "",
        "Review overdue": review_overdue(r.get("last_reviewed"), today, interval_days),
        "Chunks": r.get("chunk_count") or 0, "Status": r["status"],
        "Uploaded by": r.get("created_by") or "", "Uploaded at": r.get("created_at"),
    } for r in rows]
    columns = ["id", "Title", "Publisher", "Demonstration", "Version", "Last reviewed", "Review overdue", "Chunks",
               "Status", "Uploaded by", "Uploaded at"]
    return pd.DataFrame.from_records(records, columns=columns)


# Version changes -------------------------------------------------------------------------------
@dataclass
class AffectedQuestion:
    at: datetime | None
    question: str
    section: str


@dataclass
class ChangeReport:
    """What changed between two versions of one guideline, and who asked about it recently."""

    title: str
    old_version: str
    new_version: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    questions: list[AffectedQuestion] = field(default_factory=list)

    @property
    def touched(self) -> set[str]:
        return set(self.removed) | set(self.changed)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def section_texts(chunks: Sequence[Any]) -> dict[str, str]:
    """Chunk texts joined per section label, whitespace-normalised for comparison."""
    out: dict[str, list[str]] = {}
    for chunk in chunks:
        out.setdefault(chunk.section, []).append(chunk.text)
    return {section: _squash(" ".join(parts)) for section, parts in out.items()}


def compare_sections(old: dict[str, str], new: dict[str, str]) -> tuple[list[str], list[str], list[str], int]:
    """(added, removed, changed, unchanged count) between two section → text maps."""
    added = [s for s in new if s not in old]
    removed = [s for s in old if s not in new]
    changed = [s for s in new if s in old and new[s] != old[s]]
    unchanged = sum(1 for s in new if s in old and new[s] == old[s])
    return added, removed, changed, unchanged


def cited_entries(cited: Any) -> list[dict[str, str]]:
    """Query-event citations as dicts; older events stored titles only."""
    out = []
    for item in cited or []:
        out.append(item if isinstance(item, dict) else {"title": str(item), "section": ""})
    return out


def questions_citing(events: Sequence[dict[str, Any]], guideline_id: str, title: str,
                     version: str, sections: set[str]) -> list[AffectedQuestion]:
    """Recent stored questions whose answer cited one of `sections` of that version."""
    found: list[AffectedQuestion] = []
    for event in events:
        if not event.get("question"):
            continue
        for c in cited_entries(event.get("cited")):
            same_doc = c.get("guideline_id") == guideline_id or (not c.get("guideline_id")
                                                                 and c.get("title") == title)
            right_version = not c.get("version") or str(c.get("version")) == str(version)
            if same_doc and right_version and (c.get("section") in sections or not c.get("section")):
                found.append(AffectedQuestion(event.get("at"), event["question"],
                                              c.get("section") or "(section not recorded)"))
                break
    return found


# Insights --------------------------------------------------------------------------------------
def _day(value: Any) -> date | None:
    return value.date() if isinstance(value, datetime) else None


def questions_per_day(events: Sequence[dict[str, Any]]) -> pd.DataFrame:
    days = pd.Series([_day(e.get("at")) for e in events], dtype="object").dropna()
    frame = days.value_counts().sort_index().rename("questions").to_frame()
    frame.index.name = "day"
    return frame


def levels_per_day(events: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Counts of each confidence level per day (columns in LEVELS order)."""
    records = [{"day": _day(e.get("at")), "level": e.get("level")} for e in events if e.get("level")]
    if not records:
        return pd.DataFrame(columns=list(LEVELS))
    table = pd.crosstab(pd.DataFrame(records)["day"], pd.DataFrame(records)["level"])
    return table.reindex(columns=list(LEVELS), fill_value=0)


def feedback_per_day(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    records = [{"day": _day(r.get("at")), "rating": "helpful" if (r.get("rating") or 0) > 0 else "not helpful"}
               for r in rows]
    if not records:
        return pd.DataFrame(columns=["helpful", "not helpful"])
    frame = pd.DataFrame(records)
    return pd.crosstab(frame["day"], frame["rating"]).reindex(columns=["helpful", "not helpful"], fill_value=0)


def unanswered_questions(events: Sequence[dict[str, Any]]) -> list[str]:
    """Stored (scrubbed) questions the library could not answer, newest first."""
    return [e["question"] for e in reversed(list(events))
            if e.get("level") == "insufficient" and e.get("question")]


# Gaps ------------------------------------------------------------------------------------------
@dataclass
class Gap:
    """Unanswered questions that ask about the same thing: one gap in the library."""

    label: str
    questions: list[str]

    @property
    def count(self) -> int:
        return len(self.questions)


def group_similar(texts: Sequence[str], vectors: Sequence[Sequence[float]],
                  threshold: float = 0.75) -> list[Gap]:
    """Greedy clustering by cosine similarity to each group's first member, largest first.

    Greedy against the seed (not the centroid) keeps groups tight and the result independent
    of how large a group grows; ties in size keep first-seen order.
    """
    if len(texts) != len(vectors):
        raise ValueError(f"got {len(texts)} texts but {len(vectors)} vectors")
    if not texts:
        return []
    matrix = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = matrix / np.where(norms == 0, 1.0, norms)
    seeds: list[int] = []
    groups: list[list[int]] = []
    for i in range(len(texts)):
        sims = [float(matrix[i] @ matrix[s]) for s in seeds]
        best = int(np.argmax(sims)) if sims else -1
        if best >= 0 and sims[best] >= threshold:
            groups[best].append(i)
        else:
            seeds.append(i)
            groups.append([i])
    gaps = [Gap(texts[g[0]], [texts[i] for i in g]) for g in groups]
    return sorted(gaps, key=lambda gap: -gap.count)
