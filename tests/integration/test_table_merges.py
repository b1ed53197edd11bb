"""Ruled tables whose cells span columns or rows, and rows too long for one passage, read from a
real PDF by the real parser: no row takes another row's text, and no piece of a row loses its
drug or repeats its row header as text."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from pipelines.ingest import chunk_sections, parse_document
from pipelines.ingest.chunking import cell_pieces, split_table
from pipelines.ingest.tables import table_text
from pipelines.validate import Limits

LIMITS = Limits(max_bytes=5_000_000, max_zip_ratio=100.0, max_unzipped_bytes=200_000_000)
WIDTHS = (40.0, 60.0, 40.0, 40.0)


def _cell(pdf: FPDF, x: float, y: float, w: float, h: float, text: str) -> None:
    pdf.rect(x, y, w, h)
    pdf.set_xy(x + 1, y + 1)
    pdf.multi_cell(w - 2, 4.5, text)


def _spanning_table_pdf(path: Path) -> None:
    """A four-column table: a row whose first cell spans two columns (no notes of its own), and a
    row whose first cell spans two rows (its second row continues the same infection)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=9)
    pdf.set_xy(20, 20)
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, "Infections in primary care: dose table")
    pdf.set_font("Helvetica", size=9)
    x0, y = 20.0, 40.0
    xs = [x0 + sum(WIDTHS[:i]) for i in range(4)]
    for x, w, text in zip(xs, WIDTHS, ("Infection", "Notes", "Medicine", "Dose")):
        _cell(pdf, x, y, w, 10, text)
    y += 10
    # Sinusitis: notes of its own.
    for x, w, text in zip(xs, WIDTHS, ("Sinusitis", "Most cases resolve without antibiotics.",
                                       "Phenoxymethylpenicillin", "500 mg four times a day")):
        _cell(pdf, x, y, w, 14, text)
    y += 14
    # Dental abscess: the infection name spans the Infection and Notes columns.
    _cell(pdf, xs[0], y, WIDTHS[0] + WIDTHS[1], 14, "Dental abscess")
    _cell(pdf, xs[2], y, WIDTHS[2], 14, "Chlorhexidine")
    _cell(pdf, xs[3], y, WIDTHS[3], 14, "10 ml twice a day")
    y += 14
    # Cellulitis: the infection and its notes span two rows, one per medicine.
    _cell(pdf, xs[0], y, WIDTHS[0], 28, "Cellulitis")
    _cell(pdf, xs[1], y, WIDTHS[1], 28, "Mark the edge of the redness.")
    _cell(pdf, xs[2], y, WIDTHS[2], 14, "Flucloxacillin")
    _cell(pdf, xs[3], y, WIDTHS[3], 14, "500 mg four times a day")
    _cell(pdf, xs[2], y + 14, WIDTHS[2], 14, "Clarithromycin")
    _cell(pdf, xs[3], y + 14, WIDTHS[3], 14, "500 mg twice a day")
    pdf.output(str(path))


def _rows(path: Path) -> list[str]:
    chunks = chunk_sections(parse_document(path, LIMITS))
    return [line for c in chunks if c.kind == "table" for line in c.text.split("\n")[2:]]


def test_a_cell_spanning_columns_does_not_take_the_notes_of_the_row_above(tmp_path: Path) -> None:
    path = tmp_path / "spans.pdf"
    _spanning_table_pdf(path)
    rows = _rows(path)
    dental = [r for r in rows if "Dental abscess" in r]
    assert dental and all("Chlorhexidine" in r and "10 ml" in r for r in dental), rows
    assert not any("resolve without antibiotics" in r for r in dental), dental


def test_a_cell_spanning_rows_is_repeated_on_each_of_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "spans.pdf"
    _spanning_table_pdf(path)
    rows = _rows(path)
    for drug in ("Flucloxacillin", "Clarithromycin"):
        row = next(r for r in rows if drug in r)
        assert row.startswith("| Cellulitis | Mark the edge of the redness."), row


def test_a_line_grid_keeps_each_medicine_on_its_own_infection() -> None:
    """A table drawn one printed line per row (most rows empty but for one cell): a wrapped line
    that starts in lower case must not shift the later lines onto another infection's row."""
    none = None
    grid: list[list[str | None]] = [
        ["Infection", "Medicine", "Adult dose", "Child dose", "Length", "Evidence"],
        ["Gingivitis", "Chlorhexidine", "10 ml", "", "Until pain allows", "Not available."],
        [none, "mouthwash (do not use", none, "", none, ""],
        [none, "within 30 minutes of toothpaste)", none, "", none, ""],
        [none, "OR hydrogen peroxide", "15 ml", "", none, ""],
        [none, "", "in water", "", none, ""],
        ["Abscess", "Amoxicillin", "500 mg", "", "5 days", "Not available."],
        [none, "", "three times a day", "", none, ""],
        [none, "", none, "", none, ""],
    ]
    table = table_text(grid)
    assert table is not None
    gingivitis = next(r for r in table.rows if r.startswith("| Gingivitis"))
    abscess = next(r for r in table.rows if r.startswith("| Abscess"))
    assert "Chlorhexidine" in gingivitis and "hydrogen peroxide" in gingivitis, table.rows
    assert "Amoxicillin" in abscess and "Chlorhexidine" not in abscess, table.rows


def test_a_two_column_row_too_long_for_a_passage_is_cut_between_its_drugs() -> None:
    entries = [
        "Vancomycin: 1 month to 11 years, 10 mg/kg to 15 mg/kg four times a day intravenously, "
        "adjusted according to serum vancomycin concentration. " * 3,
        "Teicoplanin: 1 month, initially 16 mg/kg for 1 dose, then 8 mg/kg once daily. " * 4,
        "Linezolid (if vancomycin cannot be used; specialist advice only): 3 months to 11 years, "
        "10 mg/kg three times a day orally (maximum 600 mg per dose). " * 3,
    ]
    first = "Suspected or confirmed MRSA infection: dual therapy with a first-line antibiotic"
    markdown = f"| Treatment | Antibiotic, dosage and course length |\n| --- | --- |\n| {first} | {' '.join(entries)} |"
    pieces = split_table(markdown, 700)
    body = [line for piece in pieces for line in piece.split("\n")[2:]]
    assert len(body) >= 3 and all(len(p) <= 700 for p in pieces)
    for row in body:
        cells = row.strip("|").split(" | ")
        assert len(cells) == 2 and cells[0].strip() == first, row  # the row header once, as a cell
        assert cells[1].strip().split(" ")[0].rstrip(":") in ("Vancomycin", "Teicoplanin", "Linezolid"), row
    linezolid = ("Linezolid (if vancomycin cannot be used; specialist advice only): "
                 + "3 months to 11 years, 10 mg/kg three times a day orally. " * 5)
    assert cell_pieces(linezolid, 200)[1].startswith(
        "Linezolid (if vancomycin cannot be used; specialist advice only) (continued): ")
