"""Checks a file before any parser sees it: size, type sniffed from its bytes, ZIP bomb limits."""

from __future__ import annotations

import hashlib

import zipfile
from typing import Any
from dataclasses import dataclass
from pathlib import Path

SUFFIX_TYPES = {
    ".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html",
    ".md": "md", ".markdown": "md", ".txt": "text", ".text": "text",
}
SUPPORTED = "PDF, DOCX, HTML, Markdown or plain text"


class IngestError(ValueError):
    """A file that cannot be ingested, with a reason a clinical lead can act on."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"{filename}: {reason}")
        self.filename = filename
        self.reason = reason

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        """Pickle by both fields: the parser worker sends this error back to the app process."""
        return type(self), (self.filename, self.reason)


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_zip_ratio: float
    max_unzipped_bytes: int

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(settings.max_upload_mb * 1_000_000, settings.max_zip_ratio,
                   settings.max_unzipped_mb * 1_000_000)


def sniff(head: bytes) -> str:
    """The file type its first bytes show: pdf, zip, ole, html, text or binary."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and b"<\x00h\x00t\x00m\x00l" not in head.lower():
        return "text"  # UTF-16 with a byte-order mark (Windows Notepad's "Unicode"): NULs expected
    sample = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sample.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in sample[:1024]:
        return "html"
    if b"\x00" in head:
        return "binary"
    return "text"


def detect_type(path: Path, limits: Limits, display_name: str | None = None) -> str:
    """Validate `path` and return its parser type (pdf, docx, html, md, text).

    Raises:
        IngestError: empty, too large, unsupported, type-spoofed, or an unsafe ZIP.
    """
    name = display_name or path.name
    size = path.stat().st_size
    if size == 0:
        raise IngestError(name, "the file is empty (0 bytes).")
    if size > limits.max_bytes:
        raise IngestError(name, f"the file is {size / 1e6:.1f} MB; the limit is "
                                f"{limits.max_bytes / 1e6:.0f} MB.")
    with path.open("rb") as handle:
        head = handle.read(4096)
    sniffed = sniff(head)
    claimed = SUFFIX_TYPES.get(Path(name).suffix.lower())
    if sniffed == "ole":
        raise IngestError(name, "this is an old binary Word/Office file; save it as .docx or PDF.")
    if sniffed == "binary":
        raise IngestError(name, f"this is not a document Guidelight can read ({SUPPORTED}).")
    if sniffed == "zip":
        _check_docx_zip(path, name, limits)
        actual = "docx"
    elif sniffed in ("pdf", "html"):
        actual = sniffed
    else:
        actual = claimed if claimed in ("md", "text") else ("md" if _looks_markdown(head) else "text")
    if claimed in ("pdf", "docx") and claimed != actual:
        raise IngestError(name, f"the name says {claimed.upper()} but the content is {actual.upper()}; "
                                "the file may be mislabelled or unsafe.")
    if claimed is None and Path(name).suffix and actual in ("md", "text") and sniffed == "text":
        raise IngestError(name, f"unsupported file type {Path(name).suffix!r}; upload {SUPPORTED}.")
    return actual


def _looks_markdown(head: bytes) -> bool:
    text = head.decode("utf-8", "ignore")
    return text.startswith("---") or "\n# " in "\n" + text or "\n## " in text


def _check_docx_zip(path: Path, name: str, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise IngestError(name, f"the ZIP container is damaged ({exc}).") from exc
    names = {i.filename for i in infos}
    if "word/document.xml" not in names:
        raise IngestError(name, "this ZIP file is not a Word .docx document.")
    if len(infos) > 2000:
        raise IngestError(name, f"the document holds {len(infos)} parts; this looks unsafe.")
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_bytes:
        raise IngestError(name, f"it would expand to {total / 1e6:.0f} MB (limit "
                                f"{limits.max_unzipped_bytes / 1e6:.0f} MB): a possible ZIP bomb.")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1_000_000 and ratio > limits.max_zip_ratio:
            raise IngestError(name, f"part {info.filename} expands {ratio:.0f}-fold: a possible ZIP bomb.")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
