"""Review dates: when a guideline is past its review interval, and the one quiet line that says so.

An answer citing overdue guidelines carries one notice naming the sources ("Sources [2] [3] were
last reviewed more than 3 years ago — check the source for updates."), not one box per guideline;
each overdue citation is marked so the page can flag the source itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

NOTICE_END = "— check the source for updates."


def review_overdue(last_reviewed: str | None, today: date, interval_days: int) -> bool:
    """True when the last review is older than the review interval (unknown dates are not)."""
    try:
        reviewed = date.fromisoformat(str(last_reviewed or "")[:10])
    except ValueError:
        return False
    return (today - reviewed).days > interval_days


def interval_words(days: int) -> str:
    """"3 years", "1 year" or "200 days"."""
    years = days // 365
    if years >= 1 and days % 365 == 0 or years >= 2:
        return f"{years} year{'s' if years != 1 else ''}"
    return f"{days} day{'s' if days != 1 else ''}"


def review_notice(numbers: Sequence[int], interval_days: int) -> str:
    """One line for every overdue source of an answer ("" when none is)."""
    if not numbers:
        return ""
    refs = " ".join(f"[{n}]" for n in dict.fromkeys(numbers))
    subject = f"Sources {refs} were" if len(set(numbers)) > 1 else f"Source {refs} was"
    return f"{subject} last reviewed more than {interval_words(interval_days)} ago {NOTICE_END}"


def is_review_notice(notice: str) -> bool:
    return notice.endswith(NOTICE_END) and notice.startswith("Source")
