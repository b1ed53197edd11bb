"""Review-date decisions: which sources are past the interval, and the one line that says so."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.review import interval_words, is_review_notice, review_notice, review_overdue

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(("reviewed", "overdue"), [
    ("2023-11-30", True), ("2023-12-02", False), ("2026-01-01", False), ("2019-05", False),
    ("", False), (None, False), ("not a date", False), ("2020-03-04T10:00:00", True),
])
def test_review_overdue(reviewed: str | None, overdue: bool) -> None:
    assert review_overdue(reviewed, TODAY, 3 * 365) is overdue


@pytest.mark.parametrize(("numbers", "line"), [
    ([2, 3], "Sources [2] [3] were last reviewed more than 3 years ago — check the source for updates."),
    ([1], "Source [1] was last reviewed more than 3 years ago — check the source for updates."),
    ([4, 4], "Source [4] was last reviewed more than 3 years ago — check the source for updates."),
    ([], ""),
])
def test_one_line_names_every_overdue_source(numbers: list[int], line: str) -> None:
    assert review_notice(numbers, 3 * 365) == line
    assert is_review_notice(line) is bool(line)


@pytest.mark.parametrize(("days", "words"), [(1095, "3 years"), (365, "1 year"), (730, "2 years"),
                                              (200, "200 days"), (1, "1 day"), (400, "400 days")])
def test_interval_words(days: int, words: str) -> None:
    assert interval_words(days) == words


@pytest.mark.parametrize("notice", [
    "Identifiers were removed from your question before it was searched: NHS number.",
    "Searched only guidelines with publisher NICE.",
    "[1] Gout was last reviewed on 2019-01-01, more than 3 years ago: check the source for updates.",
])
def test_other_notices_are_not_review_lines(notice: str) -> None:
    assert not is_review_notice(notice)
