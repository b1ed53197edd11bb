"""What every vector engine behind `Index` shares: names, point ids, the write and read shapes,
and an engine-neutral filter, so the retriever, related questions and the library never import
an engine's own types."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.models import Chunk

DENSE, SPARSE, SENTENCES = "dense", "sparse", "sentences"
MAX_SENTENCES = 48  # sentence vectors kept per passage (a long table keeps its first rows)
POINT_NAMESPACE = uuid.UUID("6f1d3a52-2b8e-4c1e-9a77-3c2f1b0e9d41")
# Payload fields that filters and deletes select on: each gets a payload index on Edge.
KEYWORD_FIELDS = ("guideline_id", "version", "publisher", "specialty", "source")
FLOAT_FIELDS = ("last_ts",)


class IndexLockedError(RuntimeError):
    """The local index folder is held by another process."""


@dataclass(frozen=True)
class Vectors:
    """What is written for each chunk: its dense and sparse vectors, and one dense vector per
    sentence (in `split_sentences` order, at most MAX_SENTENCES) for choosing answer sentences
    by meaning without embedding them while a question waits."""

    dense: list[list[float]]
    sparse: list[Any]  # anything with `indices` and `values` (langchain-qdrant's SparseVector)
    sentences: list[list[list[float]]] | None = None

    def point_vectors(self, i: int) -> dict[str, Any]:
        out: dict[str, Any] = {DENSE: self.dense[i], SPARSE: self.sparse[i]}
        if self.sentences is not None and self.sentences[i]:
            out[SENTENCES] = self.sentences[i]
        return out


@dataclass
class Point:
    """One point to write: its id (a UUID string), named vectors, payload."""

    id: str
    vectors: dict[str, Any]
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Hit:
    """One point read back: id as a string, score (0 for a scroll), payload, and the named
    vectors asked for (the dense vector of a plain store is under DENSE)."""

    id: str
    score: float = 0.0
    payload: dict[str, Any] = field(default_factory=dict)
    vector: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Where:
    """An engine-neutral filter: every condition must hold.

    `equals` key == value; `any_of` key in values; `below` key < number; `not_equals` key != value.
    """

    equals: tuple[tuple[str, str], ...] = ()
    any_of: tuple[tuple[str, tuple[str, ...]], ...] = ()
    below: tuple[tuple[str, float], ...] = ()
    not_equals: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.equals or self.any_of or self.below or self.not_equals)


def break_ties(hits: list[Hit], dense: list[float]) -> list[Hit]:
    """Fused hits in score order, equal fused scores (common in RRF: first in one list scores the
    same as first in the other) ordered by dense similarity to the question, then by id: one
    ranking whichever engine fused them, and the passage closer in meaning first."""
    import numpy as np

    query = np.asarray(dense, dtype=np.float64)
    query /= np.linalg.norm(query) or 1.0
    closeness = [0.0] * len(hits)
    rows = [i for i, h in enumerate(hits) if len(h.vector.get(DENSE) or ()) == query.size]
    if rows:  # one matrix product for every candidate
        matrix = np.asarray([hits[i].vector[DENSE] for i in rows], dtype=np.float64)
        sims = matrix @ query / np.linalg.norm(matrix, axis=1).clip(min=1e-12)
        for i, sim in zip(rows, sims.tolist()):
            closeness[i] = sim
    order = sorted(range(len(hits)), key=lambda i: (-round(hits[i].score, 9), -round(closeness[i], 9), hits[i].id))
    return [hits[i] for i in order]


def can_make_cut(hits: list[Hit], limit: int) -> list[Hit]:
    """The hits that can be among the first `limit` once equal scores are ordered: every hit
    scoring at least what the hit at place `limit` scores (scores compared as `break_ties` does)."""
    if len(hits) <= limit:
        return hits
    cut = round(sorted((h.score for h in hits), reverse=True)[limit - 1], 9)
    return [h for h in hits if round(h.score, 9) >= cut]


def point_id(guideline_id: str, version: str, index: int) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"{guideline_id}|{version}|{index}"))


def chunk_points(chunks: list[Chunk], vectors: Vectors) -> list[Point]:
    if len(vectors.dense) != len(chunks) or len(vectors.sparse) != len(chunks):
        raise ValueError("one dense and one sparse vector per chunk")
    return [Point(point_id(c.guideline_id, c.version, c.index), vectors.point_vectors(i), c.payload())
            for i, c in enumerate(chunks)]


def new_collection_name(prefix: str = "guidelines") -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{prefix}_{stamp}_{uuid.uuid4().hex[:6]}"


class IndexBase:
    """What the engines share, written once over each engine's primitives
    (`write_points`, `delete_where`, `iter_points`, `create_collection`)."""

    engine = "base"
    alias = "guidelines"
    recovered: list[str]  # what opening the index cleaned up after a crash

    @staticmethod
    def open(settings: Any) -> IndexBase:
        """The process's one index for these settings (see `pipelines.index.open_index`)."""
        from pipelines.index import open_index

        return open_index(settings)

    def close(self) -> None:
        raise NotImplementedError

    def live_collection(self) -> str | None:
        raise NotImplementedError

    def collections(self) -> list[str]:
        raise NotImplementedError

    def drop(self, collection: str) -> None:
        raise NotImplementedError

    def count(self, collection: str | None = None) -> int:
        raise NotImplementedError

    def write_points(self, collection: str, points: list[Point], batch: int = 128) -> None:
        raise NotImplementedError

    def delete_where(self, collection: str, where: Where) -> None:
        raise NotImplementedError

    def iter_points(self, collection: str, fields: list[str] | bool = True,
                    vectors: bool = False, page: int = 1024) -> Any:
        raise NotImplementedError

    def create_collection(self, name: str, dimension: int, embedding_model: str) -> None:
        raise NotImplementedError

    def has_sentences(self, name: str) -> bool:
        raise NotImplementedError

    def retrieve(self, collection: str, ids: list[str], fields: list[str] | bool = True,
                 vectors: list[str] | bool = False) -> list[Hit]:
        raise NotImplementedError

    def _query(self, collection: str, dense: list[float], sparse: Any, prefetch_k: int, limit: int,
               mode: str, where: Where | None, payload: bool, vectors: list[str] | bool,
               exact: bool = False) -> list[Hit]:
        """One engine query: RRF of a dense and a sparse prefetch, or one side alone (`mode`)."""
        raise NotImplementedError

    def hybrid_search(self, collection: str, dense: list[float], sparse: Any, prefetch_k: int,
                      limit: int, mode: str = "hybrid", query_filter: Where | None = None,
                      exact: bool = False) -> list[Hit]:
        """Dense and sparse prefetch fused by RRF in one query, best first, with payloads and
        dense vectors for grading (`sentence_vectors` reads the heavy per-sentence vectors for
        the few passages an answer uses). `mode` "dense" or "sparse" searches one side only
        (the evaluation's ablations); `query_filter` restricts both prefetches; `exact` scores
        every dense vector instead of walking the HNSW graph (to measure what the graph loses).

        The fused query asks for every candidate (at most 2 x `prefetch_k`) by id and fused score
        only. The candidates that can make the first `limit` (those places and the rest of any
        group of equal scores at the cut) then get their payloads and dense vectors by id, and
        `break_ties` orders each group of equal scores by dense similarity. The ranking is thus
        the same on every engine, and no dense vector is read for a candidate that cannot be
        shown (at 100,000 chunks, reading all 80 candidates' vectors cost about 1 ms a query).
        """
        if mode != "hybrid":
            return self._query(collection, dense, sparse, prefetch_k, limit, mode, query_filter, True,
                               [DENSE], exact)
        fused = self._query(collection, dense, sparse, prefetch_k, 2 * prefetch_k, mode, query_filter,
                            False, False, exact)
        contenders = can_make_cut(fused, limit)
        found = {h.id: h for h in self.retrieve(collection, [h.id for h in contenders], True, [DENSE])}
        whole = [Hit(h.id, h.score, found[h.id].payload, found[h.id].vector) for h in contenders if h.id in found]
        return break_ties(whole, dense)[:limit]

    def sentence_vectors(self, collection: str, ids: list[str]) -> dict[str, list[list[float]]]:
        """Each point's sentence vectors (none for a collection built before them)."""
        if not ids or not self.has_sentences(collection):
            return {}
        return {h.id: h.vector.get(SENTENCES) or [] for h in self.retrieve(collection, ids, False, [SENTENCES])}

    def optimize(self, collection: str) -> None:
        """Build what bulk writes left unindexed (Edge); a server optimises by itself."""

    def upsert(self, collection: str, chunks: list[Chunk], vectors: Vectors, batch: int = 128) -> None:
        """Write chunks in batches; the lock is taken per batch so readers are not starved."""
        self.write_points(collection, chunk_points(chunks, vectors), batch)

    def delete_guideline(self, collection: str, guideline_id: str, version: str | None = None) -> None:
        equals = (("guideline_id", guideline_id),) + ((("version", version),) if version is not None else ())
        self.delete_where(collection, Where(equals=equals))

    def scroll_payloads(self, collection: str, fields: list[str]) -> list[dict[str, Any]]:
        return [h.payload for h in self.iter_points(collection, fields)]

    def versions_in(self, collection: str | None) -> set[tuple[str, str]]:
        """Every (guideline id, version) with a passage in `collection`."""
        if not collection:
            return set()
        return {(p.get("guideline_id", ""), str(p.get("version", "")))
                for p in self.scroll_payloads(collection, ["guideline_id", "version"])}

    def scroll_by_id(self, collection: str, fields: list[str]) -> dict[str, dict[str, Any]]:
        """Every point's `fields`, by point id (as a string)."""
        return {h.id: h.payload for h in self.iter_points(collection, fields)}

    def copy_reembedded(self, source: str, target: str, embed: Any, embedding_model: str,
                        dimension: int) -> int:
        """Copy `source` into a new collection `target` with vectors from `embed(payloads)`.

        `embed` returns (dense, sparse) lists for a batch of payloads. Used by the evaluation's
        ablations (e.g. embedding the passage text without its title and section path).
        """
        self.create_collection(target, dimension, embedding_model)
        copied, page = 0, []
        for hit in self.iter_points(source, True, page=256):
            page.append(hit)
            if len(page) == 256:
                copied += self._copy_page(target, page, embed)
                page = []
        if page:
            copied += self._copy_page(target, page, embed)
        self.optimize(target)
        return copied

    def _copy_page(self, target: str, hits: list[Hit], embed: Any) -> int:
        dense, sparse = embed([h.payload for h in hits])
        self.write_points(target, [Point(h.id, {DENSE: d, SPARSE: s}, h.payload)
                                   for h, d, s in zip(hits, dense, sparse, strict=True)], 256)
        return len(hits)
