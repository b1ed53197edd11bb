"""Answer-level checks for the evaluation: is the decisive fact where a clinician reads first?

A question may carry `key` (alternatives, each a list of short strings that must all appear),
`avoid` (strings that must not appear: another population's dose, a contraindicated drug) and
`gold_doc` / `gold_pages` (the file and physical pages that hold the answer). These functions are
pure: they read the answer's text, not the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKUP = re.compile(r"\*\*|__|`|\[\d+(?:,\s*\d+)*\]")


def normalised(text: str) -> str:
    """Lower case, markup and citation marks out, dashes and spaces made plain."""
    text = _MARKUP.sub(" ", text.lower())
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    return re.sub(r"\s+", " ", text).strip()


def lead_text(answer: str, bullets: int = 2) -> str:
    """The lead sentence and the first `bullets` bullet points: what is read in ten seconds."""
    lines = [ln.strip() for ln in answer.split("\n") if ln.strip()]
    lead = [ln for ln in lines if not ln.startswith(("-", "*", "•"))][:1]
    items = [ln for ln in lines if ln.startswith(("-", "*", "•"))][:bullets]
    return "\n".join(lead + items)


def has_key(text: str, key: list[list[str]]) -> bool:
    """Any alternative whose strings all appear in the text."""
    plain = normalised(text)
    return any(all(normalised(part) in plain for part in alternative) for alternative in key if alternative)


def violations(text: str, avoid: list[str]) -> list[str]:
    plain = normalised(text)
    return [a for a in avoid if normalised(a) in plain]


@dataclass(frozen=True)
class AnswerCheck:
    key_top: bool | None  # None when the question has no key
    key_any: bool | None
    avoided: list[str]


def check_answer(answer: str, key: list[list[str]] | None, avoid: list[str] | None) -> AnswerCheck:
    if not key:
        return AnswerCheck(None, None, violations(answer, avoid or []))
    return AnswerCheck(has_key(lead_text(answer), key), has_key(answer, key), violations(answer, avoid or []))


def gold_page_hit(sources: list[tuple[str, int | None, int | None]], gold_doc: str | None,
                  gold_pages: list[int], slack: int = 0) -> bool | None:
    """Is one of the first five sources from the gold file and on (or within `slack` of) a gold
    page? A source is on every page from its first to the last its text reaches."""
    if not gold_doc or not gold_pages:
        return None
    return any(name == gold_doc and first is not None
               and any(first - slack <= g <= (last or first) + slack for g in gold_pages)
               for name, first, last in sources[:5])
