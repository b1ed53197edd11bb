"""Insights decisions (pure): which refusals look wrong, which gaps a new guideline covers, what
the lead downloads (with no cell able to run as a spreadsheet formula)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from pipelines.insights import (CoverageCheck, ReviewedGap, csv_bytes, feedback_frame, gaps_frame,
                                low_confidence_frame, published_since, refusal_flag, review_gaps)
from pipelines.reports import Gap

T0 = datetime(2026, 11, 1, 9, 0)  # naive, as SQLite returns the store's UTC times


@pytest.mark.parametrize(("question", "nearest", "flagged"), [
    ("Crushing chest pain radiating to the left arm for an hour, what now?", "Stable angina", "Red flag: Acute coronary syndrome"),
    ("What are the red flags for cauda equina?", None, "Red flag: Cauda equina syndrome"),
    ("Rate or rhythm control first for atrial fibrillation?", "Atrial fibrillation", "about atrial fibrillation"),
    ("Best rate control drug for AF in an older adult?", "Atrial fibrillation", "about atrial fibrillation"),
    ("How do I manage a scabies outbreak in a care home?", "Impetigo", ""),
    ("Travel vaccines for Brazil?", "Atrial fibrillation", ""),
    ("Which vaccines for a patient with known asthma?", "Asthma", ""),  # asthma is background here
])
def test_refusal_flag(question: str, nearest: str | None, flagged: str) -> None:
    flag = refusal_flag(question, nearest)
    assert (flagged in flag) if flagged else flag == ""


def events(*rows: tuple[str, str | None, datetime]) -> list[dict]:
    return [{"question": q, "top_title": t, "at": at, "level": "insufficient"} for q, t, at in rows]


def test_review_gaps_takes_the_latest_ask_and_the_flag_of_any_wording() -> None:
    gap = Gap("Which drug for AF rate control?", ["Which drug for AF rate control?", "AF rate control drug?"])
    log = events(("Which drug for AF rate control?", "Hypertension", T0),
                 ("AF rate control drug?", "Atrial fibrillation", T0 + timedelta(days=2)))
    [item] = review_gaps([gap], log)
    assert item.last_asked == T0 + timedelta(days=2)
    assert item.kind == "likely wrong refusal" and "atrial fibrillation" in item.wrong_refusal
    assert item.nearest_title == "Hypertension"


def test_a_gap_is_covered_only_by_what_was_published_after_it() -> None:
    gap = Gap("Scabies outbreak: ivermectin dose?", ["Scabies outbreak: ivermectin dose?"])
    log = events(("Scabies outbreak: ivermectin dose?", "Impetigo", T0))
    asked: list[str] = []

    class Answered:
        abstained = False
        citations = [type("C", (), {"title": "Impetigo", "guideline_id": "impetigo", "version": "1"})(),
                     type("C", (), {"title": "Scabies", "guideline_id": "scabies", "version": "1"})()]

    def ask(question: str) -> Answered:
        asked.append(question)
        return Answered()

    check = CoverageCheck()
    older = [{"guideline_id": "impetigo", "version": "1", "created_at": T0 - timedelta(days=30)}]
    assert review_gaps([gap], log, check.for_library(ask, older))[0].kind == "gap"
    assert asked == []  # nothing new was published: no need to ask again
    newer = older + [{"guideline_id": "scabies", "version": "1", "created_at": T0 + timedelta(hours=1)}]
    [item] = review_gaps([gap], log, check.for_library(ask, newer))
    assert item.kind == "covered" and item.covered_by == "Scabies"  # not Impetigo: older than the ask
    review_gaps([gap], log, check.for_library(ask, newer))
    assert asked == [gap.label]  # remembered until the library changes


@pytest.mark.parametrize(("created", "moment", "expected"), [
    (T0 + timedelta(minutes=1), T0, True), (T0 - timedelta(minutes=1), T0, False),
    (T0.replace(tzinfo=UTC) + timedelta(minutes=1), T0, True),  # aware and naive compare as UTC
    (T0, None, True),
])
def test_published_since(created: datetime, moment: datetime | None, expected: bool) -> None:
    assert published_since([{"created_at": created}], moment) is expected


def test_csv_cells_cannot_run_as_formulas_and_keep_their_text() -> None:
    rows = [{"at": T0, "rating": -1, "question": "=HYPERLINK(\"http://x\",\"click\")",
             "comment": "+1 missed the dose; -ve", "sources": [{"title": "Gout"}, {"title": "Gout"}],
             "index_version": "guidelines_1"},
            {"at": T0, "rating": 1, "question": "Gout: colchicine dose?", "comment": "@café",
             "sources": [], "index_version": "guidelines_1"}]
    frame = feedback_frame(rows)
    parsed = list(csv.DictReader(io.StringIO(csv_bytes(frame).decode("utf-8-sig"))))
    assert [r["Question"] for r in parsed] == ["'=HYPERLINK(\"http://x\",\"click\")", "Gout: colchicine dose?"]
    assert [r["Comment"] for r in parsed] == ["'+1 missed the dose; -ve", "'@café"]
    assert [r["Rating"] for r in parsed] == ["not helpful", "helpful"] and parsed[0]["Cited"] == "Gout"
    assert list(feedback_frame(rows, only_negative=True)["Comment"]) == ["+1 missed the dose; -ve"]


def test_low_confidence_answers_newest_first() -> None:
    log = [{"question": "a", "level": "low", "at": T0, "top_title": "Gout", "cited": [{"title": "Gout"}]},
           {"question": "b", "level": "high", "at": T0, "top_title": "Gout", "cited": []},
           {"question": None, "level": "low", "at": T0, "top_title": "Gout", "cited": []},
           {"question": "c", "level": "low", "at": T0, "top_title": None, "cited": ["Asthma"]}]
    frame = low_confidence_frame(log)
    assert list(frame["Question"]) == ["c", "a"] and list(frame["Cited"]) == ["Asthma", "Gout"]


def test_gaps_frame_has_the_columns_the_download_promises() -> None:
    item = ReviewedGap(Gap("q1", ["q1", "q2"]), T0, "Gout", "", "Gout v2")
    frame = gaps_frame([item])
    assert frame.iloc[0].to_dict() == {"Kind": "covered", "Asked": 2, "Example": "q1", "Other wordings": "q2",
                                       "Last asked": T0, "Nearest guideline": "Gout", "Why flagged": "",
                                       "Now answered by": "Gout v2"}
