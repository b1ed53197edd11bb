"""Follow-ups: a short question is searched with the one before it only when it is one.

"and in pregnancy?" or "what dose?" asks about the previous question's subject; "AF
anticoagulation CKD" has a subject of its own (it names a condition), so it is searched alone
however short it is. The merged search is shown ("Searched as: ...") and the follow-up's own
words are passed on so the answer changes with the new fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.answer.patient import drug_words
from pipelines.grading import named_conditions
from pipelines.text import terms

SHORT_WORDS = 6
_STARTS = re.compile(r"^(and|but|also|what about|how about|what if|and if|if|in|for|during|same|does that"
                     r"|is that|what dose|how long|how much|which one|then|ok and|so)\b", re.I)


@dataclass(frozen=True)
class Condensed:
    query: str
    merged: bool
    own_terms: tuple[str, ...] = ()  # the follow-up's own content words


def own_subject(question: str) -> bool:
    """Whether the question names a condition or a drug of its own."""
    return bool(named_conditions(question)) or bool(drug_words(question))


def condense(question: str, history: list[str]) -> Condensed:
    """The question to search: merged with the previous one only when it is a follow-up."""
    if not history:
        return Condensed(question, False)
    text = question.strip()
    starts = bool(_STARTS.match(text))
    short = len(text.split()) <= SHORT_WORDS
    if (starts and len(text.split()) <= 2 * SHORT_WORDS) or (short and not own_subject(text)):
        return Condensed(f"{history[-1]} {text}", True, tuple(terms(text)))
    return Condensed(question, False)
