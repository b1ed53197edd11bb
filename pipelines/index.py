"""Qdrant collections behind the alias `guidelines`: create, upsert, delete, swap, search.

One client per process (local mode locks its folder and is not thread-safe), with one lock
around every call in local mode. A rebuild writes a new collection and swaps the alias in one
operation, so readers never see a half-built index.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from qdrant_client import QdrantClient, models

from pipelines import local_sparse

if TYPE_CHECKING:
    from langchain_qdrant.sparse_embeddings import SparseVector

    from pipelines.config import Settings
    from pipelines.models import Chunk

DENSE, SPARSE, SENTENCES = "dense", "sparse", "sentences"
MAX_SENTENCES = 48  # sentence vectors kept per passage (a long table keeps its first rows)
POINT_NAMESPACE = uuid.UUID("6f1d3a52-2b8e-4c1e-9a77-3c2f1b0e9d41")
_clients: dict[str, tuple[QdrantClient, threading.RLock]] = {}
_clients_lock = threading.Lock()


class IndexLockedError(RuntimeError):
    """The local index folder is held by another process."""


def open_client(settings: Settings) -> tuple[QdrantClient, threading.RLock]:
    """The process's one client for these settings, and the lock that guards it."""
    key = settings.qdrant_url or str(settings.index_path.resolve())
    with _clients_lock:
        if key not in _clients:
            _clients[key] = (_connect(settings), threading.RLock())
        return _clients[key]


def _connect(settings: Settings) -> QdrantClient:
    if settings.qdrant_url:
        return QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key, timeout=10)
    settings.index_path.mkdir(parents=True, exist_ok=True)
    local_sparse.install()  # local mode's sparse scoring from postings, not a Python loop
    try:
        return QdrantClient(path=str(settings.index_path))
    except (RuntimeError, BlockingIOError) as exc:
        if "already accessed" in str(exc) or isinstance(exc, BlockingIOError):
            raise IndexLockedError(
                f"The local index at {settings.index_path} is already open in another process "
                "(a running Streamlit app or CLI). Stop that process, or configure QDRANT_URL to "
                "share one Qdrant server between processes.") from exc
        raise


def close_client(settings: Settings) -> None:
    """Close this process's client for these settings, releasing the folder lock."""
    key = settings.qdrant_url or str(settings.index_path.resolve())
    with _clients_lock:
        entry = _clients.pop(key, None)
    if entry is not None:
        entry[0].close()


def close_clients() -> None:
    """Close every client this process opened (tests and CLI exit)."""
    with _clients_lock:
        for client, _ in _clients.values():
            client.close()
        _clients.clear()


@dataclass(frozen=True)
class Vectors:
    """What is written for each chunk: its dense and sparse vectors, and one dense vector per
    sentence (in `split_sentences` order, at most MAX_SENTENCES) for choosing answer sentences
    by meaning without embedding them while a question waits."""

    dense: list[list[float]]
    sparse: list[SparseVector]
    sentences: list[list[list[float]]] | None = None

    def point_vectors(self, i: int) -> dict[str, Any]:
        out: dict[str, Any] = {DENSE: self.dense[i], SPARSE: models.SparseVector(
            indices=self.sparse[i].indices, values=self.sparse[i].values)}
        if self.sentences is not None and self.sentences[i]:
            out[SENTENCES] = self.sentences[i]
        return out


def point_id(guideline_id: str, version: str, index: int) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"{guideline_id}|{version}|{index}"))


def new_collection_name(prefix: str = "guidelines") -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{prefix}_{stamp}_{uuid.uuid4().hex[:6]}"


class Index:
    """The guideline collections of one Qdrant deployment."""

    def __init__(self, client: QdrantClient, lock: threading.RLock, alias: str, local: bool) -> None:
        self.client = client
        self.alias = alias
        self._lock = lock
        self._local = local
        self._sentence_cache: dict[str, bool] = {}

    @classmethod
    def open(cls, settings: Settings) -> Index:
        client, lock = open_client(settings)
        return cls(client, lock, settings.alias, local=not settings.qdrant_url)

    def _read(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self._local:
            with self._lock:
                return fn(*args, **kwargs)
        return fn(*args, **kwargs)

    def live_collection(self) -> str | None:
        aliases = self._read(self.client.get_aliases).aliases
        return next((a.collection_name for a in aliases if a.alias_name == self.alias), None)

    def collections(self) -> list[str]:
        return [c.name for c in self._read(self.client.get_collections).collections]

    def create_collection(self, name: str, dimension: int, embedding_model: str) -> None:
        with self._lock:
            self.client.create_collection(
                name,
                vectors_config={
                    DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE),
                    # Read back with each hit, never searched: no HNSW graph is built for it.
                    SENTENCES: models.VectorParams(
                        size=dimension, distance=models.Distance.COSINE, hnsw_config=models.HnswConfigDiff(m=0),
                        multivector_config=models.MultiVectorConfig(
                            comparator=models.MultiVectorComparator.MAX_SIM))},
                sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                metadata={"embedding_model": embedding_model, "dimension": dimension},
            )

    def has_sentences(self, name: str) -> bool:
        """Whether the collection holds sentence vectors (collections built before them do not)."""
        if name not in self._sentence_cache:
            params = self._read(self.client.get_collection, name).config.params.vectors
            self._sentence_cache[name] = isinstance(params, dict) and SENTENCES in params
        return self._sentence_cache[name]

    def collection_info(self, name: str) -> dict[str, Any]:
        info = self._read(self.client.get_collection, name)
        return dict(info.config.metadata or {})

    def upsert(self, collection: str, chunks: list[Chunk], vectors: Vectors, batch: int = 128) -> None:
        """Write chunks in batches; the lock is taken per batch so readers are not starved."""
        if len(vectors.dense) != len(chunks) or len(vectors.sparse) != len(chunks):
            raise ValueError("one dense and one sparse vector per chunk")
        for start in range(0, len(chunks), batch):
            points = [
                models.PointStruct(id=point_id(c.guideline_id, c.version, c.index),
                                   vector=vectors.point_vectors(start + i), payload=c.payload())
                for i, c in enumerate(chunks[start:start + batch])
            ]
            with self._lock:
                self.client.upsert(collection, points=points, wait=True)

    def delete_guideline(self, collection: str, guideline_id: str, version: str | None = None) -> None:
        must = [models.FieldCondition(key="guideline_id", match=models.MatchValue(value=guideline_id))]
        if version is not None:
            must.append(models.FieldCondition(key="version", match=models.MatchValue(value=version)))
        with self._lock:
            self.client.delete(collection, points_selector=models.FilterSelector(
                filter=models.Filter(must=must)), wait=True)

    def swap_alias(self, collection: str) -> str | None:
        """Point the alias at `collection` in one operation; returns the previous target."""
        with self._lock:
            previous = self.live_collection()
            ops: list[Any] = []
            if previous:
                ops.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.alias)))
            ops.append(models.CreateAliasOperation(create_alias=models.CreateAlias(
                collection_name=collection, alias_name=self.alias)))
            self.client.update_collection_aliases(change_aliases_operations=ops)
            return previous

    def drop(self, collection: str) -> None:
        with self._lock:
            self.client.delete_collection(collection)
            self._sentence_cache.pop(collection, None)

    def count(self, collection: str | None = None) -> int:
        name = collection or self.alias
        try:
            return self._read(self.client.count, name, exact=True).count
        except Exception:
            return 0

    def hybrid_search(self, collection: str, dense: list[float], sparse: SparseVector,
                      prefetch_k: int, limit: int, mode: str = "hybrid",
                      query_filter: models.Filter | None = None) -> list[models.ScoredPoint]:
        """Dense and sparse prefetch fused by RRF in one query, dense vectors returned for grading.

        `mode` "dense" or "sparse" searches one side only (for the evaluation's ablations);
        `query_filter` restricts both prefetches to matching payloads.
        """
        sparse_vector = models.SparseVector(indices=sparse.indices, values=sparse.values)
        wanted = [DENSE, SENTENCES] if self.has_sentences(collection) else [DENSE]
        if mode in ("dense", "sparse"):
            query, using = (dense, DENSE) if mode == "dense" else (sparse_vector, SPARSE)
            return self._read(self.client.query_points, collection, query=query, using=using,
                              query_filter=query_filter, limit=limit, with_payload=True,
                              with_vectors=wanted).points
        return self._read(
            self.client.query_points, collection,
            prefetch=[models.Prefetch(query=dense, using=DENSE, limit=prefetch_k, filter=query_filter),
                      models.Prefetch(query=sparse_vector, using=SPARSE, limit=prefetch_k,
                                      filter=query_filter)],
            query=models.FusionQuery(fusion=models.Fusion.RRF),
            limit=limit, with_payload=True, with_vectors=wanted,
        ).points

    def copy_reembedded(self, source: str, target: str, embed: Any, embedding_model: str,
                        dimension: int) -> int:
        """Copy `source` into a new collection `target` with vectors from `embed(payloads)`.

        `embed` returns (dense, sparse) lists for a batch of payloads. Used by the evaluation's
        ablations (e.g. embedding the passage text without its title and section path).
        """
        self.create_collection(target, dimension, embedding_model)
        offset, copied = None, 0
        while True:
            points, offset = self._read(self.client.scroll, source, limit=256, offset=offset,
                                        with_payload=True, with_vectors=False)
            if points:
                dense, sparse = embed([p.payload or {} for p in points])
                batch = [models.PointStruct(id=p.id, payload=p.payload, vector={
                    DENSE: d, SPARSE: models.SparseVector(indices=s.indices, values=s.values)})
                    for p, d, s in zip(points, dense, sparse, strict=True)]
                with self._lock:
                    self.client.upsert(target, points=batch, wait=True)
                copied += len(batch)
            if offset is None:
                return copied

    def scroll_payloads(self, collection: str, fields: list[str]) -> list[dict[str, Any]]:
        return list(self.scroll_by_id(collection, fields).values())

    def scroll_by_id(self, collection: str, fields: list[str]) -> dict[str, dict[str, Any]]:
        """Every point's `fields`, by point id (as a string)."""
        out: dict[str, dict[str, Any]] = {}
        offset = None
        while True:
            points, offset = self._read(self.client.scroll, collection, limit=1024, offset=offset,
                                        with_payload=fields, with_vectors=False)
            out.update((str(p.id), p.payload or {}) for p in points)
            if offset is None:
                return out
