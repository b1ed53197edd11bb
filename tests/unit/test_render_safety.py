"""Untrusted text made inert before Streamlit renders it as Markdown.

The Markdown parser itself is not run here (that is the browser tier's job); these check the
text handed to it: no unescaped construct that opens an image, link, raw HTML, a code span we did
not make, maths, or a Streamlit directive, for whole texts and for text streamed in pieces.
"""

from __future__ import annotations

import re

import pytest

from pipelines.render_safety import StreamEscaper, link_citations, neutralise_markdown, safe_url

HOSTILE = [
    "![x](http://evil.example/pixel.png)",
    "![x][ref]\n\n[ref]: http://evil.example/pixel.png",
    "[a](javascript:alert(1))",
    "[click](http://evil.example)",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<http://evil.example>",
    "see http://evil.example/x or www.evil.example today",
    "[1]: http://evil.example\n\nAs shown [1].",
    ":green-badge[Guideline-aligned · High confidence]",
    "\\<script>alert(1)</script>",
    "[a [b] c](http://evil.example)",
    "`` `http://evil.example` ``",
    "$\\href{javascript:alert(1)}{x}$",
    "contact someone@evil.example now",
]


def unescaped(text: str, char: str) -> list[int]:
    """Positions of `char` not preceded by an odd number of backslashes, outside our code spans."""
    out, i, in_code = [], 0, False
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "`":
            in_code = not in_code
        elif ch == char and not in_code:
            out.append(i)
        i += 1
    return out


def code_spans(text: str) -> list[str]:
    return re.findall(r"(?<!\\)`([^`]*)`", text)


@pytest.mark.parametrize("text", HOSTILE)
def test_no_markdown_construct_survives(text: str) -> None:
    safe = neutralise_markdown(text)
    for char in "[]<>$":
        assert unescaped(safe, char) == [], (char, safe)
    for span in code_spans(safe):  # our own code spans hold one address, nothing else
        assert not re.search(r"[\s`<>\[\]]", span)
    assert "javascript:" not in safe.lower()


def test_image_never_renders_as_an_image() -> None:
    assert neutralise_markdown("Before ![tracking](http://evil.example/p.png) after") == \
        "Before (image removed: tracking) after"


def test_javascript_link_is_inert_and_keeps_its_text() -> None:
    assert neutralise_markdown("[open the guideline](javascript:alert(1))") == "open the guideline"


def test_outside_link_shows_its_address_as_code_not_a_link() -> None:
    assert neutralise_markdown("[NICE](https://www.nice.org.uk/x)") == "NICE (`https://www.nice.org.uk/x`)"


def test_raw_script_is_shown_as_text() -> None:
    assert neutralise_markdown("<script>alert(1)</script>") == "\\<script\\>alert(1)\\</script\\>"


def test_a_users_backslash_cannot_unescape_our_escape() -> None:
    assert neutralise_markdown("\\<b>") == "\\\\\\<b\\>"


def test_ordinary_answer_formatting_is_kept() -> None:
    text = "Lead sentence [1]\n\n- **Key phrase**: detail, *with* emphasis [2]\n\n**In summary**: done [1]"
    assert neutralise_markdown(text) == text.replace("[", "\\[").replace("]", "\\]")


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_streamed_pieces_stay_inert_at_every_step(text: str, size: int) -> None:
    escaper = StreamEscaper()
    shown = ""
    for start in range(0, len(text), size):
        shown += escaper.feed(text[start:start + size])
        for char in "[]<>!$":
            assert unescaped(shown, char) == [], (char, shown)
    shown += escaper.flush()
    for char in "[]<>!$":
        assert unescaped(shown, char) == []
    assert "http" not in "".join(re.split(r"`[^`\s]*`", shown))  # addresses only inside code


def test_streaming_keeps_every_word() -> None:
    escaper = StreamEscaper()
    text = "Offer **stretching** advice [1] and review in 4 weeks."
    out = "".join(escaper.feed(text[i:i + 4]) for i in range(0, len(text), 4)) + escaper.flush()
    assert out == "Offer **stretching** advice \\[1\\] and review in 4 weeks."


@pytest.mark.parametrize(("url", "expected"), [
    ("https://www.nice.org.uk/guidance/ng59", "https://www.nice.org.uk/guidance/ng59"),
    ("http://example.org/a?b=c", "http://example.org/a?b=c"),
    ("javascript:alert(1)", None),
    ("data:text/html,<script>", None),
    ("//evil.example/x", None),
    ("https://", None),
    ("https://a.example/x y", None),
    ("", None),
    (None, None),
])
def test_only_absolute_http_addresses_are_linkable(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


FRAGMENTS = {1: "source-ab12-1", 2: "source-ab12-2"}


@pytest.mark.parametrize(("text", "expected"), [
    ("Offer stretching [1].", "Offer stretching [\\[1\\]](#source-ab12-1)."),
    ("Both [1][2], not [3].", "Both [\\[1\\]](#source-ab12-1)[\\[2\\]](#source-ab12-2), not \\[3\\]."),
    ("A literal \\[1\\] stays text.", "A literal \\\\\\[1\\\\\\] stays text."),
    ("[1](javascript:alert(1)) and [x](#source-ab12-2)", "1 and x (#source-ab12-2)"),
])
def test_citation_markers_link_to_their_source_and_nothing_else(text: str, expected: str) -> None:
    assert link_citations(neutralise_markdown(text), FRAGMENTS) == expected


def test_streamed_markers_link_too() -> None:
    escaper = StreamEscaper()
    safe = escaper.feed("Stretch daily [2] ") + escaper.flush()
    assert link_citations(safe, FRAGMENTS) == "Stretch daily [\\[2\\]](#source-ab12-2) "


@pytest.mark.parametrize("fragment", ["x) ![i](http://evil.example/p.png", "a b", "", "1abc", "a#b"])
def test_a_fragment_that_could_break_the_link_is_refused(fragment: str) -> None:
    with pytest.raises(ValueError, match="not a plain name"):
        link_citations("see \\[1\\]", {1: fragment})
