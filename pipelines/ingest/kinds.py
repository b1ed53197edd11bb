"""What kind of text a passage is, read from the document's own section labels and layout.

Guideline documents label their parts: "Recommendations", "Rationale and impact", "Why the
committee made the recommendations", "Recommendations for research", "References", "Contents".
Those labels (and a numbered recommendation's own number) say what a passage is. Contents,
references and navigation are not indexed; the other kinds go into the payload so retrieval and
the composer can prefer recommendations.
"""

from __future__ import annotations

import re

NOT_INDEXED = frozenset({"references", "contents", "navigation", "front", "figure"})

# Section labels of the standard guideline templates (NICE, SIGN, trust documents), most specific
# first. A section belongs to the kind of the nearest labelled heading on its path.
_SECTION_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("research", re.compile(r"\bresearch recommendations?\b|\brecommendations? for research\b"
                            r"|\bfurther research\b", re.I)),
    ("rationale", re.compile(r"\brationale\b|\bwhy the committee\b|\bcommittee discussion\b"
                             r"|\bevidence (?:statements?|review|summary|base)\b|\bsummary of (?:the )?evidence\b|\bimpact on practice\b"
                             r"|\bhow the recommendations might affect\b", re.I)),
    ("contents", re.compile(r"^\s*(table of )?contents\s*$", re.I)),
    ("references", re.compile(r"^\s*((?:annex|appendix)\s+\w+\s+|\d+(\.\d+)*\s+)?(references|bibliography|your responsibility|copyright"
                              r"|declarations? of interests?|guideline development group|finding more information|update information"
                              r"|resources|acknowledgements|glossary of abbreviations|abbreviations"
                              r"|(?:other )?sources of (?:further )?information|further information|useful (?:links|resources)"
                              r"|about this guideline|development of (the|this) guideline"
                              r"|membership of the guideline"
                              # a trust document's control box, a guideline's search strategies
                              r"|document (?:ratification|control|history)(?: details)?|version (?:control|history)"
                              r"|(?:summary of )?search (?:histor(?:y|ies)|strateg(?:y|ies)))\b", re.I)),
    # NICE's definitions of the words its recommendations use, printed under "Recommendations"
    ("background", re.compile(r"^\s*(\d+(\.\d+)*\s+)?(terms used in (this|the) guideline|glossary|definitions)\s*$", re.I)),
    ("recommendation", re.compile(r"^\s*(\d+(\.\d+)*\s+)?(key\s+|the\s+|summary of\s+)?recommendations?\s*$", re.I)),
    # A trust prescribing document's own summary of what to do, and the national recommendation
    # it quotes, are its recommendations (it has no numbered ones).
    ("recommendation", re.compile(r"^\s*(\d+(\.\d+)*\s+)?(executive summary|key (?:points|messages)"
                                  r"|(?:nice|sign) (?:guidance|recommendations?))\s*$", re.I)),
]
_NAVIGATION = re.compile(r"^(return to (the )?recommendations?|back to top|see the rationale"
                         r"|for a short explanation of why the committee made|full details of the evidence"
                         r"|for more information, see)\b"
                         # a rationale's label naming the recommendations it explains
                         r"|^recommendations?\s+\d[\d.]*(?:\s*(?:,|to|and)\s*(?:recommendations?\s+)?\d[\d.]*)*\s*$",
                         re.I)
_LEADER = re.compile(r"(\.{4,}|\s{3,}|…+)\s*\d{1,3}\s*$")
_REFERENCE = re.compile(r"^\s*(\[?\d{1,3}[\].]?\s+)?[A-Z][\w'-]+,? (?:[A-Z]{1,3}\b[ ,]*)+.*\b(19|20)\d{2}\b.*"
                        r"(\d+[:(]\d+|doi|https?://)", re.S)


def section_kind(path: tuple[str, ...]) -> str:
    """The kind the nearest labelled heading gives, or "background"."""
    for heading in reversed(path):
        for kind, pattern in _SECTION_KINDS:
            if pattern.search(heading):
                return kind
    return "background"


def is_navigation(text: str) -> bool:
    return bool(_NAVIGATION.match(text.strip()))


def looks_like_contents(text: str) -> bool:
    """Most lines end in a page number after dot leaders (a contents page)."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    return len(lines) >= 3 and sum(bool(_LEADER.search(ln)) for ln in lines) >= 0.6 * len(lines)


def looks_like_references(text: str) -> bool:
    lines = [ln for ln in text.split("\n") if ln.strip()]
    return bool(lines) and sum(bool(_REFERENCE.match(ln)) for ln in lines) >= 0.6 * len(lines)


def looks_like_figure_text(text: str) -> bool:
    """A few words with no sentence in them, alone between blocks: a label inside a figure."""
    stripped = text.strip()
    return (len(stripped.split()) <= 5 and "\n" not in stripped and not stripped.startswith(("- ", "|"))
            and not re.search(r"[.!?:]\s*$", stripped))


def unit_kind(section: str, text: str, hint: str = "") -> str:
    """The kind of one unit: its section's kind, refined by what the unit itself shows."""
    if is_navigation(text):
        return "navigation"
    if looks_like_figure_text(text):
        return "figure"
    if looks_like_contents(text):
        return "contents"
    if section in ("background", "recommendation") and looks_like_references(text):
        return "references"
    if section == "background" and hint == "recommendation":
        return "recommendation"
    return section
