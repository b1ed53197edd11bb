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
from pipelines.grading import informative, named_conditions, weight_share
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


def everyday_words_only(question: str) -> bool:
    """Whether every content word of the question is everyday English (wordfreq): "still not
    at target, what to add?" or "can he drive?" names no topic, so it can only be about the
    conversation's; a word the word list finds rare (a drug, a test, a condition) is a topic."""
    content = [t for t in terms(question) if informative(t)]
    return bool(content) and all(weight_share(t) < 1.0 for t in content)


def condense(question: str, history: list[str]) -> Condensed:
    """The question to search: merged with the previous one only when it is a follow-up."""
    if not history:
        return Condensed(question, False)
    # The subject is the last question that had one: "and in pregnancy?" after "what if pen
    # allergic?" after "sore throat, what abx?" is about the sore throat, allergy and all.
    context = history[0]
    for earlier in history[1:]:
        context = condense(earlier, [context]).query
    text = question.strip()
    starts = bool(_STARTS.match(text))
    short = len(text.split()) <= SHORT_WORDS
    topicless = len(text.split()) <= 2 * SHORT_WORDS and not own_subject(text) and everyday_words_only(text)
    if (starts and len(text.split()) <= 2 * SHORT_WORDS) or (short and not own_subject(text)) or topicless:
        return Condensed(f"{context} {text}", True, tuple(terms(text)))
    return Condensed(question, False)
