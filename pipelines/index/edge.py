"""Qdrant Edge, in process: one shard folder per collection, a live pointer file instead of an alias.

Layout under `data/index/edge/`: `<collection>/` (an Edge shard: `wal/`, `segments/`,
`edge_config.json`, and our `guidelight.json` written last, so a folder without it is an
unfinished create), `LIVE` (the live collection's name; replaced by an fsynced rename, so a
reader sees the old or the new name, never half of one) and `.lock` (held with `flock` for the
process's lifetime: one process owns the shards, as Edge itself allows one opener per folder).

Flags are never matched as booleans (in 0.9.0 `MatchValue(True)` finds nothing): every filtered
field is a keyword or a number with a payload index (`KEYWORD_FIELDS`, `FLOAT_FIELDS`).
HNSW is built by `optimize()` (Edge does not optimise in the background), which the library
calls after bulk writes; until then new points are searched exhaustively.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from pipelines.index.base import DENSE, SENTENCES, SPARSE, Hit, IndexBase, IndexLockedError, Point, Where
from pipelines.index.edge_io import (check_snapshot_shard, disk_bytes, fsync_dir, index_fields, point_size,
                                     query_request, to_filter, to_hit, to_sparse, write_json_durably)

# Edge maps its segments and write-ahead log (32 MB segments) into memory: a write into a mapped
# page the full disk cannot back kills the process with SIGBUS instead of raising. So every write
# first checks for this much free space beyond its own size, and fails with ENOSPC, unwritten.
RESERVE_BYTES = 96 * 2**20
META = "guidelight.json"
POINTER = "LIVE"


class EdgeIndex(IndexBase):
    """The guideline collections and the past-queries store as Edge shards in one folder."""

    engine = "edge"
    hnsw_ef: int | None = None  # the HNSW search beam; None: the engine's default

    def __init__(self, root: Path, alias: str) -> None:
        self.root = root
        self.alias = alias
        self._lock = threading.RLock()
        self._shards: dict[str, qe.EdgeShard] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        # Exact counts cost a scan (7 ms at 100,000 points) and every question asks for one (the
        # vocabulary cache is keyed on it): this process is the only writer, so keep them here.
        self._counts: dict[str, int] = {}
        root.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(root / ".lock", "a+")  # noqa: SIM115 (held until close)
        try:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lock_file.close()
            raise IndexLockedError(
                f"The local index at {root} is already open in another process (a running "
                "Streamlit app or CLI). Stop that process, or configure QDRANT_URL to share one "
                "Qdrant server between processes.") from exc
        self.recovered = self._recover()
        self._live = self._read_pointer()

    # Folder bookkeeping -------------------------------------------------------------------
    def _recover(self) -> list[str]:
        """Remove what a process that died mid-write left: a half-written pointer, and shard
        folders whose create never finished (no META file)."""
        done = []
        (self.root / f"{POINTER}.tmp").unlink(missing_ok=True)
        for folder in self.root.iterdir():
            if folder.is_dir() and not (folder / META).exists():
                shutil.rmtree(folder, ignore_errors=True)
                done.append(f"removed unfinished shard {folder.name}")
        return done

    def _read_pointer(self) -> str | None:
        try:
            name = json.loads((self.root / POINTER).read_text())["collection"]
        except (OSError, ValueError, KeyError):
            return None
        return name if (self.root / name / META).exists() else None

    def _write_pointer(self, name: str | None) -> None:
        if name is None:
            (self.root / POINTER).unlink(missing_ok=True)
            fsync_dir(self.root)
        else:
            write_json_durably(self.root / POINTER, {"collection": name})

    def _room(self, nbytes: int = 0) -> None:
        free = shutil.disk_usage(self.root).free
        need = RESERVE_BYTES + 3 * nbytes  # the log, the segment and its indexes
        if free < need:
            raise OSError(errno.ENOSPC, f"Not enough free disk space for the index at {self.root}: "
                          f"{free // 2**20} MB free, {need // 2**20} MB needed. Nothing was written; "
                          "free some space and try again.")

    def _shard(self, name: str) -> qe.EdgeShard:
        with self._lock:
            if name not in self._shards:
                if not (self.root / name / META).exists():
                    raise KeyError(f"No collection {name!r} in {self.root}")
                try:
                    self._shards[name] = qe.EdgeShard.load(str(self.root / name))
                except Exception as exc:
                    if "WouldBlock" in str(exc):
                        raise IndexLockedError(f"The shard {name} is open in another process.") from exc
                    raise
            return self._shards[name]

    def _write_meta(self, name: str, meta: dict[str, Any]) -> None:
        write_json_durably(self.root / name / META, meta)
        self._meta[name] = meta

    def _create(self, name: str, config: qe.EdgeConfig, meta: dict[str, Any]) -> None:
        folder = self.root / name
        with self._lock:
            self._room()
            folder.mkdir(parents=True, exist_ok=False)
            shard = qe.EdgeShard.create(str(folder), config)
            index_fields(shard)
            self._shards[name] = shard
            self._write_meta(name, meta)  # last: the folder is now a finished create

    def unpack_snapshot(self, snapshot: Path, name: str, meta: dict[str, Any]) -> dict[str, Any]:
        """A new shard folder `name` from a Qdrant shard snapshot (a server's, or a tar of a
        shard folder): unpacked, opened, and finished with `meta` only if it holds a dense vector
        of `meta["dimension"]` and the sparse vector. Returns what it found; raises ValueError
        (the folder removed) when the snapshot is not a Guidelight collection."""
        folder = self.root / name
        with self._lock:
            self._room(Path(snapshot).stat().st_size)
            try:
                qe.EdgeShard.unpack_snapshot(str(snapshot), str(folder))
                shard = qe.EdgeShard.load(str(folder))
                sentences = check_snapshot_shard(shard, meta["dimension"])
                index_fields(shard)
            except Exception:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            self._shards[name] = shard
            meta = {**meta, "sentences": sentences, "from_snapshot": True}
            self._write_meta(name, meta)  # last, as for a create
        return meta

    # Collections ----------------------------------------------------------------------------
    def live_collection(self) -> str | None:
        return self._live

    def collections(self) -> list[str]:
        return sorted(f.name for f in self.root.iterdir() if f.is_dir() and (f / META).exists())

    def create_collection(self, name: str, dimension: int, embedding_model: str) -> None:
        config = qe.EdgeConfig(
            vectors={DENSE: qe.EdgeVectorParams(size=dimension, distance=qe.Distance.Cosine),
                     # Read back with each hit, never searched: no HNSW graph is built for it.
                     SENTENCES: qe.EdgeVectorParams(
                         size=dimension, distance=qe.Distance.Cosine,
                         multivector_config=qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim),
                         hnsw_config=qe.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000))},
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            wal_enabled=True)
        self._create(name, config, {"embedding_model": embedding_model, "dimension": dimension,
                                    "sentences": True})

    def create_plain(self, name: str, dimension: int) -> None:
        config = qe.EdgeConfig(vectors={DENSE: qe.EdgeVectorParams(size=dimension, distance=qe.Distance.Cosine)},
                               wal_enabled=True)
        self._create(name, config, {"dimension": dimension, "plain": True})

    def collection_info(self, name: str) -> dict[str, Any]:
        if name not in self._meta:
            self._meta[name] = json.loads((self.root / name / META).read_text(encoding="utf-8"))
        return dict(self._meta[name])

    def set_collection_info(self, name: str, **values: Any) -> None:
        with self._lock:
            self._write_meta(name, {**self.collection_info(name), **values})

    def has_sentences(self, name: str) -> bool:
        return bool(self.collection_info(name).get("sentences"))

    def swap_alias(self, collection: str) -> str | None:
        """Make `collection` live by replacing the pointer file; returns the previous one."""
        with self._lock:
            self._shard(collection).flush()
            previous = self._live
            self._write_pointer(collection)
            self._live = collection
            return previous

    def drop(self, collection: str) -> None:
        with self._lock:
            shard = self._shards.pop(collection, None)
            if shard is not None:
                shard.close()
            if collection == self._live:
                self._write_pointer(None)
                self._live = None
            shutil.rmtree(self.root / collection, ignore_errors=True)
            self._meta.pop(collection, None)
            self._counts.pop(collection, None)

    def optimize(self, collection: str) -> None:
        """Build the HNSW graph and merge segments after bulk writes; then flush."""
        with self._lock:
            self._room(disk_bytes(self.root / collection) // 3)  # segments are rewritten
            shard = self._shard(collection)
            shard.optimize()
            shard.flush()

    def close(self) -> None:
        with self._lock:
            for shard in self._shards.values():
                with contextlib.suppress(Exception):
                    shard.flush()
                shard.close()
            self._shards.clear()
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
            self._lock_file.close()

    # Points ---------------------------------------------------------------------------------
    def write_points(self, collection: str, points: list[Point], batch: int = 128) -> None:
        for start in range(0, len(points), batch):
            part = points[start:start + batch]
            edge_points = [qe.Point(p.id, {k: to_sparse(v) if k == SPARSE else v
                                           for k, v in p.vectors.items()}, p.payload) for p in part]
            with self._lock:
                self._room(sum(point_size(p) for p in part))
                self._counts.pop(collection, None)
                self._shard(collection).update(qe.UpdateOperation.upsert_points(edge_points))

    def set_payload(self, collection: str, point: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self._room()
            self._shard(collection).update(qe.UpdateOperation.set_payload([point], payload))

    def delete_where(self, collection: str, where: Where) -> None:
        with self._lock:
            self._room()
            self._counts.pop(collection, None)
            self._shard(collection).update(qe.UpdateOperation.delete_points_by_filter(to_filter(where)))

    def count(self, collection: str | None = None) -> int:
        name = collection or self._live
        if not name:
            return 0
        try:
            with self._lock:
                if name not in self._counts:
                    self._counts[name] = int(self._shard(name).count(qe.CountRequest(exact=True)))
                return self._counts[name]
        except KeyError:
            return 0

    def iter_points(self, collection: str, fields: list[str] | bool = True,
                    vectors: bool = False, page: int = 1024) -> Iterator[Hit]:
        offset = None
        while True:
            with self._lock:
                records, offset = self._shard(collection).scroll(qe.ScrollRequest(
                    offset=offset, limit=page, with_payload=fields, with_vector=vectors))
            yield from map(to_hit, records)
            if offset is None:
                return

    def retrieve(self, collection: str, ids: list[str], fields: list[str] | bool = True,
                 vectors: list[str] | bool = False) -> list[Hit]:
        with self._lock:
            return [to_hit(r) for r in self._shard(collection).retrieve(ids, fields, vectors)]

    # Queries --------------------------------------------------------------------------------
    def _query(self, collection: str, dense: list[float], sparse: Any, prefetch_k: int, limit: int,
               mode: str, where: Where | None, payload: bool, vectors: list[str] | bool,
               exact: bool = False) -> list[Hit]:
        params = qe.SearchParams(exact=True) if exact else \
            (qe.SearchParams(hnsw_ef=self.hnsw_ef) if self.hnsw_ef else None)
        request = query_request(dense, sparse, prefetch_k, limit, mode, to_filter(where), params,
                                payload, vectors)
        with self._lock:
            return [to_hit(p) for p in self._shard(collection).query(request)]

    def nearest(self, collection: str, vector: list[float], limit: int,
                threshold: float | None = None, where: Where | None = None,
                with_vectors: bool = False) -> list[Hit]:
        request = qe.QueryRequest(limit=limit, query=qe.Query.Nearest(vector, using=DENSE),
                                  filter=to_filter(where), score_threshold=threshold,
                                  with_payload=True, with_vector=[DENSE] if with_vectors else False)
        with self._lock:
            return [to_hit(p) for p in self._shard(collection).query(request)]
