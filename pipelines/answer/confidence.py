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

from pipelines.answer.compose import Composition
from pipelines.answer.phrasing import root
from pipelines.grading import Evidence, _plain, informative, named_conditions
from pipelines.retrieval import Vocabulary
from pipelines.text import terms

TOP_SENTENCES = 3  # the lead and the first two bullets


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
