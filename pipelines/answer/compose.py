"""The offline answer composer: the house format built only from sentences of the passages.

A lead sentence and up to five bullets, each opening with a bold key phrase, and numbered
citations. Each sentence of the retrieved passages is scored by what it answers:
- meaning: the cosine of the question to the sentence's own vector, stored at ingest;
- words: how much of the question (by Snowball word family, idf-weighted) it and its headings hold;
- its passage: rank and similarity, its kind (a recommendation over rationale or research),
  whether its section is what the question asks for (treatment, referral...);
- the patient: a sentence written for another population is left out, one for this patient's
  group is preferred (`patient.fit`).
Near-repeats (by meaning or words) and guidelines far from the best one are left out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from pipelines.answer.narrow import DOSE, for_patient
from pipelines.answer.patient import Fit, Patient, avoided_for, drug_words, fit
from pipelines.grading import _plain, drug_class, named_conditions
from pipelines.answer.phrasing import bullet, is_instruction, is_row, root, row_text, table_rows
from pipelines.index import MAX_SENTENCES
from pipelines.models import Passage, is_demo
from pipelines.retrieval import Vocabulary
from pipelines.safety import looks_like_injection
from pipelines.text import split_sentences, terms

MIN_CHARS = 30
MAX_BULLETS = 6
PER_PASSAGE = 3  # sentences from one passage before the others have had their turn
_BOILERPLATE = re.compile(r"^(demonstration summary|not official guidance)", re.I)
KIND_PRIOR = {"recommendation": 0.04, "table": 0.03, "background": 0.0, "rationale": -0.08, "research": -0.2}
SPECIFIC_BONUS, OTHER_GROUP_PENALTY = 0.08, 0.10
SAME_MEANING = 0.88  # sentence cosine above which two sentences say the same
GUIDELINE_MARGIN = 0.8  # a guideline whose best sentence scores below this share of the best is left out

# What a question asks for, and the sections that hold it: a treatment question is answered from
# Management, a referral question from Referral or Red flags. (question pattern, section pattern)
INTENTS = {
    "treatment": (r"\b(treat\w*|manag\w*|mx|tx|give|prescrib\w*|drugs?|medications?|medicines?|doses?|dosing"
                  r"|first[- ]line|abx|antibiotics?|antivirals?|therapy|regimen|options)\b",
                  r"manag|treat|drug|therap|prescrib|antibiotic|medicine|dos"),
    "referral": (r"\b(refer\w*|admi(t|ssion)\w*|hospital|specialist|same[- ]day|how urgent\w*)\b",
                 r"referr|admission|red flag|hospital"),
    "diagnosis": (r"\b(diagnos\w*|investigat\w*|tests?|testing|assess\w*|differentiat\w*|distinguish\w*"
                  r"|bloods|examin\w*|work[- ]?up|confirm\w*|criteria|score)\b",
                  r"assess|diagnos|investigat|examin|who to test|differential|telling|distinguish"),
    "red flags": (r"\b(red[- ]flags?|warning signs?|danger signs?)\b", r"red flag"),
    "follow-up": (r"\b(follow[- ]?up|monitor\w*|safety[- ]net\w*|review)\b", r"follow|monitor|safety net|review"),
}
INTENT_BOOST = 0.12
# A recommendation is an instruction; a question that asks what to do wants one first.
_ASKS_ACTION = re.compile(r"\b(what (do|should|can) (i|we) (do|give|offer|use|try)|what now|next step|what next|what to do"
                          r"|how (do i|to|should i) (manage|treat|refer)|anything else)\b", re.I)
INSTRUCTION_BONUS, ACTION_ASKED_BONUS = 0.04, 0.08
# A treatment question is answered by a regimen: a sentence that gives a dose ("500 mg four
# times a day", "62.5-125 mg", "50 micrograms") says what to give. Asked for the dose itself, the
# dose is the answer: it counts as much as the section the question asks for.
_ASKS_DOSE = re.compile(r"\b(dos(?:e|es|ing|age)|how much|how many (?:mg|tablets))\b", re.I)
REGIMEN_BONUS = INTENT_BOOST / 2


def regimen_bonus(question: str) -> float:
    """What a sentence that gives a dose gains for this question."""
    if _ASKS_DOSE.search(question):
        return INTENT_BOOST
    return REGIMEN_BONUS if "treatment" in intents(question) else 0.0


def asks_action(question: str) -> bool:
    return bool(_ASKS_ACTION.search(question)) or bool(
        {"treatment", "referral", "follow-up"} & set(intents(question)))


def intents(question: str) -> list[str]:
    """What the question asks for (treatment, referral, diagnosis, red flags, follow-up)."""
    text = question.lower()
    return [name for name, (asks, _) in INTENTS.items() if re.search(asks, text)]


@dataclass
class Candidate:
    text: str  # as shown (a table row as one readable line)
    passage: Passage
    score: float
    terms: frozenset[str]
    vector: np.ndarray | None = None
    fit: Fit = field(default_factory=Fit)
    semantic: float = 0.0
    lexical: float = 0.0


@dataclass
class Composition:
    markdown: str
    used: list[Passage]  # passages in citation order: [1] is used[0]
    sentences: list[str]  # the copied sentences, for verification
    lead: Candidate | None = None
    chosen: list[Candidate] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)  # why sentences were kept out, and how many
    patient: Patient = field(default_factory=Patient)
    urgent: Candidate | None = None  # the red flag's urgent action, when it leads


@dataclass
class Request:
    """What the composer needs to know about the question."""

    question: str  # as searched (a follow-up merged with the question before it)
    terms: list[str]  # its content terms, spelling repaired
    patient: Patient = field(default_factory=Patient)
    focus: list[str] = field(default_factory=list)  # a follow-up's own terms, which must tell


def _weights(request: Request, vocab: Vocabulary) -> dict[str, float]:
    weights: dict[str, float] = {}
    for t in request.terms:
        weights[root(t)] = max(weights.get(root(t), 0.0), vocab.idf(t))
    for t in request.focus:  # the new fact of a follow-up counts double
        weights[root(t)] = weights.get(root(t), vocab.idf(t)) * 2
    return weights


def candidates(request: Request, passages: list[Passage], vocab: Vocabulary,
               left_out: dict[str, int] | None = None) -> list[Candidate]:
    wanted_sections = [INTENTS[name][1] for name in intents(request.question)]
    instruction_bonus = INSTRUCTION_BONUS + (ACTION_ASKED_BONUS if asks_action(request.question) else 0.0)
    dose_bonus = regimen_bonus(request.question)
    weights = _weights(request, vocab)
    total = sum(weights.values()) or 1.0
    every_sentence = [s for p in passages for s in split_sentences(p.text)]
    avoided = avoided_for(request.patient, every_sentence)
    has = tuple(named_conditions(request.question))  # what the patient has: "without X" is not for them
    out = []
    for passage in passages:
        # A guideline or a section written for another group ("Lower urinary tract symptoms in
        # men", "Management › Non-pregnant women aged 16 and over"): none of its sentences.
        label_fit = fit(request.patient, passage.title)
        label_fit = label_fit if label_fit.conflict else fit(request.patient, passage.section)
        if label_fit.conflict:
            if left_out is not None:
                left_out[label_fit.conflict] = left_out.get(label_fit.conflict, 0) + 1
            continue
        heading_roots = {root(t) for t in terms(f"{passage.title} {passage.section}")}
        boost = INTENT_BOOST if any(re.search(pattern, passage.section.lower()) for pattern in wanted_sections) else 0.0
        sentences = split_sentences(passage.text)
        # Vectors were stored for the first MAX_SENTENCES sentences as split at ingest; a count
        # that differs means the passage was split otherwise then, so they are not used.
        aligned = (passage.sentence_vectors is not None
                   and len(passage.sentence_similarity) == min(len(sentences), MAX_SENTENCES))
        rows = table_rows(passage.text)
        for i, sentence in enumerate(sentences):
            # A dose per age band, or an alternative for an allergy: this patient's clause only.
            shown = row_text(sentence, rows[sentence]) if sentence in rows else for_patient(sentence, request.patient)
            if is_row(sentence) and sentence not in rows:
                continue  # a header or separator row
            if (len(shown) < MIN_CHARS or shown.endswith(":") or _BOILERPLATE.match(shown)
                    or looks_like_injection(shown)):
                continue
            suits = fit(request.patient, shown, avoided, has)
            if suits.conflict:
                if left_out is not None:
                    left_out[suits.conflict] = left_out.get(suits.conflict, 0) + 1
                continue
            sentence_terms = frozenset(terms(shown))
            # A drug counts for its class ("flucloxacillin" answers "which antibiotic").
            sentence_roots = {root(t) for t in sentence_terms} | {
                root(word) for t in sentence_terms for name in drug_class(t) for word in name.split()}
            overlap = sum(w for t, w in weights.items() if t in sentence_roots)
            context = sum(w for t, w in weights.items() if t in heading_roots and t not in sentence_roots)
            lexical = (overlap + 0.5 * context) / total
            has_vector = aligned and i < len(passage.sentence_similarity)
            semantic = passage.sentence_similarity[i] if has_vector else passage.similarity
            length_penalty = 0.05 * max(0.0, math.log(len(shown) / 220)) if len(shown) > 220 else 0.0
            score = (0.40 * lexical + 0.35 * semantic + 0.15 * passage.similarity
                     - 0.015 * min(passage.rank - 1, 5) - length_penalty + boost
                     + KIND_PRIOR.get(passage.kind, 0.0) + (instruction_bonus if is_instruction(shown) else 0.0)
                     + (dose_bonus if dose_bonus and DOSE.search(shown) else 0.0)
                     + (SPECIFIC_BONUS if suits.specific else 0.0) - (OTHER_GROUP_PENALTY if suits.other_group else 0.0))
            out.append(Candidate(shown, passage, score, sentence_terms,
                                 passage.sentence_vectors[i] if has_vector else None, suits, semantic, lexical))
    return sorted(out, key=lambda c: c.score, reverse=True)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def new_facts(candidate: Candidate, chosen: list[Candidate]) -> set[str]:
    """The numbers and the rare words (drug and test names, by wordfreq) of a sentence that no
    chosen sentence states: "ABPI below 0.9" is not "ABPI below 0.5", "oestrogen plus a
    progestogen" is not "oestrogen-only", however close the two are in meaning."""
    def facts(text: str) -> set[str]:
        return set(_NUMBER.findall(text)) | drug_words(text)

    said = set().union(*(facts(c.text) for c in chosen)) if chosen else set()
    return facts(candidate.text) - said


def redundant(candidate: Candidate, chosen: list[Candidate]) -> bool:
    """Says what a chosen sentence already says: close in meaning (stored sentence vectors) or
    mostly the same words, and no number or drug name of its own."""
    if new_facts(candidate, chosen):
        return False
    for other in chosen:
        if candidate.vector is not None and other.vector is not None \
                and float(candidate.vector @ other.vector) > SAME_MEANING:
            return True
        union = candidate.terms | other.terms
        if union and len(candidate.terms & other.terms) / len(union) > 0.5:
            return True
    return False


def on_subject(ranked: list[Candidate], question: str) -> set[str] | None:
    """The guidelines about the condition the question names (title or section naming it), or
    None when it names none or no guideline is about it."""
    named = named_conditions(question, history=False)
    if not named:
        return None
    patterns = [p for ps in named.values() for p in ps]
    about = {c.passage.guideline_id for c in ranked
             if any(p.search(_plain(f"{c.passage.title} {c.passage.section}")) for p in patterns)}
    return about or None


def select(ranked: list[Candidate], limit: int, question: str = "") -> list[Candidate]:
    """Best-first, skipping near-repeats, at most three sentences from one passage while other
    passages have good ones, and nothing from a guideline unrelated to the question: when it
    names a condition, only the guidelines about it; otherwise none whose best sentence is far below the best guideline's. Where the
    organisation's own guidance is among those, the demonstration summaries are left out."""
    if not ranked:
        return []
    best_by_guideline: dict[str, float] = {}
    demo = set()
    for cand in ranked:
        best_by_guideline.setdefault(cand.passage.guideline_id, cand.score)
        if is_demo(cand.passage.publisher):
            demo.add(cand.passage.guideline_id)
    about = on_subject(ranked, question)
    if about is not None:
        ranked = [c for c in ranked if c.passage.guideline_id in about]
    top = ranked[0].score
    close = {g for g, s in best_by_guideline.items() if s >= GUIDELINE_MARGIN * top}
    own = {c.passage.guideline_id for c in ranked} & close - demo
    if own:  # the organisation's own guidance answers: the demonstration summaries stand back
        close -= demo
    chosen: list[Candidate] = []
    deferred: list[Candidate] = []  # a fourth sentence of one passage waits for free places
    per_passage: dict[str, int] = {}
    floor = top * 0.5
    for cand in ranked:
        if len(chosen) >= limit or (cand.score < floor and len(chosen) >= 4):
            break
        if cand.passage.guideline_id not in close or redundant(cand, chosen):
            continue
        if per_passage.get(cand.passage.id, 0) >= PER_PASSAGE:
            deferred.append(cand)
            continue
        per_passage[cand.passage.id] = per_passage.get(cand.passage.id, 0) + 1
        chosen.append(cand)
    # The cap keeps the answer varied, not short: where the other passages had nothing good
    # enough, the answering passage's next sentences fill the places left, in score order.
    for cand in deferred:
        if len(chosen) >= limit or cand.score < floor:
            break
        if not redundant(cand, chosen):
            chosen.append(cand)
    return [chosen[0], *sorted(chosen[1:], key=lambda c: c.score, reverse=True)] if chosen else chosen


def compose(request: Request, passages: list[Passage], vocab: Vocabulary,
            urgent: Candidate | None = None) -> Composition:
    """Write the answer from the passages alone; `urgent` (a red flag's urgent action) leads."""
    left_out: dict[str, int] = {}
    ranked = candidates(request, passages, vocab, left_out)
    if urgent is not None:
        ranked = [urgent] + [c for c in ranked if c.text != urgent.text]
    picked = select(ranked, MAX_BULLETS + 1, request.question)
    if urgent is not None and (not picked or picked[0] is not urgent):
        picked = [urgent] + [c for c in picked if c is not urgent][:MAX_BULLETS]
    if not picked:
        return Composition("", [], [], left_out=left_out, patient=request.patient)
    used: list[Passage] = []

    def cite(p: Passage) -> int:
        if p not in used:
            used.append(p)
        return used.index(p) + 1

    lead, bullets = picked[0], picked[1:MAX_BULLETS + 1]
    opening = "**Urgent:** " if urgent is not None else ""
    lines = [f"{opening}{lead.text} [{cite(lead.passage)}]", ""]
    lines += [bullet(cand.text, cite(cand.passage)) for cand in bullets]
    return Composition("\n".join(lines), used, [c.text for c in picked], lead, picked, left_out,
                       request.patient, urgent)
