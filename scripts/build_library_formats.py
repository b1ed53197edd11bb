"""Build the PDF, DOCX and HTML copies of nine bundled guideline summaries.

This script was run once and its outputs (data/guidelines/*.pdf, *.docx, *.html) are committed;
it is kept so the files can be regenerated or audited. It is not part of the application.

The sources are the Markdown summaries in scripts/library_sources/ (YAML front matter plus a
`# Title`, a `> ` disclaimer, `##`/`###` headings, paragraphs and `- ` bullets). Three topics
become PDFs (fpdf2, then pypdf for the metadata), three DOCX (python-docx) and three HTML, so
that every parser of the ingestion pipeline is exercised by the bundled library. Each file
carries the six metadata fields the pipeline reads back (see pipelines/metadata.py):

- PDF: document info /Title and /Guidelight (JSON of the six fields).
- DOCX: core properties title, author (publisher) and comments (JSON of the six fields).
- HTML: <title> and <meta name="guidelight:{field}" content="...">.

Output is deterministic: creation dates are the summary's last_reviewed date, and the DOCX
ZIP entries get a fixed timestamp.

Run from the project root: .venv/bin/python scripts/build_library_formats.py
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import sys
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "scripts" / "library_sources"
LIBRARY = ROOT / "data" / "guidelines"
FIELDS = ("title", "publisher", "source_url", "last_reviewed", "specialty", "version")
TARGETS = {
    "pdf": ("leg-cramps", "gout", "asthma"),
    "docx": ("hypertension", "depression", "cellulitis"),
    "html": ("sepsis", "croup", "migraine-and-headache"),
}
MAX_BYTES = 200_000
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
EMPHASIS = re.compile(r"\*\*(.+?)\*\*|\*(\S(?:.*?\S)?)\*")
# Characters the PDF core fonts (latin-1) cannot show, and what to print instead.
LATIN1_REPLACEMENTS = {
    "\u2265": ">=", "\u2264": "<=", "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2022": "-", "\u203a": ">", "\u2039": "<", "\u2192": "->", "\u2190": "<-", "\u2026": "...",
    "\u00b5": "micro", "\u03bc": "micro", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\u2011": "-", "\u2010": "-", "\u00d7": "x", "\u2248": "~",
}


# --------------------------------------------------------------------------- reading sources

def strip_emphasis(text: str) -> str:
    """Remove Markdown **bold** and *italic* markers, keeping the words."""
    return EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)


def read_source(path: Path) -> tuple[dict[str, str], list[tuple[str, object]]]:
    """The six metadata fields (as strings) and the body as blocks.

    Blocks are (kind, value): ("h1"|"h2"|"h3"|"quote"|"p", text) or ("ul", [item, ...]).
    """
    text = path.read_text("utf-8")
    match = FRONT_MATTER.match(text)
    if not match:
        raise SystemExit(f"{path.name}: no YAML front matter")
    raw = yaml.safe_load(match.group(1)) or {}
    missing = [k for k in FIELDS if raw.get(k) in (None, "")]
    if missing:
        raise SystemExit(f"{path.name}: front matter lacks {', '.join(missing)}")
    meta = {k: str(raw[k]).strip() for k in FIELDS}

    blocks: list[tuple[str, object]] = []
    paragraph: list[str] = []
    bullets: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(("p", strip_emphasis(" ".join(paragraph))))
            paragraph.clear()
        if bullets:
            blocks.append(("ul", [strip_emphasis(b) for b in bullets]))
            bullets.clear()

    for line in text[match.end():].splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        heading = re.match(r"^(#{1,3})\s+(.*)$", stripped)
        if heading:
            flush()
            blocks.append((f"h{len(heading.group(1))}", strip_emphasis(heading.group(2).strip())))
        elif stripped.startswith(">"):
            flush()
            blocks.append(("quote", strip_emphasis(stripped.lstrip("> ").strip())))
        elif stripped.startswith(("- ", "* ")):
            if paragraph:
                flush()
            bullets.append(stripped[2:].strip())
        elif bullets and line.startswith((" ", "\t")):
            bullets[-1] += " " + stripped  # continuation of a wrapped bullet
        else:
            if bullets:
                flush()
            paragraph.append(stripped)
    flush()
    if not blocks or blocks[0] != ("h1", meta["title"]):
        blocks = [b for b in blocks if b[0] != "h1"]
        blocks.insert(0, ("h1", meta["title"]))
    return meta, blocks


def fixed_date(meta: dict[str, str]) -> dt.datetime:
    """A fixed creation date: the summary's last_reviewed day at midnight UTC."""
    try:
        day = dt.date.fromisoformat(meta["last_reviewed"][:10])
    except ValueError:
        day = dt.date(2024, 1, 1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


# --------------------------------------------------------------------------- PDF

def latin1(text: str) -> str:
    """Text the PDF core fonts can render: known symbols spelt out, anything else as '?'."""
    for char, repl in LATIN1_REPLACEMENTS.items():
        text = text.replace(char, repl)
    return text.encode("latin-1", "replace").decode("latin-1")


MINOR_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to",
               "with", "from", "vs"}
BULLET_INDENT = 2.0  # mm; kept small so a subheading and the first bullet line share a text box
TOP_MARGIN = 25.0    # mm; unstructured calls text centred in the top 7% of a page a Header
BOTTOM_MARGIN = 25.0  # mm; ... and text centred in the bottom 7% a Footer (only the footer is)


def title_case(text: str) -> str:
    """'Safety netting and follow-up' -> 'Safety Netting and Follow-up'."""
    words = text.split(" ")
    out = []
    for i, word in enumerate(words):
        if i and word.lower() in MINOR_WORDS:
            out.append(word.lower())
            continue
        for j, ch in enumerate(word):
            if ch.isalpha():
                word = word[:j] + ch.upper() + word[j + 1:]
                break
        out.append(word)
    return " ".join(out)


def build_pdf(meta: dict[str, str], blocks: list[tuple[str, object]], out: Path) -> None:
    """A4 PDF in Helvetica, laid out so unstructured's fast (text-only) PDF strategy recovers it.

    That strategy sees no fonts or sizes: it calls a text box a Title only by its wording (no
    verb, or mostly capitalised words) and gives every Title the same depth. So:
    - `##` headings are set in title case, which makes each one a Title even when it contains
      a verb-like word ("Safety Netting and Follow-up");
    - `###` subheadings end with a colon and sit directly on the first line of their block,
      so pdfminer puts them in the same text box ("Drug review: Review all medicines ...")
      and they stay inside their `##` section instead of replacing it as a flat heading;
    - headings are kept with the next lines on one page, and the margins keep body text out of
      the zones unstructured treats as page header and footer.
    """
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from pypdf import PdfReader, PdfWriter

    class GuidePDF(FPDF):
        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, f"Guidelight demonstration summary - page {self.page_no()}", align="C")

    created = fixed_date(meta)
    pdf = GuidePDF(format="A4")
    pdf.set_creation_date(created)
    pdf.set_title(latin1(meta["title"]))
    pdf.set_author(latin1(meta["publisher"]))
    pdf.set_creator("Guidelight scripts/build_library_formats.py")
    pdf.set_margins(20, TOP_MARGIN, 20)
    pdf.set_auto_page_break(True, margin=BOTTOM_MARGIN)
    pdf.add_page()
    width = pdf.epw
    nl = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}

    def keep_with_next(height: float) -> None:
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()

    for kind, value in blocks:
        text = latin1(str(value)) if kind != "ul" else ""
        if kind == "h1":
            pdf.set_font("Helvetica", "B", 18)
            pdf.multi_cell(width, 9, text, align="L", **nl)
            pdf.ln(3)
        elif kind == "quote":
            pdf.set_font("Helvetica", "I", 10)
            pdf.multi_cell(width, 5, text, align="L", **nl)
            pdf.ln(3)
        elif kind == "h2":
            pdf.ln(3)
            keep_with_next(7 + 2 + 6 + 3 * 5.5)
            pdf.set_font("Helvetica", "B", 14)
            pdf.multi_cell(width, 7, title_case(text), align="L", **nl)
            pdf.ln(2)
        elif kind == "h3":
            pdf.ln(1)
            keep_with_next(5.5 + 3 * 5.5)
            pdf.set_font("Helvetica", "B", 12)
            label = text if text.endswith(":") else f"{text}:"
            pdf.multi_cell(width, 5.5, label, align="L", **nl)  # no gap: joins the next block
        elif kind == "p":
            pdf.set_font("Helvetica", size=11)
            pdf.multi_cell(width, 5.5, text, align="L", **nl)
            pdf.ln(2)
        elif kind == "ul":
            pdf.set_font("Helvetica", size=11)
            for item in value:  # type: ignore[union-attr]
                pdf.set_x(pdf.l_margin + BULLET_INDENT)
                pdf.multi_cell(width - BULLET_INDENT, 5.5, latin1(f"- {item}"), align="L", **nl)
                pdf.ln(1)
            pdf.ln(1.5)

    reader = PdfReader(io.BytesIO(bytes(pdf.output())))
    if len(reader.pages) < 2:
        raise SystemExit(f"{out.name}: only {len(reader.pages)} page; expected at least 2")
    writer = PdfWriter()
    writer.append(reader)
    stamp = created.strftime("D:%Y%m%d%H%M%SZ")
    writer.add_metadata({
        "/Title": meta["title"],
        "/Author": meta["publisher"],
        "/Creator": "Guidelight scripts/build_library_formats.py",
        "/CreationDate": stamp,
        "/ModDate": stamp,
        "/Guidelight": json.dumps({k: meta[k] for k in FIELDS}),
    })
    buffer = io.BytesIO()
    writer.write(buffer)
    out.write_bytes(buffer.getvalue())


# --------------------------------------------------------------------------- DOCX

def build_docx(meta: dict[str, str], blocks: list[tuple[str, object]], out: Path) -> None:
    import docx

    doc = docx.Document()
    for kind, value in blocks:
        if kind == "h1":
            doc.add_heading(str(value), level=1)
        elif kind == "h2":
            doc.add_heading(str(value), level=2)
        elif kind == "h3":
            doc.add_heading(str(value), level=3)
        elif kind in ("quote", "p"):
            doc.add_paragraph(str(value))
        elif kind == "ul":
            for item in value:  # type: ignore[union-attr]
                doc.add_paragraph(str(item), style="List Bullet")

    created = fixed_date(meta).replace(tzinfo=None)
    props = doc.core_properties
    props.title = meta["title"]
    props.author = meta["publisher"]
    props.comments = json.dumps({k: meta[k] for k in FIELDS})
    props.subject = meta["specialty"]
    props.last_modified_by = "Guidelight"
    props.revision = 1
    props.created = created
    props.modified = created
    props.last_printed = created

    raw = io.BytesIO()
    doc.save(raw)
    out.write_bytes(_fixed_zip_times(raw.getvalue()))


def _fixed_zip_times(data: bytes) -> bytes:
    """Rewrite a ZIP with every entry dated 1980-01-01 so the bytes do not depend on when it ran."""
    source = zipfile.ZipFile(io.BytesIO(data))
    target_buffer = io.BytesIO()
    with zipfile.ZipFile(target_buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return target_buffer.getvalue()


# --------------------------------------------------------------------------- HTML

def build_html(meta: dict[str, str], blocks: list[tuple[str, object]], out: Path) -> None:
    esc = lambda s: html.escape(str(s), quote=True)  # noqa: E731
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{esc(meta['title'])}</title>",
        *[f'<meta name="guidelight:{key}" content="{esc(meta[key])}">' for key in FIELDS],
        "</head>",
        "<body>",
        "<article>",
    ]
    for kind, value in blocks:
        if kind in ("h1", "h2", "h3"):
            lines.append(f"<{kind}>{esc(value)}</{kind}>")
        elif kind in ("quote", "p"):
            lines.append(f"<p>{esc(value)}</p>")
        elif kind == "ul":
            lines.append("<ul>")
            lines.extend(f"<li>{esc(item)}</li>" for item in value)  # type: ignore[union-attr]
            lines.append("</ul>")
    lines += ["</article>", "</body>", "</html>", ""]
    out.write_text("\n".join(lines), encoding="utf-8", newline="\n")


# --------------------------------------------------------------------------- main

BUILDERS = {"pdf": build_pdf, "docx": build_docx, "html": build_html}


def main() -> int:
    LIBRARY.mkdir(parents=True, exist_ok=True)
    for suffix, slugs in TARGETS.items():
        for slug in slugs:
            source = SOURCES / f"{slug}.md"
            if not source.is_file():
                print(f"missing source {source.relative_to(ROOT)}", file=sys.stderr)
                return 1
            meta, blocks = read_source(source)
            out = LIBRARY / f"{slug}.{suffix}"
            BUILDERS[suffix](meta, blocks, out)
            size = out.stat().st_size
            if size >= MAX_BYTES:
                print(f"{out.name} is {size} bytes; expected under {MAX_BYTES}", file=sys.stderr)
                return 1
            stale = LIBRARY / f"{slug}.md"
            if stale.exists():
                stale.unlink()  # the library must hold one copy of each topic
            print(f"wrote {out.relative_to(ROOT)} ({size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
