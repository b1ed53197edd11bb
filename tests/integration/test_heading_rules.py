"""Lines that look like headings but are a table's header row, read from a real PDF by the real
parser: a ruled table whose header row is left at the foot of a page (its body on the next) must
not give the following recommendations a section named after its header cells."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from pipelines.ingest import chunk_sections, parse_document
from pipelines.validate import Limits

LIMITS = Limits(max_bytes=5_000_000, max_zip_ratio=100.0, max_unzipped_bytes=200_000_000)
BODY = ("Measure blood pressure in both arms when hypertension is suspected and repeat the "
        "measurement if the first reading is high. ")


def _header_row_at_page_foot(path: Path) -> None:
    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.set_xy(20, 20)
    pdf.cell(0, 9, "1.4 Monitoring treatment and blood pressure targets")
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(20, 34)
    pdf.multi_cell(170, 6, "1.4.14 " + BODY * 20)
    pdf.set_font("Helvetica", "B", 11)
    pdf.set_xy(20, 236)
    pdf.cell(0, 6, "Table 2: Clinic blood pressure targets for people aged 80 and over")
    # The header row, in a smaller bold type, in three ruled cells; the body follows overleaf.
    pdf.set_font("Helvetica", "B", 8.5)
    for x, w, lines in ((20, 90, ["Person aged 80 and over with:"]), (110, 40, ["Clinic blood", "pressure target"]),
                        (150, 40, ["Source"])):
        pdf.rect(x, 246, w, 12)
        for i, text in enumerate(lines):
            pdf.set_xy(x + 1, 247 + 4.5 * i)
            pdf.cell(w - 2, 4, text)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(20, 20)
    pdf.multi_cell(170, 6, "1.4.15 Use clinic blood pressure measurements to monitor the response to "
                           "lifestyle changes or drug treatment in people with hypertension. [2019]")
    pdf.set_xy(20, 44)
    pdf.multi_cell(170, 6, "1.4.16 " + BODY * 6)
    pdf.output(str(path))


def test_a_tables_header_cells_never_become_a_section(tmp_path: Path) -> None:
    path = tmp_path / "header_row.pdf"
    _header_row_at_page_foot(path)
    chunks = chunk_sections(parse_document(path, LIMITS))
    labels = {part for c in chunks for part in c.section.split(" › ")}
    assert not any(label.startswith(("Clinic blood", "Person aged", "Source")) for label in labels), labels
    later = [c for c in chunks if "1.4.15 Use clinic blood pressure" in c.text]
    assert later and "[2019]" in later[0].text
