"""Real-document traits, on generated NICE-, SIGN- and trust-style PDFs (invented text).

Each generator returns the truth of what it drew (headings, recommendations, dose rows, printed
pages, metadata); the real parser (pdfplumber layout, no mocks) must recover it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.ingest import chunk_sections, parse_document
from pipelines.ingest.kinds import NOT_INDEXED, section_kind
from pipelines.models import Chunk, ParsedDocument
from pipelines.validate import Limits
from tests.support.realistic_docs import (TRUST_CONTROL_HEADING, DocumentTruth, nice_style_guideline,
                                          sign_style_guideline, trust_prescribing_document)

LIMITS = Limits(50_000_000, 100.0, 200_000_000)
GENERATORS = {"nice": nice_style_guideline, "sign": sign_style_guideline, "trust": trust_prescribing_document}


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[DocumentTruth, ParsedDocument, list[Chunk]]]:
    folder = tmp_path_factory.mktemp("realistic")
    out = {}
    for name, make in GENERATORS.items():
        path = folder / f"{name}.pdf"
        truth = make(path)
        doc = parse_document(path, LIMITS)
        out[name] = (truth, doc, chunk_sections(doc))
    return out


def flat(text: str) -> str:
    """One line, list items as bullets, superscript digits as plain (as the truth records them)."""
    text = text.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789"))
    return re.sub(r"\s+", " ", text.replace("\n- ", " • ")).strip()


@pytest.mark.parametrize("name", GENERATORS)
def test_no_passage_ends_mid_sentence(parsed, name: str) -> None:
    _, _, chunks = parsed[name]
    for chunk in chunks:
        last = chunk.text.strip().split("\n")[-1]
        assert re.search(r"[.!?:;)\]]$", last) or last.startswith(("- ", "|")), last


@pytest.mark.parametrize("name", GENERATORS)
def test_headings_are_the_documents_headings_and_no_wrapped_line_is_one(parsed, name: str) -> None:
    truth, doc, _ = parsed[name]
    labels = {part for s in doc.sections for part in s.path[1:]}
    for fragment in truth.fragment_lines:
        assert fragment not in labels
        assert not any(label.endswith(fragment) for label in labels)
    indexed = [h for h in truth.headings if section_kind((h,)) not in NOT_INDEXED]  # references etc.
    assert len(indexed) >= len(truth.headings) - 3
    assert set(indexed) <= labels | {truth.title}, set(indexed) - labels


@pytest.mark.parametrize("name", ["nice", "sign"])
def test_recommendations_stay_whole_across_wraps_and_pages(parsed, name: str) -> None:
    truth, _, chunks = parsed[name]
    passages = [flat(c.text) for c in chunks]
    for recommendation in truth.recommendations:
        wanted = flat(recommendation)
        assert any(wanted in p for p in passages), wanted[:80]


def test_a_recommendation_crossing_a_page_is_one_unit_on_its_first_page(parsed) -> None:
    truth, _, chunks = parsed["nice"]
    number, first_page = truth.page_crossing[0]
    holder = [c for c in chunks if re.search(rf"(^|\n){re.escape(number)} ", c.text)]
    assert len(holder) == 1 and holder[0].page == first_page
    whole = next(r for r in truth.recommendations if r.startswith(number))
    assert flat(whole) in flat(holder[0].text)


def test_recommendations_are_marked_and_rationale_research_contents_told_apart(parsed) -> None:
    truth, _, chunks = parsed["nice"]
    kinds = {c.kind for c in chunks}
    assert {"recommendation", "table", "rationale", "research"} <= kinds
    for chunk in chunks:
        if re.match(r"1\.\d\.\d ", chunk.text):
            assert chunk.kind == "recommendation"
        if "The committee agreed" in chunk.text:
            assert chunk.kind == "rationale"
        assert "Return to recommendations" not in chunk.text  # navigation is not indexed
        assert not re.search(r"\.{4,}\s*\d+$", chunk.text, re.M)  # nor the contents page
        assert truth.running_header not in chunk.text and "Notice of rights" not in chunk.text


@pytest.mark.parametrize("name", ["nice", "trust"])
def test_every_dose_row_carries_its_drug_and_column_headers(parsed, name: str) -> None:
    truth, _, chunks = parsed[name]
    tables = [c for c in chunks if c.kind == "table" and truth.dose_header[0] in c.text]
    rows = [line for c in tables for line in c.text.split("\n")[2:]]
    assert tables and all(c.text.startswith("| " + " | ".join(truth.dose_header)) for c in tables)
    for drug, band, dose in truth.dose_rows:
        assert any(drug in row and band in row and dose in row for row in rows), (drug, band, dose)


def test_a_trust_documents_control_box_is_not_indexed_as_guidance(parsed) -> None:
    """"Document ratification details" at the end (who ratified it, when) is administration: no
    passage comes from it, while the dose table and the dates on the first page are still read."""
    truth, doc, chunks = parsed["trust"]
    assert TRUST_CONTROL_HEADING in truth.headings
    assert not any(TRUST_CONTROL_HEADING in c.section or "Ratified by" in c.text for c in chunks)
    assert any(c.kind == "table" and truth.dose_header[0] in c.text for c in chunks)
    assert doc.meta.review_date


def test_a_trust_documents_key_messages_are_its_recommendations(parsed) -> None:
    """A trust document has no numbered recommendations: its own summary of what to do ("Key
    messages", "Executive summary") is what it recommends, shown before its tables and prose."""
    _, _, chunks = parsed["trust"]
    key = [c for c in chunks if c.section.endswith("Key messages")]
    assert key and all(c.kind == "recommendation" for c in key)
    assert any("back-up prescription" in c.text for c in key)
    assert all(c.kind == "background" for c in chunks if c.section.endswith(("Purpose", "Scope")))


def test_hyphenation_superscripts_and_two_columns_are_repaired(parsed) -> None:
    truth, _, chunks = parsed["nice"]
    text = "\n".join(c.text for c in chunks)
    assert "5×10⁹/L" in text
    for head, tail in truth.hyphenations:
        if head.rstrip("-").lower() + tail.rstrip(".").lower() in ("management", "particularly"):
            assert f"{head}{tail}" not in text and f"{head} {tail}" not in text
    left, right = truth.columns
    assert flat(left)[:200] in flat(text) and flat(right)[:200] in flat(text)


def test_printed_page_numbers_are_kept_beside_physical_pages(parsed) -> None:
    truth, _, chunks = parsed["sign"]
    for chunk in chunks:
        if chunk.page in truth.printed_pages:
            assert chunk.printed_page == truth.printed_pages[chunk.page]
    assert any(c.printed_page and str(c.page) != c.printed_page for c in chunks)


@pytest.mark.parametrize("name", GENERATORS)
def test_metadata_comes_from_the_document_itself(parsed, name: str) -> None:
    truth, doc, _ = parsed[name]
    meta = doc.meta
    assert meta.title == truth.title
    assert meta.publisher == truth.publisher
    assert meta.code == (truth.code or "")
    if truth.last_updated or truth.published:
        assert meta.last_reviewed  # ISO, so review-date warnings can fire
    if truth.review_date:
        assert meta.review_date.startswith(re.search(r"\d{4}", truth.review_date).group(0))
    if truth.url:
        assert truth.url in meta.source_url


def test_a_graphics_heavy_cover_does_not_make_a_text_pdf_look_scanned(parsed) -> None:
    truth, doc, chunks = parsed["nice"]
    assert truth.cover_drawings > 300
    assert len(chunks) > 10 and doc.pages == truth.pages
    assert all(c.page != 1 for c in chunks)  # the cover is front matter, read for metadata only


def test_two_publishers_documents_with_one_title_have_different_identities(parsed) -> None:
    _, doc, _ = parsed["nice"]
    from dataclasses import replace

    other = replace(doc.meta, publisher="Scottish Intercollegiate Guidelines Network")
    assert other.guideline_id != doc.meta.guideline_id


def test_inspect_prints_what_would_be_stored(parsed, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    path = tmp_path / "trust.pdf"
    trust_prescribing_document(path)
    out = subprocess.run([sys.executable, "-m", "pipelines", "inspect", str(path), "--json"],
                         capture_output=True, text=True, timeout=120, check=True)
    data = json.loads(out.stdout)
    assert set(data["metadata"]) == {"title", "publisher", "code", "published", "last_updated",
                                     "review_date", "url"}
    assert data["metadata"]["review_date"].startswith("2026")
    assert {"section", "kind", "page", "printed_page", "text"} <= set(data["passages"][0])
    assert any(p["kind"] == "table" and "Fictomycin" in p["text"] for p in data["passages"])


def test_page_progress_reaches_the_caller_from_the_parser_process(tmp_path: Path) -> None:
    from pipelines.parsing import ParserPool

    path = tmp_path / "nice.pdf"
    truth = nice_style_guideline(path)
    heard: list[tuple[int, int]] = []
    pool = ParserPool(LIMITS, timeout_s=120, memory_mb=4096, max_pages=400)
    try:
        doc = pool.parse(path, pages=lambda done, total: heard.append((done, total)))
    finally:
        pool.close()
    assert doc.pages == truth.pages
    assert heard and heard[-1] == (truth.pages, truth.pages)
    assert [d for d, _ in heard] == sorted(d for d, _ in heard)
