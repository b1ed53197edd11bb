"""The vector index: Qdrant Edge in process by default, qdrant-client for a Qdrant server
(`QDRANT_URL`) or, in tests, qdrant-client's local mode as the server API's stand-in
(`GUIDELIGHT_VECTOR_ENGINE=local`). One index object per process and location: Edge and local
mode both lock their folder.

Everything outside this package uses `Index` (the type and `Index.open(settings)`), `Hit`,
`Point`, `Where` and `Vectors`; no caller imports an engine's own types.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pipelines.index.base import (DENSE, MAX_SENTENCES, SENTENCES, SPARSE, Hit, IndexBase,
                                  IndexLockedError, Point, Vectors, Where, new_collection_name,
                                  point_id)

if TYPE_CHECKING:
    from pipelines.config import Settings

__all__ = ["DENSE", "MAX_SENTENCES", "SENTENCES", "SPARSE", "Hit", "Index", "IndexLockedError",
           "Point", "Vectors", "Where", "close_client", "close_clients", "engine_of",
           "new_collection_name", "open_index", "point_id"]

_open: dict[str, IndexBase] = {}
_open_lock = threading.Lock()


def engine_of(settings: Settings) -> str:
    """"server" with QDRANT_URL, else the configured embedded engine ("edge" or "local")."""
    return "server" if settings.qdrant_url else settings.vector_engine


def _key(settings: Settings) -> str:
    engine = engine_of(settings)
    return f"server:{settings.qdrant_url}" if engine == "server" else \
        f"{engine}:{settings.index_path.resolve()}"


def open_index(settings: Settings) -> IndexBase:
    """The process's one index for these settings."""
    from pipelines.index.client import ClientIndex, connect
    from pipelines.index.edge import EdgeIndex

    key = _key(settings)
    with _open_lock:
        if key not in _open:
            engine = engine_of(settings)
            if engine == "edge":
                _open[key] = EdgeIndex(settings.index_path / "edge", settings.alias)
                _open[key].hnsw_ef = settings.hnsw_ef
            elif engine in ("server", "local"):
                client = connect(settings.qdrant_url, settings.qdrant_api_key,
                                 None if engine == "server" else settings.index_path)
                _open[key] = ClientIndex(client, settings.alias, local=engine == "local")
            else:
                raise ValueError(f"Unknown vector engine {engine!r}: use 'edge' (the default) or 'local'")
        return _open[key]


Index = IndexBase  # the type callers hold; `Index.open(settings)` is `open_index(settings)`


def close_client(settings: Settings) -> None:
    """Close this process's index for these settings, releasing the folder lock."""
    with _open_lock:
        index = _open.pop(_key(settings), None)
    if index is not None:
        index.close()


def close_clients() -> None:
    """Close every index this process opened (tests and CLI exit)."""
    with _open_lock:
        for index in _open.values():
            index.close()
        _open.clear()
