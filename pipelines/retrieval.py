"""Hybrid retrieval as a LangChain `BaseRetriever`: dense + sparse prefetch fused by RRF in one
Qdrant query, registry-active versions only, a cap per guideline, dense cosine kept for grading."""

from __future__ import annotations

import difflib
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np
import yaml
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr
from pipelines.embeddings import BM25SparseEmbeddings
from pipelines.index import DENSE, Hit, Index, Where
from pipelines.models import Passage
from pipelines.ordering import own_guidance_first, recommendations_first
from pipelines.text import terms


PUBLISHERS_FILE = Path(__file__).parent / "data" / "publishers.yaml"
_WRAPPER = re.compile(r"^demonstration summary \(based on (.*)\)$", re.IGNORECASE)


@cache
def _body_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    entries = yaml.safe_load(PUBLISHERS_FILE.read_text("utf-8"))
    return tuple((e["body"], re.compile(r"(?<![\w/])(?:" + "|".join(
        re.escape(n) for n in sorted(e["names"], key=len, reverse=True)) + r")(?![\w])"))
        for e in entries)


@lru_cache(maxsize=1024)  # a library has few publisher lines; asked per hit and per query
def publisher_bodies(publisher: str | None) -> tuple[str, ...]:
    """The guideline bodies a publisher line names, in the order of publishers.yaml.

    "Demonstration summary (based on NICE CKS and BSG 2021 guideline)" -> ("NICE", "BSG");
    a publisher naming no known body is its own body (its text without the summary wrapper).
    """
    text = (publisher or "").strip()
    if not text:
        return ()
    spaced = re.sub(r"[/,;]", " / ", text)  # "BTS/NICE/SIGN" names three bodies
    found = tuple(body for body, pattern in _body_patterns() if pattern.search(spaced))
    if found:
        return found
    inner = _WRAPPER.match(text)
    return ((inner.group(1) if inner else text).strip(),)


SPELLING_CUTOFF = 0.85  # difflib ratio at which a library term is taken for the meant word
ENGLISH_ZIPF = 2.5  # about once per 3 million words: "cushing" 3.0, "amoxicilin" 0


@lru_cache(maxsize=65536)
def english_word(term: str) -> bool:
    """Whether wordfreq's English list knows the word well enough that it is no misspelling."""
    from wordfreq import zipf_frequency

    return zipf_frequency(term, "en") >= ENGLISH_ZIPF


@dataclass(frozen=True)
class SearchFilters:
    """Restrict a search to one guideline body (e.g. "NICE") and/or one specialty."""

    publisher: str | None = None
    specialty: str | None = None

    def __bool__(self) -> bool:
        return bool(self.publisher or self.specialty)

    def accepts(self, payload: dict[str, Any]) -> bool:
        return ((not self.publisher or self.publisher in publisher_bodies(payload.get("publisher")))
                and (not self.specialty or payload.get("specialty") == self.specialty))

    def describe(self) -> str:
        parts = [f"publisher {self.publisher}" if self.publisher else "",
                 f"specialty {self.specialty}" if self.specialty else ""]
        return " and ".join(p for p in parts if p)

    def to_where(self, publishers: set[str]) -> Where | None:
        """The same restriction as an index payload filter, given the publisher lines in use."""
        if not self:
            return None
        lines = sorted(p for p in publishers if self.publisher in publisher_bodies(p)) if self.publisher else []
        return Where(any_of=(("publisher", tuple(lines)),) if self.publisher else (),
                     equals=(("specialty", self.specialty),) if self.specialty else ())


class Vocabulary:
    """Document frequencies of the live collection's terms: spelling repair and term coverage."""

    def __init__(self, df: Counter[str], n_docs: int, publishers: set[str] | None = None) -> None:
        self.df = df
        self.n_docs = max(n_docs, 1)
        self.publishers = publishers or set()  # publisher lines in the collection, for filters
        # Repair candidates by first letter and length: a spelling `difflib` would accept
        # (ratio >= SPELLING_CUTOFF) is never much shorter or longer than the word it repairs, so
        # only those lengths are compared (the same answer, without scoring every library term).
        self._long_terms: dict[tuple[str, int], list[str]] = {}
        for t in df:
            if len(t) >= 5:
                self._long_terms.setdefault((t[0], len(t)), []).append(t)
        self._fixes: dict[str, str | None] = {}

    @classmethod
    def from_payloads(cls, payloads: list[dict[str, Any]]) -> Vocabulary:
        df: Counter[str] = Counter()
        for p in payloads:
            df.update(set(terms(f"{p.get('title', '')} {p.get('section', '')} {p.get('text', '')}")))
        return cls(df, len(payloads), {p["publisher"] for p in payloads if p.get("publisher")})

    def idf(self, term: str) -> float:
        return math.log(1 + (self.n_docs + 1) / (self.df.get(term, 0) + 0.5))

    def correct(self, term: str) -> str | None:
        """The library's spelling of an unknown term (edit-close), or None if it has none.

        A word English already knows ("crushing", "floppy") is never rewritten into a library
        word ("cushing"): only what is neither in the library nor in wordfreq's English list
        is taken for a misspelling.
        """
        if term in self.df or len(term) < 6 or not term.isalpha() or english_word(term):
            return term if term in self.df else None
        if term not in self._fixes:
            n = len(term)
            options = [t for size in range(n // 2, 2 * n + 1)
                       if 2 * min(size, n) / (size + n) >= SPELLING_CUTOFF
                       for t in self._long_terms.get((term[0], size), ())]
            match = difflib.get_close_matches(term, options, n=1, cutoff=SPELLING_CUTOFF)
            self._fixes[term] = match[0] if match else None
        return self._fixes[term]

    def repair(self, query: str) -> str:
        """The query with misspelt words replaced by the library's spelling."""
        fixed = []
        for word in query.split():
            term = terms(word)
            fix = self.correct(term[0]) if len(term) == 1 else None
            fixed.append(fix if fix and fix != term[0] and term[0] not in self.df else word)
        return " ".join(fixed)


class Found(NamedTuple):
    """What a search found: the passages to show, best first (each guideline's recommendations
    before its rationale), more from the same guidelines for the composer (`reserve`), and the
    passages in the search's own order, for measuring the evidence."""

    passages: list[Passage]
    reserve: list[Passage]
    evidence: list[Passage]


class GuidelineRetriever(BaseRetriever):
    """Retrieves ranked `Passage`s (as Documents) from the collection behind the live alias."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index
    embeddings: Embeddings
    is_active: Callable[[str, str], bool]
    sparse: BM25SparseEmbeddings = BM25SparseEmbeddings()
    top_k: int = 6
    prefetch_k: int = 40
    per_guideline_cap: int = 3
    collection: str | None = None
    filters: SearchFilters = SearchFilters()
    mode: str = "hybrid"  # "dense" or "sparse" only for the evaluation's ablations
    exact: bool = False  # score every dense vector (no HNSW): the benchmark's reference ranking
    spelling_repair: bool = True

    _vocab: dict[tuple[str, int], Vocabulary] = PrivateAttr(default_factory=dict)
    _vocab_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def target(self) -> str:
        return self.collection or self.index.live_collection() or self.index.alias

    def vocabulary(self, collection: str | None = None) -> Vocabulary:
        name = collection or self.target()
        key = (name, self.index.count(name))
        with self._vocab_lock:
            if key not in self._vocab:
                payloads = self.index.scroll_payloads(name, ["title", "section", "text", "publisher"])
                # Keep a few: during a rebuild the live and the new collection are both read.
                for stale in [k for k in self._vocab if k[0] == name][:] + list(self._vocab)[:-3]:
                    self._vocab.pop(stale, None)
                self._vocab[key] = Vocabulary.from_payloads(payloads)
            return self._vocab[key]

    def search(self, query: str, filters: SearchFilters | None = None,
               collection: str | None = None) -> list[Passage]:
        """Ranked passages for `query`, best first, each with its dense cosine similarity."""
        return self.search_with_reserve(query, filters, collection)[0]

    def search_with_reserve(self, query: str, filters: SearchFilters | None = None,
                            collection: str | None = None,
                            reserve_k: int = 4) -> Found:
        """`search`'s passages, and up to `reserve_k` more from the guidelines they come from
        that the per-guideline cap held back (in fused order), for the composer to draw on: the
        cap keeps the sources varied, but the sentence that answers may sit in a fourth chunk."""
        name = collection or self.target()
        vocab = self.vocabulary(name)
        repaired = vocab.repair(query) if self.spelling_repair else query
        dense = self.embeddings.embed_query(repaired)
        wanted = filters or self.filters
        # Filters go into the query itself, so a filtered search ranks within the filtered set
        # rather than keeping what survives of the unfiltered top results.
        points = self.index.hybrid_search(name, dense, self.sparse.embed_query(repaired),
                                          self.prefetch_k, self.prefetch_k, self.mode,
                                          query_filter=wanted.to_where(vocab.publishers),
                                          exact=self.exact)
        points = own_guidance_first(points, vocab.publishers)
        query_vec = np.asarray(dense, dtype=np.float32)

        def passage(point: Hit) -> Passage:
            vector = np.asarray(point.vector.get(DENSE, []), dtype=np.float32)
            similarity = float(query_vec @ vector / (np.linalg.norm(vector) or 1.0)) if vector.size else 0.0
            return Passage.from_payload(point.id, point.payload or {}, similarity)

        accepted = [p for p in points
                    if self.is_active((p.payload or {}).get("guideline_id", ""), str((p.payload or {}).get("version", "")))
                    and wanted.accepts(p.payload or {})]
        made: dict[str, Passage] = {}

        def passages(hits: list[Hit], first_rank: int = 1) -> list[Passage]:
            out = []
            for rank, hit in enumerate(hits, first_rank):
                found = made.setdefault(hit.id, passage(hit))
                found.rank = found.rank or rank
                out.append(found)
            return out

        shown, held_back = self._cap(recommendations_first(accepted))
        chosen = passages(shown)
        shown_guidelines = {p.guideline_id for p in chosen}
        reserve = passages([h for h in held_back if (h.payload or {}).get("guideline_id") in shown_guidelines][:reserve_k],
                           len(chosen) + 1)
        self._add_sentences(name, chosen + reserve, query_vec)
        # The evidence (how well the library covers the question) is read in the search's own
        # order, whatever kind of text ranked best: the kind order is how the answer is shown.
        evidence = passages(self._cap(accepted)[0])
        return Found(chosen, reserve, evidence)

    def _cap(self, points: list[Hit]) -> tuple[list[Hit], list[Hit]]:
        """The first `top_k` points with at most `per_guideline_cap` from one guideline, and the
        points held back."""
        chosen: list[Hit] = []
        held_back: list[Hit] = []
        per_doc: Counter[str] = Counter()
        for point in points:
            gid = (point.payload or {}).get("guideline_id", "")
            if len(chosen) >= self.top_k or per_doc[gid] >= self.per_guideline_cap:
                held_back.append(point)
                continue
            per_doc[gid] += 1
            chosen.append(point)
        return chosen, held_back

    def _add_sentences(self, name: str, passages: list[Passage], query_vec: np.ndarray) -> None:
        """Each passage's sentence vectors and their similarity to the question, read for these
        few passages only (the answer chooses its sentences among them)."""
        stored = self.index.sentence_vectors(name, [p.id for p in passages])
        unit_query = query_vec / (np.linalg.norm(query_vec) or 1.0)
        for found in passages:
            if stored.get(found.id):
                matrix = np.asarray(stored[found.id], dtype=np.float32)
                matrix /= np.linalg.norm(matrix, axis=1, keepdims=True).clip(min=1e-9)
                found.sentence_vectors = matrix
                found.sentence_similarity = tuple(float(x) for x in matrix @ unit_query)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [Document(page_content=p.text, metadata={**p.__dict__}) for p in self.search(query)]
