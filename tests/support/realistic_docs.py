"""Generated PDFs with the layout traits of real NICE, SIGN and NHS trust guidance, for CI.

Real guideline PDFs cannot be committed, so these generators draw invented documents (fpdf2, core
Helvetica only) that reproduce what makes real files hard to parse: a vector-heavy cover, an empty
/Title, running headers and footers, dotted contents, hanging-indent numbered recommendations that
wrap across page breaks, line-end hyphenation, superscripts glued to the text ("5×109/L",
"placebo.1++"), ruled tables with merged cells, a two-column section, printed page labels that differ
from physical pages, and short last lines of paragraphs that look like headings.

Every text is invented and every document is labelled TEST DOCUMENT on its first page. Each public
function writes one PDF and returns a `DocumentTruth` saying what a correct parser should find.
Layout runs twice: the first pass finds where the headings and the last page fall, the second draws
the contents page and "Page N of M" with those numbers (nothing else moves between the passes).

    python -m tests.support.realistic_docs OUTDIR    # writes all three PDFs into OUTDIR
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

BULLET = "\u2022"          # what text extraction gives for the drawn bullet
_BULLET_GLYPH = chr(149)   # WinAnsi code 0x95: the bullet glyph in the core fonts (latin-1 only)
_PT = 25.4 / 72            # millimetres per point
_SUP = 0.62                # superscript size as a fraction of the body size
_SHY = "\xad"              # soft hyphen: a place the wrapper may break a word with "-"
_CREATED = datetime(2024, 11, 1, tzinfo=timezone.utc)  # fixed, so output is reproducible


@dataclass
class DocumentTruth:
    """What a correct parser should find in one generated PDF (strings exactly as printed).

    `recommendations` are whole numbered (NICE) or R-marked (SIGN) recommendations, joined into one
    line with single spaces, de-hyphenated, bullets kept as "• item", year tag included.
    `dose_rows` holds one (drug, age band or "", dose) per table body row, the drug repeated on
    rows where its cell is merged. `printed_pages` maps physical 1-based page -> printed label and
    omits pages that print none. `headings` are the document's section headings; `subheadings` are
    bold body-size labels a parser may or may not treat as headings; `fragment_lines` (short
    last lines of paragraphs) and `decoy_lines` (numbered or short body lines, such as "1 Key
    research recommendation ..." or a reference's first line) are body-font lines that must never
    become headings.
    """

    title: str
    publisher: str
    code: str | None
    published: str | None
    last_updated: str | None
    review_date: str | None
    url: str | None
    headings: list[str]
    recommendations: list[str]
    dose_rows: list[tuple[str, str, str]]
    fragment_lines: list[str]
    printed_pages: dict[int, str]
    pages: int
    metadata_title: str | None = None
    running_header: str | None = None
    footer_text: str | None = None
    bookmarks: list[tuple[int, str]] = field(default_factory=list)
    contents: list[tuple[str, str]] = field(default_factory=list)
    subheadings: list[str] = field(default_factory=list)
    decoy_lines: list[str] = field(default_factory=list)
    hyphenations: list[tuple[str, str]] = field(default_factory=list)
    page_crossing: list[tuple[str, int]] = field(default_factory=list)
    glued_grades: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    dose_header: tuple[str, ...] = ()
    dose_table_page: int | None = None
    version_rows: list[tuple[str, str]] = field(default_factory=list)
    column_page: int | None = None
    columns: tuple[str, str] | None = None
    cover_drawings: int = 0


# --------------------------------------------------------------------------- text and wrapping

@dataclass(frozen=True)
class _Run:
    text: str
    style: str = ""  # "" regular, "B" bold, "S" superscript, "N" forced line break


_Word = tuple[_Run, ...]
_Line = list[_Word]
_MARKUP = re.compile(r"\*\*(.+?)\*\*|\^\{(.+?)\}|([^*^]+)")


def _runs(markup: str, bold: bool) -> list[_Run]:
    """Markup: **bold**, ^{superscript}, "\\n" forced break, soft hyphens for break points."""
    runs = []
    for match in _MARKUP.finditer(markup):
        if match.group(1) is not None:
            runs.append(_Run(match.group(1), "B"))
        elif match.group(2) is not None:
            runs.append(_Run(match.group(2), "S"))
        else:
            runs.append(_Run(match.group(3), "B" if bold else ""))
    return runs


def _words(markup: str, bold: bool = False) -> list[_Word]:
    words: list[list[_Run]] = [[]]
    for run in _runs(markup, bold):
        if run.style == "S":
            words[-1].append(run)
            continue
        for piece in re.split(r"( |\n)", run.text):
            if piece == " ":
                words.append([])
            elif piece == "\n":
                words.extend([[_Run("\n", "N")], []])
            elif piece:
                words[-1].append(_Run(piece, run.style))
    return [tuple(word) for word in words if word]


def _plain(markup: str) -> str:
    """The text a correct extractor gives for `markup`, on one line with single spaces."""
    text = re.sub(r"\*\*(.+?)\*\*|\^\{(.+?)\}", lambda m: m.group(1) or m.group(2), markup)
    return " ".join(text.replace(_SHY, "").split())


def _font(pdf: FPDF, style: str, size: float) -> None:
    pdf.set_font("Helvetica", "B" if style == "B" else "", size * _SUP if style == "S" else size)


def _glyphs(text: str) -> str:
    return text.replace(_SHY, "").replace(BULLET, _BULLET_GLYPH)


def _width(pdf: FPDF, word: _Word, size: float) -> float:
    total = 0.0
    for run in word:
        _font(pdf, run.style, size)
        total += pdf.get_string_width(_glyphs(run.text))
    return total


def _hyphenate(pdf: FPDF, word: _Word, room: float, size: float) -> tuple[_Word, _Word] | None:
    """Split a plain word at its last soft hyphen whose head (with "-") fits in `room`."""
    if len(word) != 1 or word[0].style != "" or _SHY not in word[0].text:
        return None
    text = word[0].text
    for i in reversed([i for i, char in enumerate(text) if char == _SHY]):
        head = (_Run(text[:i].replace(_SHY, "") + "-"),)
        if _width(pdf, head, size) <= room:
            return head, (_Run(text[i + 1:]),)
    return None


def _wrap(pdf: FPDF, words: Sequence[_Word], width: float, size: float) -> list[_Line]:
    """Greedy line filling with soft-hyphen breaks and forced breaks."""
    lines: list[_Line] = []
    line: _Line = []
    used = 0.0
    space = _width(pdf, (_Run(" "),), size)
    queue = list(words)
    while queue:
        word = queue.pop(0)
        if word[0].style == "N":
            if line:
                lines.append(line)
            line, used = [], 0.0
            continue
        gap = space if line else 0.0
        wide = _width(pdf, word, size)
        if not line or used + gap + wide <= width:
            line.append(word)
            used += gap + wide
            continue
        split = _hyphenate(pdf, word, width - used - gap, size)
        if split:
            line.append(split[0])
        queue.insert(0, split[1] if split else word)
        lines.append(line)
        line, used = [], 0.0
    return lines + [line] if line else lines


def _line_text(line: _Line) -> str:
    return " ".join("".join(run.text for run in word) for word in line).replace(_SHY, "")


def _draw(pdf: FPDF, line: _Line, x: float, baseline: float, size: float) -> None:
    """Draw one line as runs of like style; spaces are real space characters."""
    pieces: list[tuple[str, str]] = []
    for i, word in enumerate(line):
        if i:
            pieces.append((" ", pieces[-1][1] if pieces[-1][1] != "S" else ""))
        pieces.extend((run.text, run.style) for run in word)
    merged: list[tuple[str, str]] = []
    for text, style in pieces:
        if merged and merged[-1][1] == style:
            merged[-1] = (merged[-1][0] + text, style)
        else:
            merged.append((text, style))
    for text, style in merged:
        _font(pdf, style, size)
        rise = size * 0.36 * _PT if style == "S" else 0.0
        pdf.text(x, baseline - rise, _glyphs(text))
        x += pdf.get_string_width(_glyphs(text))


def _block(pdf: FPDF, markup: str, x: float, y: float, width: float, size: float,
           leading: float, bold: bool = False) -> float:
    """Draw a wrapped block at a fixed place (no page breaks); returns the y below it."""
    for line in _wrap(pdf, _words(markup, bold), width, size):
        _draw(pdf, line, x, y + leading * 0.72, size)
        y += leading
    return y


def _soften(markup: str, points: dict[str, str]) -> str:
    """Insert soft hyphens into the words listed in `points` (word -> word with soft hyphens)."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, points)) + r")\b")
    return pattern.sub(lambda m: points[m.group(1)], markup)


# --------------------------------------------------------------------------- pages and flow

class _Pdf(FPDF):
    """An FPDF whose header and footer are drawn by a `decorate(pdf, "header"|"footer")` hook."""

    def __init__(self, decorate: Callable[[_Pdf, str], None], left: float, top: float,
                 right: float) -> None:
        super().__init__(format="A4")
        self.decorate = decorate
        self.set_auto_page_break(False)
        self.set_margins(left, top, right)
        self.set_creation_date(_CREATED)

    def header(self) -> None:
        self.decorate(self, "header")
        self.set_y(self.t_margin)

    def footer(self) -> None:
        self.decorate(self, "footer")


class _Flow:
    """Places wrapped lines down the page, turning pages, and records what a parser should see."""

    def __init__(self, pdf: _Pdf, size: float, leading: float, bottom: float) -> None:
        self.pdf, self.size, self.leading, self.bottom = pdf, size, leading, bottom
        self.left, self.width = pdf.l_margin, pdf.epw
        self.headings: list[tuple[int, str, int]] = []
        self.subheadings: list[str] = []
        self.hyphenations: list[tuple[str, str]] = []
        self.fragments: list[str] = []
        self.decoys: list[str] = []

    def ensure(self, height: float) -> None:
        if self.pdf.y + height > self.bottom:
            self.pdf.add_page()

    def space(self, height: float) -> None:
        self.pdf.set_y(self.pdf.y + height)

    def place(self, lines: list[_Line], x: float, size: float | None = None,
              leading: float | None = None, label: tuple[str, float, str] | None = None) -> list[int]:
        """Draw `lines` at `x`; `label` is (text, x, style) drawn beside the first line."""
        size, leading = size or self.size, leading or self.leading
        pages = []
        for i, line in enumerate(lines):
            self.ensure(leading)
            baseline = self.pdf.y + leading * 0.72
            if i == 0 and label:
                _draw(self.pdf, [(_Run(label[0], label[2]),)], label[1], baseline, size)
            _draw(self.pdf, line, x, baseline, size)
            self.space(leading)
            pages.append(self.pdf.page)
        for line, after in zip(lines, lines[1:]):
            if line[-1][-1].text.endswith("-"):
                self.hyphenations.append((_line_text([line[-1]]), _line_text([after[0]])))
        return pages

    def paragraph(self, markup: str, indent: float = 0.0, label: tuple[str, float, str] | None = None,
                  bold: bool = False, after: float = 2.6, kind: str = "") -> list[int]:
        """A wrapped paragraph; `kind` records its short last line ("fragment"), its first line
        ("decoy": body text that looks like a heading) or its text ("sub": a bold label)."""
        lines = _wrap(self.pdf, _words(markup, bold), self.width - indent, self.size)
        if kind == "fragment":
            last = _line_text(lines[-1])
            assert len(lines) > 1 and len(last.split()) <= 4, f"not a fragment: {last!r}"
            self.fragments.append(last)
        elif kind == "decoy":
            self.decoys.append(_line_text(lines[0]))
        elif kind == "sub":
            self.subheadings.append(_plain(markup))
        pages = self.place(lines, self.left + indent, label=label)
        self.space(after)
        return pages

    def heading(self, text: str, level: int, size: float, bookmark: bool) -> None:
        """A bold heading kept with the three lines after it; optionally an outline bookmark."""
        leading = size * _PT * 1.45
        self.space(2.0 if level else 3.0)
        self.ensure(leading + 3 * self.leading)
        if bookmark:
            self.pdf.start_section(text, level)
        self.headings.append((level, text, self.pdf.page))
        self.place(_wrap(self.pdf, _words(text, bold=True), self.width, size), self.left,
                   size=size, leading=leading)
        self.space(1.6)


def _bullets(flow: _Flow, items: Sequence[str], indent: float = 0.0) -> list[int]:
    pages: list[int] = []
    for i, item in enumerate(items):
        label = (BULLET, flow.left + indent + 1.0, "")
        pages += flow.paragraph(item, indent=indent + 5.5, label=label,
                                after=2.6 if i == len(items) - 1 else 1.0)
    return pages


def _two_pass(render: Callable[[list[tuple[int, str, int]], int], tuple[_Pdf, _Flow]]
              ) -> tuple[_Pdf, _Flow]:
    """Render once to learn heading pages and page count, then again with them known."""
    pdf, flow = render([], 0)
    first = (pdf.pages_count, [h[1:] for h in flow.headings])
    pdf, flow = render(flow.headings, pdf.pages_count)
    assert (pdf.pages_count, [h[1:] for h in flow.headings]) == first, "layout moved between passes"
    return pdf, flow


def _contents(flow: _Flow, toc: list[tuple[int, str, int]], label: Callable[[int], str],
              size: float) -> list[tuple[str, str]]:
    """A contents list with dotted leaders and printed page labels; returns (entry, label)."""
    pdf, entries = flow.pdf, []
    right = pdf.w - pdf.r_margin
    for level, text, page in toc:
        flow.ensure(size * _PT * 1.8)
        baseline, x = pdf.y + size * _PT, flow.left + 6.0 * level
        number = label(page)
        _font(pdf, "", size)
        pdf.text(x, baseline, text)
        start = x + pdf.get_string_width(text) + 2.0
        stop = right - pdf.get_string_width(" " + number)
        pdf.text(start, baseline, "." * max(3, int((stop - start) / pdf.get_string_width("."))))
        pdf.text(right - pdf.get_string_width(number), baseline, number)
        flow.space(size * _PT * 1.8)
        entries.append((text, number))
    return entries


# --------------------------------------------------------------------------- tables

class _Group(NamedTuple):
    """Rows sharing one first cell (drawn as a single merged cell when it spans rows)."""
    first: str
    rows: list[tuple[str, ...]]


def _cell_lines(pdf: FPDF, markup: str, width: float, size: float, bold: bool) -> list[_Line]:
    return _wrap(pdf, _words(markup, bold), width - 3.6, size)


def _draw_cell(pdf: FPDF, x: float, y: float, w: float, h: float, lines: list[_Line],
               size: float, fill: bool = False) -> None:
    pdf.rect(x, y, w, h, style="DF" if fill else "D")
    for i, line in enumerate(lines):
        _draw(pdf, line, x + 1.8, y + 1.6 + (i + 0.72) * size * _PT * 1.3, size)


def _row_height(pdf: FPDF, cells: Sequence[str], widths: Sequence[float], size: float,
                bold: bool = False) -> float:
    tallest = max(len(_cell_lines(pdf, c, w, size, bold)) for c, w in zip(cells, widths))
    return tallest * size * _PT * 1.3 + 3.2


def _table(flow: _Flow, widths: Sequence[float], groups: Sequence[_Group],
           header: Sequence[str] | None = None, size: float = 9.0) -> int:
    """A ruled table; each group's first cell spans its rows. Returns the page it is on."""
    pdf, x0 = flow.pdf, flow.left
    heights = [[_row_height(pdf, (g.first if i == 0 else "",) + row, widths, size)
                for i, row in enumerate(g.rows)] for g in groups]
    head = _row_height(pdf, header, widths, size, True) if header else 0.0
    flow.ensure(head + sum(map(sum, heights)) + 2)
    pdf.set_draw_color(90, 90, 90)
    pdf.set_line_width(0.3)
    pdf.set_fill_color(222, 230, 238)
    y = pdf.y
    if header:
        for i, (text, w) in enumerate(zip(header, widths)):
            lines = _cell_lines(pdf, text, w, size, True)
            _draw_cell(pdf, x0 + sum(widths[:i]), y, w, head, lines, size, fill=True)
        y += head
    for group, rows_h in zip(groups, heights):
        first = _cell_lines(pdf, group.first, widths[0], size, False)
        _draw_cell(pdf, x0, y, widths[0], sum(rows_h), first, size)
        for row, h in zip(group.rows, rows_h):
            for i, text in enumerate(row, start=1):
                lines = _cell_lines(pdf, text, widths[i], size, False)
                _draw_cell(pdf, x0 + sum(widths[:i]), y, widths[i], h, lines, size)
            y += h
    pdf.set_y(y + 4.0)
    return pdf.page


def _two_columns(flow: _Flow, paragraphs: Sequence[str], gap: float = 8.0) -> tuple[str, str]:
    """Lay paragraphs out in two balanced columns on one page; returns each column's text."""
    pdf, width = flow.pdf, (flow.width - gap) / 2
    lines: list[_Line | None] = []
    for markup in paragraphs:
        lines += _wrap(pdf, _words(markup), width, flow.size) + [None]
    lines = lines[:-1]
    split = (len(lines) + 1) // 2
    split += 1 if lines[split] is None else 0
    columns = (lines[:split], lines[split:])
    flow.ensure(len(columns[0]) * flow.leading)
    top = pdf.y
    for column, x in zip(columns, (flow.left, flow.left + width + gap)):
        pdf.set_y(top)
        for line in column:
            if line:
                _draw(pdf, line, x, pdf.y + flow.leading * 0.72, flow.size)
            flow.space(flow.leading if line else flow.leading * 0.5)
    pdf.set_y(top + max(sum(flow.leading if ln else flow.leading * 0.5 for ln in c)
                        for c in columns) + 3.0)
    texts = [" ".join(_line_text(ln) for ln in c if ln) for c in columns]
    return texts[0], texts[1]


def _finish(pdf: FPDF, path: Path, metadata: dict[str, str]) -> None:
    """Write the PDF, then set Info entries fpdf2 cannot (such as an empty /Title)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(pdf.output()))))
    writer.add_metadata(metadata)
    with path.open("wb") as handle:
        writer.write(handle)


# --------------------------------------------------------------------------- NICE-style content

NICE_TITLE = "Fictional fever: assessment and management"
NICE_HEADER = f"{NICE_TITLE} (NG999)"
NICE_FOOTER = "\u00a9 TEST 2025. All rights reserved. Subject to Notice of rights."
NICE_PUBLISHER = "National Institute for Health and Care Excellence"
_SOFT = {w.replace("|", ""): w.replace("|", _SHY) for w in """
    manage|ment assess|ment assess|ments anti|biotic anti|biotics temper|ature investi|gations
    immuno|compromised profes|sionals recom|mendations recom|mendation infor|mation second|ary
    micro|biological differ|ential symp|toms deterior|ation prescrib|ing propor|tionate
    commis|sioners commit|tee calib|rated instruc|tions hyper|sensitivity inter|actions
    anti|coagulant paedia|tric conscious|ness dis|tressed respira|tory satur|ation capil|lary
    electron|ic thermo|meter accept|able altern|ative progress|ing confu|sion diagno|sis
    struc|tured tem|plate partic|ularly infec|tion infec|tions special|ist guide|line
    popu|lation experi|ence evi|dence unneces|sary seri|ously treat|ment appoint|ment
    con|firmed medi|cines medi|cine contin|uing informa|tion avail|able consul|tation
    deci|sions discus|sions reassess|ment fami|lies out|comes pres|entation
    """.split()}


class _Rec(NamedTuple):
    number: str
    text: str
    bullets: tuple[str, ...] = ()
    kind: str = ""


class _Para(NamedTuple):
    text: str
    kind: str = ""


_NICE_OVERVIEW = (
    "This guideline covers the recognition, initial clinical assessment, investigation and the "
    "safe management of fictional fever in babies, children, young people and adults. It aims to help healthcare professionals recognise the illness "
    "early, choose proportionate investigations and avoid unnecessary antibiotic prescribing, "
    "while making sure that the small number of people who become seriously unwell are referred "
    "without delay.",
    "It is for healthcare professionals in primary, community and secondary care, for "
    "commissioners planning local fever services, and for people with fictional fever and their "
    "families and carers.",
    "This is a TEST DOCUMENT written for automated software tests. Fictional fever is an invented "
    "illness and the medicines named in it do not exist. Nothing in this document is clinical "
    "advice and none of it is taken from a real guideline.",
)

_NICE_INTRO = (
    "People have the right to be involved in discussions and make informed decisions about "
    "their care. The wording used in the recommendations in this guideline shows the strength "
    "of each recommendation, and the terms section explains the words that have a specific "
    "meaning here.")

_NICE_DIAGNOSIS = (
    _Rec("1.1.1", "Suspect fictional fever in a person who has had a temperature of 38\u00b0C or "
     "higher for more than 48 hours together with a pale, lace-like rash on the forearms. Do "
     "not rule out the diagnosis because the rash has faded by the time of the assessment. "
     "[2019]"),
    _Rec("1.1.2", "Measure body temperature, heart rate, respiratory rate, oxygen saturation and "
     "capillary refill time at every face-to-face assessment, and record the results in the "
     "structured template for each of:",
     ("people who have a new rash and a temperature above 38\u00b0C",
      "people who have been in close contact with a confirmed case in the past 10 days",
      "people who are immunocompromised, including those taking long-term oral "
      "corticosteroids. [2019, amended 2023]"), "fragment"),
    _Rec("1.1.3", "Use an electronic thermometer in the axilla to measure temperature in babies "
     "under 4 weeks. For older children and adults, an infrared tympanic thermometer is an "
     "acceptable alternative if it has been calibrated in line with the maker's instructions. "
     "[2019]"),
    _Rec("1.1.4", "Offer a full blood count to people with suspected fictional fever who have any "
     "amber or red feature. Regard a total white cell count below 5\u00d710^{9}/L in an adult as "
     "a sign that the infection may be progressing, and repeat the count within 24 hours. "
     "[2019, amended 2023]"),
    _Rec("1.1.5", "Be aware that older adults with fictional fever may not develop a high "
     "temperature. Assess them for new confusion, reduced mobility, poor oral intake or a "
     "recent fall, and do not rely on a normal temperature to exclude the diagnosis. [2019]"),
    _Rec("1.1.6", "Reassess a child with fictional fever within 24 hours if their parents or carers "
     "report that the rash is spreading, that the child is feeding less than half their usual "
     "amount, or that the child has not passed urine for 12 hours. Give clear safety-netting "
     "advice both verbally and in writing at every contact, and check that the family knows "
     "how to get help out of hours. [2019, amended 2023]"),
    _Rec("1.1.7", "Do not routinely offer chest X-ray, blood cultures or lumbar puncture to people "
     "with fictional fever who have only green features. Consider these investigations if the "
     "person's condition changes, if a new focus of infection appears or if symptoms last "
     "longer than 7 days. [2019]"),
    _Rec("1.1.8", "Take a travel history from everyone with suspected fictional fever. If the "
     "person has returned from an area where other causes of fever and rash are common, "
     "consider a differential diagnosis and discuss the investigations with the local "
     "infection service before starting any treatment. [2023]"),
    _Rec("1.1.9", "Record the features present at each assessment using the same structured "
     "template, so that changes can be compared over time by different members of the team. "
     "[2019]"),
)

_NICE_TREATMENT = (
    _Rec("1.2.1", "Offer an antipyretic only if the person is distressed by the fever. Do not give "
     "antipyretics with the sole aim of reducing body temperature or preventing febrile "
     "seizures. [2019]"),
    _Rec("1.2.2", "Do not give 2 antipyretic medicines at the same time. Consider switching to the "
     "alternative medicine only if distress persists or comes back before the next dose is "
     "due. [2019]"),
    _Rec("1.2.3", "Offer oral Imaginacillin as the first-choice antibiotic for people with "
     "fictional fever and any red feature, using the doses in table 1. Give the first dose "
     "before transfer if referral to secondary care is likely to take more than 1 hour. "
     "[2019, amended 2023]"),
    _Rec("1.2.4", "Offer Fictomycin instead of Imaginacillin for people with a history of "
     "immediate hypersensitivity to penicillins. Check the person's current medicines for "
     "interactions before prescribing, particularly if they take an anticoagulant. [2019]"),
    _Rec("1.2.5", "Review antibiotic treatment after 48 hours, taking into account the person's "
     "clinical progress and any microbiological results. Stop the antibiotic if an infection "
     "other than fictional fever has been confirmed and treat that infection instead. [2023]"),
    _Rec("1.2.6", "Consider Placebrol for symptom management in adults whose joint pain limits "
     "their daily activities, and explain that it does not shorten the illness. [2019]"),
)

_NICE_REFERRAL = (
    _Rec("1.3.1", "Refer people with fictional fever immediately for emergency care if they have "
     "any red feature, including a non-blanching rash, reduced consciousness or signs of "
     "shock. [2019]"),
    _Rec("1.3.2", "Refer babies under 3 months with a temperature of 38\u00b0C or higher for "
     "assessment by a paediatric specialist on the same day, even if they appear well. [2019]"),
    _Rec("1.3.3", "Discuss with a specialist in infectious diseases before referring a person who "
     "is pregnant, because the medicines in table 1 have not been studied in pregnancy. "
     "[2019, amended 2023]"),
    _Rec("1.3.4", "When referring a person, send a summary of the assessments so far, the "
     "medicines given with times and doses, and the safety-netting advice that the person or "
     "their carer has received. [2019]"),
)

_NICE_SUPPORT = (
    _Rec("1.4.1", "Explain to people with fictional fever, and to their families and carers, that "
     "the illness usually settles within 7 to 10 days without any treatment, and that the rash "
     "can take up to 3 weeks to fade completely. [2019]"),
    _Rec("1.4.2", "Advise parents and carers to offer regular drinks to a child with fictional "
     "fever, to check the child during the night, and to keep the child away from nursery or "
     "school until the temperature has been normal for 24 hours. [2019, amended 2023]"),
    _Rec("1.4.3", "Give people written information in a format that suits their needs, including "
     "easy read and translated versions where available, and tell them which signs should "
     "make them seek help again. [2023]"),
    _Rec("1.4.4", "Offer a follow-up appointment to anyone who still has a raised temperature "
     "after 7 days, or who has new symptoms such as joint swelling, persistent tiredness or "
     "a cough that is getting worse. [2019]"),
)

_NICE_CONTEXT = (
    "Fictional fever is an invented illness described only for this TEST DOCUMENT. In the "
    "scenario used here it is most common in late winter, it spreads between people who share "
    "a household, and it affects children under 5 more often than older age groups.",
    "Most people recover fully with simple care at home. A small number become seriously unwell, "
    "usually within the first 3 days, and the main aim of this guideline is to help clinicians "
    "recognise that group early while avoiding tests and antibiotics for everyone else.",
    "Before this guideline was written, practice varied between services. Some offered blood "
    "tests to every child with a rash, while others relied on telephone review alone. The "
    "committee hoped that a shared set of features and a structured template would make "
    "decisions more consistent and easier to explain to families.",
    "The committee also noted that people who are pregnant, people who are immunocompromised "
    "and very young babies were under-represented in the evidence, and it made recommendations "
    "for research to fill those gaps.",
)

NICE_DOSE_HEADER = ("Treatment", "Age band", "Dose and frequency", "Duration")
_NICE_DOSES = (
    _Group("Imaginacillin\n(first choice)", [
        ("1 to 11 months", "125 mg three times a day", "5 days"),
        ("1 to 4 years", "250 mg three times a day", "5 days"),
        ("5 to 17 years", "500 mg three times a day", "5 days"),
        ("18 years and over", "500 mg three times a day, increased to 1 g three times a day "
         "if severe", "5 to 7 days")]),
    _Group("Fictomycin", [
        ("1 to 11 months", "62.5 mg twice a day", "5 days"),
        ("1 to 4 years", "125 mg twice a day", "5 days"),
        ("5 to 17 years", "250 mg twice a day", "5 days")]),
    _Group("Placebrol", [
        ("Under 12 years", "5 mg/kg once a day (maximum 200 mg a day)", "3 days"),
        ("12 years and over", "400 mg once a day", "3 days")]),
)

_NICE_TERMS = (
    "**Amber feature** A sign that does not on its own need emergency care but means that the "
    "person should be assessed again by a clinician on the same day.",
    "**Capillary refill time** The time taken for colour to return to an area of skin after it "
    "has been pressed for 5 seconds. In this guideline, 3 seconds or more counts as prolonged.",
    "**Close contact** Someone who has shared a household, a classroom or a care setting with a "
    "person with confirmed fictional fever for at least 4 hours in a single day.",
    "**Fictional fever** An invented infection used only in this test document. It causes a raised "
    "temperature and a pale, lace-like rash, and it has no real-world equivalent.",
    "**Green feature** A sign that suggests a low risk of serious illness, such as normal colour, "
    "a normal cry in a baby and a response to social cues.",
    "**Red feature** A sign that suggests a high risk of serious illness and needs emergency "
    "assessment, such as a non-blanching rash or a weak, high-pitched cry.",
    "**Safety-netting** Advice about which symptoms should prompt a person or their carer to seek "
    "help again, how to get that help, and how soon to get it.",
    "**Structured template** A standard record that lists the same observations in the same order "
    "at every contact, so that trends are easy to see.",
)

_NICE_RESEARCH = (
    ("1 Key research recommendation on rapid testing",
     "What is the accuracy of a fingerprick point-of-care test for fictional fever, compared with "
     "laboratory culture, in children under 5 years who present to primary care?"),
    ("2 Key research recommendation on antipyretic timing",
     "Does giving an antipyretic at a fixed time each evening, rather than only when the child is "
     "distressed, improve sleep for children with fictional fever and for their carers?"),
    ("3 Key research recommendation on long-term outcomes",
     "How common is persistent tiredness in the 6 months after fictional fever, and which "
     "features at presentation predict it?"),
)

_NICE_RATIONALE = (
    ("Recommendations 1.1.1 to 1.1.9", (
        _Para("The committee agreed that the combination of a raised temperature for 48 hours "
              "and the typical rash was the most useful early sign, because both were reported "
              "in almost all of the case series it reviewed. It noted that the existing scoring "
              "tools had been developed in other countries, mostly in hospital settings with "
              "older patients, and that none of those scoring tools had ever been formally "
              "tested or validated in a UK population.", "fragment"),
        _Para("The committee was aware that older adults often have a blunted temperature "
              "response and agreed to highlight other signs of deterioration, based on its "
              "experience rather than on published evidence."),
    ), "The recommendations reflect current practice in most services, so the committee did not "
       "expect a large change in resource use."),
    ("Recommendations 1.2.1 to 1.2.6", (
        _Para("The committee agreed that antibiotics should be kept for people with red "
              "features, because the evidence showed little benefit for people with only green "
              "or amber features. It chose doses that match those already used for similar "
              "infections. The medicines have not been studied in people who are pregnant, and "
              "the committee agreed that specialist advice should be sought before using them "
              "in pregnancy.", "fragment"),
    ), "Some services may prescribe fewer antibiotics, which the committee expected to reduce "
       "costs and side effects."),
    ("Recommendations 1.3.1 to 1.4.4", (
        _Para("The committee agreed that babies under 3 months should always be assessed by a "
              "specialist, because serious illness in this group can look mild at first. It "
              "also agreed that families need clear advice about when to seek help again, "
              "because most deterioration happens at home and outside normal working hours.",
              "fragment"),
        _Para("Written information was recommended because people who took part in the "
              "committee's discussions said that they forgot much of what they had been told "
              "during a stressful consultation."),
    ), "Services that do not already give written safety-netting advice may need to produce "
       "it, but the committee expected the cost of this to be small."),
)

_NICE_MORE = (
    "To find out what this fictional institute has said on topics related to this guideline, see "
    "the invented topic page on fever and infection.",
    "For full details of the evidence and the guideline committee's discussions, see the evidence "
    "reviews. You can also find information about how the guideline was developed, including "
    "details of the committee.",
    "This TEST DOCUMENT was generated for software tests. It contains no real guidance, and any "
    "resemblance to a published guideline is limited to its layout.",
)

_NICE_UPDATES = (
    "November 2023: We reviewed the evidence on blood tests and on first-choice antibiotics. "
    "Recommendations marked [2019, amended 2023] have been changed without a new evidence review, "
    "usually to make the wording clearer or to match the updated dosing table.",
    "Recommendations marked [2019] last had an evidence review in 2019. In some cases minor "
    "changes have been made to the wording to bring the language and style up to date, without "
    "changing the meaning.",
    "Recommendations marked [2023] are new and are based on the 2023 evidence reviews. The "
    "committee also removed an earlier recommendation on routine throat swabs, because the new "
    "evidence showed that they rarely changed management.",
)


# --------------------------------------------------------------------------- NICE-style layout

def _nice_decorate(total: int) -> Callable[[_Pdf, str], None]:
    def decorate(pdf: _Pdf, where: str) -> None:
        if pdf.page == 1:
            return
        pdf.set_text_color(70, 70, 70)
        _font(pdf, "", 8.5)
        if where == "header":
            pdf.text(pdf.l_margin, 13.0, NICE_HEADER)
            pdf.set_draw_color(150, 150, 150)
            pdf.line(pdf.l_margin, 15.5, pdf.w - pdf.r_margin, 15.5)
        else:
            pdf.text(pdf.l_margin, 287.0, NICE_FOOTER)
            page = f"Page {pdf.page} of {total}"
            pdf.text(pdf.w - pdf.r_margin - pdf.get_string_width(page), 287.0, page)
        pdf.set_text_color(0, 0, 0)
    return decorate


def _cover_graphics(pdf: FPDF) -> int:
    """A mosaic band, a hatched band and dots: hundreds of small vector objects."""
    count = 0
    for row in range(12):
        for col in range(21):
            tone = (row * 7 + col * 11) % 5
            pdf.set_fill_color(40 + tone * 35, 90 + tone * 25, 140 + tone * 20)
            pdf.rect(12.0 + col * 9.0, 14.0 + row * 5.0, 7.4, 3.8, style="F")
            count += 1
    pdf.set_draw_color(120, 160, 190)
    pdf.set_line_width(0.4)
    for i in range(48):
        pdf.line(12.0 + i * 4.0, 232.0, 22.0 + i * 4.0, 262.0)
        count += 1
    pdf.set_fill_color(230, 120, 60)
    for i in range(36):
        pdf.circle(15.0 + (i % 18) * 10.5, 270.0 + (i // 18) * 8.0, 1.6 + (i % 3) * 0.5, style="F")
        count += 1
    pdf.set_fill_color(255, 255, 255)
    return count


def _nice_cover(pdf: _Pdf) -> int:
    count = _cover_graphics(pdf)
    y = _block(pdf, NICE_TITLE, 20.0, 92.0, 170.0, 30.0, 13.0, bold=True)
    y = _block(pdf, "NICE-style guideline NG999 TEST DOCUMENT", 20.0, y + 8.0, 170.0, 13.0, 7.0)
    y = _block(pdf, "Published: 28 August 2019 Last updated: 21 November 2023", 20.0, y + 4.0,
               170.0, 10.5, 6.0)
    _block(pdf, "www.example.org/guidance/ng999", 20.0, y + 2.0, 170.0, 10.5, 6.0)
    return count


def _recommendations(flow: _Flow, recs: Sequence[_Rec], crossing: list[tuple[str, int]]
                     ) -> list[str]:
    texts = []
    for rec in recs:
        label = (rec.number, flow.left, "")
        pages = flow.paragraph(_soften(rec.text, _SOFT), indent=13.0, label=label,
                               kind=rec.kind, after=1.2 if rec.bullets else 2.6)
        pages += _bullets(flow, [_soften(b, _SOFT) for b in rec.bullets], indent=13.0)
        if len(set(pages)) > 1:
            crossing.append((rec.number, pages[0]))
        texts.append(" ".join([rec.number, _plain(rec.text)]
                              + [f"{BULLET} {_plain(b)}" for b in rec.bullets]))
    return texts


@dataclass
class _NiceFacts:
    """What the NICE-style layout learns while drawing, for its truth."""
    cover: int = 0
    contents: list[tuple[str, str]] = field(default_factory=list)
    recs: list[str] = field(default_factory=list)
    crossing: list[tuple[str, int]] = field(default_factory=list)
    table_page: int = 0
    column_page: int = 0
    columns: tuple[str, str] = ("", "")


def _nice_recommendation_sections(flow: _Flow, facts: _NiceFacts, sizes: tuple[float, float]
                                  ) -> None:
    flow.pdf.add_page()
    flow.heading("Overview", 0, sizes[0], True)
    for text in _NICE_OVERVIEW:
        flow.paragraph(_soften(text, _SOFT))
    flow.pdf.add_page()
    flow.heading("1 Recommendations", 0, sizes[0], True)
    flow.paragraph(_soften(_NICE_INTRO, _SOFT))
    for title, block in (("1.1 Diagnosis", _NICE_DIAGNOSIS), ("1.2 Treatment", _NICE_TREATMENT),
                         ("1.3 Referral", _NICE_REFERRAL),
                         ("1.4 Information and support", _NICE_SUPPORT)):
        flow.heading(title, 1, sizes[1], True)
        if block is _NICE_TREATMENT:
            flow.paragraph("Table 1 Antibiotic doses for fictional fever", bold=True, kind="sub")
            facts.table_page = _table(flow, (38.0, 34.0, 68.0, 30.0), _NICE_DOSES,
                                      NICE_DOSE_HEADER)
        facts.recs += _recommendations(flow, block, facts.crossing)


def _nice_terms_and_research(flow: _Flow, facts: _NiceFacts, size: float) -> None:
    flow.pdf.add_page()
    flow.heading("Terms used in this guideline", 0, size, True)
    flow.paragraph("This section defines terms that have been used in a particular way for this "
                   "guideline.")
    facts.column_page = flow.pdf.page
    facts.columns = _two_columns(flow, _NICE_TERMS)
    flow.pdf.add_page()
    flow.heading("Recommendations for research", 0, size, True)
    flow.paragraph("The guideline committee has made the following key recommendations for "
                   "research.")
    for lead, question in _NICE_RESEARCH:
        flow.paragraph(lead, after=1.0, kind="decoy")
        flow.paragraph(_soften(question, _SOFT))


def _nice_closing_sections(flow: _Flow, size: float) -> None:
    flow.pdf.add_page()
    flow.heading("Rationale and impact", 0, size, True)
    _nice_rationale(flow)
    for title, texts in (("Context", _NICE_CONTEXT), ("Finding more information", _NICE_MORE),
                         ("Update information", _NICE_UPDATES)):
        if title != "Update information":
            flow.pdf.add_page()
        flow.heading(title, 0, size, True)
        for text in texts:
            flow.paragraph(_soften(text, _SOFT))
        if title == "Finding more information":
            flow.paragraph("Return to recommendations", kind="decoy")


def _nice_rationale(flow: _Flow) -> None:
    flow.paragraph("These sections briefly explain why the committee made the recommendations and "
                   "how they might affect practice.")
    for label, paragraphs, impact in _NICE_RATIONALE:
        flow.paragraph(label, bold=True, kind="sub", after=1.4)
        flow.paragraph("Why the committee made the recommendations", bold=True, kind="sub",
                       after=1.4)
        for para in paragraphs:
            flow.paragraph(_soften(para.text, _SOFT), kind=para.kind)
        flow.paragraph("How the recommendations might affect practice", bold=True, kind="sub",
                       after=1.4)
        flow.paragraph(_soften(impact, _SOFT))
        flow.paragraph("Return to recommendations", kind="decoy", after=5.0)


def _nice_render(toc: list[tuple[int, str, int]], total: int) -> tuple[_Pdf, _Flow, _NiceFacts]:
    pdf = _Pdf(_nice_decorate(total), left=20.0, top=22.0, right=20.0)
    pdf.set_author(NICE_PUBLISHER)
    flow = _Flow(pdf, size=10.5, leading=5.6, bottom=276.0)
    pdf.add_page()
    facts = _NiceFacts(cover=_nice_cover(pdf))
    pdf.add_page()
    flow.space(2.0)
    _font(pdf, "B", 18.0)
    pdf.text(flow.left, pdf.y + 6.0, "Contents")
    flow.space(14.0)
    facts.contents = _contents(flow, toc, str, 10.5)
    _nice_recommendation_sections(flow, facts, (17.0, 13.5))
    _nice_terms_and_research(flow, facts, 17.0)
    _nice_closing_sections(flow, 17.0)
    return pdf, flow, facts


def nice_style_guideline(path: Path) -> DocumentTruth:
    """A 12-page NICE-like guideline (graphics cover, contents, bookmarks, table, two columns)."""
    held: dict[str, _NiceFacts] = {}

    def render(toc: list[tuple[int, str, int]], total: int) -> tuple[_Pdf, _Flow]:
        pdf, flow, held["facts"] = _nice_render(toc, total)
        return pdf, flow

    pdf, flow = _two_pass(render)
    facts = held["facts"]
    _finish(pdf, path, {"/Title": "", "/Author": NICE_PUBLISHER})
    assert facts.crossing and ("manage-", "ment") in flow.hyphenations, "layout lost a trait"
    return DocumentTruth(
        title=NICE_TITLE, publisher=NICE_PUBLISHER, code="NG999", published="28 August 2019",
        last_updated="21 November 2023", review_date=None, url="www.example.org/guidance/ng999",
        headings=[h[1] for h in flow.headings], recommendations=facts.recs,
        dose_rows=_dose_rows(_NICE_DOSES), fragment_lines=flow.fragments,
        printed_pages={p: str(p) for p in range(2, pdf.pages_count + 1)}, pages=pdf.pages_count,
        metadata_title="", running_header=NICE_HEADER, footer_text=NICE_FOOTER,
        bookmarks=[(h[0], h[1]) for h in flow.headings], contents=facts.contents,
        subheadings=flow.subheadings, decoy_lines=flow.decoys, hyphenations=flow.hyphenations,
        page_crossing=facts.crossing, terms=[t.split("**")[1] for t in _NICE_TERMS],
        dose_header=NICE_DOSE_HEADER, dose_table_page=facts.table_page,
        column_page=facts.column_page, columns=facts.columns, cover_drawings=facts.cover)


def _dose_rows(groups: Sequence[_Group], with_age: bool = True) -> list[tuple[str, str, str]]:
    """(drug, age band or "", dose) per body row; a merged drug cell counts on each of its rows."""
    return [(_plain(g.first), row[0], row[1]) if with_age else (_plain(g.first), "", row[0])
            for g in groups for row in g.rows]


# --------------------------------------------------------------------------- SIGN-style

SIGN_TITLE = "Fictional asthma management"
SIGN_PUBLISHER = "Scottish Intercollegiate Guidelines Network"
SIGN_JUNK_TITLE = "Microsoft Word - SIGN999_draft_v7_FINAL.docx"
_SIGN_OFFSET = 2  # physical page 3 prints "1"


class _Block(NamedTuple):
    kind: str   # "h0", "h1", "text", "R" (recommendation), "fragment", "bullets", "ref", "page"
    text: str = ""
    items: tuple[str, ...] = ()


_SIGN_BODY = (
    _Block("page"), _Block("h0", "1 Introduction"), _Block("h1", "1.1 The need for a guideline"),
    _Block("text", "Fictional asthma is an invented long-term condition used only in this TEST "
           "DOCUMENT. In the scenario described here it affects about one adult in twelve, and "
           "many people live with symptoms that could be controlled with better use of the "
           "treatments that are already available."),
    _Block("text", "Variation between health boards in how the diagnosis is made, and in the "
           "choice of inhaled treatment, was the main reason for developing this guideline. "
           "Patient groups also asked for a national approach, because they reported confusing "
           "and conflicting advice from different services."),
    _Block("h1", "1.2 Remit of the guideline"),
    _Block("text", "This guideline makes recommendations on the diagnosis and the "
           "pharmacological management of fictional asthma in adults and in children aged 5 "
           "years and over. It does not cover:"),
    _Block("bullets", items=("acute severe attacks that are managed in hospital",
                             "children under 5 years", "occupational causes of airway disease")),
    _Block("text", "The guideline is intended for general practitioners, practice nurses, "
           "community pharmacists and respiratory specialists, and for people with fictional "
           "asthma and their carers."),
    _Block("h1", "1.3 Statement of intent"),
    _Block("text", "This TEST DOCUMENT is not intended to be construed or to serve as a standard "
           "of care. It was generated for software tests, its recommendations are invented, and "
           "it must not be used to guide the care of any patient."),
    _Block("page"), _Block("h0", "2 Diagnosis"), _Block("h1", "2.1 Clinical features"),
    _Block("text", "Recurrent episodes of wheeze, breathlessness and chest tightness that vary "
           "over time were present in most adults with a confirmed diagnosis in two large cohort "
           "studies.^{2++} A cough that was worse at night was common but did not distinguish "
           "fictional asthma from other causes of cough.^{2+}"),
    _Block("R", "Record the pattern of symptoms, their triggers and any personal or family "
           "history of atopy in everyone with suspected fictional asthma."),
    _Block("text", "A structured clinical assessment by a trained clinician was as accurate as a "
           "single spirometry test in one diagnostic accuracy study.^{2+}"),
    _Block("R", "Base the initial diagnosis on a structured clinical assessment, and record the "
           "basis for the diagnosis in the patient's notes."),
    _Block("h1", "2.2 Objective tests"),
    _Block("text", "Peak flow variability above 20% over two weeks had a high specificity for "
           "fictional asthma in adults.^{2++} Spirometry with reversibility testing was less "
           "sensitive but more reproducible between centres.^{2+}"),
    _Block("R", "Offer spirometry with reversibility testing to adults with an intermediate "
           "probability of fictional asthma."),
    _Block("R", "Consider two weeks of home peak flow monitoring if spirometry is normal but "
           "symptoms continue."),
    _Block("fragment", "Objective tests should be repeated when the first result is normal and "
           "the person is not taking any inhaled treatment, because a single normal result "
           "taken on a good day does not exclude the condition."),
    _Block("page"), _Block("h0", "3 Pharmacological management"),
    _Block("h1", "3.1 Inhaled corticosteroids"),
    _Block("text", "Regular low-dose inhaled corticosteroids reduced the rate of exacerbations by "
           "about half compared with placebo.^{1++} The benefit was seen within three months "
           "and was maintained for at least two years.^{1+}"),
    _Block("R", "Offer a regular low-dose inhaled corticosteroid to adults and children with "
           "fictional asthma who have symptoms on three or more days a week."),
    _Block("text", "Doubling the dose of inhaled corticosteroid at the start of an exacerbation "
           "did not reduce the need for oral steroids.^{1+}"),
    _Block("R", "Do not double the dose of inhaled corticosteroid as the only response to a "
           "worsening of symptoms."),
    _Block("h1", "3.2 Add-on therapies"),
    _Block("text", "Adding the invented long-acting bronchodilator zephalide to an inhaled "
           "corticosteroid improved lung function and reduced night-time symptoms more than "
           "increasing the steroid dose.^{1++} Adverse effects were similar in both groups.^{1+}"),
    _Block("R", "Consider adding zephalide for adults whose fictional asthma is not controlled "
           "by a low-dose inhaled corticosteroid, after checking inhaler technique and "
           "adherence."),
    _Block("text", "The invented agent morvasone was less effective than zephalide in two small "
           "trials, although some children preferred it because it is taken as a tablet.^{1-}"),
    _Block("h1", "3.3 Stepping down treatment"),
    _Block("text", "Few trials have studied reducing treatment. In the one good-quality trial, "
           "most people whose asthma had been controlled for three months kept control after "
           "the steroid dose was halved.^{1+}"),
    _Block("R", "Review treatment every three months and consider reducing the dose of inhaled "
           "corticosteroid by a quarter to a half in people whose fictional asthma has been "
           "controlled for that long."),
    _Block("page"), _Block("h0", "4 Implementation"), _Block("h1", "4.1 Resource implications"),
    _Block("text", "Most of the recommendations reflect current practice and are not expected to "
           "need extra resources. Wider use of spirometry with reversibility testing may need "
           "extra staff training in some practices, and health boards may wish to plan for it."),
    _Block("h1", "4.2 Auditing current practice"),
    _Block("text", "A first step in implementing a guideline is to audit current practice, so "
           "that areas where change is needed can be found. Useful measures include:"),
    _Block("bullets", items=("the proportion of new diagnoses with an objective test recorded",
                             "the proportion of people on an inhaled corticosteroid who had an "
                             "inhaler technique check in the past year",
                             "the number of courses of oral steroids per 100 people each year")),
    _Block("page"), _Block("h0", "5 Provision of information"),
    _Block("text", "This section gives examples of the information that people with fictional "
           "asthma, and their carers, have said they find useful. It is based on the views of "
           "the patient representatives on the guideline group rather than on trial evidence."),
    _Block("h1", "5.1 Checklist for provision of information"),
    _Block("text", "At diagnosis, explain what fictional asthma is, how the inhaled treatments "
           "work and why they should be taken every day even when the person feels well. At "
           "each review, check that the person:"),
    _Block("bullets", items=("can show their inhaler technique without prompting",
                             "has a written action plan and knows where it is kept",
                             "knows which symptoms mean that they should seek urgent help")),
    _Block("R", "Give every person with fictional asthma a written personalised action plan, and "
           "review it with them at least once a year."),
    _Block("text", "People who used a written action plan had fewer unscheduled visits in one "
           "randomised trial, although the trial was small and its follow-up was short.^{1+} "
           "A later observational study found a similar effect in routine care.^{2+}"),
    _Block("h1", "5.2 Sources of further information"),
    _Block("text", "Invented Asthma Support Scotland provides telephone advice, leaflets in "
           "several languages and local support groups. Its contact details in this TEST "
           "DOCUMENT are placeholders and do not belong to any real organisation."),
    _Block("page"), _Block("h0", "References"),
    _Block("ref", "1 Fictional A, Invented B. Patterns of wheeze in an imaginary cohort. J Test "
           "Med 2021;12:34-41."),
    _Block("ref", "2 Example C, Sample D. Peak flow variability as a test for fictional asthma. "
           "Test Respir J 2022;5:101-9."),
    _Block("ref", "3 Placeholder E. Zephalide added to inhaled steroids: an invented randomised "
           "trial. Imag Clin Trials 2023;8:220-8."),
)


def _sign_decorate(pdf: _Pdf, where: str) -> None:
    if pdf.page <= _SIGN_OFFSET:
        return
    label = str(pdf.page - _SIGN_OFFSET)
    _font(pdf, "", 8.5)
    pdf.set_text_color(60, 60, 60)
    if where == "header":
        x = pdf.l_margin if pdf.page % 2 else pdf.w - pdf.r_margin - pdf.get_string_width(SIGN_TITLE)
        pdf.text(x, 13.0, SIGN_TITLE)
    else:
        _font(pdf, "", 9.0)
        pdf.text((pdf.w - pdf.get_string_width(label)) / 2, 286.0, label)
    pdf.set_text_color(0, 0, 0)


def _sign_cover(pdf: _Pdf) -> None:
    pdf.set_fill_color(0, 84, 122)
    pdf.rect(0, 0, 210.0, 70.0, style="F")
    pdf.set_fill_color(120, 180, 200)
    for i in range(12):
        pdf.rect(20.0 + i * 14.0, 62.0, 10.0, 3.0, style="F")
    pdf.set_text_color(255, 255, 255)
    _block(pdf, "SIGN 999", 20.0, 24.0, 170.0, 30.0, 13.0, bold=True)
    pdf.set_text_color(0, 0, 0)
    y = _block(pdf, SIGN_TITLE, 20.0, 92.0, 170.0, 24.0, 11.0, bold=True)
    y = _block(pdf, "A national clinical guideline", 20.0, y + 3.0, 170.0, 13.0, 7.0)
    y = _block(pdf, "TEST DOCUMENT", 20.0, y + 3.0, 170.0, 13.0, 7.0, bold=True)
    _block(pdf, "Published November 2024", 20.0, y + 8.0, 170.0, 11.0, 6.0)
    _block(pdf, SIGN_PUBLISHER, 20.0, 262.0, 170.0, 11.0, 6.0, bold=True)
    _block(pdf, "www.example.org/sign999", 20.0, 269.0, 170.0, 10.0, 6.0)


def _sign_block(flow: _Flow, block: _Block, recs: list[str]) -> None:
    if block.kind == "page":
        flow.pdf.add_page()
    elif block.kind in ("h0", "h1"):
        flow.heading(block.text, int(block.kind[1]), 14.0 if block.kind == "h0" else 11.5, False)
    elif block.kind == "R":
        flow.paragraph(_soften(block.text, _SOFT), bold=True, label=("R", flow.left - 16.0, "B"))
        recs.append(_plain(block.text))
    elif block.kind == "bullets":
        _bullets(flow, [_soften(item, _SOFT) for item in block.items])
    elif block.kind == "ref":
        flow.paragraph(block.text, after=1.6, kind="decoy")
    else:
        kind = "fragment" if block.kind == "fragment" else ""
        flow.paragraph(_soften(block.text, _SOFT), kind=kind)


def _sign_render(toc: list[tuple[int, str, int]]) -> tuple[_Pdf, _Flow, list[str]]:
    pdf = _Pdf(_sign_decorate, left=42.0, top=22.0, right=20.0)
    pdf.set_title(SIGN_JUNK_TITLE)
    pdf.set_author("sign-user")
    flow = _Flow(pdf, size=10.0, leading=5.3, bottom=274.0)
    pdf.add_page()
    _sign_cover(pdf)
    pdf.add_page()
    _font(pdf, "B", 16.0)
    pdf.text(flow.left, pdf.y + 6.0, "Contents")
    flow.space(14.0)
    _contents(flow, toc, lambda page: str(page - _SIGN_OFFSET), 10.0)
    recs: list[str] = []
    for block in _SIGN_BODY:
        _sign_block(flow, block, recs)
    return pdf, flow, recs


def sign_style_guideline(path: Path) -> DocumentTruth:
    """An ~8-page SIGN-like guideline: offset page labels, margin "R", glued evidence levels."""
    held: dict[str, list[str]] = {}

    def render(toc: list[tuple[int, str, int]], total: int) -> tuple[_Pdf, _Flow]:
        pdf, flow, held["recs"] = _sign_render(toc)
        return pdf, flow

    pdf, flow = _two_pass(render)
    _finish(pdf, path, {"/Title": SIGN_JUNK_TITLE})
    grades = [m.group(1) + m.group(2) for b in _SIGN_BODY
              for m in re.finditer(r"(\S+)\^\{(.+?)\}", b.text)]
    return DocumentTruth(
        title=SIGN_TITLE, publisher=SIGN_PUBLISHER, code="SIGN 999", published="November 2024",
        last_updated=None, review_date=None, url="www.example.org/sign999",
        headings=[h[1] for h in flow.headings], recommendations=held["recs"], dose_rows=[],
        fragment_lines=flow.fragments, pages=pdf.pages_count,
        printed_pages={p: str(p - _SIGN_OFFSET) for p in range(_SIGN_OFFSET + 1,
                                                                 pdf.pages_count + 1)},
        metadata_title=SIGN_JUNK_TITLE, running_header=SIGN_TITLE,
        contents=[(h[1], str(h[2] - _SIGN_OFFSET)) for h in flow.headings],
        decoy_lines=flow.decoys, hyphenations=flow.hyphenations, glued_grades=grades)


# --------------------------------------------------------------------------- NHS trust / ICB

TRUST_TITLE = "Fictional cough in adults: prescribing guidance"
TRUST_PUBLISHER = "NHS Fictional Integrated Care Board"
TRUST_FOOTER = "Fictional cough prescribing guidance. Version 2.1. TEST DOCUMENT."
TRUST_VERSION = (("Version", "2.1"), ("Approved by", "Fictional ICB Prescribing Committee"),
                 ("Date approved", "June 2024"), ("Review date", "June 2026"))
TRUST_DOSE_HEADER = ("Drug", "Dose", "Notes")
# The document-control box at the end of a trust document: administration, not guidance.
TRUST_CONTROL_HEADING = "Document ratification details"
_TRUST_CONTROL = (_Group("Ratified by", [("Fictional ICB Prescribing Committee",)]),
                  _Group("Date ratified", [("June 2024",)]), _Group("Author", [("Medicines Optimisation Team",)]))
_TRUST_DOSES = (
    _Group("Fictomycin", [("250 mg three times a day for 5 days",
                           "First choice. Take with food. Avoid in severe renal impairment.")]),
    _Group("Imaginacillin", [("500 mg twice a day for 5 days",
                              "Use if allergic to fictomycin. Can cause mild stomach upset, "
                              "which usually settles within 2 days.")]),
    _Group("Placebrol linctus", [("10 ml up to four times a day when needed",
                                  "For symptom relief only. Not for children under 12 years.")]),
    _Group("Notarealol", [("100 mg once a day for 3 days", "Specialist advice only.")]),
)
_TRUST_BODY = (
    _Block("h0", "Purpose"),
    _Block("text", "This document supports prescribers in primary care to treat fictional cough "
           "in adults in line with the local antimicrobial formulary. It is a TEST DOCUMENT: the "
           "condition and the medicines are invented and nothing here is clinical advice."),
    _Block("h0", "Scope"),
    _Block("text", "The guidance applies to adults aged 18 years and over who are registered with "
           "a practice in the fictional integrated care board area. It does not apply to people "
           "who are pregnant, to people who are immunocompromised or to people in hospital."),
    _Block("h0", "Key messages"),
    _Block("bullets", items=(
        "Most fictional cough settles within 3 weeks without antibiotics.",
        "Offer a back-up prescription only to people with 2 or more red flag features.",
        "Review anyone whose cough has lasted longer than 6 weeks and consider a chest X-ray.",
        "Document the reason for prescribing in the patient record.")),
    _Block("h0", "First-line treatment"),
    _Block("text", "Self-care with fluids, rest and simple linctus is appropriate for most people. "
           "If an antibiotic is needed, use the first-choice option in the dosing table and give "
           "the shortest course that is likely to be effective."),
    _Block("fragment", "Community pharmacists can supply placebrol linctus without a prescription "
           "and can advise on self-care, on the correct dose and on how long symptoms usually "
           "last, and on when the person should contact the practice."),
    _Block("page"), _Block("h0", "Dosing"), _Block("table"),
    _Block("h0", "Monitoring and review"),
    _Block("bullets", items=(
        "Ask the person to return if symptoms worsen rapidly or they become breathless.",
        "Check renal function before prescribing fictomycin to people over 75 years.",
        "Report suspected adverse reactions through the usual local reporting route.")),
    _Block("h0", "When to refer"),
    _Block("text", "Refer the same day to the acute medical team if the person has a respiratory "
           "rate above 30 breaths per minute, new confusion or oxygen saturation below 92%. Refer "
           "routinely to the respiratory clinic if the cough persists after 2 courses of "
           "treatment."),
    _Block("page"), _Block("h0", "References"),
    _Block("bullets", items=(
        "Fictional ICB antimicrobial formulary, version 9. TEST DOCUMENT, 2024.",
        "Invented national guidance on cough in adults. TEST DOCUMENT, 2023.")),
    _Block("text", "Prepared by the Medicines Optimisation Team. Contact the team through the "
           "fictional ICB intranet if you have comments on this document."),
    _Block("h0", TRUST_CONTROL_HEADING), _Block("control"),
)


def _trust_decorate(total: int) -> Callable[[_Pdf, str], None]:
    def decorate(pdf: _Pdf, where: str) -> None:
        if where != "footer":
            return
        _font(pdf, "", 8.0)
        pdf.set_draw_color(0, 94, 184)
        pdf.line(pdf.l_margin, 280.0, pdf.w - pdf.r_margin, 280.0)
        pdf.text(pdf.l_margin, 285.0, TRUST_FOOTER)
        page = f"Page {pdf.page} of {total}"
        pdf.text(pdf.w - pdf.r_margin - pdf.get_string_width(page), 285.0, page)
    return decorate


def _trust_first_page(flow: _Flow) -> None:
    pdf = flow.pdf
    pdf.set_fill_color(0, 94, 184)
    pdf.rect(160.0, 10.0, 30.0, 12.0, style="F")
    pdf.set_text_color(255, 255, 255)
    _block(pdf, "NHS", 166.0, 11.5, 30.0, 20.0, 9.0, bold=True)
    pdf.set_text_color(0, 0, 0)
    _block(pdf, TRUST_PUBLISHER, 20.0, 26.0, 170.0, 11.0, 6.0, bold=True)
    y = _block(pdf, TRUST_TITLE, 20.0, 38.0, 170.0, 17.0, 8.0, bold=True)
    _block(pdf, "TEST DOCUMENT", 20.0, y + 1.0, 170.0, 11.0, 6.0)
    pdf.set_y(y + 12.0)
    groups = [_Group(f"**{label}**", [(value,)]) for label, value in TRUST_VERSION]
    _table(flow, (50.0, 120.0), groups, size=9.5)


def _trust_render(total: int) -> tuple[_Pdf, _Flow, int]:
    pdf = _Pdf(_trust_decorate(total), left=20.0, top=20.0, right=20.0)
    pdf.set_title("Fictional cough guidance v2.1")
    pdf.set_author("Medicines Optimisation Team")
    flow = _Flow(pdf, size=10.5, leading=5.8, bottom=272.0)
    pdf.add_page()
    _trust_first_page(flow)
    table_page = 0
    for block in _TRUST_BODY:
        if block.kind == "table":
            table_page = _table(flow, (40.0, 60.0, 70.0), _TRUST_DOSES, TRUST_DOSE_HEADER)
        elif block.kind == "control":
            _table(flow, (50.0, 120.0), _TRUST_CONTROL, size=9.5)
        elif block.kind == "h0":
            flow.heading(block.text, 0, 13.0, False)
        else:
            _sign_block(flow, block, [])
    return pdf, flow, table_page


def trust_prescribing_document(path: Path) -> DocumentTruth:
    """A 3-4 page NHS trust / ICB prescribing document: version box, bullets, dosing table."""
    held: dict[str, int] = {}

    def render(toc: list[tuple[int, str, int]], total: int) -> tuple[_Pdf, _Flow]:
        pdf, flow, held["table"] = _trust_render(total)
        return pdf, flow

    pdf, flow = _two_pass(render)
    _finish(pdf, path, {"/Title": "Fictional cough guidance v2.1"})
    return DocumentTruth(
        title=TRUST_TITLE, publisher=TRUST_PUBLISHER, code=None, published="June 2024",
        last_updated=None, review_date="June 2026", url=None,
        headings=[h[1] for h in flow.headings], recommendations=[],
        dose_rows=_dose_rows(_TRUST_DOSES, with_age=False), fragment_lines=flow.fragments,
        printed_pages={p: str(p) for p in range(1, pdf.pages_count + 1)}, pages=pdf.pages_count,
        metadata_title="Fictional cough guidance v2.1", footer_text=TRUST_FOOTER,
        decoy_lines=flow.decoys, hyphenations=flow.hyphenations, dose_header=TRUST_DOSE_HEADER,
        dose_table_page=held["table"], version_rows=list(TRUST_VERSION))


GENERATORS: dict[str, Callable[[Path], DocumentTruth]] = {
    "nice_style_guideline.pdf": nice_style_guideline,
    "sign_style_guideline.pdf": sign_style_guideline,
    "trust_prescribing_document.pdf": trust_prescribing_document,
}


def write_all(folder: Path) -> dict[Path, DocumentTruth]:
    """Write every generated document into `folder`; returns each path with its truth."""
    folder.mkdir(parents=True, exist_ok=True)
    return {folder / name: make(folder / name) for name, make in GENERATORS.items()}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.support.realistic_docs OUTDIR")
    for written, truth in write_all(Path(sys.argv[1])).items():
        print(f"{written}  {truth.pages} pages  {truth.title} (TEST DOCUMENT)")
