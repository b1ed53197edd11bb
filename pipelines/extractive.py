"""The offline answer composer: the house format built only from sentences of the passages.

A lead sentence, 3–6 bullets each opening with a bold key phrase, a one-line summary, and numbered
citations. Sentences are copied from the passages (list markers trimmed), ranked by how much of
the question they cover and how close their passage is, and never repeat each other.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from pipelines.models import Passage
from pipelines.retrieval import Vocabulary
from pipelines.safety import looks_like_injection
from pipelines.text import split_sentences, terms

MIN_CHARS = 30
MAX_BULLETS = 5
_BOILERPLATE = re.compile(r"^(demonstration summary|not official guidance)", re.I)


@dataclass
class Candidate:
    text: str
    passage: Passage
    score: float
    terms: frozenset[str]


@dataclass
class Composition:
    markdown: str
    used: list[Passage]  # passages in citation order: [1] is used[0]
    sentences: list[str]  # the copied sentences, for verification


_SUFFIXES = ("ments", "ment", "ings", "ing", "ed", "es", "e", "s")


@lru_cache(maxsize=65536)  # called for every word of every candidate sentence
def root(term: str) -> str:
    """A word's family for matching a question to sentences: "treated", "treating" and
    "treatment" meet at "treat" (retrieval keeps its own lighter stemming)."""
    for suffix in _SUFFIXES:
        if term.endswith(suffix) and len(term) - len(suffix) >= 4:
            return root(term[: -len(suffix)])  # "management" -> "manage" -> "manag"
    return term


# What a question asks for, and the sections that hold it: a treatment question is answered from
# Management, a referral question from Referral or Red flags. (question pattern, section pattern)
INTENTS = {
    "treatment": (r"\b(treat\w*|manag\w*|mx|tx|give|prescrib\w*|drugs?|medications?|medicines?|doses?|dosing"
                  r"|first[- ]line|abx|antibiotics?|antivirals?|therapy|regimen|options)\b",
                  r"manag|treat|drug|therap|prescrib|antibiotic|medicine"),
    "referral": (r"\b(refer\w*|admi(t|ssion)\w*|hospital|specialist|same[- ]day|how urgent\w*)\b",
                 r"referr|admission|red flag|hospital"),
    "diagnosis": (r"\b(diagnos\w*|investigat\w*|tests?|testing|assess\w*|differentiat\w*|distinguish\w*"
                  r"|bloods|examin\w*|work[- ]?up|confirm\w*|criteria|score)\b",
                  r"assess|diagnos|investigat|examin|who to test|differential|telling|distinguish"),
    "red flags": (r"\b(red[- ]flags?|warning signs?|danger signs?)\b", r"red flag"),
    "follow-up": (r"\b(follow[- ]?up|monitor\w*|safety[- ]net\w*|review)\b", r"follow|monitor|safety net|review"),
}
INTENT_BOOST = 0.12


def intents(question: str) -> list[str]:
    """What the question asks for (treatment, referral, diagnosis, red flags, follow-up)."""
    text = question.lower()
    return [name for name, (asks, _) in INTENTS.items() if re.search(asks, text)]


def candidates(question_terms: list[str], passages: list[Passage], vocab: Vocabulary,
               question: str = "") -> list[Candidate]:
    wanted_sections = [INTENTS[name][1] for name in intents(question)]
    weights: dict[str, float] = {}
    for t in question_terms:
        weights[root(t)] = max(weights.get(root(t), 0.0), vocab.idf(t))
    total = sum(weights.values()) or 1.0
    out = []
    for passage in passages:
        heading_roots = {root(t) for t in terms(f"{passage.title} {passage.section}")}
        section = passage.section.lower()
        boost = INTENT_BOOST if any(re.search(pattern, section) for pattern in wanted_sections) else 0.0
        for sentence in split_sentences(passage.text):
            if (len(sentence) < MIN_CHARS or sentence.endswith(":") or _BOILERPLATE.match(sentence)
                    or looks_like_injection(sentence)):
                continue
            sentence_terms = frozenset(terms(sentence))
            sentence_roots = {root(t) for t in sentence_terms}
            overlap = sum(w for t, w in weights.items() if t in sentence_roots)
            context = sum(w for t, w in weights.items() if t in heading_roots and t not in sentence_roots)
            lexical = (overlap + 0.5 * context) / total
            length_penalty = 0.05 * max(0.0, math.log(len(sentence) / 220)) if len(sentence) > 220 else 0.0
            score = (0.55 * lexical + 0.45 * passage.similarity - 0.02 * min(passage.rank - 1, 5) - length_penalty
                     + boost)
            out.append(Candidate(sentence, passage, score, sentence_terms))
    return sorted(out, key=lambda c: c.score, reverse=True)


def _redundant(candidate: Candidate, chosen: list[Candidate]) -> bool:
    for other in chosen:
        union = candidate.terms | other.terms
        if union and len(candidate.terms & other.terms) / len(union) > 0.5:
            return True
    return False


def select(ranked: list[Candidate], limit: int) -> list[Candidate]:
    """Best-first, skipping near-repeats, at most three sentences from one passage."""
    chosen: list[Candidate] = []
    per_passage: dict[str, int] = {}
    floor = ranked[0].score * 0.5 if ranked else 0.0
    for cand in ranked:
        if len(chosen) >= limit or (cand.score < floor and len(chosen) >= 4):
            break
        if per_passage.get(cand.passage.id, 0) >= 3 or _redundant(cand, chosen):
            continue
        per_passage[cand.passage.id] = per_passage.get(cand.passage.id, 0) + 1
        chosen.append(cand)
    return chosen


_VERBS = frozenset("""
is are was were be can may might should must will would could occur occurs cause causes has have
had need needs include includes affect affects do does often usually typically suggest suggests
reduce reduces increase increases present presents mean means require requires respond responds
""".split())
_IMPERATIVE = frozenset("""
offer give use check consider refer advise avoid measure ask assess arrange start review stop treat
prescribe seek explain repeat look examine record send do don't test take reassure discuss provide
follow tell admit manage confirm exclude think suspect recognise document agree encourage support
""".split())
_CONDITIONAL = frozenset("if when where unless after before for in during while once".split())
_DANGLING = frozenset("or and the a an of".split())
_BREAKS = frozenset("if when for with to in at unless because while after before within on by".split())


def key_phrase(sentence: str) -> tuple[str, str]:
    """Split a sentence into an opening key phrase to bold and the rest, changing no words.

    "Label: text" gives the label; "Nocturnal leg cramps are common" gives its subject; an
    instruction ("Check capillary blood glucose in anyone...") gives its opening verb phrase.
    """
    head, sep, rest = sentence.partition(":")
    if sep and 3 <= len(head) <= 70 and rest.strip():
        return head.strip() + ":", rest.strip()
    tokens = sentence.split(" ")
    first = tokens[0].lower().strip(",")
    comma = next((i for i, t in enumerate(tokens[:9]) if t.endswith(",")), None)
    if first in _CONDITIONAL and comma is not None and comma + 1 < len(tokens):
        end = comma + 1
    elif first in _IMPERATIVE or (first == "do" and len(tokens) > 1):
        end = 2 if first == "do" else 1
        while end < min(len(tokens), 6) and tokens[end].lower() not in _BREAKS and not tokens[end - 1].endswith(","):
            end += 1
    else:
        end = next((i for i, t in enumerate(tokens[:9]) if i > 0 and t.lower().strip(",") in _VERBS), 0)
        if end == 0 or end > 7:
            end = min(4, len(tokens) - 1)
    while end > 1 and tokens[end - 1].lower() in _DANGLING:
        end -= 1
    phrase = " ".join(tokens[:end]).rstrip(",")
    trailing = "," if tokens[end - 1].endswith(",") else ""
    return phrase + trailing, " ".join(tokens[end:])


def compose(question_terms: list[str], passages: list[Passage], vocab: Vocabulary,
            question: str = "") -> Composition:
    """Write the answer from the passages alone (`question` as typed, for what it asks for)."""
    picked = select(candidates(question_terms, passages, vocab, question), MAX_BULLETS + 2)
    if not picked:
        return Composition("", [], [])
    used: list[Passage] = []

    def cite(p: Passage) -> int:
        if p not in used:
            used.append(p)
        return used.index(p) + 1

    lead, bullets = picked[0], picked[1:MAX_BULLETS + 1]
    summary = picked[MAX_BULLETS + 1] if len(picked) > MAX_BULLETS + 1 else None
    lines = [f"{lead.text} [{cite(lead.passage)}]", ""]
    for cand in bullets:
        phrase, rest = key_phrase(cand.text)
        lines.append(f"- **{phrase.rstrip(',:')}**{phrase[len(phrase.rstrip(',:')):]} {rest} [{cite(cand.passage)}]")
    if summary is not None:
        lines += ["", f"**In summary**: {summary.text} [{cite(summary.passage)}]"]
    sentences = [c.text for c in picked]
    return Composition("\n".join(lines), used, sentences)
