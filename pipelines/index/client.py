"""qdrant-client behind `Index`: a Qdrant server or cluster (`QDRANT_URL`), or qdrant-client's
local mode, kept only as the in-process stand-in for the server's API in tests
(`GUIDELIGHT_VECTOR_ENGINE=local`), so the server path stays tested without a server.

Collections sit behind the alias `guidelines`; a rebuild writes a new collection and swaps the
alias in one operation, so readers never see a half-built index. Local mode locks its folder and
is not thread-safe: one lock around every call there.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient, models

from pipelines.index.base import (DENSE, FLOAT_FIELDS, KEYWORD_FIELDS, SENTENCES, SPARSE, Hit,
                                  IndexBase, IndexLockedError, Point, Where)


def connect(url: str | None, api_key: str | None, path: Path | None) -> QdrantClient:
    if url:
        return QdrantClient(url=url, api_key=api_key, timeout=10)
    assert path is not None
    path.mkdir(parents=True, exist_ok=True)
    try:
        return QdrantClient(path=str(path))
    except (RuntimeError, BlockingIOError) as exc:
        if "already accessed" in str(exc) or isinstance(exc, BlockingIOError):
            raise IndexLockedError(
                f"The local index at {path} is already open in another process "
                "(a running Streamlit app or CLI). Stop that process, or configure QDRANT_URL to "
                "share one Qdrant server between processes.") from exc
        raise


def _sparse(vector: Any) -> models.SparseVector:
    return models.SparseVector(indices=list(vector.indices), values=list(vector.values))


def to_filter(where: Where | None) -> models.Filter | None:
    if not where:
        return None
    must: list[Any] = [models.FieldCondition(key=k, match=models.MatchValue(value=v)) for k, v in where.equals]
    must += [models.FieldCondition(key=k, match=models.MatchAny(any=list(vs) or [""]))
             for k, vs in where.any_of]
    must += [models.FieldCondition(key=k, range=models.Range(lt=v)) for k, v in where.below]
    must_not = [models.FieldCondition(key=k, match=models.MatchValue(value=v)) for k, v in where.not_equals]
    return models.Filter(must=must or None, must_not=must_not or None)


def _hit(point: Any) -> Hit:
    raw = getattr(point, "vector", None)
    vector = raw if isinstance(raw, dict) else ({DENSE: raw} if isinstance(raw, list) else {})
    return Hit(str(point.id), float(getattr(point, "score", 0.0) or 0.0), dict(point.payload or {}), vector)


class ClientIndex(IndexBase):
    """The guideline collections of one Qdrant deployment, through qdrant-client."""

    def __init__(self, client: QdrantClient, alias: str, local: bool) -> None:
        self.client = client
        self.alias = alias
        self._lock = threading.RLock()
        self._local = local
        self.engine = "local" if local else "server"
        self._vector_names: dict[str, frozenset[str] | None] = {}  # None: one unnamed vector
        self.recovered: list[str] = []

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self._local:
            with self._lock:
                return fn(*args, **kwargs)
        return fn(*args, **kwargs)

    def close(self) -> None:
        self.client.close()

    def live_collection(self) -> str | None:
        aliases = self._call(self.client.get_aliases).aliases
        return next((a.collection_name for a in aliases if a.alias_name == self.alias), None)

    def collections(self) -> list[str]:
        return [c.name for c in self._call(self.client.get_collections).collections]

    def _indexes(self, name: str) -> None:
        if self._local:  # local mode has no payload indexes (and warns when asked for one)
            return
        for field in KEYWORD_FIELDS:
            self._call(self.client.create_payload_index, name, field, models.PayloadSchemaType.KEYWORD)
        for field in FLOAT_FIELDS:
            self._call(self.client.create_payload_index, name, field, models.PayloadSchemaType.FLOAT)

    def create_collection(self, name: str, dimension: int, embedding_model: str) -> None:
        self._call(
            self.client.create_collection, name,
            vectors_config={
                DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE),
                # Read back with each hit, never searched: no HNSW graph is built for it.
                SENTENCES: models.VectorParams(
                    size=dimension, distance=models.Distance.COSINE, hnsw_config=models.HnswConfigDiff(m=0),
                    multivector_config=models.MultiVectorConfig(
                        comparator=models.MultiVectorComparator.MAX_SIM))},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            metadata={"embedding_model": embedding_model, "dimension": dimension})
        self._indexes(name)

    def create_plain(self, name: str, dimension: int) -> None:
        """A store of one unnamed dense vector per point (the past-queries store)."""
        self._call(self.client.create_collection, name, vectors_config=models.VectorParams(
            size=dimension, distance=models.Distance.COSINE))
        self._indexes(name)

    def _names(self, name: str) -> frozenset[str] | None:
        """The collection's named dense vectors, or None for one unnamed vector (the past-queries
        store); read once per collection, as a collection's vectors never change."""
        if name not in self._vector_names:
            params = self._call(self.client.get_collection, name).config.params.vectors
            self._vector_names[name] = frozenset(params) if isinstance(params, dict) else None
        return self._vector_names[name]

    def has_sentences(self, name: str) -> bool:
        """Whether the collection holds sentence vectors (collections built before them do not)."""
        return SENTENCES in (self._names(name) or ())

    def collection_info(self, name: str) -> dict[str, Any]:
        return dict(self._call(self.client.get_collection, name).config.metadata or {})

    def set_collection_info(self, name: str, **values: Any) -> None:
        self._call(self.client.update_collection, name, metadata={**self.collection_info(name), **values})

    def swap_alias(self, collection: str) -> str | None:
        """Point the alias at `collection` in one operation; returns the previous target."""
        with self._lock:
            previous = self.live_collection()
            ops: list[Any] = []
            if previous:
                ops.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.alias)))
            ops.append(models.CreateAliasOperation(create_alias=models.CreateAlias(
                collection_name=collection, alias_name=self.alias)))
            self._call(self.client.update_collection_aliases, change_aliases_operations=ops)
            return previous

    def drop(self, collection: str) -> None:
        with self._lock:
            self._call(self.client.delete_collection, collection)
            self._vector_names.pop(collection, None)

    def count(self, collection: str | None = None) -> int:
        try:
            return self._call(self.client.count, collection or self.alias, exact=True).count
        except Exception:
            return 0

    def write_points(self, collection: str, points: list[Point], batch: int = 128) -> None:
        plain = self._names(collection) is None
        for start in range(0, len(points), batch):
            structs = [models.PointStruct(id=p.id, payload=p.payload, vector=p.vectors[DENSE] if plain else
                                          {k: _sparse(v) if k == SPARSE else v for k, v in p.vectors.items()})
                       for p in points[start:start + batch]]
            with self._lock:
                self._call(self.client.upsert, collection, points=structs, wait=True)

    def set_payload(self, collection: str, point: str, payload: dict[str, Any]) -> None:
        self._call(self.client.set_payload, collection, payload=payload, points=[point], wait=True)

    def delete_where(self, collection: str, where: Where) -> None:
        self._call(self.client.delete, collection, points_selector=models.FilterSelector(
            filter=to_filter(where)), wait=True)

    def iter_points(self, collection: str, fields: list[str] | bool = True,
                    vectors: bool = False, page: int = 1024) -> Iterator[Hit]:
        offset = None
        while True:
            points, offset = self._call(self.client.scroll, collection, limit=page, offset=offset,
                                        with_payload=fields, with_vectors=vectors)
            yield from map(_hit, points)
            if offset is None:
                return

    def retrieve(self, collection: str, ids: list[str], fields: list[str] | bool = True,
                 vectors: list[str] | bool = False) -> list[Hit]:
        return [_hit(p) for p in self._call(self.client.retrieve, collection, ids=ids,
                                            with_payload=fields, with_vectors=vectors)]

    def _query(self, collection: str, dense: list[float], sparse: Any, prefetch_k: int, limit: int,
               mode: str, where: Where | None, payload: bool, vectors: list[str] | bool,
               exact: bool = False) -> list[Hit]:
        qfilter = to_filter(where)
        params = models.SearchParams(exact=True) if exact else None
        if mode in ("dense", "sparse"):
            query, using = (dense, DENSE) if mode == "dense" else (_sparse(sparse), SPARSE)
            points = self._call(self.client.query_points, collection, query=query, using=using,
                                query_filter=qfilter, limit=limit, with_payload=payload,
                                with_vectors=vectors, search_params=params).points
        else:
            points = self._call(
                self.client.query_points, collection,
                prefetch=[models.Prefetch(query=dense, using=DENSE, limit=prefetch_k, filter=qfilter,
                                          params=params),
                          models.Prefetch(query=_sparse(sparse), using=SPARSE, limit=prefetch_k, filter=qfilter)],
                query=models.FusionQuery(fusion=models.Fusion.RRF),
                limit=limit, with_payload=payload, with_vectors=vectors).points
        return [_hit(p) for p in points]

    def nearest(self, collection: str, vector: list[float], limit: int,
                threshold: float | None = None, where: Where | None = None,
                with_vectors: bool = False) -> list[Hit]:
        points = self._call(self.client.query_points, collection, query=vector, limit=limit,
                            score_threshold=threshold, query_filter=to_filter(where),
                            with_payload=True, with_vectors=with_vectors).points
        return [_hit(p) for p in points]
