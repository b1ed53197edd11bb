"""Typed values that cross module boundaries: guidelines, chunks, citations, answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Level = Literal["high", "moderate", "low", "insufficient"]

LEVEL_LABELS: dict[str, str] = {
    "high": "Guideline-aligned · High confidence",
    "moderate": "Guideline-aligned · Moderate confidence",
    "low": "Limited evidence · Low confidence",
    "insufficient": "No guidance found",
}


@dataclass(frozen=True)
class GuidelineMeta:
    """What a clinical lead says about a guideline document."""

    title: str
    publisher: str = "Unknown publisher"
    source_url: str = ""
    last_reviewed: str = ""
    specialty: str = "General"
    version: str = "1"
    code: str = ""  # NG136, CG184, SIGN 158, as printed
    published: str = ""  # ISO date where the document prints one
    review_date: str = ""  # ISO date of the next review, where printed (trust documents)

    @property
    def guideline_id(self) -> str:
        """Stable identity across versions: publisher and code where the document has a code,
        publisher and title where it has none, so two publishers' documents with one title
        coexist (an nhs.uk page and a summary both called "Atrial fibrillation"). A document
        whose publisher is unknown, and a bundled demonstration summary, go by title alone."""
        if not self.publisher or "unknown" in self.publisher.lower() or is_demo(self.publisher):
            return slugify(self.title)
        if self.code:
            return slugify(f"{self.code} {_short_body(self.publisher)}")
        return slugify(f"{self.title} {_short_body(self.publisher)}")


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path, on one page."""

    path: tuple[str, ...]
    text: str
    page: int | None = None
    kind: str = "background"  # recommendation, table, rationale, research, background
    printed_page: str | None = None  # the page label printed on that page, where it differs
    end_page: int | None = None  # the last page its text reaches (a unit can cross a page break)


@dataclass(frozen=True)
class ParsedDocument:
    meta: GuidelineMeta
    sections: list[Section]
    pages: int | None
    file_type: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage with everything a citation needs."""

    guideline_id: str
    version: str
    index: int
    text: str
    section: str
    page: int | None
    meta: GuidelineMeta
    flags: tuple[str, ...] = ()  # what ingest neutralised (e.g. an instruction aimed at a model)
    kind: str = "background"
    printed_page: str | None = None
    end_page: int | None = None

    @property
    def embed_text(self) -> str:
        """Title and section go into what is embedded so short questions find the document."""
        return f"{self.meta.title} › {self.section}\n{self.text}"

    def payload(self) -> dict[str, Any]:
        return {
            "guideline_id": self.guideline_id,
            "version": self.version,
            "chunk": self.index,
            "text": self.text,
            "section": self.section,
            "page": self.page,
            "flags": list(self.flags),
            "kind": self.kind,
            "printed_page": self.printed_page,
            "page_end": self.end_page,
            **asdict(self.meta),
        }


@dataclass
class Passage:
    """A retrieved chunk with its scores (dense cosine kept for grading)."""

    id: str
    text: str
    title: str
    publisher: str
    section: str
    page: int | None
    url: str
    last_reviewed: str
    specialty: str
    guideline_id: str
    version: str
    similarity: float
    rank: int = 0
    kind: str = "background"
    page_end: int | None = None
    printed_page: str | None = None
    # Cosine of the question to each sentence (split_sentences order), from the sentence vectors
    # stored at ingest; empty for collections built without them.
    sentence_similarity: tuple[float, ...] = ()
    sentence_vectors: Any = field(default=None, repr=False, compare=False)  # numpy (n, dim)

    @classmethod
    def from_payload(cls, point_id: str, payload: dict[str, Any], similarity: float) -> Passage:
        return cls(
            kind=payload.get("kind") or "background",
            page_end=payload.get("page_end"),
            printed_page=payload.get("printed_page"),
            id=str(point_id),
            text=payload.get("text", ""),
            title=payload.get("title", ""),
            publisher=payload.get("publisher", ""),
            section=payload.get("section", ""),
            page=payload.get("page"),
            url=payload.get("source_url", ""),
            last_reviewed=payload.get("last_reviewed", ""),
            specialty=payload.get("specialty", ""),
            guideline_id=payload.get("guideline_id", ""),
            version=str(payload.get("version", "")),
            similarity=float(similarity),
        )


@dataclass
class Citation:
    n: int
    title: str
    publisher: str
    section: str
    page: int | None
    url: str
    last_reviewed: str
    score: float
    text: str
    guideline_id: str = ""
    version: str = ""
    printed_page: str | None = None
    page_end: int | None = None
    kind: str = "background"
    review_overdue: bool = False  # last reviewed longer ago than the review interval

    @classmethod
    def from_passage(cls, n: int, p: Passage) -> Citation:
        return cls(n, p.title, p.publisher, p.section, p.page, p.url, p.last_reviewed,
                   round(p.similarity, 4), p.text, p.guideline_id, p.version, p.printed_page,
                   p.page_end, p.kind)

    @property
    def page_label(self) -> str:
        """"21", "21–22", or "21 (printed 15)" where the document numbers its pages otherwise."""
        if self.page is None:
            return ""
        label = str(self.page) if not self.page_end or self.page_end == self.page else f"{self.page}–{self.page_end}"
        if self.printed_page and self.printed_page != str(self.page):
            label += f" (printed {self.printed_page})"
        return label


@dataclass
class Confidence:
    level: Level
    reasons: list[str]

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]


@dataclass
class RedFlag:
    name: str
    message: str
    presenting: bool = True  # False when the question only names the condition


@dataclass
class Answer:
    """Everything the UI and the CLI show for one question."""

    question: str
    answer: str
    confidence: Confidence
    citations: list[Citation]
    sources: list[Passage]
    mode: str
    timings_ms: dict[str, float]
    index_version: str
    redacted: list[str] = field(default_factory=list)
    red_flags: list[RedFlag] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    nearest_guidelines: list[str] = field(default_factory=list)
    search_query: str = ""

    @property
    def abstained(self) -> bool:
        return self.confidence.level == "insufficient"

    def to_json(self) -> dict[str, Any]:
        """The `ask --json` contract of DESIGN.md, plus the safety fields."""
        return {
            "question": self.question,
            "answer": self.answer,
            "confidence": {"level": self.confidence.level, "label": self.confidence.label,
                           "reasons": self.confidence.reasons},
            "citations": [{k: v for k, v in asdict(c).items()
                           if k not in ("guideline_id", "version")} for c in self.citations],
            "sources": [{"rank": p.rank, "title": p.title, "section": p.section, "page": p.page,
                         "score": round(p.similarity, 4), "publisher": p.publisher,
                         "url": p.url} for p in self.sources],
            "mode": self.mode,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "index_version": self.index_version,
            "redacted": self.redacted,
            "red_flags": [asdict(f) for f in self.red_flags],
            "notices": self.notices,
            "nearest_guidelines": self.nearest_guidelines,
        }


def is_demo(publisher: str | None) -> bool:
    """A demonstration summary bundled with Guidelight (its publisher line says so)."""
    return (publisher or "").strip().lower().startswith("demonstration summary")


def _short_body(publisher: str) -> str:
    """A short, stable form of a publisher name for identities (initials of a long name)."""
    words = [w for w in publisher.replace("(", " ").replace(")", " ").split() if w[:1].isalpha()]
    return "".join(w[0] for w in words) if len(words) > 2 else publisher


def slugify(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "untitled"
