"""Related questions: a second Qdrant collection of past (scrubbed) questions and their vectors.

Only questions answered with at least moderate confidence and free of identifiers are stored;
near-duplicates are merged with a count; curated questions (one per topic) are seeded beside them.
Curated and asked questions pass the same similarity threshold: the panel shows fewer, or none,
rather than pad itself with unrelated ones, and never offers back a question of this conversation.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pipelines.index import DENSE, Hit, Index, Point, Where
from pipelines.text import normalise

OFFERED_LEVELS = ("high", "moderate")
STARTERS = [
    "How can I differentiate nocturnal leg cramps from other causes of leg pain?",
    "What are the red flags for cauda equina syndrome in low back pain?",
    "When should I start a statin for primary prevention?",
    "What is the first-line antibiotic for a lower UTI in a non-pregnant woman?",
    "How do I confirm a diagnosis of hypertension?",
    "Which children with croup need hospital assessment?",
    "What is the step-up treatment for asthma in adults?",
    "When should I anticoagulate a patient with atrial fibrillation?",
    "How should acute gout be treated?",
    "What are the NEWS2 triggers for suspected sepsis?",
]
# Seeded into the related-questions store with the starters: one curated question per topic of
# the demonstration library, so the nearest curated questions are on topic from the first day.
CURATED = STARTERS + [
    "When should I add a second inhaler for COPD?",
    "What HbA1c target should I agree for an adult with type 2 diabetes?",
    "When do I prescribe an antibiotic for a sore throat using FeverPAIN?",
    "How do I choose an antidepressant for moderate depression?",
    "When does a head injury need a CT scan within one hour?",
    "When should I refer sciatica for specialist assessment?",
    "Which drugs treat chronic heart failure with reduced ejection fraction?",
    "What should I do for suspected acute coronary syndrome in primary care?",
    "How urgently should a suspected TIA be seen?",
    "Which children with acute otitis media need antibiotics?",
    "Which topical steroid strength suits atopic eczema on the face?",
    "What is the core treatment for knee osteoarthritis?",
    "What is first-line treatment for generalised anxiety disorder?",
    "How long should a hypnotic be prescribed for insomnia?",
    "What acute treatment should I offer for migraine?",
    "How should I start levothyroxine in an older adult?",
    "How do I investigate and treat iron deficiency anaemia?",
    "When should I refer chronic kidney disease to nephrology?",
    "How do I assess someone with intermittent claudication?",
    "How do I use the two-level Wells score for a suspected DVT?",
    "What antibiotic should I give for cellulitis?",
    "How do I use CRB65 in community-acquired pneumonia?",
    "How should I manage lower urinary tract symptoms in men?",
    "What are the options for treating menopausal symptoms?",
    "Which emergency contraception should I offer after unprotected sex?",
    "What are the red features in a feverish child under 5?",
    "When should I refer dyspepsia for an urgent endoscopy?",
    "How do I treat irritable bowel syndrome?",
    "What is the treatment ladder for acne vulgaris?",
    "When should I give antivirals for shingles?",
    "Does infective conjunctivitis need antibiotic drops?",
    "How do I assess someone with suspected dementia?",
    "What should a falls assessment include for an older person?",
    "How do I treat vitamin D deficiency in adults?",
    "Which babies with bronchiolitis need admission?",
    "How should I treat localised impetigo?",
    "How do I screen for harmful drinking with AUDIT?",
    "What is the most effective way to help someone stop smoking?",
    "When should I refer an adult with obesity for weight management?",
]


SUGGESTED = "Suggested"
ASKED_BY_COLLEAGUES = "Asked by colleagues"


@dataclass
class RelatedQuestion:
    """One question offered under an answer: curated ("Suggested") or asked by colleagues."""

    text: str
    count: int
    similarity: float
    source: str = "asked"

    @property
    def label(self) -> str:
        return SUGGESTED if self.source == "curated" else ASKED_BY_COLLEAGUES


@dataclass
class Candidate:
    """A stored question near the one just asked, before the conversation's own are removed."""

    text: str
    count: int
    similarity: float
    source: str
    vector: Sequence[float] = ()


def question_key(text: str) -> str:
    """Case, spacing and the question mark do not make a different question."""
    return normalise(text).lower().rstrip("?").strip()


def select_related(candidates: Sequence[Candidate], asked: Sequence[str], limit: int,
                   min_similarity: float, same_question: float,
                   asked_vectors: Sequence[Sequence[float]] = ()) -> list[RelatedQuestion]:
    """The nearest candidates worth offering, nearest first.

    Args:
        candidates: stored questions with their similarity to the question just asked.
        asked: this conversation's questions, the one just asked included: never offered.
        limit: at most this many.
        min_similarity: below it a question is unrelated, whether curated or asked.
        same_question: at or above it a stored question is the same question reworded (the
            store's merge threshold), so it counts as one of `asked`.
        asked_vectors: embeddings of the earlier questions in `asked`, to catch rewordings.
    """
    seen = {question_key(q) for q in asked}
    earlier = _unit_rows(asked_vectors)
    out: list[RelatedQuestion] = []
    for c in sorted(candidates, key=lambda c: -c.similarity):
        key = question_key(c.text)
        if c.similarity < min_similarity or c.similarity >= same_question or key in seen:
            continue
        if len(earlier) and len(c.vector) and float(np.max(earlier @ _unit(c.vector))) >= same_question:
            continue
        seen.add(key)
        out.append(RelatedQuestion(c.text, c.count, c.similarity, c.source))
    return out[:limit]


def _unit(vector: Sequence[float]) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def _unit_rows(vectors: Sequence[Sequence[float]]) -> np.ndarray:
    return np.array([_unit(v) for v in vectors]) if len(vectors) else np.empty((0, 0))


class RelatedQuestions:
    """Nearest-neighbour past questions, stored beside the guideline collections."""

    def __init__(self, index: Index, embeddings: Any, collection: str, dimension: int) -> None:
        self.index = index
        self.embeddings = embeddings
        self.collection = collection
        self.dimension = dimension
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        if self.collection not in self.index.collections():
            self.index.create_plain(self.collection, self.dimension)
        self._ready = True

    def seed_starters(self, questions: list[str] | None = None) -> int:
        """Fill an empty store with curated questions so the panel is never empty."""
        self._ensure()
        if self.index.count(self.collection):
            return 0
        questions = questions or CURATED
        vectors = self.embeddings.embed_documents(questions)
        for text, vector in zip(questions, vectors, strict=True):
            self._insert(text, vector, source="curated")
        return len(questions)

    def record(self, question: str, vector: list[float], level: str) -> None:
        """Store an answered question (caller guarantees it has no identifiers)."""
        if level not in OFFERED_LEVELS:
            return
        self._ensure()
        nearest = self._query(vector, 1, self.merge_threshold)
        if nearest:
            point = nearest[0]
            payload = point.payload or {}
            self.index.set_payload(self.collection, point.id, {
                "count": int(payload.get("count", 1)) + 1, "last_ts": time.time()})
            return
        self._insert(question, vector, source="asked")

    merge_threshold = 0.93

    def similar(self, vector: list[float], question: str, limit: int = 5,
                min_similarity: float = 0.55, *, earlier: Sequence[str] = (),
                earlier_vectors: Sequence[Sequence[float]] = ()) -> list[RelatedQuestion]:
        """Up to `limit` stored questions (curated or asked) at least `min_similarity` close to
        this one; never this question or, given `earlier`, the conversation's earlier ones."""
        self._ensure()
        points = self._query(vector, limit + 3 + len(earlier), min_similarity,
                             with_vectors=bool(earlier_vectors))
        candidates = [Candidate((p.payload or {}).get("text", ""), int((p.payload or {}).get("count", 1)),
                                float(p.score), (p.payload or {}).get("source", "asked"),
                                p.vector.get(DENSE) or ())
                      for p in points]
        return select_related(candidates, [question, *earlier], limit, min_similarity,
                              self.merge_threshold, earlier_vectors)

    def purge(self, retention_days: int) -> None:
        """Delete questions not asked within the retention period (curated ones stay)."""
        self._ensure()
        cutoff = time.time() - retention_days * 86400
        self.index.delete_where(self.collection, Where(below=(("last_ts", cutoff),),
                                                       not_equals=(("source", "curated"),)))

    def _insert(self, text: str, vector: list[float], source: str, ts: float | None = None) -> None:
        now = ts or time.time()
        self.index.write_points(self.collection, [Point(str(uuid.uuid4()), {DENSE: vector}, {
            "text": text, "count": 1, "source": source, "created_ts": now, "last_ts": now})])

    def _query(self, vector: list[float], limit: int, threshold: float | None,
               where: Where | None = None, with_vectors: bool = False) -> list[Hit]:
        return self.index.nearest(self.collection, vector, limit, threshold, where, with_vectors)
