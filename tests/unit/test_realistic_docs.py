"""The generated realistic PDFs (tests/support/realistic_docs.py) really have the traits their truth
describes, as pypdf and pdfplumber see them: page counts, a vector-heavy cover, an empty /Title,
running headers and footers, printed page labels, recommendations recoverable word for word, ruled
dose tables, hyphenation, a page-crossing recommendation, superscripts, fragments in body font and
a two-column section whose text order survives column by column."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pdfplumber
import pytest
from pypdf import PdfReader

from tests.support import realistic_docs as rd


class Doc(NamedTuple):
    path: Path
    truth: rd.DocumentTruth
    texts: list[str]                       # pdfplumber text per physical page
    lines: list[list[dict[str, Any]]]      # pdfplumber text lines (with chars) per page


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Doc]]:
    written = rd.write_all(tmp_path_factory.mktemp("realistic"))
    found: dict[str, Doc] = {}
    for path, truth in written.items():
        with pdfplumber.open(path) as pdf:
            texts = [page.extract_text() for page in pdf.pages]
            lines = [page.extract_text_lines() for page in pdf.pages]
        found[path.stem.split("_")[0]] = Doc(path, truth, texts, lines)
    yield found


def body_text(doc: Doc) -> str:
    """All pages' text without running headers, footers and bare page labels, on one line with
    single spaces; a line-end "-" joins only a lowercase continuation (SIGN's grade "1-" can end a
    line too)."""
    kept = []
    for number, text in enumerate(doc.texts, start=1):
        for line in text.splitlines():
            if line == doc.truth.running_header or line == doc.truth.printed_pages.get(number):
                continue
            if doc.truth.footer_text and line.startswith(doc.truth.footer_text):
                continue
            kept.append(line)
    return " ".join(re.sub(r"-\n(?=[a-z])", "", "\n".join(kept)).split())


def squash(text: str) -> str:
    return " ".join(text.split())


def line_with(doc: Doc, text: str) -> tuple[int, dict[str, Any]]:
    """The first (page, text line) whose text is exactly `text`."""
    for number, lines in enumerate(doc.lines, start=1):
        for line in lines:
            if line["text"] == text:
                return number, line
    raise AssertionError(f"no line reads {text!r}")


def is_bold(line: dict[str, Any]) -> bool:
    return all("Bold" in c["fontname"] for c in line["chars"] if c["text"].strip())


def size(line: dict[str, Any]) -> float:
    return max(round(c["size"], 1) for c in line["chars"])


@pytest.mark.parametrize("name", ["nice", "sign", "trust"])
def test_each_pdf_opens_with_the_page_count_and_label_its_truth_gives(
        docs: dict[str, Doc], name: str) -> None:
    doc = docs[name]
    assert len(PdfReader(doc.path).pages) == doc.truth.pages == len(doc.texts)
    assert "TEST DOCUMENT" in doc.texts[0]
    assert doc.truth.title.split(":")[0] in doc.texts[0]
    assert doc.truth.publisher in doc.texts[0] or name == "nice"
    low, high = {"nice": (12, 16), "sign": (7, 9), "trust": (3, 4)}[name]
    assert low <= doc.truth.pages <= high


def test_nice_cover_is_hundreds_of_vector_objects(docs: dict[str, Doc]) -> None:
    with pdfplumber.open(docs["nice"].path) as pdf:
        cover = pdf.pages[0]
        drawn = len(cover.rects) + len(cover.lines) + len(cover.curves)
        inside = pdf.pages[3]
        assert len(inside.rects) + len(inside.curves) == 0
    assert drawn == docs["nice"].truth.cover_drawings >= 300
    cover_text = docs["nice"].texts[0]
    for printed in ("NICE-style guideline NG999 TEST DOCUMENT",
                    "Published: 28 August 2019 Last updated: 21 November 2023",
                    "www.example.org/guidance/ng999"):
        assert printed in cover_text.splitlines()
    title_line = docs["nice"].lines[0][0]
    assert title_line["text"].startswith("Fictional fever") and size(title_line) >= 28


def test_metadata_title_is_empty_for_nice_and_junk_for_sign(docs: dict[str, Doc]) -> None:
    nice = PdfReader(docs["nice"].path).metadata
    assert nice is not None and "/Title" in nice and nice["/Title"] == ""
    assert nice["/Author"] == "National Institute for Health and Care Excellence"
    sign = PdfReader(docs["sign"].path).metadata
    assert sign is not None and sign["/Title"] == docs["sign"].truth.metadata_title
    assert sign["/Title"] != docs["sign"].truth.title


def test_nice_has_nested_bookmarks_and_sign_has_none(docs: dict[str, Doc]) -> None:
    def flatten(items: list[Any], level: int = 0) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        for item in items:
            out += flatten(item, level + 1) if isinstance(item, list) else [(level, item.title)]
        return out

    truth = docs["nice"].truth
    assert flatten(PdfReader(docs["nice"].path).outline) == truth.bookmarks
    assert {"Overview", "1 Recommendations", "1.1 Diagnosis", "1.2 Treatment", "1.3 Referral",
            "Terms used in this guideline", "Recommendations for research",
            "Rationale and impact", "Finding more information"} <= set(truth.headings)
    assert PdfReader(docs["sign"].path).outline == []


@pytest.mark.parametrize("name", ["nice", "sign"])
def test_every_recommendation_reads_whole_and_in_order(docs: dict[str, Doc], name: str) -> None:
    doc, text = docs[name], body_text(docs[name])
    assert len(doc.truth.recommendations) >= 8
    at = 0
    for recommendation in doc.truth.recommendations:
        assert recommendation == squash(recommendation) and "\xad" not in recommendation
        found = text.find(recommendation, at)
        assert found >= 0, recommendation
        at = found + len(recommendation)
    if name == "nice":
        assert all(re.search(r"\[\d{4}(, amended \d{4})?\]$", r) for r in doc.truth.recommendations)
        assert any(r.count(f" {rd.BULLET} ") == 3 for r in doc.truth.recommendations)
        assert any("5×109/L" in r for r in doc.truth.recommendations)
    assert docs["trust"].truth.recommendations == []


@pytest.mark.parametrize("name", ["nice", "trust"])
def test_dose_table_is_found_with_one_row_per_dose(docs: dict[str, Doc], name: str) -> None:
    truth = docs[name].truth
    with pdfplumber.open(docs[name].path) as pdf:
        tables = [t.extract() for t in pdf.pages[truth.dose_table_page - 1].find_tables()]
    table = next(t for t in tables if tuple(t[0]) == truth.dose_header)
    assert len(table) == 1 + len(truth.dose_rows)
    rows, drug = [], ""
    for row in table[1:]:
        drug = squash(row[0]) if row[0] else drug  # a merged drug cell reads as None below
        rows.append((drug, squash(row[1]) if name == "nice" else "", squash(row[-2])))
    assert rows == truth.dose_rows
    if name == "nice":
        assert [r[0] for r in table[1:]].count(None) == len(truth.dose_rows) - 3
        assert "Imaginacillin\n(first choice)" in [r[0] for r in table]


def test_trust_version_box_is_a_table_on_page_one(docs: dict[str, Doc]) -> None:
    truth = docs["trust"].truth
    with pdfplumber.open(docs["trust"].path) as pdf:
        tables = [t.extract() for t in pdf.pages[0].find_tables()]
    assert [tuple(row) for row in tables[0]] == truth.version_rows
    assert (truth.published, truth.review_date) == ("June 2024", "June 2026")


def test_headers_footers_and_printed_page_labels(docs: dict[str, Doc]) -> None:
    nice, sign, trust = docs["nice"], docs["sign"], docs["trust"]
    for page, text in enumerate(nice.texts[1:], start=2):
        lines = text.splitlines()
        assert lines[0] == nice.truth.running_header
        assert lines[-1] == f"{nice.truth.footer_text} Page {page} of {nice.truth.pages}"
    assert nice.truth.running_header not in nice.texts[0]
    for page, text in enumerate(sign.texts, start=1):
        lines = text.splitlines()
        if page in sign.truth.printed_pages:
            assert lines[-1] == sign.truth.printed_pages[page]
            assert lines[0] == sign.truth.running_header
        else:
            assert not lines[-1].isdigit() and lines[0] != sign.truth.running_header
    assert sign.truth.printed_pages[5] == "3" and set(sign.truth.printed_pages) == set(
        range(3, sign.truth.pages + 1))
    for page, text in enumerate(trust.texts, start=1):
        assert text.splitlines()[-1] == f"{trust.truth.footer_text} Page {page} of 3"


@pytest.mark.parametrize("name", ["nice", "sign"])
def test_contents_lists_headings_with_dotted_leaders_and_printed_pages(
        docs: dict[str, Doc], name: str) -> None:
    doc = docs[name]
    contents = doc.texts[1].splitlines()
    assert "Contents" in contents
    assert [h for h, _ in doc.truth.contents] == doc.truth.headings
    for heading, label in doc.truth.contents:
        assert any(re.fullmatch(re.escape(heading) + r" \.{3,} " + label, line)
                   for line in contents), heading
        assert doc.truth.printed_pages[line_with(doc, heading)[0]] == label


@pytest.mark.parametrize("name", ["nice", "sign", "trust"])
def test_headings_are_bold_and_larger_and_fragments_are_plain_body_text(
        docs: dict[str, Doc], name: str) -> None:
    doc = docs[name]
    body = {"nice": 10.5, "sign": 10.0, "trust": 10.5}[name]
    for heading in doc.truth.headings:
        line = line_with(doc, heading)[1]
        assert is_bold(line) and size(line) > body, heading
    assert doc.truth.fragment_lines
    for short in doc.truth.fragment_lines:
        line = line_with(doc, short)[1]
        assert not is_bold(line) and size(line) == body and len(short.split()) <= 4, short
    for decoy in doc.truth.decoy_lines:
        line = line_with(doc, decoy)[1]
        assert not is_bold(line) and size(line) == body, decoy
    for label in doc.truth.subheadings:
        line = line_with(doc, label)[1]
        assert is_bold(line) and size(line) == body, label


def test_nice_line_level_traits(docs: dict[str, Doc]) -> None:
    nice = docs["nice"]
    joined = "\n".join(nice.texts)
    assert ("manage-", "ment") in nice.truth.hyphenations
    for head, tail in nice.truth.hyphenations:
        assert re.search(re.escape(head) + r"\n" + re.escape(tail), joined), head
    assert {"each of:", "UK population.", "pregnancy."} <= set(nice.truth.fragment_lines)
    number, page = nice.truth.page_crossing[0]
    recommendation = next(r for r in nice.truth.recommendations if r.startswith(number + " "))
    first, second = nice.texts[page - 1].splitlines(), nice.texts[page].splitlines()
    assert any(line.startswith(number + " ") for line in first)
    assert not any(line.startswith(number + " ") for line in second)
    assert second[0] == nice.truth.running_header and second[1] in recommendation


def test_nice_superscript_is_smaller_raised_and_glued(docs: dict[str, Doc]) -> None:
    line = next(ln for lines in docs["nice"].lines for ln in lines if "5×109/L" in ln["text"])
    chars = line["chars"]
    at = "".join(c["text"] for c in chars).index("5×109/L") + 4
    nine, ten = chars[at], chars[at - 1]
    assert nine["text"] == "9" and nine["size"] < ten["size"] * 0.7
    assert nine["bottom"] < ten["bottom"] - 2
    assert abs(nine["x0"] - ten["x1"]) < 0.5


def test_nice_two_columns_read_in_order_only_column_by_column(docs: dict[str, Doc]) -> None:
    truth = docs["nice"].truth
    assert truth.columns is not None and truth.column_page is not None
    with pdfplumber.open(docs["nice"].path) as pdf:
        page = pdf.pages[truth.column_page - 1]
        middle = page.width / 2
        left = page.crop((0, 0, middle, page.height)).extract_text()
        right = page.crop((middle, 0, page.width, page.height)).extract_text()
    assert truth.columns[0] in squash(left) and truth.columns[1] in squash(right)
    whole = squash(docs["nice"].texts[truth.column_page - 1])
    assert truth.columns[0] not in whole
    assert all(term in left or term in right for term in truth.terms)


def test_sign_margin_r_glued_grades_and_numbered_references(docs: dict[str, Doc]) -> None:
    sign = docs["sign"]
    text = body_text(sign)
    assert {"placebo.1++", "tablet.1-"} <= set(sign.truth.glued_grades)
    for glued in sign.truth.glued_grades:
        assert glued in text
    for recommendation in sign.truth.recommendations:
        assert "R " + recommendation in text
    r_lines = [ln for lines in sign.lines for ln in lines if ln["text"].startswith("R ")]
    assert len(r_lines) == len(sign.truth.recommendations)
    assert all(ln["chars"][0]["x0"] < 30 * 72 / 25.4 and is_bold(ln) for ln in r_lines)
    assert sign.truth.code == "SIGN 999" and "SIGN 999" in sign.texts[0]
    assert any(d.startswith("1 Fictional A") for d in sign.truth.decoy_lines)
