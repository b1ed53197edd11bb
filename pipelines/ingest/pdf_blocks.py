"""PDF lines → headings and whole units of text (a paragraph, or a recommendation with its list).

A heading is a line set larger than the body text, or a short line wholly in bold that stands on
its own, or one the PDF outline names; a wrapped last line of a paragraph is body text and never a
heading, whatever its length. Units stay whole across line wraps and page breaks; list items stay
with their lead-in; a "[2019]" tag on its own line stays with its recommendation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.ingest.pdf_lines import Line, PageContent

BULLET = re.compile(r"^\s*([•●▪◦‣∙·\-–－o]|\d{1,2}[.)]|[a-z][.)])\s+")
REC_NUMBER = re.compile(r"^\s*(\d{1,2}(?:\.\d{1,3}){1,3})\s+\S")
# SIGN marks a recommendation with an "R" in the margin, a good-practice point with a tick.
REC_MARK = re.compile(r"^\s*(R|✓|✔)\s+(?=[A-Z])")
_SYMBOL_BULLET = re.compile(r"^[•●▪◦‣∙·\-–－]\s")
YEAR_TAG = re.compile(r"^\[(?:\d{4}|new|amended)[^\]]{0,60}\]$", re.I)
SENTENCE_END = re.compile(r"([.!?:;]|\]|\.\))\s*$")
_HYPHEN_END = re.compile(r"[A-Za-z]{2,}-$")


def normal(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@dataclass
class Heading:
    text: str
    level: int
    page: int
    size: float = 0.0
    font: str = ""


@dataclass
class Unit:
    """A block that must not be split: paragraphs and list items, with the page it starts on."""

    parts: list[str]
    page: int
    end_page: int
    kind_hint: str = ""  # "recommendation" when it opens with a recommendation number

    @property
    def text(self) -> str:
        return "\n".join(self.parts)


def heading_levels(pages: list[PageContent], body: float) -> dict[float, int]:
    """Heading font sizes, largest first, mapped to levels 1, 2, 3 ..."""
    sizes = sorted({round(ln.size, 1) for p in pages for ln in p.lines if ln.size >= body + 1.2},
                   reverse=True)
    return {size: i + 1 for i, size in enumerate(sizes[:6])}


def in_outline(text: str, outline: dict[str, int]) -> bool:
    """The line is a bookmark's title, or the first line of one set over two lines."""
    key = normal(text)
    if key in outline:
        return True
    return len(key) >= 25 and any(title.startswith(key) for title in outline)


@dataclass(frozen=True)
class BodyStyle:
    """How the body text looks: size, font and the distance from one line to the next."""

    size: float
    font: str
    pitch: float
    width: float = 1e9  # the usual width of a full body line


_CAPTION = re.compile(r"^(table|box|figure|algorithm)\s+\d+\b", re.I)  # "Table 4 American dietary ..."
COLUMN_GAP = 3.0  # ems of space inside a line that only a table's columns leave (a word space is 0.25-0.3)


def is_heading(line: Line, body: BodyStyle, levels: dict[float, int], outline: dict[str, int],
               gap_before: float) -> bool:
    """Larger than the body; or named by the outline; or a short standalone line in a heavier or
    other font than the body that does not end like a sentence."""
    text = line.text.strip()
    if len(text) < 2 or not re.search(r"[A-Za-z]{2}", text) or _SYMBOL_BULLET.match(text) or text[0].islower():
        return False
    if line.gap > COLUMN_GAP * line.size:
        return False  # words set in columns far apart: a table's header row, not a heading
    if round(line.size, 1) in levels:
        return len(text) <= 200
    distinct = line.bold or (line.font != body.font and line.size >= body.size - 0.2)
    if not distinct:
        return False  # set like the body: a wrapped line, whatever the outline says
    if line.size < body.size - 1.0 and not in_outline(text, outline) and not _CAPTION.match(text):
        return False  # smaller than the body: a table's header cell or a figure's label
    if in_outline(text, outline) and not text[0].islower():
        return True
    standalone = gap_before > body.pitch * 1.3
    wraps = line.x1 - line.x0 >= 0.85 * body.width  # a full line is the start of a paragraph
    return (standalone and not wraps and len(text) <= 100 and not text[0].islower()
            and not text.endswith((",", ";", ".", ":"))  # a bold line ending ":" leads in its list
            and not (REC_NUMBER.match(text) and len(text) > 70))


def join_lines(left: str, right: str, vocabulary: set[str]) -> str:
    """Join two wrapped lines, repairing a word hyphenated at the line end.

    The hyphen stays when the document writes the hyphenated form elsewhere ("back-up"); it goes
    when the document or English (wordfreq's frequency lists) knows the joined word."""
    if _HYPHEN_END.search(left) and right[:1].isalpha() and right[:1].islower():
        head = re.search(r"([A-Za-z]+)-$", left).group(1)
        tail = re.match(r"[A-Za-z]+", right)
        if tail:
            joined = (head + tail.group(0)).lower()
            if f"{head}-{tail.group(0)}".lower() not in vocabulary and (
                    joined in vocabulary or is_english_word(joined)):
                return left[:-1] + right
        return left + right
    return f"{left} {right}"


def is_english_word(word: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= 2.0


def build_flow(pages: list[PageContent], body: BodyStyle, outline: dict[str, int],
               vocabulary: set[str]) -> list[Heading | Unit | object]:
    """Walk lines in reading order, page after page, into headings, units and tables."""
    levels = heading_levels(pages, body.size)
    pitch = body.pitch
    items: list[Heading | Unit | object] = []
    state = _Walker(items, vocabulary)
    for page in pages:
        tables = sorted(page.tables, key=lambda t: t.top)
        prev: Line | None = None
        for line in page.lines:
            while tables and tables[0].top < line.top:
                state.close()
                items.append(tables.pop(0))
            gap = line.top - prev.top if prev and prev.column == line.column else pitch * 2
            if state.continues_heading(line, gap):
                state.heading(line, state.last_heading.level, gap)
            elif is_heading(line, body, levels, outline, gap):
                level = levels.get(round(line.size, 1), len(levels) + 1)
                state.heading(line, level, gap)
            else:
                state.line(line, gap, pitch, new_page=prev is None)
            prev = line
        for table in tables:
            state.close()
            items.append(table)
    state.close()
    return items


class _Walker:
    """The state of the walk: the unit being built and the paragraph inside it."""

    def __init__(self, items: list, vocabulary: set[str]) -> None:
        self.items = items
        self.vocabulary = vocabulary
        self.unit: Unit | None = None
        self.last_heading: Heading | None = None
        self.bullet_x: float | None = None

    def close(self) -> None:
        if self.unit is not None:
            self.items.append(self.unit)
        self.unit = None
        self.bullet_x = None

    def heading(self, line: Line, level: int, gap: float) -> None:
        last = self.last_heading
        if (self.unit is None and last is not None and last is self.items[-1:][0]
                and last.page == line.page and gap < line.size * 1.7 and level == last.level):
            last.text = f"{last.text} {line.text}"  # a heading set over two lines
            return
        self.close()
        self.last_heading = Heading(line.text, level, line.page, line.size, line.font)
        self.items.append(self.last_heading)

    def continues_heading(self, line: Line, gap: float) -> bool:
        """The next line of a heading set over two lines, in the heading's own font, right under it
        (it may start in lower case: "Why the committee made the recommendations on / assessing ...")."""
        last = self.last_heading
        if self.unit is not None or last is None or self.items[-1:] != [last] or not last.size:
            return False
        same_look = abs(line.size - last.size) < 0.3 and line.font == last.font
        return (same_look and last.page == line.page and gap < line.size * 1.7
                and line.gap <= COLUMN_GAP * line.size
                and not _SYMBOL_BULLET.match(line.text) and not line.text.rstrip().endswith("."))
    def line(self, line: Line, gap: float, pitch: float, new_page: bool) -> None:
        """Continue the current paragraph, open a list item, or start a new unit."""
        text = line.text.strip()
        unit = self.unit
        if unit is None:
            self._start(line, text)
            return
        current = unit.parts[-1]
        ended = bool(SENTENCE_END.search(current))
        if YEAR_TAG.match(text):
            unit.parts[-1] = f"{current} {text}"
        elif (REC_NUMBER.match(text) or REC_MARK.match(text)) and (ended or new_page or gap > pitch * 1.35):
            self.close()
            self._start(line, text)
        elif self._is_item(text):
            unit.parts.append("- " + BULLET.sub("", text, count=1))
            self.bullet_x = line.x0
        elif self._leaves_list(current, line) or (ended and self._breaks(line, gap, pitch, new_page)):
            if current.endswith(":"):
                unit.parts.append(text)
            else:
                self.close()
                self._start(line, text)
                return
        else:
            unit.parts[-1] = join_lines(current, text, self.vocabulary)
        unit.end_page = line.page

    def _leaves_list(self, current: str, line: Line) -> bool:
        """A line back at the margin after a list item: the list has ended."""
        return current.startswith("- ") and self.bullet_x is not None and line.x0 < self.bullet_x - 2

    def _breaks(self, line: Line, gap: float, pitch: float, new_page: bool) -> bool:
        """After a finished sentence: does this line start a new paragraph?"""
        if new_page or gap > pitch * 1.35:
            return True
        return self.bullet_x is not None and line.x0 < self.bullet_x - 2

    def _is_item(self, text: str) -> bool:
        match = BULLET.match(text)
        return bool(match) and not REC_NUMBER.match(text) and len(text) > len(match.group(0)) + 1

    def _start(self, line: Line, text: str) -> None:
        hint = "recommendation" if REC_NUMBER.match(text) or REC_MARK.match(text) else ""
        text = REC_MARK.sub("", text, count=1)
        if self._is_item(text):
            self.unit = Unit(["- " + BULLET.sub("", text, count=1)], line.page, line.page, hint)
            self.bullet_x = line.x0
        else:
            self.unit = Unit([text], line.page, line.page, hint)
