"""Sparse scoring for Qdrant's local mode from an inverted index instead of a Python loop.

qdrant-client's local mode scores a sparse query against every stored vector with a pure-Python
merge (`sparse_distances.calculate_distance_sparse`): at 10,000 chunks that was 93% of a
question's retrieval time (450 ms of 490 ms, cProfile, 2026-11-24). This module gives the same
function, score for score, from postings built once per set of stored vectors: a query then
touches only the postings of its own terms.

It is installed for local mode only (`install()`, called when the index client opens); a Qdrant
server keeps its own inverted index and never calls this. The scores are the library's: the same
products summed in the same (ascending term) order in double precision, then cast to float32,
`-inf` (or 0 with `empty_is_zero`) where a vector shares no term with the query.
`tests/integration/test_local_sparse.py` checks equality against the original on the real
library's vectors and ranking equality through `query_points`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from itertools import chain
from typing import Any

import numpy as np

_CACHE_SIZE = 4  # one entry per collection in use (live, a rebuild candidate, related questions)


class Postings:
    """Term -> (rows, values) for a fixed list of sparse vectors."""

    def __init__(self, vectors: list[Any]) -> None:
        self.ids = list(map(id, vectors))
        self.refs = list(vectors)  # keep the objects alive so their ids cannot be reused
        lengths = np.fromiter((len(v.indices) for v in vectors), dtype=np.int64, count=len(vectors))
        terms = np.fromiter(chain.from_iterable(v.indices for v in vectors), dtype=np.int64)
        values = np.fromiter(chain.from_iterable(v.values for v in vectors), dtype=np.float64)
        rows = np.repeat(np.arange(len(vectors), dtype=np.int64), lengths)
        order = np.argsort(terms, kind="stable")
        self.terms, self.rows, self.values = terms[order], rows[order], values[order]
        self.keys, self.starts = np.unique(self.terms, return_index=True)
        self.ends = np.append(self.starts[1:], len(self.terms))
        self.size = len(vectors)

    def matches(self, vectors: list[Any]) -> bool:
        return len(vectors) == self.size and list(map(id, vectors)) == self.ids

    def scores(self, query: Any, empty_is_zero: bool) -> np.ndarray:
        total = np.zeros(self.size, dtype=np.float64)
        hit = np.zeros(self.size, dtype=bool)
        for term, weight in sorted(zip(query.indices, query.values)):
            at = np.searchsorted(self.keys, term)
            if at == len(self.keys) or self.keys[at] != term:
                continue
            span = slice(self.starts[at], self.ends[at])
            rows = self.rows[span]  # a term occurs at most once per vector: no repeated rows
            total[rows] += weight * self.values[span]
            hit[rows] = True
        out = total.astype(np.float32)
        out[~hit] = np.float32(0.0) if empty_is_zero else np.float32("-inf")
        return out


_cache: OrderedDict[int, Postings] = OrderedDict()
_lock = threading.Lock()


def postings_for(vectors: list[Any]) -> Postings:
    # One entry per collection: its first stored vector object stands for it. A changed
    # collection (an upsert replaces vector objects) fails `matches` and is rebuilt in place.
    key = id(vectors[0])
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached.matches(vectors):
            _cache.move_to_end(key)
            return cached
    built = Postings(vectors)
    with _lock:
        _cache[key] = built
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return built


def calculate_distance_sparse(query: Any, vectors: list[Any], empty_is_zero: bool = False) -> np.ndarray:
    """Drop-in for qdrant_client.local.sparse_distances.calculate_distance_sparse."""
    if not vectors:
        return np.array([], dtype=np.float32)
    return postings_for(vectors).scores(query, empty_is_zero)


_original: Any = None


def install() -> bool:
    """Route local mode's plain sparse search through the postings; False if the library's
    internals are not where this version expects them (the original then stays in place)."""
    global _original
    try:
        from qdrant_client.local import local_collection
    except ImportError:
        return False
    current = getattr(local_collection, "calculate_distance_sparse", None)
    if current is None:
        return False
    if current is not calculate_distance_sparse:
        _original = current
        local_collection.calculate_distance_sparse = calculate_distance_sparse
    return True


def uninstall() -> None:
    """Put the library's own scoring back (the benchmark's baseline and the equivalence test)."""
    from qdrant_client.local import local_collection

    if _original is not None:
        local_collection.calculate_distance_sparse = _original
