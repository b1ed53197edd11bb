"""PDFium reads a page's characters and ruling lines for pdfplumber (`pdf_objects`): the lines,
tables and fonts that come out are the ones pdfminer's reading gives, on realistic generated
guidance (running headers, wrapped and hyphenated recommendations, superscripts, two columns, a
dosing table, a version box, a graphics-heavy cover), and a page PDFium cannot place is read by
pdfminer as before."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pypdfium2
import pytest

from pipelines.ingest import pdf_objects, pdf_pages
from pipelines.ingest.pdf_lines import PageContent, read_page
from tests.support.realistic_docs import nice_style_guideline, sign_style_guideline, trust_prescribing_document

GENERATORS = {"nice": nice_style_guideline, "sign": sign_style_guideline, "trust": trust_prescribing_document}


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pdfium")
    out = {}
    for name, make in GENERATORS.items():
        out[name] = folder / f"{name}.pdf"
        make(out[name])
    return out


def _both(path: Path) -> list[tuple[PageContent, PageContent]]:
    """Each page read from pdfminer's objects and from PDFium's."""
    pairs = []
    fast = pypdfium2.PdfDocument(str(path))
    with pdfplumber.open(str(path)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            slow = read_page(page, number)
            page.flush_cache()
            assert pdf_objects.usable(fast[number - 1])
            page._objects = pdf_objects.page_objects(fast[number - 1], float(page.height), float(page.initial_doctop))
            pairs.append((slow, read_page(page, number)))
            page.flush_cache()
    fast.close()
    return pairs


def _pages(path: Path) -> int:
    with pdfplumber.open(str(path)) as pdf:
        return len(pdf.pages)


def _look(page: PageContent) -> list[tuple[str, float, bool, str, int]]:
    return [(ln.text, round(ln.size, 1), ln.bold, ln.font, ln.column) for ln in page.lines]


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_pdfium_gives_the_lines_tables_and_fonts_pdfminer_gives(documents: dict[str, Path], name: str) -> None:
    pairs = _both(documents[name])
    assert sum(len(slow.lines) for slow, _ in pairs) > 30
    for slow, fast in pairs:
        assert _look(fast) == _look(slow), f"page {slow.number}"
        assert [t.rows for t in fast.tables] == [t.rows for t in slow.tables], f"page {slow.number}"
        assert fast.drawings == slow.drawings and fast.rotated == slow.rotated
        for a, b in zip(slow.lines, fast.lines):  # the same place, within a rounding of a point
            assert abs(a.top - b.top) < 0.6 and abs(a.x0 - b.x0) < 0.6 and abs(a.x1 - b.x1) < 0.6


def test_the_dosing_table_is_found_from_pdfiums_ruling_lines(documents: dict[str, Path]) -> None:
    pairs = _both(documents["nice"])
    tables = [t for _, fast in pairs for t in fast.tables]
    assert tables and all(len(t.rows) >= 2 for t in tables)


def test_a_document_reads_the_same_through_either_reader(documents: dict[str, Path],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = documents["sign"]
    total = _pages(path)
    fast, _ = pdf_pages.read_all(path, total)
    monkeypatch.setattr(pdf_pages, "USE_PDFIUM", False)
    slow, _ = pdf_pages.read_all(path, total)
    assert [_look(p) for p in fast] == [_look(p) for p in slow]


def test_a_page_pdfium_cannot_read_is_read_by_pdfminer(documents: dict[str, Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = documents["trust"]
    total = _pages(path)
    expected, _ = pdf_pages.read_all(path, total)

    def broken(*args: object, **kwargs: object) -> dict:
        raise RuntimeError("PDFium failed on this page")

    monkeypatch.setattr(pdf_pages, "page_objects", broken)
    pages, warnings = pdf_pages.read_all(path, total)
    assert [_look(p) for p in pages] == [_look(p) for p in expected] and not warnings


def test_a_page_whose_pdfium_objects_do_not_read_is_read_from_pdfminers_not_as_plain_text(
        documents: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path = documents["trust"]
    total = _pages(path)
    expected, _ = pdf_pages.read_all(path, total)
    # objects the layout cannot use (a character without a position): read_page fails on them
    monkeypatch.setattr(pdf_pages, "page_objects", lambda *args, **kwargs: {"char": [{"text": "x"}]})
    pages, warnings = pdf_pages.read_all(path, total)
    assert [_look(p) for p in pages] == [_look(p) for p in expected] and not warnings


def test_a_rotated_page_or_one_whose_media_box_is_moved_is_left_to_pdfminer(
        documents: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for i, page in enumerate(PdfReader(str(documents["trust"])).pages[:2]):
        if i == 0:
            page.rotate(90)
        else:
            page.mediabox.lower_left = (10, 20)
        writer.add_page(page)
    moved = tmp_path / "moved.pdf"
    with moved.open("wb") as fh:
        writer.write(fh)
    doc = pypdfium2.PdfDocument(str(moved))
    assert not pdf_objects.usable(doc[0]) and not pdf_objects.usable(doc[1])
    doc.close()
    pages, _ = pdf_pages.read_all(moved, 2)
    monkeypatch.setattr(pdf_pages, "USE_PDFIUM", False)
    assert pages == pdf_pages.read_all(moved, 2)[0] and pages[1].lines
