"""File checks before any parser runs (type from bytes, ZIP limits), embedded metadata, and the
text utilities shared by search, grading and composing."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from pipelines.metadata import make_meta, read_embedded, split_front_matter
from pipelines.retrieval import SearchFilters, publisher_bodies
from pipelines.text import ABBREVIATIONS, bm25_weights, normalise, split_sentences, stem, terms
from pipelines.validate import IngestError, Limits, detect_type, sniff

LIMITS = Limits(max_bytes=5_000_000, max_zip_ratio=100.0, max_unzipped_bytes=200_000_000)
ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "data" / "guidelines"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def make_docx_zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("head, kind", [
    (b"%PDF-1.7\n", "pdf"), (b"PK\x03\x04rest", "zip"), (b"\xd0\xcf\x11\xe0\xa1\xb1", "ole"),
    (b"<!DOCTYPE html><html>", "html"), (b"\xef\xbb\xbf  <html lang=en>", "html"),
    (b"# Heading\n\ntext", "text"), (b"\x7fELF\x02\x01\x00\x00", "binary"),
])
def test_sniff_reads_the_bytes(head: bytes, kind: str) -> None:
    assert sniff(head) == kind


@pytest.mark.parametrize("name", ["leg-cramps.pdf", "cellulitis.docx", "croup.html", "acne-vulgaris.md"])
def test_bundled_files_pass_and_keep_their_type(name: str) -> None:
    expected = {"pdf": "pdf", "docx": "docx", "html": "html", "md": "md"}[name.rsplit(".", 1)[1]]
    assert detect_type(LIBRARY / name, LIMITS) == expected


def test_type_comes_from_bytes_not_name(tmp_path: Path) -> None:
    markdown_named_txt = write(tmp_path, "notes.txt", b"# Gout\n\n## Treatment\n\nColchicine.\n")
    assert detect_type(markdown_named_txt, LIMITS) == "text"
    html_named_md = write(tmp_path, "page.md", b"<!doctype html><html><body>Hi</body></html>")
    assert detect_type(html_named_md, LIMITS) == "html"


def test_pdf_that_is_html_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "guideline.pdf", b"<!DOCTYPE html><html><body>not a pdf</body></html>")
    with pytest.raises(IngestError) as caught:
        detect_type(path, LIMITS)
    assert caught.value.filename == "guideline.pdf"
    assert "PDF" in caught.value.reason and "HTML" in caught.value.reason


def test_pdf_that_is_a_zip_is_rejected(tmp_path: Path) -> None:
    path = make_docx_zip(tmp_path / "guideline.pdf", {"word/document.xml": b"<w:document/>"})
    with pytest.raises(IngestError, match="name says PDF"):
        detect_type(path, LIMITS)


def test_zip_named_docx_without_a_word_document_is_rejected(tmp_path: Path) -> None:
    path = make_docx_zip(tmp_path / "guideline.docx", {"hello.txt": b"hello"})
    with pytest.raises(IngestError, match="not a Word .docx"):
        detect_type(path, LIMITS)


def test_old_binary_word_file_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "guideline.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(IngestError, match="old binary Word"):
        detect_type(path, LIMITS)


def test_zip_bomb_is_rejected_from_the_directory_alone(tmp_path: Path) -> None:
    path = make_docx_zip(tmp_path / "bomb.docx", {"[Content_Types].xml": b"<Types/>",
                                                  "word/document.xml": b"\0" * 20_000_000})
    assert path.stat().st_size < 200_000  # tiny on disk, 20 MB when opened
    with pytest.raises(IngestError, match="ZIP bomb"):
        detect_type(path, LIMITS)


def test_total_expanded_size_is_capped(tmp_path: Path) -> None:
    small = Limits(max_bytes=5_000_000, max_zip_ratio=1e9, max_unzipped_bytes=1_000_000)
    path = make_docx_zip(tmp_path / "big.docx", {"word/document.xml": b"a" * 2_000_000})
    with pytest.raises(IngestError, match="expand to"):
        detect_type(path, small)


def test_damaged_zip_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.docx", b"PK\x03\x04" + b"\x00" * 200)
    with pytest.raises(IngestError, match="damaged"):
        detect_type(path, LIMITS)


@pytest.mark.parametrize("name, data, reason", [
    ("empty.md", b"", "empty"),
    ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00", "not a document"),
    ("sheet.xlsx", b"name,dose\nquinine,200\n", "unsupported file type"),
])
def test_other_unreadable_files_are_rejected(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    with pytest.raises(IngestError, match=reason):
        detect_type(write(tmp_path, name, data), LIMITS)


def test_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "big.txt", b"cramp " * 1_000_000)
    with pytest.raises(IngestError, match="limit is 5 MB"):
        detect_type(path, LIMITS)


def test_front_matter_is_read_and_removed() -> None:
    data, body = split_front_matter('---\ntitle: Gout\nversion: "2"\nlast_reviewed: 2024-05-01\n---\n# Gout\n')
    assert data["title"] == "Gout" and data["version"] == "2"
    assert body == "# Gout\n"
    assert split_front_matter("---\n: [bad yaml\n---\nbody") == ({}, "---\n: [bad yaml\n---\nbody")


def test_html_meta_tags_are_read() -> None:
    found = read_embedded(LIBRARY / "croup.html", "html")
    assert found["title"] == "Croup"
    assert found["specialty"] == "Children" and found["version"] == "1"
    assert found["source_url"].startswith("https://")


def test_pdf_and_docx_metadata_are_read() -> None:
    assert read_embedded(LIBRARY / "leg-cramps.pdf", "pdf")["title"] == "Leg cramps"
    assert read_embedded(LIBRARY / "cellulitis.docx", "docx")["title"].lower().startswith("cellulitis")


def test_markdown_front_matter_through_read_embedded() -> None:
    found = read_embedded(LIBRARY / "acne-vulgaris.md", "md")
    assert found["title"] == "Acne vulgaris" and str(found["version"]) == "1"


def test_uploader_overrides_win_and_title_falls_back() -> None:
    meta = make_meta({"title": "Gout", "version": 1, "publisher": ""}, {"version": "3"}, "gout file")
    assert (meta.title, meta.version, meta.publisher) == ("Gout", "3", "Unknown publisher")
    assert meta.guideline_id == "gout"
    assert make_meta({}, None, "Leg cramps").title == "Leg cramps"


def test_same_title_from_two_publishers_are_two_guidelines() -> None:
    """An nhs.uk page and a demonstration summary both called "Atrial fibrillation" coexist;
    a code, where printed, is the identity; an unknown publisher falls back to the title."""
    page = make_meta({"title": "Atrial fibrillation", "publisher": "NHS website (nhs.uk)"}, None, "x")
    demo = make_meta({"title": "Atrial fibrillation",
                      "publisher": "Demonstration summary (based on NICE NG196)"}, None, "x")
    unknown = make_meta({"title": "Atrial fibrillation"}, None, "x")
    coded = make_meta({"title": "Atrial fibrillation: diagnosis", "publisher": "NICE", "code": "NG196"},
                      None, "x")
    assert demo.guideline_id == unknown.guideline_id == "atrial-fibrillation"
    assert page.guideline_id not in {demo.guideline_id, coded.guideline_id}
    assert coded.guideline_id == "ng196-nice"


def test_normalise_removes_invisible_and_bidi_characters() -> None:
    assert normalise("  ﬁbrosis\u200b and \u202ecramps\t\t") == "fibrosis and cramps"


@pytest.mark.parametrize("word, stemmed", [("cramps", "cramp"), ("therapies", "therapy"),
                                           ("diagnosis", "diagnosis"), ("glass", "glass"), ("bus", "bus")])
def test_stem_only_removes_plurals(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_terms_drop_stopwords_and_expand_abbreviations() -> None:
    assert terms("What is the best management of leg cramps?") == ["leg", "cramp"]
    expanded = terms("AF and HTN", expand=True)
    assert {"atrial", "fibrillation", "af", "hypertension"} <= set(expanded)
    assert "af" in ABBREVIATIONS


def test_split_sentences_and_bm25_weights() -> None:
    assert split_sentences("First sentence here. Second one too.\n- a list item\n\n") == [
        "First sentence here.", "Second one too.", "a list item"]
    weights = bm25_weights("cramp cramp cramp calf")
    assert len(weights) == 2 and max(weights.values()) > min(weights.values()) > 0


def test_ingest_error_survives_the_trip_back_from_the_parser_worker() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(IngestError("bad.pdf", "the PDF is damaged.")))
    assert isinstance(error, IngestError)
    assert (error.filename, error.reason) == ("bad.pdf", "the PDF is damaged.")


@pytest.mark.parametrize("publisher, bodies", [
    ("Demonstration summary (based on NICE CKS and BSG 2021 guideline)", ("NICE", "BSG")),
    ("Demonstration summary (based on BTS/NICE/SIGN asthma guideline NG245)", ("NICE", "SIGN", "BTS")),
    ("National Institute for Health and Care Excellence (NICE)", ("NICE",)),
    ("Demonstration summary (based on NICE CKS and UKHSA Green Book)", ("NICE", "UKHSA")),
    ("Demonstration summary (based on Barts Health trust policy)", ("Barts Health trust policy",)),
    ("Guidance for people who sign in", ("Guidance for people who sign in",)),  # case matters
    ("", ()),
])
def test_publisher_lines_name_their_bodies(publisher: str, bodies: tuple[str, ...]) -> None:
    assert publisher_bodies(publisher) == bodies


def test_search_filters_match_on_bodies_and_specialty() -> None:
    payload = {"publisher": "Demonstration summary (based on NICE NG9)", "specialty": "Children"}
    assert SearchFilters(publisher="NICE").accepts(payload)
    assert SearchFilters(publisher="NICE", specialty="Children").accepts(payload)
    assert not SearchFilters(publisher="SIGN").accepts(payload)
    assert not SearchFilters(specialty="Skin").accepts(payload)
    assert not SearchFilters() and SearchFilters(specialty="Skin")
    assert SearchFilters(publisher="NICE", specialty="Skin").describe() == "publisher NICE and specialty Skin"
