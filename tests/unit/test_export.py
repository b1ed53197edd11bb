"""An answer exported as Markdown: complete, numbered like the screen, and inert."""

from __future__ import annotations

from pipelines.export import DISCLAIMER, answer_to_markdown, citation_line
from pipelines.models import Answer, Citation, Confidence, RedFlag


def citation(n: int, **overrides) -> Citation:
    values = dict(n=n, title=f"Guideline {n}", publisher="Demo publisher", section="Management",
                  page=3, url=f"https://example.org/g{n}", last_reviewed="2024-05-01", score=0.7,
                  text=f"Passage {n} text.\nSecond line.")
    values.update(overrides)
    return Citation(**values)


def make_answer(**overrides) -> Answer:
    values = dict(question="How do I treat leg cramps?", answer="Stretch the calf [1]. Review [2].",
                  confidence=Confidence("high", ["Closest passage similarity 0.81"]),
                  citations=[citation(1), citation(2)], sources=[], mode="offline-extractive",
                  timings_ms={"total": 120.0}, index_version="guidelines_x")
    values.update(overrides)
    return Answer(**values)


def test_export_holds_label_body_citations_and_disclaimer() -> None:
    markdown = answer_to_markdown(make_answer())
    assert markdown.startswith("# How do I treat leg cramps?\n")
    assert "**Guideline-aligned · High confidence**" in markdown
    assert "- Closest passage similarity 0.81" in markdown
    assert "Stretch the calf \\[1\\]. Review \\[2\\]." in markdown
    assert "\\[1\\] Guideline 1 — Demo publisher. Management, page 3. Last reviewed 2024-05-01. " \
           "<https://example.org/g1>" in markdown
    assert "> Passage 2 text.\n> Second line." in markdown
    assert markdown.index("\\[1\\] Guideline 1") < markdown.index("\\[2\\] Guideline 2")
    assert f"*{DISCLAIMER}*" in markdown


def test_export_carries_red_flags_and_notices() -> None:
    markdown = answer_to_markdown(make_answer(
        red_flags=[RedFlag("Cauda equina", "Refer the same day.")],
        notices=["Identifiers were removed from your question before it was searched: NHS number."]))
    assert "> **Red flag — Cauda equina**: Refer the same day." in markdown
    assert "> Identifiers were removed from your question" in markdown


def test_abstention_lists_nearest_guidelines_without_sources() -> None:
    markdown = answer_to_markdown(make_answer(
        answer="No guidance in the library answers this question.", citations=[],
        confidence=Confidence("insufficient", ["No passage is close"]),
        nearest_guidelines=["Croup", "Falls in older people"]))
    assert "**No guidance found**" in markdown
    assert "- Croup\n- Falls in older people" in markdown
    assert "## Sources" not in markdown


def test_hostile_text_is_inert_in_the_export() -> None:
    markdown = answer_to_markdown(make_answer(
        answer="Do this [1] ![x](http://evil.example/p.png) <script>alert(1)</script>",
        citations=[citation(1, text="[click](javascript:alert(1))", url="javascript:alert(1)")]))
    assert "![" not in markdown and "<script>" not in markdown and "javascript:" not in markdown
    assert "(image removed: x)" in markdown


def test_citation_line_without_page_or_url() -> None:
    line = citation_line(citation(1, page=None, url="", section=""))
    assert line == "Guideline 1 — Demo publisher. Last reviewed 2024-05-01."


def test_a_citation_names_its_page_range_and_printed_page() -> None:
    from pipelines.models import Citation

    def cite(page, end, printed):
        return Citation(1, "T", "P", "S", page, "", "", 0.5, "x", printed_page=printed, page_end=end)

    assert cite(21, 21, "15").page_label == "21 (printed 15)"
    assert cite(7, 8, "7").page_label == "7–8"
    assert cite(3, None, None).page_label == "3"
    assert cite(None, None, None).page_label == ""
