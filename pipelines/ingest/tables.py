"""Ruled tables → Markdown rows that each carry their row header and column headers.

A dose row must never lose its drug: a cell that a merged cell covers (None from pdfplumber) takes
the value above it, a row that only continues the wrapped text of the row above is folded into
it, and every row is written with its header ("Drug | Age band | Dose").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.text import unligature

_LOWER_START = re.compile(r"^[a-z(]")
_ENDED = re.compile(r"[.:;!?]\s*$")


@dataclass(frozen=True)
class TableText:
    """A table ready for passages: its header and rows as Markdown lines."""

    header: str
    rows: list[str]

    def markdown(self, rows: list[str] | None = None) -> str:
        cols = self.header.count("|") - 1
        rule = "|" + " --- |" * max(cols, 1)
        return "\n".join([self.header, rule, *(self.rows if rows is None else rows)])


Box = tuple[float, float, float, float]


def resolve_merges(rows: list[list[str | None]], boxes: list[list[Box | None]]) -> list[list[str | None]]:
    """pdfplumber gives None for every grid position no cell of its own starts at. Only a
    position under a cell that starts in the same column and spans down from a row above is a
    vertical merge (it takes the value above); one that a cell to its left spans across, or that
    nothing covers, is empty. Filling those from above would give a row the text of another row
    (a dental row reading the previous infection's notes)."""
    lefts: dict[int, float] = {}
    for row in boxes:
        for k, box in enumerate(row):
            if box is not None:
                lefts[k] = min(lefts.get(k, box[0]), box[0])
    out: list[list[str | None]] = []
    for i, (cells, row) in enumerate(zip(rows, boxes)):
        tops = [b[1] for b in row if b is not None]
        bottoms = [b[3] for b in row if b is not None]
        y = (min(tops) + max(bottoms)) / 2 if tops else None
        out.append([cell if cell is not None or y is None or k not in lefts
                    or _spans_down(boxes[:i], k, lefts[k], y) else ""
                    for k, cell in enumerate(cells)])
    return out


def _spans_down(above: list[list[Box | None]], k: int, left: float, y: float) -> bool:
    """Does a cell of column `k` in a row above start at this column's left edge and reach `y`?"""
    for row in reversed(above):
        box = row[k] if k < len(row) else None
        if box is not None:
            return abs(box[0] - left) < 1.0 and box[1] < y < box[3]
    return False


def _clean(cell: str | None) -> str | None:
    if cell is None:
        return None
    return re.sub(r"\s+", " ", unligature(cell.replace("\uf071", "").replace("\uf020", " "))).strip()


def _columns(rows: list[list[str | None]]) -> list[int]:
    """Columns that hold any text (merged header cells leave empty shadow columns)."""
    width = max(len(r) for r in rows)
    return [i for i in range(width) if any(i < len(r) and (r[i] or "").strip() for r in rows)]


def _header(rows: list[list[str]]) -> tuple[list[str], int]:
    """Column names, from one header row or a header row with a sub-header row under it."""
    names = list(rows[0])
    used = 1
    if len(rows) > 2 and not rows[1][0] and any(rows[1]):
        if all(len(cell) <= 30 and not re.search(r"\d", cell) for cell in rows[1]):
            names = [f"{a} {b}".strip() for a, b in zip(names, rows[1])]
            used = 2
    return [n or f"Column {k + 1}" for k, n in enumerate(names)], used


def _fill_and_fold(rows: list[list[str | None]], cols: list[int], fold: bool = True) -> list[list[str]]:
    """Fill merged (None) cells from above; fold wrapped-text continuation rows into the row above
    (unless `fold` is off: a line grid's rows are merged by `_merge_groups`, row for row)."""
    out: list[list[str]] = []
    for raw in rows:
        cells = [_clean(raw[i]) if i < len(raw) else "" for i in cols]
        merged = [c is None for c in cells]
        cells = [c or "" for c in cells]
        if fold and out and _continues(out[-1], cells, merged):
            out[-1] = [f"{a} {b}".strip() if b and not m else a
                       for a, b, m in zip(out[-1], cells, merged)]
            continue
        if out:
            cells = [out[-1][k] if merged[k] or (k == 0 and not cells[0]) else c
                     for k, c in enumerate(cells)]
        out.append(cells)
    return out


def _continues(above: list[str], cells: list[str], merged: list[bool]) -> bool:
    """A row whose every own cell starts in lower case under an unfinished cell above."""
    own = [(k, c) for k, c in enumerate(cells) if c and not merged[k]]
    if not own or (cells[0] and not merged[0]):
        return False
    return all(_LOWER_START.match(c) and above[k] and not _ENDED.search(above[k]) for k, c in own)


def _is_line_grid(rows: list[list[str | None]], cols: list[int]) -> bool:
    """A table drawn one printed line per row (most rows leave the row header merged and most
    of their cells empty): its logical rows are the groups under each row header."""
    continuing = [r for r in rows if not (r[cols[0]] or "").strip()]
    if len(continuing) < max(3, len(rows) // 2):
        return False
    fill = [sum(1 for i in cols[1:] if i < len(r) and (r[i] or "").strip()) / max(len(cols) - 1, 1)
            for r in continuing]
    return sum(fill) / len(fill) < 0.4


def _merge_groups(body: list[list[str]], raw: list[list[str | None]], cols: list[int]) -> list[list[str]]:
    """One row per row header: each column's text across the group's printed lines, in order."""
    merged: list[list[str]] = []
    for cells, row in zip(body, raw):
        starts = bool((row[cols[0]] or "").strip())
        if starts or not merged:
            merged.append(list(cells))
            continue
        own = [(_clean(row[i]) or "") if i < len(row) else "" for i in cols]
        merged[-1] = [a if k == 0 else f"{a} {b}".strip() for k, (a, b) in enumerate(zip(merged[-1], own))]
    return [[" ".join(dict.fromkeys(c.split(" "))) if k == 0 else c for k, c in enumerate(r)] for r in merged]


def table_text(rows: list[list[str | None]]) -> TableText | None:
    """Markdown header and rows, or None when the table holds too little to be one."""
    cols = _columns(rows)
    if len(cols) < 2 or len(rows) < 2:
        return None
    filled = [[_clean(r[i]) or "" if i < len(r) else "" for i in cols] for r in rows]
    names, used = _header(filled)
    if _is_line_grid(rows[used:], cols):
        body = _merge_groups(_fill_and_fold(rows[used:], cols, fold=False), rows[used:], cols)
    else:
        body = _fill_and_fold(rows[used:], cols)
    lines: list[str] = []
    for cells in body:
        line = "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"
        if any(c for c in cells[1:]) and line not in lines:
            lines.append(line)
    if not lines:
        return None
    return TableText("| " + " | ".join(names) + " |", lines)
