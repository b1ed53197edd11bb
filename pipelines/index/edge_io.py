"""Conversions between the engine-neutral shapes and Qdrant Edge's, and the small durable-file
helpers the Edge index uses for its pointer and metadata files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from pipelines.index.base import SPARSE, Hit, Point, Where


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
