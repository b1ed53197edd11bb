"""Model mode: the model writes from the passages the composer chose, under the same rules.

The urgent action's passage is given first when a red flag fired; afterwards every [n] is
checked, unsupported sentences and sentences for another population are removed, the urgent
action is put first if the model left it out, and on any failure the offline answer is used.
"""

from __future__ import annotations

import time
from typing import Any

from pipelines import generate
from pipelines.answer.compose import Composition
from pipelines.answer.confidence import Thresholds, grade, with_lead
from pipelines.grading import measure
from pipelines.retrieval import Vocabulary


def generate_answer(chain: Any, state: dict[str, Any], notices: list[str], mode: str, vocab: Vocabulary,
                    thresholds: Thresholds):
    """Yield the model's tokens; return (text, cited passages, mode, confidence)."""
    composition: Composition = state["composition"]
    urgent = composition.urgent
    passages = list(composition.used) or state["passages"]
    if urgent is not None and urgent.passage not in passages:
        passages.insert(0, urgent.passage)
    state["given"] = passages
    produced: list[str] = []
    started = time.perf_counter()
    try:
        patient = composition.patient.describe() if composition.patient.stated else ""
        for token in generate.stream_answer(chain, state["safety"]["text"], passages, patient):
            if not produced:
                state["timings"]["first_token"] = (time.perf_counter() - started) * 1000
            produced.append(token)
            yield token
    except Exception as exc:  # any endpoint failure falls back to the offline answer
        notices.append(f"The language model was unavailable ({type(exc).__name__}); this is the "
                       "offline extractive answer instead.")
        yield "\n\n" + composition.markdown if produced else composition.markdown
        return composition.markdown, composition.used, "offline-fallback", state["confidence"]
    checked = generate.verify("".join(produced), passages)
    if checked.removed or checked.bad_citations:
        notices.append(f"{checked.removed} unsupported sentence(s) and {checked.bad_citations} "
                       "invalid citation(s) were removed from the model's answer.")
    checked, dropped = generate.for_patient(checked, composition.patient, passages)
    if dropped:
        notices.append(f"{dropped} sentence(s) of the model's answer written for another population "
                       "were removed.")
    if urgent is not None:
        checked = generate.lead_with(checked, urgent.text, passages.index(urgent.passage) + 1)
    evidence = with_lead(measure(state["search_query"], passages, vocab, checked.support),
                         state["search_query"], composition, vocab, urgent=urgent is not None)
    confidence = grade(evidence, thresholds)
    cited = [passages[n - 1] for n in checked.cited]
    if not cited or not checked.text:
        notices.append("The model's answer could not be verified against the passages; this is "
                       "the offline extractive answer instead.")
        return composition.markdown, composition.used, "offline-fallback", state["confidence"]
    return checked.text, cited, mode, confidence


def patient_notices(composition: Composition | None) -> list[str]:
    """What was left out for the patient in the question, in plain words."""
    patient = composition.patient if composition is not None else None
    if patient is None or not patient.stated or not composition.left_out:
        return []
    reasons = ", ".join(f"{why} ({n})" for why, n in composition.left_out.items())
    return [f"Answered for this patient ({patient.describe()}). Sentences for someone else were left "
            f"out: {reasons}."]
