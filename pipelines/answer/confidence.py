"""What the top of the composed answer says about confidence: is it on the question's subject?

The ranking can find the right guideline while the lead sentence answers something else
("Reassess CHA2DS2-VASc at 65" under "which anticoagulant"). Confidence therefore also reads the
lead and the first two bullets: how close in meaning the lead is to the question, and whether
the question's main subject (a condition it names, else its rarest word) is named there or in
the headings of the passages they come from.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from pipelines.answer.compose import Composition
from pipelines.answer.phrasing import root
from pipelines.grading import Evidence, _plain, informative, named_conditions
from pipelines.models import Confidence
from pipelines.retrieval import Vocabulary
from pipelines.text import terms

TOP_SENTENCES = 3  # the lead and the first two bullets


@dataclass(frozen=True)
class Thresholds:
    high_similarity: float = 0.55
    moderate_similarity: float = 0.45
    low_similarity: float = 0.23
    min_term_coverage: float = 0.26
    gate_similarity: float = 0.52
    gate_coverage: float = 0.45
    # Calibrated on the gold set's keys (README "Confidence levels"): the lead's cosine to the
    # question and the share of the question's weighted words it (and its headings) hold.
    lead_similarity: float = 0.55
    lead_coverage: float = 0.55
    moderate_lead_similarity: float = 0.4
    moderate_lead_coverage: float = 0.3
    semantic_cover: float = 0.6
    lone_similarity: float = 0.4

    @classmethod
    def from_settings(cls, settings: object) -> Thresholds:
        names = [f for f in cls.__dataclass_fields__]
        return cls(**{n: getattr(settings, n) for n in names})


def main_subject(question: str, vocab: Vocabulary) -> tuple[list[re.Pattern[str]], str | None]:
    """The patterns of the conditions the question names, or else its rarest informative term."""
    named = named_conditions(question, history=False)
    if named:
        return [p for patterns in named.values() for p in patterns], None
    wanted = [t for t in terms(question) if informative(t) and t in vocab.df]
    if not wanted:
        return [], None
    return [], max(wanted, key=vocab.idf)


def with_lead(evidence: Evidence, question: str, composition: Composition, vocab: Vocabulary,
              urgent: bool = False) -> Evidence:
    top = composition.chosen[:TOP_SENTENCES]
    if not top:
        return evidence
    patterns, term = main_subject(question, vocab)
    text = " ".join(f"{c.text} {c.passage.title} {c.passage.section}" for c in top)
    if patterns:
        concept = any(p.search(_plain(text)) for p in patterns)
    elif term:
        concept = root(term) in {root(t) for t in terms(text)}
    else:
        concept = None
    return dataclasses.replace(evidence, lead_similarity=top[0].semantic, lead_coverage=top[0].lexical,
                               concept_in_lead=concept,
                               lead_title=top[0].passage.title, urgent=urgent)


def reasons_for(evidence: Evidence, level: str) -> list[str]:
    """Why, in plain words a clinician reads at a glance (no similarity numbers)."""
    title = evidence.lead_title or "closest"
    out = []
    if evidence.urgent:
        out.append(f"A red flag was recognised: the {title} guideline's urgent action leads this answer.")
    if level == "high":
        out.append(f"The {title} guideline covers this directly.")
    elif level == "moderate":
        out.append(f"The {title} guideline covers this, but check that the passages fit your patient.")
    elif level == "low":
        out.append(f"The {title} guideline is only partly about this question: read the passages.")
    if evidence.concept_in_lead is False and level != "insufficient":
        out.append("The top of the answer does not name the question's main subject.")
    if evidence.missing_terms:
        out.append("Nothing in the closest passages mentions " + ", ".join(evidence.missing_terms[:4]) + ".")
    if evidence.agreement < 2 and level != "insufficient":
        out.append("Only one passage of the leading guideline was found.")
    if evidence.support is not None and evidence.support < 1:
        out.append(f"{evidence.support:.0%} of the model's sentences are supported by the passages.")
    return out


def grade(evidence: Evidence, t: Thresholds) -> Confidence:
    """high | moderate | low | insufficient, with the reasons a clinician can read.

    "High" means the top of the answer is from a guideline that covers the question: the lead
    sentence is close in meaning, the question's main subject is named there, the question's
    terms are in the passages, and more than one passage agrees.
    """
    if evidence.unheld_conditions:
        names = ", ".join(evidence.unheld_conditions)
        return Confidence("insufficient", [
            f"The library holds no guidance on {names}: the closest passages mention it, if at all, "
            "only in a list of other conditions or to tell it apart from another.", *reasons_for(evidence, "insufficient")])
    if evidence.urgent:
        return Confidence("high", reasons_for(evidence, "high"))
    # A lead sentence close in meaning to the question covers it even where its words differ
    # ("LFTs" answered by "liver transaminase"): the word-coverage gates then do not refuse.
    said = evidence.lead_similarity is not None and evidence.lead_similarity >= t.semantic_cover
    weak = evidence.top_similarity < t.gate_similarity and evidence.coverage < t.gate_coverage and not said
    # One passage of the leading guideline, and far from the question: too little to answer from.
    lone = evidence.agreement <= 1 and evidence.top_similarity < t.lone_similarity
    if evidence.top_similarity < t.low_similarity or (evidence.coverage < t.min_term_coverage and not said) \
            or weak or lone:
        return Confidence("insufficient", ["The library has no passage that answers this well.",
                                           *reasons_for(evidence, "insufficient")])
    on_subject = evidence.concept_in_lead is not False
    if evidence.lead_similarity is None:  # nothing composed (model-only callers): passage evidence
        level = "low"
        if evidence.top_similarity >= t.moderate_similarity and evidence.coverage >= 0.65:
            level = "moderate"
        if evidence.top_similarity >= t.high_similarity and evidence.coverage >= 0.8 and evidence.agreement >= 2:
            level = "high"
    else:  # the top of the answer: close in meaning, holding the question's words, on its subject
        lead_coverage = evidence.lead_coverage or 0.0
        level = "low"
        if on_subject and evidence.lead_similarity >= t.moderate_lead_similarity \
                and lead_coverage >= t.moderate_lead_coverage:
            level = "moderate"
        if on_subject and evidence.lead_similarity >= t.lead_similarity and lead_coverage >= t.lead_coverage:
            level = "high"
    if evidence.support is not None and evidence.support < 0.8:
        level = "low" if evidence.support >= 0.5 else "insufficient"
    return Confidence(level, reasons_for(evidence, level))  # type: ignore[arg-type]
