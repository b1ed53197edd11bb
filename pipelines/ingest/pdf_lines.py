"""PDF pages → text lines with font size, weight and position, in reading order.

Built on pdfplumber (pdfminer.six underneath). What a layout-blind extraction gets wrong on real
guidance, and what this module does instead:
- running headers and footers ("© NICE 2025 ... Page 9 of 150") are recognised because the same
  text, numbers aside, sits in the top or bottom band of many pages; they are dropped, and the
  printed page label they carry is kept;
- two-column pages are read column by column (a vertical gutter no word crosses);
- raised small digits after "10" are superscripts (5×10⁹/L), kept as superscript characters;
- ruled tables are read as tables (their lines are left out of the text flow).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pipelines.ingest.tables import resolve_merges
from pipelines.text import unligature

BAND = 0.09  # share of the page height treated as header or footer band
SUPERSCRIPT = str.maketrans("0123456789+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻")
_PAGE_LABEL = re.compile(r"\bpage\s+(\d+|[ivxlc]+)(?:\s+of\s+\d+)?\b", re.I)
_BARE_NUMBER = re.compile(r"^\s*(\d{1,3}|[ivxlc]{1,6})\s*$", re.I)
_BOLD = re.compile(r"bold|semibold|black|heavy|demi", re.I)


@dataclass
class Line:
    """One printed line: its text and how it looks."""

    text: str
    page: int  # physical, 1-based
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool
    column: int = 0
    font: str = ""
    gap: float = 0.0  # the widest space between two of its characters (a table row's columns)


@dataclass
class PageTable:
    """A ruled table as rows of cell texts (None where a merged cell covers the position)."""

    page: int
    top: float
    rows: list[list[str | None]]


@dataclass
class PageContent:
    number: int
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    tables: list[PageTable] = field(default_factory=list)
    printed: str | None = None
    drawings: int = 0
    running: list[str] = field(default_factory=list)  # header and footer lines taken out
    rotated: int = 0  # characters of rotated text left out


def line_text(chars: list[dict[str, Any]]) -> str:
    """Characters to text: spaces where the gap says so, raised small digits as superscripts."""
    chars = sorted(chars, key=lambda c: c["x0"])
    size = max((c["size"] for c in chars if c["text"].strip()), default=10.0)
    base = max((c["bottom"] for c in chars if c["size"] >= size * 0.9), default=0.0)
    out: list[str] = []
    prev: dict[str, Any] | None = None
    marker = False
    for ch in chars:
        text = ch["text"]
        if prev is not None and text == prev["text"] and abs(ch["x0"] - prev["x0"]) < 0.5:
            continue  # a ligature pdfplumber lists twice
        raised = ch["size"] < size * 0.82 and ch["bottom"] < base - 1.2
        if raised and (text in "0123456789+-,–" or (marker and text in "ABCD+")):
            if "".join(out).rstrip().endswith(("10", "⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹")):
                text = text.translate(SUPERSCRIPT)  # 5×10⁹/L
            else:
                marker = True  # a reference or evidence-grade marker ("examination28", "2D")
                continue
        else:
            marker = False
        if prev is not None and text != " " and out and not out[-1].endswith(" "):
            if ch["x0"] - prev["x1"] > 0.18 * min(ch["size"], prev["size"]):
                out.append(" ")
        out.append(text)
        prev = ch
    return re.sub(r"\s+", " ", unligature("".join(out))).strip()


@lru_cache(maxsize=512)
def _face(fontname: str) -> tuple[str, bool]:
    """A font's name without its subset prefix ("ABCDEF+Lato-Bold" → "Lato-Bold"), and whether
    it is a bold face."""
    return fontname.split("+")[-1], bool(_BOLD.search(fontname))


def _make_line(raw: dict[str, Any], page: int, column: int = 0) -> Line | None:
    chars = [c for c in raw.get("chars", []) if c.get("text")]
    text = line_text(chars) if chars else raw.get("text", "").strip()
    if not text:
        return None
    visible = [c for c in chars if c["text"].strip()] or chars
    sizes = Counter(round(c["size"], 1) for c in visible)
    size = sizes.most_common(1)[0][0] if sizes else 10.0
    faces = Counter(c.get("fontname", "") for c in visible)
    bold = sum(n for name, n in faces.items() if _face(name)[1]) >= 0.8 * max(len(visible), 1)
    fonts = Counter()
    for name, n in faces.items():
        fonts[_face(name)[0]] += n
    font = fonts.most_common(1)[0][0] if fonts else ""
    ordered = sorted(visible, key=lambda c: c["x0"])
    number = 0  # a leading section number ("9.1", "1.4.2") is often followed by a tab
    while number < len(ordered) and (ordered[number]["text"].isdigit() or ordered[number]["text"] == "."):
        number += 1
    words = ordered[number:] if 0 < number < len(ordered) else ordered
    gap = max((b["x0"] - a["x1"] for a, b in zip(words, words[1:])), default=0.0)
    return Line(text, page, raw["x0"], raw["x1"], raw["top"], raw["bottom"], size, bold, column, font, gap)


def _gutter(words: list[dict[str, Any]], width: float) -> float | None:
    """The x of a vertical gap no body word crosses, with text on both sides; None if one column."""
    if len(words) < 40:
        return None
    best, best_count = None, len(words)
    for x in range(int(width * 0.3), int(width * 0.7), 3):
        crossing = sum(1 for w in words if w["x0"] < x < w["x1"])
        if crossing < best_count:
            best, best_count = x, crossing
    if best is None or best_count > 0.02 * len(words):
        return None
    left = sum(1 for w in words if w["x1"] <= best)
    if min(left, len(words) - left) < 0.25 * len(words):
        return None
    left_tops = {round(w["top"]) for w in words if w["x1"] <= best}
    right_tops = {round(w["top"]) for w in words if w["x0"] >= best}
    return best if len(left_tops & right_tops) >= 5 else None


def _spans_gutter(raw: dict[str, Any], gutter: float) -> bool:
    chars = sorted((c for c in raw.get("chars", []) if c["text"].strip()), key=lambda c: c["x0"])
    for a, b in zip(chars, chars[1:]):
        if a["x1"] <= gutter <= b["x0"] and b["x0"] - a["x1"] > 10:
            return False
    return bool(chars) and chars[0]["x0"] < gutter < chars[-1]["x1"]


def _lines_in(page: Any, number: int, exclude: list[tuple[float, float, float, float]]) -> list[Line]:
    """Lines of one page in reading order, without those inside a table's box."""
    def outside(obj: dict[str, Any]) -> bool:
        cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= cx <= x1 and t <= cy <= b for x0, t, x1, b in exclude)

    body = page.filter(outside) if exclude else page
    words = [w for w in body.extract_words() if page.height * BAND < w["top"] < page.height * (1 - BAND)]
    gutter = _gutter(words, page.width)
    raws = body.extract_text_lines(return_chars=True, y_tolerance=3.5)
    if gutter is None:
        return [ln for raw in raws if (ln := _make_line(raw, number))]
    def banded(raw: dict[str, Any]) -> bool:  # headers and footers are read whole, never split
        return raw["top"] < page.height * BAND or raw["bottom"] > page.height * (1 - BAND)

    full = [ln for raw in raws if (_spans_gutter(raw, gutter) or banded(raw)) and (ln := _make_line(raw, number))]
    halves = []
    top, bottom = page.height * BAND, page.height * (1 - BAND)
    for column, box in enumerate(((0, top, gutter, bottom), (gutter, top, page.width, bottom))):
        crop = body.crop(box)
        for raw in crop.extract_text_lines(return_chars=True, y_tolerance=3.5):
            line = _make_line(raw, number, column + 1)
            if line and not any(f.top - 2 <= line.top <= f.bottom for f in full):
                halves.append(line)
    return _column_order(full, halves)


def _column_order(full: list[Line], halves: list[Line]) -> list[Line]:
    """Full-width lines split the page into bands; within a band, left column then right."""
    ordered: list[Line] = []
    cuts = sorted(full, key=lambda ln: ln.top)
    edges = [-1.0] + [ln.top for ln in cuts] + [1e9]
    for i in range(len(edges) - 1):
        band = [ln for ln in halves if edges[i] <= ln.top < edges[i + 1]]
        ordered += sorted(band, key=lambda ln: (ln.column, ln.top))
        if i < len(cuts):
            ordered.append(cuts[i])
    return ordered


def _tables(page: Any, number: int) -> list[tuple[PageTable, tuple[float, float, float, float]]]:
    found = []
    for table in page.find_tables():
        rows = resolve_merges(table.extract(), [list(row.cells) for row in table.rows])
        filled = sum(1 for row in rows for cell in row if cell and cell.strip())
        if len(rows) >= 2 and filled >= 4 and len(rows[0]) >= 2:
            found.append((PageTable(number, table.bbox[1], rows), table.bbox))
    return found


def _upright_only(page: Any) -> tuple[Any, int]:
    """Rotated text (a landscape flowchart turned on a portrait page) reads backwards as lines:
    it is left out, and counted so the uploader is told."""
    rotated = sum(1 for ch in page.chars if not ch.get("upright", True) and ch["text"].strip())
    if not rotated:
        return page, 0
    return page.filter(lambda obj: obj.get("object_type") != "char" or obj.get("upright", True)), rotated


def _without_doubled_chars(page: Any) -> Any:
    """Text drawn twice at one place (bold by overprinting, a ligature with its letters) read
    once. pdfplumber's own dedupe_chars does this too, at several times the cost."""
    seen: set[tuple[str, int, int]] = set()
    doubled: set[int] = set()
    for ch in page.chars:
        key = (ch["text"], round(ch["x0"]), round(ch["top"]))
        if key in seen:
            doubled.add(id(ch))
        seen.add(key)
    return page.filter(lambda obj: id(obj) not in doubled) if doubled else page


def read_page(page: Any, number: int) -> PageContent:
    """Lines (reading order), tables and drawing count of one pdfplumber page."""
    page, rotated = _upright_only(_without_doubled_chars(page))
    content = PageContent(number, float(page.width), float(page.height))
    content.rotated = rotated
    content.drawings = len(page.rects) + len(page.curves) + len(page.lines)
    try:
        tables = _tables(page, number)
    except Exception:  # a malformed table should cost the table, not the page
        tables = []
    content.tables = [t for t, _ in tables]
    content.lines = _lines_in(page, number, [box for _, box in tables])
    return content


def strip_running_lines(pages: list[PageContent]) -> None:
    """Drop headers and footers (same text, digits aside, in the band of many pages); keep the
    printed page label they carry."""
    def key(line: Line) -> str:
        return re.sub(r"\d+", "#", line.text.lower())

    def in_band(line: Line, page: PageContent) -> bool:
        return line.top < page.height * BAND or line.bottom > page.height * (1 - BAND)

    counts = Counter(key(ln) for p in pages for ln in {key(x): x for x in p.lines if in_band(x, p)}.values())
    # On at least 30 % of pages, or 6 of a long document (a chapter's running header).
    need = max(2 if len(pages) < 6 else 3, min(int(0.3 * len(pages)), 6))
    for page in pages:
        kept = []
        for line in page.lines:
            band = in_band(line, page)
            if band and (label := _printed_label(line.text)):
                page.printed = page.printed or label
            if band and (counts[key(line)] >= need or _BARE_NUMBER.match(line.text)):
                page.running.append(line.text)
                continue
            kept.append(line)
        page.lines = kept


def _printed_label(text: str) -> str | None:
    match = _PAGE_LABEL.search(text) or _BARE_NUMBER.match(text)
    return match.group(1) if match else None


def body_size(pages: list[PageContent]) -> float:
    """The font size most text is set in (weighted by characters)."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page.lines:
            sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def body_font(pages: list[PageContent]) -> str:
    """The font name most text is set in."""
    fonts: Counter[str] = Counter()
    for page in pages:
        for line in page.lines:
            fonts[line.font] += len(line.text)
    return fonts.most_common(1)[0][0] if fonts else ""


def line_pitch(pages: list[PageContent], size: float) -> float:
    """The usual distance from one body line to the next."""
    gaps = []
    for page in pages:
        body = [ln for ln in page.lines if abs(ln.size - size) < 0.6]
        gaps += [b.top - a.top for a, b in zip(body, body[1:]) if 0 < b.top - a.top < size * 3]
    return statistics.median(gaps) if gaps else size * 1.3


def body_width(pages: list[PageContent], size: float) -> float:
    """The usual width of a full line of body text (the column width)."""
    widths = sorted(ln.x1 - ln.x0 for p in pages for ln in p.lines
                    if abs(ln.size - size) < 0.6 and len(ln.text) > 50)
    return widths[int(len(widths) * 0.75)] if widths else 1e9
