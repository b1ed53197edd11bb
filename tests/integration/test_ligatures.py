"""A PDF that draws "fi" and "fl" as single ligature glyphs (U+FB01, U+FB02), read by the real
parser: the stored text spells the words out, so they match what a clinician types and the
heading rules that keep a trust document's ratification box out of the index."""

from __future__ import annotations

from pathlib import Path

import matplotlib
from fpdf import FPDF

from pipelines.ingest import chunk_sections, parse_document
from pipelines.text import unligature
from pipelines.validate import Limits

LIMITS = Limits(max_bytes=5_000_000, max_zip_ratio=100.0, max_unzipped_bytes=200_000_000)
# A TrueType font that has the ligature glyphs: fpdf2's core fonts are Latin-1 only. matplotlib
# ships DejaVu Sans and is installed by the pinned unstructured-inference.
FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
LIGATURE_CHARS = "\ufb00\ufb01\ufb02\ufb03\ufb04"


def _ligature_pdf(path: Path) -> None:
    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_font("DejaVu", "B", str(FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 10, "Blood glucose self-monitoring guidance", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 13)
    pdf.cell(0, 9, "1 Who needs a meter", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(0, 5, "Con\ufb01rm the diagnosis with a \ufb01nger-prick test and o\ufb00er a meter to "
                         "people with type 2 diabetes on insulin or a sulfonylurea. Review the \ufb02ow of "
                         "test strips when treatment is modi\ufb01ed.")
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 13)
    pdf.cell(0, 9, "Document rati\ufb01cation details", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(0, 5, "Approved by the Joint Prescribing Group in December 2024. Review date: December 2026.")
    pdf.output(str(path))


def test_unligature_spells_out_latin_ligatures_only() -> None:
    assert unligature("rati\ufb01cation \ufb02ow o\ufb00er su\ufb03x") == "ratification flow offer suffix"
    assert unligature("5×10⁹/L") == "5×10⁹/L"  # superscripts are not flattened


def test_pdf_ligature_glyphs_are_stored_as_letters(tmp_path: Path) -> None:
    path = tmp_path / "ligatures.pdf"
    _ligature_pdf(path)
    parsed = parse_document(path, LIMITS)
    raw = "".join(s.text for s in parsed.sections)
    chunks = chunk_sections(parsed)
    stored = " ".join(f"{c.section} {c.text}" for c in chunks)
    assert not any(ch in stored for ch in LIGATURE_CHARS)
    assert "Confirm the diagnosis with a finger-prick test and offer a meter" in stored
    assert "when treatment is modified" in stored and "flow" in raw
    # The ratification box is recognised by its heading once the heading is spelt out.
    assert "ratification" not in stored.lower() and "Approved by the Joint Prescribing Group" not in stored
