"""Real files through real parsing into a real local Qdrant and SQLite registry: every format,
idempotent re-ingest, versioning, and bad files that must fail cleanly without touching the index."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from pipelines.assistant import Assistant
from pipelines.ingest import parse_document
from pipelines.validate import Limits
from tests.integration.conftest import LIBRARY

LIMITS = Limits(max_bytes=50_000_000, max_zip_ratio=100.0, max_unzipped_bytes=200_000_000)

PLAIN_TEXT = """Chilblains

Overview

Chilblains are painful, itchy red or purple swellings on the toes and fingers after exposure to cold. They usually settle within two to three weeks.

Assessment

Ask about cold exposure, smoking and circulation problems. Examine the peripheral pulses and look for ulceration.

Red flags

Refer urgently if there is ulceration, infection or signs of critical limb ischaemia. Consider vasculitis if lesions persist beyond the winter.

Management

Keep the hands and feet warm and avoid rapid rewarming. Stop smoking. Nifedipine may be considered for severe recurrent chilblains.

Referral

Refer to dermatology if the diagnosis is uncertain or chilblains recur despite treatment.
"""


def guideline_md(version: str, body_word: str, title: str = "Chilblains") -> str:
    """A small Markdown guideline; `body_word` makes each version's text distinct."""
    return f"""---
title: {title}
publisher: Test publisher
last_reviewed: 2024-02-01
version: "{version}"
---
# {title}

## Overview

{title} are painful, itchy swellings of the toes after exposure to cold; version {version} says {body_word}.

## Management

Keep the feet warm and avoid rapid rewarming. Version {version} management also mentions {body_word}.

## Red flags

Refer urgently if there is ulceration or signs of critical limb ischaemia.
"""


@pytest.mark.parametrize("name, title, heading, pages", [
    ("leg-cramps.pdf", "Leg cramps", "Red Flags", 4),
    ("asthma.pdf", "Asthma", "Management", 3),
    ("cellulitis.docx", "Cellulitis", "Red flags", None),
    ("croup.html", "Croup", "Management › Mild croup at home", None),
    ("acne-vulgaris.md", "Acne vulgaris", "Management › Isotretinoin", None),
])
def test_each_format_parses_into_sections_with_paths(name: str, title: str, heading: str,
                                                     pages: int | None) -> None:
    doc = parse_document(LIBRARY / name, LIMITS)
    paths = [" › ".join(s.path) for s in doc.sections]
    assert doc.meta.title == title
    assert len(doc.sections) >= 5
    wanted = f"{title} › {heading}"
    assert any(path == wanted or path.startswith(wanted + " › ") for path in paths)
    assert doc.pages == pages
    if pages:
        assert all(s.page is not None and 1 <= s.page <= pages for s in doc.sections)
        assert {s.page for s in doc.sections} == set(range(1, pages + 1))


def test_plain_text_parses_into_sections(tmp_path: Path) -> None:
    path = tmp_path / "chilblains.txt"
    path.write_text(PLAIN_TEXT, "utf-8")
    doc = parse_document(path, LIMITS)
    paths = [" › ".join(s.path) for s in doc.sections]
    assert doc.file_type == "text" and doc.meta.title == "Chilblains"
    assert len(doc.sections) >= 5
    assert "Chilblains › Red flags" in paths
    assert any("Nifedipine" in s.text for s in doc.sections if s.path[-1] == "Management")


def test_reingesting_the_same_file_is_idempotent(empty_assistant: Assistant) -> None:
    library, index = empty_assistant.library, empty_assistant.index
    first = library.ingest_file(LIBRARY / "leg-cramps.pdf")
    assert first.status == "added" and first.chunks >= 5
    count = index.count(index.live_collection())
    assert count == first.chunks
    again = library.ingest_file(LIBRARY / "leg-cramps.pdf")
    assert again.status == "unchanged"
    assert index.count(index.live_collection()) == count
    assert len(empty_assistant.store.guideline_rows()) == 1
    pages = {p.get("page") for p in index.scroll_payloads(index.live_collection(), ["page"])}
    assert pages <= {1, 2, 3, 4} and len(pages) >= 3


def _versions_in_index(assistant: Assistant, guideline_id: str) -> set[str]:
    payloads = assistant.index.scroll_payloads(assistant.index.live_collection(),
                                               ["guideline_id", "version"])
    return {str(p["version"]) for p in payloads if p["guideline_id"] == guideline_id}


def test_version_two_supersedes_version_one(empty_assistant: Assistant, tmp_path: Path) -> None:
    library = empty_assistant.library
    v1, v2 = tmp_path / "chilblains-v1.md", tmp_path / "chilblains-v2.md"
    v1.write_text(guideline_md("1", "calamine"), "utf-8")
    v2.write_text(guideline_md("2", "lanolin"), "utf-8")
    first = library.ingest_file(v1)
    assert first.status == "added" and first.guideline_id == "chilblains-test-publisher"
    assert _versions_in_index(empty_assistant, first.guideline_id) == {"1"}

    report = library.ingest_file(v2)
    assert report.status == "replaced" and report.version == "2"
    assert _versions_in_index(empty_assistant, first.guideline_id) == {"2"}
    statuses = {r["version"]: r["status"] for r in empty_assistant.store.guideline_rows()}
    assert statuses == {"1": "superseded", "2": "active"}
    texts = " ".join(p["text"] for p in empty_assistant.index.scroll_payloads(
        empty_assistant.index.live_collection(), ["text"]))
    assert "lanolin" in texts and "calamine" not in texts
    answer = empty_assistant.ask("chilblains calamine management", log=False)
    assert all(s.version == "2" for s in answer.sources)


def test_a_different_file_claiming_an_existing_version_is_rejected(empty_assistant: Assistant,
                                                                   tmp_path: Path) -> None:
    library = empty_assistant.library
    original, impostor = tmp_path / "chilblains.md", tmp_path / "chilblains-edited.md"
    original.write_text(guideline_md("2", "calamine"), "utf-8")
    impostor.write_text(guideline_md("2", "witch hazel"), "utf-8")
    library.ingest_file(original)
    count = empty_assistant.index.count(empty_assistant.index.live_collection())

    report = library.ingest_file(impostor)
    assert report.status == "failed" and report.file_name == "chilblains-edited.md"
    assert "version 2" in report.reason and "already exists" in report.reason
    assert "new version number" in report.reason
    assert empty_assistant.index.count(empty_assistant.index.live_collection()) == count
    assert [r["status"] for r in empty_assistant.store.guideline_rows()] == ["active"]


def _bad_files(folder: Path) -> dict[str, tuple[bytes, str]]:
    """name → (bytes, a word the failure reason must contain)."""
    from pypdf import PdfReader, PdfWriter

    pdf = (LIBRARY / "leg-cramps.pdf").read_bytes()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    encrypted = io.BytesIO()
    writer.write(encrypted)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * 30_000_000)
    return {
        "corrupt.pdf": (b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF", "damaged"),
        "truncated.pdf": (pdf[: len(pdf) // 3], "PDF"),
        "empty.md": (b"", "empty"),
        "spoofed.pdf": (b"<!DOCTYPE html><html><body><h1>Gout</h1></body></html>", "HTML"),
        "encrypted.pdf": (encrypted.getvalue(), "password"),
        "bomb.docx": (bomb.getvalue(), "ZIP bomb"),
    }


def test_bad_files_fail_cleanly_and_leave_the_live_index_alone(library_assistant: Assistant,
                                                               tmp_path: Path) -> None:
    index, store = library_assistant.index, library_assistant.store
    live = index.live_collection()
    count, active = index.count(live), store.active_versions()
    for name, (data, reason_word) in _bad_files(tmp_path).items():
        path = tmp_path / name
        path.write_bytes(data)
        report = library_assistant.library.ingest_file(path, actor="test")
        assert report.status == "failed", name
        assert report.file_name == name
        assert reason_word.lower() in report.reason.lower(), (name, report.reason)
        assert index.live_collection() == live
        assert index.count(live) == count, name
        assert store.active_versions() == active, name
    failures = [a for a in store.audit_rows() if a["action"] == "ingest" and a["outcome"] == "failed"]
    assert {a["target"] for a in failures} >= set(_bad_files(tmp_path))
    assert not any(r["status"] == "pending" for r in store.guideline_rows())
