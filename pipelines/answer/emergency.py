"""Emergencies are answered: when a red flag fires, the guideline's urgent action leads.

A red-flag presentation ("crushing chest pain 20 minutes ago") must never end in "No guidance
found" when the library holds guidance on it. The question is searched once more together with
the red flag's name; among those passages, a guideline that names the flagged condition (in its
title, section or text) and says what to do urgently (call 999, immediately, same-day, within
hours, emergency department, admit) supplies the lead, chosen by meaning (the sentence's stored
vector against the question) and by how urgent its action is: while the presentation is
current (or the question does not say it is over), the most urgent action leads, the ambulance
before the next-day clinic; once the question says it has resolved, meaning alone chooses.
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
# How urgent an action is: 2 = an ambulance now, 1 = within hours; anything else URGENT matches
# (a clinic within 24 hours, within 7 days) is 0.
EMERGENCY = re.compile(r"\b(999|ambulance|blue[- ]light|emergency (?:department|transfer|admission)"
                       r"|a&e|resuscitat\w*)\b", re.I)
WITHIN_HOURS = re.compile(r"\b(immediate\w*|same[- ]day|at once|within (?:[1-9]|1[0-2]|one|two"
                          r"|four|six|twelve) hours?)\b", re.I)
# A presentation the question says is over: then the ambulance is not the first action, the
# follow-up is. Only words of resolution count, never a time of onset ("since yesterday" may be
# ongoing), and a negated one ("not resolved", "hasn't settled") does not.
RESOLVED = re.compile(r"(?<!not )(?<!n't )(?<!never )\b(resolved|recovered|settled|subsided|passed off"
                      r"|back to normal|(?:went|gone) away)\b", re.I)
# Words of a red flag's own name that do not name a condition ("Possible stroke or TIA").
_NAME_FILLER = frozenset({"possibl", "suspect", "risk", "diseas", "syndrom", "acut", "or", "and"})
# An urgent action is an instruction: "Call 999", "Give aspirin 300 mg", "Send ... immediately".
ACTIONS = frozenset("call give send refer admit arrange start offer seek phone dial transfer treat".split())
MIN_SIMILARITY = 0.30
_WHICH_OF = re.compile(r"\b[\w-]+ or [\w-]+\s*\?\s*$")  # "... - ACS or reflux?"  # a passage further than this from the question is not about it


def urgency(sentence: str) -> int:
    """2 for an emergency action (999, ambulance, emergency department), 1 for one within hours
    (immediately, same day), 0 for a later one (a clinic within 24 hours)."""
    if EMERGENCY.search(sentence):
        return 2
    return 1 if WITHIN_HOURS.search(sentence) else 0


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
    current = not RESOLVED.search(question)  # unknown counts as now: the safer reading
    # holding guidelines in the order the search found them: each later one stands back a little,
    # so the guideline on the complaint asked about ("back pain") leads one that names the flag
    # among its differentials (a leg-cramps guideline's cauda equina line)
    order = {g: i for i, g in enumerate(dict.fromkeys(p.guideline_id for p in passages
                                                      if p.guideline_id in holding))}
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
            score = (0.6 * semantic + 0.4 * p.similarity + (0.12 * urgency(sentence) if current else 0.0)
                     + 0.05 * (p.kind == "recommendation") + 0.1 * bool(wanted & heading)
                     - 0.1 * order[p.guideline_id]
                     + 0.1 * (sentence.split(" ", 1)[0].lower() in ACTIONS))
            if best is None or score > best.score:
                vector = p.sentence_vectors[i] if aligned and i < len(p.sentence_similarity) else None
                best = Candidate(sentence, p, score, frozenset(terms(sentence)), vector, suits, semantic, 0.0)
    return best
