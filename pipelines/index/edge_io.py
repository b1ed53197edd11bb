"""Conversions between the engine-neutral shapes and Qdrant Edge's, and the small durable-file
helpers the Edge index uses for its pointer and metadata files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from pipelines.index.base import DENSE, FLOAT_FIELDS, KEYWORD_FIELDS, SENTENCES, SPARSE, Hit, Point, Where

RRF_K = 2  # the Qdrant server's and qdrant-client's default constant: one ranking on every engine


def to_sparse(vector: Any) -> qe.SparseVector:
    return qe.SparseVector(list(vector.indices), [float(v) for v in vector.values])


def to_filter(where: Where | None) -> qe.Filter | None:
    if not where:
        return None
    must: list[Any] = [qe.FieldCondition(k, match=qe.MatchValue(v)) for k, v in where.equals]
    must += [qe.FieldCondition(k, match=qe.MatchAny(list(vs) or [""])) for k, vs in where.any_of]
    must += [qe.FieldCondition(k, range=qe.RangeFloat(lt=float(v))) for k, v in where.below]
    must_not = [qe.FieldCondition(k, match=qe.MatchValue(v)) for k, v in where.not_equals]
    return qe.Filter(must=must or None, must_not=must_not or None)


def to_hit(point: Any) -> Hit:
    vector = dict(point.vector or {})
    return Hit(str(point.id), float(getattr(point, "score", 0.0) or 0.0), dict(point.payload or {}),
               vector)


def point_size(point: Point) -> int:
    """Roughly what a point takes on disk: 4 bytes a float, sparse pairs, the payload's JSON."""
    floats = 0
    for name, vector in point.vectors.items():
        if name == SPARSE:
            floats += 2 * len(vector.indices)
        elif vector and isinstance(vector[0], list):
            floats += sum(len(v) for v in vector)
        else:
            floats += len(vector)
    return 4 * floats + len(json.dumps(point.payload, default=str))


def disk_bytes(path: Path) -> int:
    """Bytes a folder really uses (its sparse files count only what they hold)."""
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)




def write_json_durably(path: Path, value: Any) -> None:
    """Replace `path` with `value` as JSON by an fsynced rename: a reader (or a crash) sees the
    old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(value, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def index_fields(shard: qe.EdgeShard) -> None:
    """A payload index on every filtered field (keywords; floats for times)."""
    for field in KEYWORD_FIELDS:
        shard.update(qe.UpdateOperation.create_field_index(field, qe.PayloadSchemaType.Keyword))
    for field in FLOAT_FIELDS:
        shard.update(qe.UpdateOperation.create_field_index(field, qe.PayloadSchemaType.Float))
    shard.flush()


def check_snapshot_shard(shard: qe.EdgeShard, dimension: int) -> bool:
    """Whether an unpacked snapshot's shard holds sentence vectors, after checking it has the
    vectors Guidelight searches (asked for by name and size); ValueError, the shard closed, if not."""
    probe = [1.0] + [0.0] * (dimension - 1)
    try:
        shard.query(qe.QueryRequest(limit=1, query=qe.Query.Nearest(probe, using=DENSE)))
        shard.query(qe.QueryRequest(limit=1, query=qe.Query.Nearest(
            qe.SparseVector(indices=[1], values=[1.0]), using=SPARSE)))
    except Exception as exc:
        shard.close()
        raise ValueError(
            f"The snapshot is not a Guidelight collection for this embedding model: it "
            f"needs a '{DENSE}' vector of {dimension} dimensions and a "
            f"'{SPARSE}' vector ({exc}).") from exc
    first, _ = shard.scroll(qe.ScrollRequest(limit=1, with_payload=False, with_vector=True))
    return bool(first) and SENTENCES in (first[0].vector or {})


def query_request(dense: list[float], sparse: Any, prefetch_k: int, limit: int, mode: str,
                  edge_filter: qe.Filter | None, params: qe.SearchParams | None, payload: bool,
                  vectors: list[str] | bool) -> qe.QueryRequest:
    """One engine query: RRF of a dense and a sparse prefetch, or one side alone (`mode`)."""
    if mode in ("dense", "sparse"):
        query = qe.Query.Nearest(dense, using=DENSE) if mode == "dense" else \
            qe.Query.Nearest(to_sparse(sparse), using=SPARSE)
        return qe.QueryRequest(limit=limit, query=query, filter=edge_filter, params=params,
                               with_payload=payload, with_vector=vectors)
    return qe.QueryRequest(
        limit=limit, query=qe.Fusion.Rrf(RRF_K), with_payload=payload, with_vector=vectors,
        prefetches=[qe.Prefetch(limit=prefetch_k, filter=edge_filter, params=params,
                                query=qe.Query.Nearest(dense, using=DENSE)),
                    qe.Prefetch(limit=prefetch_k, filter=edge_filter,
                                query=qe.Query.Nearest(to_sparse(sparse), using=SPARSE))])
