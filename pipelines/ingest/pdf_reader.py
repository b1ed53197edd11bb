"""A PDF → its metadata and sections, from the document's own structure.

pdfplumber gives each line's font and position (`pdf_lines`), the outline gives heading names
and depths, `pdf_blocks` turns lines into headings and whole units, `tables` keeps table rows
with their headers, and `kinds` says what each unit is. A page whose layout cannot be read falls
back to pypdf's plain text for that page, so a text PDF is never refused for its cover page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.ingest.doc_meta import PrintedMeta, read_printed
from pipelines.ingest.kinds import NOT_INDEXED, section_kind, unit_kind
from pipelines.ingest.pdf_blocks import BodyStyle, Heading, Unit, build_flow, normal
from pipelines.ingest.pdf_lines import (Line, PageContent, PageTable, body_font, body_size, body_width, line_pitch,
                                        strip_running_lines)
from pipelines.ingest.pdf_pages import read_all
from pipelines.ingest.tables import table_text
from pipelines.models import Section

PageProgress = Callable[[int, int], None]


@dataclass
class PdfDocument:
    """What the reader found: sections to index, printed metadata, pages and notes."""

    sections: list[Section]
    printed: PrintedMeta
    pages: int
    warnings: list[str]


def read_outline(reader: Any) -> dict[str, int]:
    """Bookmark titles (normalised) → depth, 1-based."""
    found: dict[str, int] = {}

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            elif getattr(item, "title", None):
                found.setdefault(normal(str(item.title)), depth)

    try:
        walk(reader.outline, 1)
    except Exception:  # a broken outline costs the outline, not the document
        return {}
    return {k: v for k, v in found.items() if k}


def read_pages(path: Path, progress: PageProgress | None = None) -> tuple[list[PageContent], Any, list[str]]:
    import pdfplumber
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    with pdfplumber.open(str(path)) as pdf:
        total = len(pdf.pages)
    pages, warnings = read_all(path, total, progress)
    return pages, reader, warnings


def _front_lines(page: PageContent) -> list[str]:
    """A page's text for metadata: lines, running headers and footers, and table rows
    ("Review date: June 2026" from a version box)."""
    rows = [re.sub(r":\s*:", ":", ": ".join(c.strip() for c in row if c and c.strip()))
            for t in page.tables for row in t.rows]
    return [*(ln.text for ln in page.lines), *page.running, *rows]


def _take_cover(pages: list[PageContent]) -> list[Line]:
    """A cover page (a long document's first page with a few lines: title, date, address) is
    front matter: read for metadata, not indexed."""
    if len(pages) >= 5 and len(pages[0].lines) <= 14:
        cover, pages[0].lines = pages[0].lines, []
        return cover
    return []


_CAPTION = re.compile(r"^(table|figure|box|chart)\s+\d+", re.I)
_ENDS_IN_PAGE = re.compile(r"(\.{3,}|…|\s)\s*\d{1,3}\s*$")


def _drop_contents_pages(pages: list[PageContent]) -> None:
    """A page most of whose lines end in a page number is a contents page: not text to index."""
    for page in pages:
        lines = [ln for ln in page.lines if len(ln.text) > 3]
        ends = sum(bool(_ENDS_IN_PAGE.search(ln.text)) for ln in lines)
        if len(lines) >= 5 and ends >= 0.6 * len(lines):
            page.lines = []


def _title_candidates(reader: Any, cover: list[Line], pages: list[PageContent], flow: list[Any]) -> list[str]:
    """/Title, then the first page's lines in its two largest sizes, then the first heading."""
    info = reader.metadata or {}
    first = cover or (pages[0].lines if pages else [])
    sizes = sorted({ln.size for ln in first}, reverse=True)[:2]
    blocks = [_block(first, size) for size in sizes]
    heading = next((item.text for item in flow if isinstance(item, Heading)), "")
    return [*blocks, str(info.get("/Title") or ""), heading]


def _block(lines: list[Line], size: float) -> str:
    """The first run of up to four consecutive lines set in `size` (a title set over lines);
    a line ending in a full stop is a sentence, not part of a title."""
    run: list[str] = []
    for line in lines:
        title_like = (not re.search(r"\.(\s|$)", line.text) and len(line.text) <= 90
                      and len(" ".join(run + [line.text])) <= 200)
        if abs(line.size - size) < 0.5 and len(run) < 4 and title_like:
            run.append(line.text)
        elif run:
            break
    return " ".join(run)


def read_pdf(path: Path, progress: PageProgress | None = None) -> PdfDocument:
    """Read a PDF into sections (not-indexed kinds left out) and printed metadata."""
    pages, reader, warnings = read_pages(path, progress)
    turned = [p.number for p in pages if p.rotated > 50]
    if turned:
        warnings.append(f"rotated text on page(s) {', '.join(map(str, turned[:12]))} (landscape "
                        "flowcharts or tables) could not be read and is not indexed; check those pages")
    strip_running_lines(pages)
    cover = _take_cover(pages)
    _drop_contents_pages(pages)
    size = body_size(pages)
    body = BodyStyle(size, body_font(pages), line_pitch(pages, size), body_width(pages, size))
    vocabulary = {w.lower() for p in pages for ln in p.lines
                  for w in re.findall(r"[A-Za-z]{2,}(?:-[A-Za-z]{2,})*(?=[\s.,;:)]|$)", ln.text)}
    flow = build_flow(pages, body, read_outline(reader), vocabulary)
    ends = pages[:3] + [p for p in pages[-2:] if p.number > 3]  # version boxes sit at either end
    front = "\n".join([ln.text for ln in cover] + [t for p in ends for t in _front_lines(p)])
    info = reader.metadata or {}
    printed = read_printed(front, title_candidates=_title_candidates(reader, cover, pages, flow),
                           author=str(info.get("/Author") or ""), file_stem=path.stem)
    labels = {p.number: p.printed for p in pages}
    return PdfDocument(flow_to_sections(flow, printed.title, labels), printed, len(pages), warnings)


def flow_to_sections(flow: list[Any], title: str, labels: dict[int, str | None]) -> list[Section]:
    """Headings, units and tables → sections: consecutive units under one heading path, of one
    kind, starting on one page. Contents, references and navigation are dropped."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    for item in flow:
        if isinstance(item, Heading):
            if normal(item.text) == normal(title):
                stack = []  # the title heading: what came above it (a logo, a banner) is not a section
                continue
            stack = [(d, h) for d, h in stack if d < item.level] + [(item.level, item.text)]
            continue
        path = (title, *[h for _, h in stack])
        if isinstance(item, PageTable):
            table = table_text(item.rows)
            if table is not None and section_kind(path[1:]) not in NOT_INDEXED:
                sections.append(Section(path, table.markdown(), item.page, "table", labels.get(item.page),
                                        item.page))
            if stack and _CAPTION.match(stack[-1][1]):
                stack.pop()  # a caption names its table, not the text after it
            continue
        if isinstance(item, Unit):
            kind = unit_kind(section_kind(path[1:]), item.text, item.kind_hint)
            if kind in NOT_INDEXED:
                continue
            _add_unit(sections, path, item, kind, labels.get(item.page))
    return sections


def _add_unit(sections: list[Section], path: tuple[str, ...], unit: Unit, kind: str,
              printed: str | None) -> None:
    last = sections[-1] if sections else None
    if last and last.path == path and last.kind == kind and last.page == unit.page and kind != "table":
        sections[-1] = Section(path, f"{last.text}\n\n{unit.text}", last.page, kind, last.printed_page,
                               max(last.end_page or unit.end_page, unit.end_page))
    else:
        sections.append(Section(path, unit.text, unit.page, kind, printed, unit.end_page))
