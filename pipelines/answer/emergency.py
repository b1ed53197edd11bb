"""Emergencies are answered: when a red flag fires, the guideline's urgent action leads.

A red-flag presentation ("crushing chest pain 20 minutes ago") must never end in "No guidance
found" when the library holds guidance on it. The question is searched once more together with
the red flag's name; among those passages, a guideline that names the flagged condition (in its
title, section or text) and says what to do urgently (call 999, immediately, same-day, within
hours, emergency department, admit) supplies the lead, chosen by meaning (the sentence's stored
vector against the question) and by how urgent its action is.
"""

from __future__ import annotations

import re

from pipelines.answer.compose import Candidate
from pipelines.answer.patient import Patient, avoided_for, fit
from pipelines.answer.phrasing import root
from pipelines.grading import asks_to_differentiate
from pipelines.index import MAX_SENTENCES
from pipelines.models import Passage, RedFlag
from pipelines.text import split_sentences, terms

URGENT = re.compile(r"\b(999|ambulance|blue[- ]light|immediate\w*|emergency|same[- ]day|urgent\w*|at once"
                    r"|within (?:\d+|one|two|four|twelve|24) hours?|a&e|admit\w*|resuscitat\w*)\b", re.I)
STRONGEST = re.compile(r"\b(999|ambulance|immediate\w*|emergency department|blue[- ]light)\b", re.I)
# Words of a red flag's own name that do not name a condition ("Possible stroke or TIA").
_NAME_FILLER = frozenset({"possibl", "suspect", "risk", "diseas", "syndrom", "acut", "or", "and"})
# An urgent action is an instruction: "Call 999", "Give aspirin 300 mg", "Send ... immediately".
ACTIONS = frozenset("call give send refer admit arrange start offer seek phone dial transfer treat".split())
MIN_SIMILARITY = 0.30
_WHICH_OF = re.compile(r"\b[\w-]+ or [\w-]+\s*\?\s*$")  # "... - ACS or reflux?"  # a passage further than this from the question is not about it


def flag_roots(flag: RedFlag) -> set[str]:
    return {root(t) for t in terms(flag.name)} - _NAME_FILLER


def holds(flag: RedFlag, passages: list[Passage]) -> set[str]:
    """The guidelines among `passages` that name the flagged condition."""
    wanted = flag_roots(flag)
    out = set()
    for p in passages:
        present = {root(t) for t in terms(f"{p.title} {p.section} {p.text}")}
        if wanted & present:
            out.add(p.guideline_id)
    return out


def urgent_action(flags: list[RedFlag], passages: list[Passage], patient: Patient,
                  question: str = "") -> Candidate | None:
    """The best urgent-action sentence of a guideline that holds one of the fired red flags."""
    flags = [f for f in flags if f.presenting]
    if not flags or asks_to_differentiate(question) or _WHICH_OF.search(question):
        return None  # "ACS or reflux?" asks which it is: the banner shows, the answer answers that
    holding = set().union(*(holds(flag, passages) for flag in flags))
    wanted = set().union(*(flag_roots(flag) for flag in flags))
    avoided = avoided_for(patient, [s for p in passages for s in split_sentences(p.text)])
    best: Candidate | None = None
    for p in passages:
        if p.guideline_id not in holding or p.similarity < MIN_SIMILARITY:
            continue
        sentences = split_sentences(p.text)
        aligned = p.sentence_vectors is not None and len(p.sentence_similarity) == min(len(sentences), MAX_SENTENCES)
        for i, sentence in enumerate(sentences):
            if len(sentence) < 30 or sentence.endswith(":") or not URGENT.search(sentence):
                continue
            suits = fit(patient, sentence, avoided)
            if suits.conflict or sentence.startswith("|"):
                continue
            semantic = p.sentence_similarity[i] if aligned and i < len(p.sentence_similarity) else p.similarity
            heading = {root(t) for t in terms(f"{p.title} {p.section}")}
            score = (0.6 * semantic + 0.4 * p.similarity + (0.1 if STRONGEST.search(sentence) else 0.0)
                     + 0.05 * (p.kind == "recommendation") + 0.1 * bool(wanted & heading)
                     + 0.1 * (sentence.split(" ", 1)[0].lower() in ACTIONS))
            if best is None or score > best.score:
                vector = p.sentence_vectors[i] if aligned and i < len(p.sentence_similarity) else None
                best = Candidate(sentence, p, score, frozenset(terms(sentence)), vector, suits, semantic, 0.0)
    return best
