"""Bad input: hostile and broken files through `Library.ingest_file` with the real parser process,
and hostile questions through the real Assistant.

Each file is rejected, or parsed within the limits, with a reason naming the file; a failure
writes nothing (live chunk count, registry rows, originals folder unchanged); the parser worker's
peak resident memory per file is measured (Linux `VmHWM`, reset through `clear_refs`) and
printed, never asserted. Afterwards the same Assistant still answers.
"""

from __future__ import annotations

import io
import json
import resource
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.assistant import Assistant
from pipelines.config import Settings
from pipelines.index import close_client
from tests.support.data_copy import copy_data

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "data" / "guidelines"
GUIDANCE = ("Persistent hiccups lasting more than 48 hours need a search for an underlying cause. "
            "Offer chlorpromazine for intractable hiccups after excluding structural causes. ")
PEAK_RSS_MB: dict[str, float] = {}


# File makers ------------------------------------------------------------------------------------
def docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def with_document_xml(docx: bytes, rewrite: Callable[[str], str]) -> bytes:
    """The same DOCX with word/document.xml rewritten (a DOCTYPE smuggled in)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                data = rewrite(data.decode("utf-8")).encode("utf-8")
            dst.writestr(info.filename, data)
    return out.getvalue()


def add_doctype(xml: str, doctype: str, reference: str) -> str:
    head, _, rest = xml.partition("?>")
    rest = rest.replace("</w:body>", f"<w:p><w:r><w:t>{reference}</w:t></w:r></w:p></w:body>", 1)
    return f"{head}?>\n{doctype}{rest}"


LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                    for i in range(1, 10)) + "]>")
XXE = '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def zip_bomb(path: Path, megabytes: int) -> None:
    """A DOCX whose document.xml inflates from ~megabytes KB to `megabytes` MB."""
    block = b"<w:p><w:r><w:t>" + b"A" * 1_000_000 + b"</w:t></w:r></w:p>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(block)


def plain_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", GUIDANCE)


def pdf_of_pages(path: Path, pages: int) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    writer.write(str(path))


def encrypted_pdf(path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(LIBRARY / "gout.pdf")))
    writer.encrypt("secret-password")
    writer.write(str(path))


def single_line(path: Path, size: int) -> None:
    words = b"hiccups chlorpromazine baclofen reflux review "
    with path.open("wb") as handle:
        while size > 0:
            piece = words * min(20_000, size // len(words) + 1)
            handle.write(piece[:size])
            size -= len(piece[:size])


@dataclass(frozen=True)
class BadFile:
    name: str
    make: Callable[[Path], None]
    rejected: bool | None  # True: must fail; False: must parse; None: either, with limits kept
    reason_has: str = ""


def _write(data: bytes | str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return lambda p: p.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))


HTML_LAUGHS = (f"<!DOCTYPE html {LAUGHS[len('<!DOCTYPE lolz '):]}\n<html><head><title>Hiccups</title>"
               f"</head><body><h1>Hiccups</h1><p>{GUIDANCE}</p><p>&lol9;</p></body></html>")
HTML_XXE = (f"<!DOCTYPE html {XXE[len('<!DOCTYPE foo '):]}\n<html><head><title>Hiccups XXE</title>"
            f"</head><body><h1>Hiccups XXE</h1><p>{GUIDANCE}</p><p>&xxe;</p></body></html>")

BAD_FILES = [
    BadFile("bomb-ratio.docx", lambda p: zip_bomb(p, 60), True, "ZIP bomb"),
    BadFile("bomb-size.docx", lambda p: zip_bomb(p, 260), True, "ZIP bomb"),
    BadFile("laughs.docx", lambda p: p.write_bytes(with_document_xml(
        docx_bytes(["Hiccups laughs", GUIDANCE]), lambda x: add_doctype(x, LAUGHS, "&lol9;"))), None),
    BadFile("xxe.docx", lambda p: p.write_bytes(with_document_xml(
        docx_bytes(["Hiccups XXE", GUIDANCE]), lambda x: add_doctype(x, XXE, "&xxe;"))), None),
    BadFile("laughs.html", _write(HTML_LAUGHS), None),
    BadFile("xxe.html", _write(HTML_XXE), None),
    BadFile("spoof-html.pdf", _write("<html><body><p>" + GUIDANCE + "</p></body></html>"), True,
            "name says PDF"),
    BadFile("spoof-zip.pdf", lambda p: p.write_bytes(docx_bytes([GUIDANCE])), True, "name says PDF"),
    BadFile("spoof-plainzip.pdf", lambda p: plain_zip(p), True,
            "not a Word"),
    # bytes changed so the file is not simply "unchanged" (same hash as the library's gout.pdf)
    BadFile("spoof-pdf.docx", lambda p: p.write_bytes((LIBRARY / "gout.pdf").read_bytes() + b"\n% x\n"),
            True, "name says DOCX"),
    BadFile("encrypted.pdf", encrypted_pdf, True, "password"),
    BadFile("truncated.pdf", lambda p: p.write_bytes((LIBRARY / "gout.pdf").read_bytes()[:1500]), True),
    BadFile("empty.txt", _write(b""), True, "empty"),
    BadFile("latin1-hiccups.txt", _write("Café-au-lait naïve hiccups. " + GUIDANCE, "latin-1"), False),
    BadFile("utf16-hiccups.txt", _write("\ufeffŒsophagitis hiccups. " + GUIDANCE, "utf-16-le"), False),
    BadFile("line-50mb.txt", lambda p: single_line(p, 50_000_001), True, "limit is 50 MB"),
    # 300 kB keeps the run short; a 2 MB line parsed too (~2.6 GB worker peak, minutes under load)
    BadFile("line-300kb.txt", lambda p: single_line(p, 300_000), None),
    BadFile("pages-3000.pdf", lambda p: pdf_of_pages(p, 3000), True, "limit is 400"),
]


# Fixtures and measurement ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def shared(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """One Assistant (and one parser worker) over a copy of the seeded library for every file."""
    root = tmp_path_factory.mktemp("badinput")
    copy_data(seeded_template, root / "data")
    settings = Settings(_env_file=None, data_dir=root / "data")
    assistant = Assistant.create(settings)
    assistant.startup()
    yield assistant
    assistant.library.parser.close()
    close_client(settings)
    print("\npeak RSS of the parser worker per file (MB): "
          + json.dumps(dict(sorted(PEAK_RSS_MB.items(), key=lambda kv: -kv[1]))))


def worker_pids(assistant: Assistant) -> list[int]:
    pool = assistant.library.parser._pool
    return list(getattr(pool, "_processes", {}) or {}) if pool is not None else []


def reset_peaks(pids: list[int]) -> None:
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        except OSError:
            pass


def peak_mb(pids: list[int]) -> float:
    peak = 0.0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def state(assistant: Assistant) -> tuple[int, int, int, list[str]]:
    """What a failed ingest must leave alone."""
    rows = assistant.store.guideline_rows()
    originals = assistant.settings.originals_dir
    return (assistant.index.count(assistant.index.live_collection()), len(rows),
            sum(r["status"] == "active" for r in rows),
            sorted(p.name for p in originals.iterdir()) if originals.is_dir() else [])


# Tests --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", BAD_FILES, ids=[b.name for b in BAD_FILES])
def test_bad_file_is_rejected_or_parsed_within_limits(shared: Assistant, bad: BadFile,
                                                      tmp_path: Path) -> None:
    path = tmp_path / bad.name
    bad.make(path)
    before = state(shared)
    if not worker_pids(shared):  # start the worker so its peak can be reset and read
        shared.library.parser.parse(LIBRARY / "impetigo.md")
    pids = worker_pids(shared)
    reset_peaks(pids)
    report = shared.library.ingest_file(path, actor="test")
    PEAK_RSS_MB[bad.name] = round(peak_mb(pids), 1)
    assert report.file_name == bad.name
    audit = shared.store.audit_rows(1)[0]
    assert audit["target"] == bad.name and audit["action"] == "ingest"
    if report.status == "failed":
        assert bad.rejected is not False, f"{bad.name} should parse: {report.reason}"
        assert report.reason and bad.reason_has in report.reason, report.reason
        assert state(shared) == before, "a failed ingest wrote something"
        return
    assert bad.rejected is not True, f"{bad.name} was accepted ({report.status})"
    payloads = [p for p in shared.index.scroll_payloads(shared.index.live_collection(),
                                                        ["guideline_id", "text"])
                if p["guideline_id"] == report.guideline_id]
    assert payloads and len(payloads) == report.chunks
    text = "\n".join(p["text"] for p in payloads)
    assert max(len(p["text"]) for p in payloads) <= shared.settings.chunk_max_chars
    assert "root:" not in text and "lollol" not in text  # no entity was expanded
    assert "\x00" not in text and "\ufffd" not in text
    if bad.name.startswith("latin1"):
        assert "Café-au-lait naïve" in text
    if bad.name.startswith("utf16"):
        assert "Œsophagitis" in text


def test_parser_memory_stays_within_its_limit(shared: Assistant) -> None:
    """The worker runs under RLIMIT_AS: the measured peaks are below the configured cap."""
    assert PEAK_RSS_MB, "run with the file tests"
    assert max(PEAK_RSS_MB.values()) < shared.settings.parse_memory_mb
    print(f"\nworst file: {max(PEAK_RSS_MB, key=PEAK_RSS_MB.get)} "
          f"{max(PEAK_RSS_MB.values()):.0f} MB; this process peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def test_app_still_answers_after_the_bad_files(shared: Assistant) -> None:
    answer = shared.ask("How should acute gout be treated?")
    assert answer.confidence.level in ("high", "moderate") and answer.citations
    assert any("gout" in c.title.lower() for c in answer.citations)


HOSTILE = {
    "100k characters": "What is the first-line treatment for acute gout? " + "gout " * 20_000,
    "NUL and zero-width": "What\x00 is the first\u200b-line treat\u200dment for acute\ufeff gout?\x00",
    "right-to-left override": "What is the \u202etuog etuca\u202c first-line treatment for \u202egout\u202c?",
    "Welsh": "Beth yw'r driniaeth gyntaf ar gyfer gowt acíwt?",
    "Arabic": "ما هو العلاج الأول للنقرس الحاد؟",
    "Chinese": "急性痛风的一线治疗是什么？",
    "emoji": "🦶🔥 acute gout 😖 first-line treatment?? 💊💊",
    "only emoji": "😀😀😀",
    "only controls": "\x00\x01\u200b\u202e",
    "combining marks": "gout" + "\u0301" * 5000,
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_question_is_capped_normalised_and_answered(shared: Assistant, kind: str) -> None:
    answer = shared.ask(HOSTILE[kind])
    limit = shared.settings.max_question_chars
    assert len(answer.question) <= limit
    for char in ("\x00", "\u200b", "\u200d", "\ufeff", "\u202e", "\u202c", "\x01"):
        assert char not in answer.question and char not in answer.search_query
    assert answer.answer.strip()
    if kind in ("100k characters", "NUL and zero-width", "emoji"):
        assert answer.confidence.level != "insufficient" and any(
            "gout" in c.title.lower() for c in answer.citations), (kind, answer.answer[:200])
    if kind == "100k characters":
        assert any("shortened" in n for n in answer.notices)
    if kind in ("only emoji", "only controls", "Chinese", "Arabic"):
        assert answer.abstained, (kind, answer.confidence)
    json.dumps(answer.to_json())  # renders for the UI / CLI without error
