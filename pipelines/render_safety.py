"""Make untrusted text safe to hand to a Markdown renderer (Streamlit's `st.markdown`).

Passages, model output and past questions are untrusted: a guideline can carry a markdown image
that makes every reader's browser fetch an outside address, a `javascript:` link, raw HTML, a
reference-style link definition that turns an innocent "[1]" into a link, or a Streamlit colour
directive that imitates the confidence badge. These functions neutralise all of those while
keeping ordinary formatting (bold, bullets, citation markers) intact. They never add HTML: the UI
renders with `unsafe_allow_html` off, and this is the second line of defence, not the first.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

SAFE_SCHEMES = ("http", "https")

_IMAGE = re.compile(r"!\[([^\]\n]*)\]\s*(?:\([^)\n]*\)|\[[^\]\n]*\])?")
_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?:\s+[\"'][^\n)]*[\"'])?\s*\)")
_BARE_URL = re.compile(r"(?:https?|ftp|file|mailto|data|javascript|vbscript):[^\s`<>()\[\]\\]+"
                       r"|www\.[^\s`<>()\[\]\\]+|[\w.+-]+@[\w-]+\.[\w.-]+", re.I)
_SPECIAL = re.compile(r"[\\`<>\[\]$]")
SCRIPT_SCHEMES = ("javascript", "vbscript", "data")
_MARKER = re.compile(r"(?<!\\)\\\[(\d{1,3})\\\]")  # an escaped citation marker: \[12\]
_FRAGMENT = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) address with a host, else None.

    Used for the one link per citation that the UI makes clickable (the guideline's source).
    """
    if not url:
        return None
    candidate = url.strip()
    if any(ch in candidate for ch in "\n\r\t <>\"'`\\"):
        return None
    parsed = urlparse(candidate)
    if parsed.scheme.lower() not in SAFE_SCHEMES or not parsed.netloc:
        return None
    return candidate


def neutralise_markdown(text: str) -> str:
    """Untrusted text made inert for Markdown: no images, no clickable links, no HTML, no directives.

    Images become "(image removed: alt)"; links become their text followed by the address;
    addresses are shown as inline code so nothing is auto-linked (script addresses are dropped);
    then every character that could open a link, image, HTML tag, code span, maths or a Streamlit
    directive (backslash, backtick, angle and square brackets, dollar) is backslash-escaped, so it
    shows as itself. Bold, italics, lists and headings are kept.
    """
    if not text:
        return ""
    text = _IMAGE.sub(_image_replacement, text)
    text = _LINK.sub(_link_replacement, text)
    out, last = [], 0
    for match in _BARE_URL.finditer(text):
        out.append(_escape(text[last:match.start()]))
        out.append(_code_span(match.group()))
        last = match.end()
    out.append(_escape(text[last:]))
    return "".join(out)


def link_citations(safe_markdown: str, fragments: dict[int, str]) -> str:
    """Citation markers in neutralised Markdown become in-page links: `\\[n\\]` → `[\\[n\\]](#fragment)`.

    Only numbers in `fragments` (the answer's own citations) are linked, and only markers the
    neutraliser escaped (a marker after a literal backslash is left alone). The link targets are
    this page's fragments, never an address from the text.

    Args:
        safe_markdown: output of `neutralise_markdown` (or `StreamEscaper`).
        fragments: citation number -> fragment name (letters, digits, `-`, `_`).

    Returns:
        The Markdown with each known marker linked.

    Raises:
        ValueError: a fragment name that could break out of the link.
    """
    for n, fragment in fragments.items():
        if not _FRAGMENT.fullmatch(fragment):
            raise ValueError(f"citation {n}: fragment {fragment!r} is not a plain name")

    def link(match: re.Match[str]) -> str:
        fragment = fragments.get(int(match.group(1)))
        return f"[{match.group()}](#{fragment})" if fragment else match.group()

    return _MARKER.sub(link, safe_markdown)


def _escape(text: str) -> str:
    return _SPECIAL.sub(lambda m: "\\" + m.group(), text)


def _image_replacement(match: re.Match[str]) -> str:
    alt = match.group(1).strip()
    return f"(image removed: {alt})" if alt else "(image removed)"


def _link_replacement(match: re.Match[str]) -> str:
    label, url = match.group(1), match.group(2).strip()
    if not url or urlparse(url).scheme.lower() in SCRIPT_SCHEMES:
        return label
    return f"{label} ({url})" if label.strip() and label.strip() != url else url


def _code_span(url: str) -> str:
    if urlparse(url).scheme.lower() in SCRIPT_SCHEMES:
        return "(script address removed)"
    return f"`{url}`"


class StreamEscaper:
    """Makes streamed text inert piece by piece, so no link, image, HTML or directive can form.

    While a model answer streams, pieces arrive split at arbitrary points (an image's `![` in one
    piece, its address in the next), so neutralising each piece on its own is not enough. This
    holds back the unfinished last word, then emits whole words: addresses as inline code, every
    other word with its special characters escaped. The renderer sees only safe text at every
    step; the preview is replaced by the neutralised full answer when the stream ends.
    """

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, piece: str) -> str:
        """Safe text for everything up to the last whitespace seen so far."""
        text = self._pending + piece
        cut = max(text.rfind(" "), text.rfind("\n"), text.rfind("\t"))
        if cut < 0:
            self._pending = text
            return ""
        self._pending = text[cut + 1:]
        return _escape_words(text[:cut + 1])

    def flush(self) -> str:
        """Safe text for whatever is still held back (call once at the end)."""
        text, self._pending = self._pending, ""
        return _escape_words(text)


def _escape_words(text: str) -> str:
    parts = re.split(r"(\s+)", text)
    return "".join(part if not part or part.isspace() else _safe_word(part) for part in parts)


def _safe_word(word: str) -> str:
    if _BARE_URL.search(word):
        return _code_span(word.replace("`", ""))
    return _escape(word).replace("!", "\\!")
