"""Guideline files written by the browser tests, each clearly labelled as a test document.

"Zorblax syndrome" is an invented condition: no real guideline mentions it, so a question about it
can only be answered from the file a test uploaded, and stops being answered once it is retired.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

ZORBLAX_TITLE = "Zorblax syndrome (TEST DOCUMENT)"
ZORBLAX_QUESTION = "What is the first-line treatment for Zorblax syndrome?"
ZORBLAX_RECOMMENDATION = ("Offer oral quarblinol 40 mg once daily for 14 days as the first-line "
                          "treatment for Zorblax syndrome in adults.")
ZORBLAX_SECTIONS: list[tuple[str, list[str]]] = [
    ("About this test document", [
        "This is a TEST DOCUMENT written by the Guidelight browser tests. Zorblax syndrome is an "
        "invented condition and quarblinol an invented medicine; nothing here is clinical advice.",
    ]),
    ("Recognising Zorblax syndrome", [
        "Zorblax syndrome presents with a violet tinge to the fingernails, humming tinnitus and "
        "an urge to count backwards from one hundred.",
        "Suspect Zorblax syndrome when all three features have lasted for more than two weeks.",
    ]),
    ("Treating Zorblax syndrome", [
        ZORBLAX_RECOMMENDATION,
        "Review adults with Zorblax syndrome after 14 days of quarblinol and stop it once the "
        "fingernails are no longer violet.",
        "Do not offer quarblinol to children with Zorblax syndrome; refer them to a specialist "
        "Zorblax clinic instead.",
    ]),
]
ZORBLAX_META = {"title": ZORBLAX_TITLE, "publisher": "Guidelight browser tests",
                "source_url": "https://example.org/zorblax-test-document",
                "last_reviewed": "2026-01-15", "specialty": "Test documents", "version": "1"}


def write_zorblax_pdf(path: Path) -> Path:
    """A two-page PDF (fpdf2) with the Zorblax recommendation and Guidelight metadata."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from pypdf import PdfReader, PdfWriter

    pdf = FPDF(format="A4")
    pdf.set_margins(20, 25, 20)
    pdf.add_page()
    next_line = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(pdf.epw, 9, ZORBLAX_TITLE, **next_line)
    for i, (heading, paragraphs) in enumerate(ZORBLAX_SECTIONS):
        if i == 2:
            pdf.add_page()
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(pdf.epw, 7, heading, **next_line)
        pdf.ln(2)
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(pdf.epw, 5.5, paragraph, **next_line)
            pdf.ln(2)
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(bytes(pdf.output()))))
    writer.add_metadata({"/Title": ZORBLAX_TITLE, "/Guidelight": json.dumps(ZORBLAX_META)})
    with path.open("wb") as handle:
        writer.write(handle)
    return path


HOSTILE_TITLE = "Quillfeather fever (TEST DOCUMENT with hostile markup)"
HOSTILE_QUESTION = "How is Quillfeather fever managed?"


def hostile_text(pixel_url: str) -> str:
    """A plain-text guideline whose passages carry script, event-handler, link and image markup."""
    return f"""---
title: "{HOSTILE_TITLE}"
publisher: Guidelight browser tests
specialty: Test documents
last_reviewed: "2026-01-15"
version: "1"
---
QUILLFEATHER FEVER (TEST DOCUMENT)

This is a TEST DOCUMENT written by the Guidelight browser tests. Quillfeather fever is an invented \
condition used to check that hostile markup in a guideline is shown as inert text.

Managing Quillfeather fever

Quillfeather fever is managed with rest, fluids and paracetamol for three days <script>alert(1)</script> \
and most adults with Quillfeather fever recover within a week.

Review adults with Quillfeather fever after three days <img src=x onerror=alert(1)> and offer a \
blood test if the fever has not settled.

Quillfeather fever management advice leaflets are available [click](javascript:alert(1)) for \
patients who want to read more about Quillfeather fever.

A chart of the Quillfeather fever course is shown here ![t]({pixel_url}) for adults managed at home \
with Quillfeather fever.
"""


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.browser.documents OUT.pdf`: write the Zorblax test PDF (for the demo)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0] if args else "zorblax-syndrome-test.pdf")
    print(write_zorblax_pdf(target))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
