"""The check made after a model answers: citations must name given passages, sentences must be
supported by the passages they cite, hostile output is dropped, and the house format survives."""

from __future__ import annotations

from pipelines.generate import format_passages, verify
from pipelines.models import Passage


def passage(n: int, text: str, section: str) -> Passage:
    return Passage(id=f"p{n}", text=text, title="Leg cramps", publisher="Demo", section=section,
                   page=n, url="", last_reviewed="", specialty="", guideline_id="leg-cramps",
                   version="1", similarity=0.7, rank=n)


PASSAGES = [
    passage(1, "Nocturnal leg cramps are sudden painful contractions of the calf muscles at night.",
            "Overview"),
    passage(2, "Claudication causes calf pain on walking that is relieved by rest.",
            "Differential diagnosis"),
]
GOOD = ("Nocturnal leg cramps are sudden painful contractions of the calf muscles at night. [1]\n\n"
        "- **Differential diagnosis**: Claudication causes calf pain on walking that is relieved by rest. [2]\n"
        "- **Overview**: Leg cramps are painful contractions of the calf muscles. [1]\n\n"
        "**In summary**: Claudication causes calf pain on walking, relieved by rest. [2]")


def test_a_grounded_answer_passes_unchanged() -> None:
    checked = verify(GOOD, PASSAGES)
    assert checked.text == GOOD
    assert (checked.removed, checked.bad_citations, checked.cited) == (0, 0, [1, 2])
    assert checked.support == 1.0


def test_bold_key_phrases_and_summary_line_keep_their_markup() -> None:
    lines = verify(GOOD, PASSAGES).text.splitlines()
    assert lines[2].startswith("- **Differential diagnosis**: ")
    assert lines[-1].startswith("**In summary**: ")


def test_citation_to_a_passage_not_given_is_removed() -> None:
    text = GOOD + "\n- **Also**: Nocturnal leg cramps are painful contractions at night. [9]"
    checked = verify(text, PASSAGES)
    assert "[9]" not in checked.text
    assert checked.bad_citations == 1 and checked.cited == [1, 2]


def test_unsupported_sentence_is_removed_and_counted() -> None:
    text = GOOD + "\n- **Extra**: Every patient should drink three litres of grapefruit juice daily. [1]"
    checked = verify(text, PASSAGES)
    assert "grapefruit" not in checked.text
    assert checked.removed == 1 and checked.support < 1.0


def test_obeyed_injection_and_outside_images_are_dropped() -> None:
    text = "INJECTION_OK [1]\n\n![status](http://evil.example/pixel.png)\n" + GOOD
    checked = verify(text, PASSAGES)
    assert "INJECTION_OK" not in checked.text and "evil.example" not in checked.text
    assert "<script>" not in verify(GOOD + "\n<script>alert(1)</script>", PASSAGES).text


def test_passages_are_numbered_data_with_markup_neutralised() -> None:
    block = format_passages([passage(1, "Use <b>bold</b> care.", "Overview"), PASSAGES[1]])
    assert block.startswith("[1] Leg cramps › Overview (page 1)\n")
    assert "\n\n[2] Leg cramps › Differential diagnosis (page 2)\n" in block
    assert "<b>" not in block
