"""Seeding the embedded index from a Qdrant server's shard snapshot.

A deployment that outgrows one process runs a Qdrant server (`QDRANT_URL`); a laptop, a ward
machine or a disaster-recovery copy can still run on Edge from that server's data: download the
shard snapshot (`GET {QDRANT_URL}/collections/<collection>/shards/0/snapshot`) and run
`python -m pipelines seed-edge FILE`. The snapshot becomes a new shard folder beside the live
one; it goes live only if it holds the vectors Guidelight searches, at this embedding model's
size, and every guideline version the records database serves. The previous shard stays for
`rollback`. The records (registry, audit, originals) are the server deployment's PostgreSQL or a
copy of its database: the snapshot holds only the index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.embeddings import embedding_dimension
from pipelines.index.base import new_collection_name

if TYPE_CHECKING:
    from pipelines.assistant import Assistant


class SeedError(RuntimeError):
    """The snapshot cannot serve this install; nothing live changed."""


@dataclass
class SeedReport:
    collection: str
    points: int
    versions: int
    previous: str | None
    sentences: bool


def seed_from_snapshot(assistant: Assistant, snapshot: Path, actor: str = "cli") -> SeedReport:
    index, library = assistant.index, assistant.library
    if getattr(index, "engine", "") != "edge":
        raise SeedError("Seeding from a snapshot is for the embedded engine (Qdrant Edge); with "
                        "QDRANT_URL the server restores its own snapshots.")
    if not Path(snapshot).is_file():
        raise SeedError(f"No snapshot file at {snapshot}.")
    name = new_collection_name()
    meta = {"embedding_model": library.embedding_name,
            "dimension": embedding_dimension(assistant.retriever.embeddings)}
    try:
        found = index.unpack_snapshot(Path(snapshot), name, meta)
    except ValueError as exc:
        raise SeedError(str(exc)) from exc
    except Exception as exc:  # not an archive, torn download
        raise SeedError(f"The file {snapshot} could not be read as a Qdrant shard snapshot ({exc}).") from exc
    index.optimize(name)
    served = assistant.store.active_versions()
    have = index.versions_in(name)
    missing = sorted(f"{g} v{v}" for g, v in served - have)
    if missing:
        index.drop(name)
        raise SeedError(f"The snapshot lacks {len(missing)} guideline version(s) this install serves "
                        f"({', '.join(missing[:5])}{'…' if len(missing) > 5 else ''}): it is from another "
                        "deployment or older than its records. Nothing was changed.")
    previous = index.live_collection()
    assistant.store.add_build(name, library.embedding_name, "building", actor)
    library.go_live(name, actor)
    assistant.store.log(actor, "seed-from-snapshot", name, "ok",
                        f"{index.count(name)} passages from {Path(snapshot).name}")
    return SeedReport(name, index.count(name), len(served & have), previous, bool(found["sentences"]))
