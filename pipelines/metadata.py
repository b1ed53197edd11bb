"""Reads guideline metadata carried inside a file: Markdown front matter, HTML meta tags,
PDF document info and DOCX core properties. Missing values fall back to sensible defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from pipelines.models import GuidelineMeta

FIELDS = ("title", "publisher", "source_url", "last_reviewed", "specialty", "version", "code", "published",
          "review_date")
META_PREFIX = "guidelight:"
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Front matter as a dict, and the body after it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        return {}, text
    return (data if isinstance(data, dict) else {}), text[match.end():]


def read_embedded(path: Path, file_type: str) -> dict[str, Any]:
    """Metadata stored in the file itself, by type; {} when none is found."""
    readers = {"pdf": _from_pdf, "docx": _from_docx, "html": _from_html}
    try:
        if file_type in readers:
            return readers[file_type](path)
        return split_front_matter(path.read_text("utf-8", "replace"))[0]
    except Exception:  # metadata is a convenience; a parse failure surfaces later
        return {}


def _from_pdf(path: Path) -> dict[str, Any]:
    from pypdf import PdfReader

    info = PdfReader(str(path)).metadata or {}
    data = json.loads(info.get("/Guidelight", "{}") or "{}")
    return data  # /Title is one of the PDF reader's title candidates, weighed against the printed one


def _from_docx(path: Path) -> dict[str, Any]:
    import docx

    props = docx.Document(str(path)).core_properties
    data = json.loads(props.comments) if (props.comments or "").startswith("{") else {}
    if props.title and "title" not in data:
        data["title"] = props.title
    return data


def _from_html(path: Path) -> dict[str, Any]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_bytes()[:2_000_000], "html.parser")
    data: dict[str, Any] = {}
    for tag in soup.find_all("meta"):
        name = (tag.get("name") or "").lower()
        if name.startswith(META_PREFIX) and name[len(META_PREFIX):] in FIELDS:
            data[name[len(META_PREFIX):]] = tag.get("content", "")
    if soup.title and soup.title.string and "title" not in data:
        data["title"] = soup.title.string.strip()
    return data


def make_meta(found: dict[str, Any], overrides: dict[str, Any] | None, fallback_title: str) -> GuidelineMeta:
    """Merge embedded metadata with what the uploader typed (theirs wins)."""
    merged = {k: str(v).strip() for k, v in found.items() if k in FIELDS and v not in (None, "")}
    merged.update({k: str(v).strip() for k, v in (overrides or {}).items() if k in FIELDS and v})
    merged.setdefault("title", fallback_title)
    return GuidelineMeta(**merged)
