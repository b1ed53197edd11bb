"""Confidence as a pure function of the evidence: similarity, agreement, term coverage, support."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from pipelines.answer.phrasing import root
from pipelines.models import Confidence, Passage
from pipelines.retrieval import Vocabulary
from pipelines.text import ABBREVIATIONS, split_sentences, stem, terms, words

CONDITIONS_FILE = Path(__file__).parent / "data" / "conditions.yaml"
DRUG_CLASSES_FILE = Path(__file__).parent / "data" / "drug_classes.yaml"
COMMON_ENGLISH_ZIPF = 4.5  # "fell", "twice", "tablets": vignette words, weighed lightly
COMMON_WEIGHT = 0.3

# Words clinicians type around a question that say nothing about its topic: counting them as
# "missing" would make a well-answered vignette look uncovered.
QUESTION_FILLER = frozenset(stem(w) for w in """
what whats next now first line lines man men woman women male female old year years month months
week weeks day days hour hours minute minutes min mins sec secs need needs can't cant won't should
tell please advice best option options approach someone person patient pt pts yo yrs wks ago since
""".split())
_NUMERIC = re.compile(r"^[\d.,/:%+-]+$|^\d+(yo|y|yr|yrs|m|f|mo|wk|wks|d|h|hr|hrs|min|mins|s|sec|kg|mg|g|ml|l|mmhg|mmol)$")


def informative(term: str) -> bool:
    """Whether a question term says something about the topic (not a number, age or filler)."""
    return not _NUMERIC.match(term) and term not in QUESTION_FILLER


@lru_cache(maxsize=1)
def _drug_classes() -> list[tuple[str, bool, tuple[str, ...]]]:
    entries = yaml.safe_load(DRUG_CLASSES_FILE.read_text("utf-8"))
    return [(e["stem"], bool(e.get("prefix")), tuple(e["class"])) for e in entries]


def drug_class(term: str) -> tuple[str, ...]:
    """The class words of a drug named by its INN stem ("ramipril" -> "ace inhibitor")."""
    for stem_, prefix, names in _drug_classes():
        if len(term) > len(stem_) + 2 and (term.startswith(stem_) if prefix else term.endswith(stem_)):
            return names
    return ()


@lru_cache(maxsize=65536)
def weight_share(term: str) -> float:
    """How much a question word says about its topic: everyday English words little."""
    from wordfreq import zipf_frequency

    return COMMON_WEIGHT if zipf_frequency(term, "en") >= COMMON_ENGLISH_ZIPF else 1.0


def _covered(term: str, present: set[str], roots: set[str] | None = None, text: str = "") -> bool:
    """Whether the passages hold the term: as written, by word family (Snowball), by a shared
    five-letter opening ("wheezy", "wheeze"), by its abbreviation's words, or a drug by its class."""
    if term in present:
        return True
    if roots is not None:
        r = root(term)
        if r in roots or (len(term) >= 6 and any(len(x) >= 5 and x[:5] == term[:5] for x in roots)):
            return True
        names = drug_class(term)
        if names and any(f" {n} " in text or f" {n}s " in text for n in names):
            return True
    if "-" in term:  # "curb-65" is covered by "curb65"; "open-angle" by "open" and "angle"
        parts = [p for p in term.split("-") if p]
        return "".join(parts) in present or all(stem(p) in present for p in parts)
    expansion = ABBREVIATIONS.get(term)
    return bool(expansion) and any(stem(w) in present for w in words(expansion))


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


# Named conditions ------------------------------------------------------------------------------
def _plain(text: str) -> str:
    """Lower case, apostrophes dropped, anything but letters, digits and '/' as one space."""
    text = re.sub(r"['\u2019]", "", text.lower())
    return " " + re.sub(r"[^a-z0-9/]+", " ", text).strip() + " "


@lru_cache(maxsize=1)
def _condition_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """(condition, pattern of one of its names), longest name first."""
    entries = yaml.safe_load(CONDITIONS_FILE.read_text("utf-8"))
    names = [(entry[0], _plain(str(alias)).strip()) for entry in entries for alias in entry]
    names.sort(key=lambda pair: -len(pair[1]))
    return [(condition, re.compile(rf" {re.escape(name)}(?:s|es)? ")) for condition, name in names]


# A condition named as the patient's history ("74yo with known angina", "PMH of asthma") is
# background to the question, not what it asks about.
_HISTORY = re.compile(r" (known|history of|hx of|h/o|pmh|pmhx|background of|previous|past) (\S+ ){0,2}$")
# ... or a setting ("seen at the flu clinic", "diabetes nurse review").
_SETTING = re.compile(r"^ ?(clinic|clinics|jab|jabs|vaccine|vaccines|vaccination|season|ward|team|nurse|service) ")


def named_conditions(question: str, history: bool = True) -> dict[str, list[re.Pattern[str]]]:
    """The conditions a question names (longest names first, never overlapping), each with the
    patterns of all its names for finding it in passages; `history` False leaves out those
    named as the patient's history or as a setting ("flu clinic")."""
    text = _plain(question)
    found: list[str] = []
    for condition, pattern in _condition_patterns():
        match = pattern.search(text)
        if match and condition not in found:
            background = _HISTORY.search(text[:match.start() + 1]) or _SETTING.search(text[match.end() - 1:])
            if history or not background:
                found.append(condition)
            text = text[:match.start()] + " " + "#" * (match.end() - match.start() - 2) + " " + text[match.end():]
    return {c: [p for name, p in _condition_patterns() if name == c] for c in found}


_SEPARATORS = re.compile(r"[,;]| or | and ")

# Where a guideline names a condition only to tell it apart from its own subject: a section such
# as "Stroke and TIA mimics" or "Telling acute otitis media from other ear problems", or a sentence
# that contrasts ("Bell's palsy affects the whole side of the face, whereas stroke ...").
_DIFFERENTIAL_SECTION = re.compile(
    r"mimic|differential|distinguish|telling .* (from|apart)|another diagnosis|differs? from"
    r"|from other|other causes|conditions to exclude")
_DIFFERENTIAL_SENTENCE = re.compile(
    r"\b(mimic\w*|distinguish\w*|differential|look(s)? (similar|like)|whereas|unlike|confused with"
    r"|mistaken for|suggests? another)\b")
# Questions that ask to tell conditions apart, for which those passages are the answer.
_DIFFERENTIATING_QUESTION = re.compile(
    r"\b(vs|versus|differentiat\w*|distinguish\w*|differential|mimic\w*|tell\w* (\w+ ){0,5}(apart|from)"
    r"|difference between|could (it|this) be|or is it|is it \w+ or|rule out|exclude)\b")


def asks_to_differentiate(question: str) -> bool:
    return bool(_DIFFERENTIATING_QUESTION.search(_plain(question)))


def _listed_in_passing(sentence: str, pattern: re.Pattern[str]) -> bool:
    """Whether a sentence mentions the condition only as one item in a list of three or more
    ("... coeliac disease, endometriosis, thyroid disease and ...")."""
    # Asides in brackets are dropped, unless they hold the condition: then they are an item of
    # their own ("septic arthritis, calcium pyrophosphate deposition (pseudogout), ...").
    flat = re.sub(r"\(([^)]*)\)", lambda m: f", {m.group(1)}," if pattern.search(_plain(m.group(1))) else " ",
                  sentence.lower())
    items = [_plain(item) for item in _SEPARATORS.split(flat)]
    items = [item for item in items if item.strip()]
    if len(items) < 3:
        return False
    holding = [item for item in items if pattern.search(item)]
    return bool(holding) and all(len(item.split()) <= 6 for item in holding)


def discussed(patterns: list[re.Pattern[str]], passages: list[Passage], differentials: bool = True) -> bool:
    """Whether any passage is about the condition: named in its title or section, or in a
    sentence that is not merely a list of other conditions. With `differentials` False, a
    sentence that names it only to tell it apart (in a differential-diagnosis section, or a
    contrasting sentence) does not count either: it is not guidance on managing it."""
    for p in passages:
        heading = _plain(f"{p.title} {p.section}")
        if any(pt.search(heading) for pt in patterns):
            return True
        differential_section = bool(_DIFFERENTIAL_SECTION.search(heading))
        for sentence in split_sentences(p.text):
            plain = _plain(sentence)
            for pt in patterns:
                if not pt.search(plain) or _listed_in_passing(sentence, pt):
                    continue
                if not differentials and (differential_section or _DIFFERENTIAL_SENTENCE.search(plain)):
                    continue
                return True
    return False


@dataclass(frozen=True)
class Evidence:
    top_similarity: float
    agreement: int
    coverage: float
    missing_terms: tuple[str, ...]
    support: float | None = None
    # Conditions the question names that the passages mention, if at all, only in passing.
    # Set only when the question names conditions and the passages discuss none of them.
    unheld_conditions: tuple[str, ...] = ()
    # About the top of the answer (lead and first two bullets), when it has been composed:
    lead_similarity: float | None = None  # cosine of the question to the lead sentence
    lead_coverage: float | None = None  # share of the question's weighted words the lead holds
    concept_in_lead: bool | None = None  # the question's main subject is named there
    lead_title: str = ""  # the guideline the lead comes from
    urgent: bool = False  # a red flag fired and a guideline's urgent action leads


def question_terms(question: str, vocab: Vocabulary) -> list[str]:
    """The question's content terms, spelling repaired against the library where possible."""
    out = []
    for term in dict.fromkeys(terms(question)):
        fixed = vocab.correct(term)
        out.append(fixed or term)
    return out


def measure(question: str, passages: list[Passage], vocab: Vocabulary, support: float | None = None) -> Evidence:
    """Evidence figures from the ranked passages (top three for similarity and coverage)."""
    if not passages:
        return Evidence(0.0, 0, 0.0, tuple(terms(question)), support)
    top = passages[:3]
    top_similarity = max(p.similarity for p in top)
    lead = passages[0].guideline_id
    agreement = sum(1 for p in passages[:5] if p.guideline_id == lead)
    wanted = [t for t in question_terms(question, vocab) if informative(t)]
    compounds = [t.split("-") for t in wanted if "-" in t]
    wanted = [t for t in wanted if not any(t in parts or t == "".join(parts) for parts in compounds)]
    present = set()
    for p in top:
        present.update(terms(f"{p.title} {p.section} {p.text}", expand=False))
    roots = {root(t) for t in present}
    text = _plain(" ".join(f"{p.title} {p.section} {p.text}" for p in top))
    held = {t: _covered(t, present, roots, text) for t in wanted}
    # A word the passages hold counts fully; an everyday word they lack ("fell", "twice") only
    # lightly: it is the vignette's detail, not the question's subject.
    weights = {t: vocab.idf(t) * (1.0 if held[t] else weight_share(t)) for t in wanted}
    total = sum(weights.values()) or 1.0
    covered = sum(w for t, w in weights.items() if held[t])
    missing = tuple(t for t in wanted if not held[t])
    named = named_conditions(question, history=False)
    unheld = ()
    differentials = asks_to_differentiate(question)
    if named and not any(discussed(patterns, passages[:5], differentials) for patterns in named.values()):
        unheld = tuple(named)
    return Evidence(top_similarity, agreement, covered / total if wanted else 0.0, missing, support, unheld)


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
