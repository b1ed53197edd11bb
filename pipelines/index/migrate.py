"""Moving an install from qdrant-client's local mode to Qdrant Edge, at start-up, losing nothing.

An install made before Edge holds its index in qdrant-client's local-mode folder
(`data/index/meta.json` and `data/index/collection/`). The registry, versions, retirements,
audit log and originals live in the records database and `data/originals/`, which the move does
not touch. The move: copy every past question (text, counts, times and vector) into the Edge
past-queries store; rebuild the guideline shard from the stored originals (the library's own
rebuild, with its progress); then check that the new shard holds every guideline version the
registry serves (point counts may differ: the chunker may have improved since the old index was
built) and the new store every question of the old one. Only when both checks pass is the old
folder removed; otherwise it stays and start-up stops with a message saying why, so the next
start tries again from the same, untouched source.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.index.base import DENSE, Point

if TYPE_CHECKING:
    from pipelines.assistant import Assistant

logger = logging.getLogger(__name__)
LEGACY_FILES = ("meta.json", "collection", ".lock")


class MigrationError(RuntimeError):
    """The new index did not pass its checks; the old one is kept."""


@dataclass
class MigrationReport:
    chunks_before: int
    chunks_after: int
    questions_before: int
    questions_after: int
    missing: list[str] = field(default_factory=list)  # "guideline_id vversion" not in the new shard
    failed: list[dict[str, str]] = field(default_factory=list)


def legacy_index(index_path: Path) -> bool:
    """Whether `index_path` holds a qdrant-client local-mode index."""
    return (index_path / "meta.json").is_file() and (index_path / "collection").is_dir()


def _read_legacy(index_path: Path, queries: str) -> tuple[int, list[Any]]:
    """The old live collection's point count and every stored past question, read once."""
    from pipelines.index.client import ClientIndex, connect

    old = ClientIndex(connect(None, None, index_path), "guidelines", local=True)
    try:
        live = old.live_collection()
        chunks = old.count(live) if live else 0
        stored = list(old.iter_points(queries, True, vectors=True)) if queries in old.collections() else []
        return chunks, stored
    finally:
        old.close()


def migrate(assistant: Assistant, progress: Any) -> MigrationReport | None:
    """Move a local-mode install onto Edge (see the module docstring); None when there is none."""
    settings, index = assistant.settings, assistant.index
    if index.engine != "edge" or not legacy_index(settings.index_path):
        return None
    progress(0.0, "Moving the index to the new engine (Qdrant Edge): reading the old index…")
    logger.warning("Moving the local-mode index at %s to Qdrant Edge", settings.index_path)
    chunks_before, stored = _read_legacy(settings.index_path, settings.queries_collection)

    queries = settings.queries_collection
    if queries in index.collections():  # a move that stopped half-way: start the copy again
        index.drop(queries)
    index.create_plain(queries, assistant.related_store.dimension)
    index.write_points(queries, [Point(h.id, {DENSE: h.vector[DENSE]}, h.payload) for h in stored], 256)
    progress(0.05, f"Moving the index: copied {len(stored)} past questions; re-indexing the guidelines")

    assistant.library.recover()
    failed: list[dict[str, str]] = []
    if assistant.store.guideline_rows("active"):
        report = assistant.library.rebuild(actor="system", progress=lambda f, m: progress(
            0.05 + 0.9 * f, f"Moving the index: {m}"))
        failed = report.get("failed", [])
    else:
        assistant.library.ensure_live()
    live = index.live_collection()
    missing = sorted(f"{g} v{v}" for g, v in assistant.store.active_versions() - index.versions_in(live))
    result = MigrationReport(chunks_before, index.count(live), len(stored), index.count(queries),
                             missing, failed)
    if missing or failed or result.questions_after != result.questions_before:
        raise MigrationError(
            f"Moving the index to Qdrant Edge did not pass its checks ({len(missing)} guideline "
            f"version(s) missing, {result.questions_after} of {result.questions_before} past questions"
            f"{'; unreadable originals: ' + ', '.join(f['title'] for f in failed) if failed else ''}). "
            f"The old index is kept at {settings.index_path}; restore the missing originals and "
            "restart, or set GUIDELIGHT_VECTOR_ENGINE=local to keep using it.")
    for build in assistant.store.build_rows():  # the old engine's collections are gone
        if build["status"] in ("live", "previous") and build["collection"] not in index.collections():
            assistant.store.update_build(build["collection"], status="retired")
    for name in LEGACY_FILES:
        path = settings.index_path / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    assistant.store.log("system", "migrate-index", "qdrant-edge", "ok",
                        f"{result.chunks_after} passages, {result.questions_after} past questions")
    progress(1.0, "Moved the index to Qdrant Edge")
    return result
