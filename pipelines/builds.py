"""Index builds of the guideline library: recovery at start-up, full rebuilds behind an
evaluation gate, the swap of the live collection, and rollback.

`IndexBuilds` is mixed into `pipelines.library.Library`, whose store, index, settings and
embedding helpers (`parse`, `embed`, `original_of`, `_overrides`, `_changed`) it uses. A rebuild
writes a new collection from the stored originals and only then swaps it live; the previous stays
for rollback, and `recover()` drops what an interrupted run left.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipelines.embeddings import embedding_dimension
from pipelines.index import new_collection_name
from pipelines.validate import IngestError

Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:  # noqa: ARG001
    """The default progress callback: report nothing."""


class IndexBuilds:
    """Recovery, rebuild, swap and rollback (a part of `Library`)."""

    def recover(self) -> list[str]:
        """Clear what an interrupted ingest or rebuild left behind; returns what was done."""
        done = []
        live = self.index.live_collection()
        for row in self.store.guideline_rows("pending"):
            if live:
                self.index.delete_guideline(live, row["guideline_id"], row["version"])
            self.store.set_status(row["id"], "failed")
            done.append(f"discarded half-ingested {row['title']} v{row['version']}")
        known = {b["collection"]: b["status"] for b in self.store.build_rows()}
        for name in self.index.collections():
            if name == live or name == self.settings.queries_collection:
                continue
            if known.get(name) in ("building", None, "failed", "rejected"):
                self.index.drop(name)
                if name in known:
                    self.store.update_build(name, status="failed")
                done.append(f"dropped unfinished collection {name}")
        self._changed()
        return done

    def rebuild(self, *, actor: str, progress: Progress = no_progress,
                evaluate: Callable[[str], dict[str, float]] | None = None,
                force: bool = False, min_drop: float = 0.0) -> dict[str, Any]:
        """Build a new collection from the stored originals, evaluate it, swap the alias if it
        did not get worse (or `force`), keep the previous collection for rollback."""
        name = new_collection_name()
        self.index.create_collection(name, embedding_dimension(self.embeddings), self.embedding_name)
        self.store.add_build(name, self.embedding_name, "building", actor)
        try:
            total, failed = self._fill(name, progress)
        except BaseException:
            self.index.drop(name)
            self.store.update_build(name, status="failed")
            self.store.log(actor, "rebuild", name, "failed", "the build stopped with an error")
            raise
        self.store.update_build(name, chunk_count=total)
        report: dict[str, Any] = {"collection": name, "chunks": total, "swapped": False,
                                  "failed": failed}
        if failed:
            self.store.log(actor, "rebuild", name, "warning", "originals that could not be re-indexed: "
                           + "; ".join(f"{f['title']}: {f['reason']}" for f in failed))
        live = self.index.live_collection()
        if evaluate is not None and live and self.embedding_mismatch():
            progress(0.92, "Evaluating the new index (the live one uses another embedding model)")
            report["new"], report["live"] = evaluate(name), None
            self.store.update_build(name, evaluation=report["new"])
        elif evaluate is not None and live:
            progress(0.92, "Evaluating the new index against the gold set")
            report["new"], report["live"] = evaluate(name), evaluate(live)
            self.store.update_build(name, evaluation=report["new"])
            dropped = report["new"].get("hit@5", 0) < report["live"].get("hit@5", 0) - min_drop
            if dropped and not force:
                self.index.drop(name)
                self.store.update_build(name, status="rejected")
                self.store.log(actor, "rebuild", name, "rejected",
                               f"hit@5 dropped: new {report['new'].get('hit@5')} < live "
                               f"{report['live'].get('hit@5')}; the live index is unchanged")
                progress(1.0, "Not swapped: quality dropped")
                return report
            if dropped:
                self.store.log(actor, "rebuild-override", name, "ok",
                               f"swapped despite a drop: new hit@5 {report['new'].get('hit@5')} < "
                               f"live {report['live'].get('hit@5')}")
        self._swap(name, actor)
        report["swapped"] = True
        progress(1.0, "Swapped: the new index is live")
        return report

    def _fill(self, name: str, progress: Progress) -> tuple[int, list[dict[str, str]]]:
        """Re-index every active guideline from its original into `name`; an original that is
        missing or unreadable is listed (the evaluation gate then judges the result)."""
        rows = self.store.guideline_rows("active")
        total, failed = 0, []
        for i, row in enumerate(rows):
            progress(0.9 * i / max(len(rows), 1), f"Re-indexing {row['title']} ({i + 1}/{len(rows)})")
            try:
                _, chunks = self.parse(self.original_of(row), row["file_name"], self._overrides(row))
            except (IngestError, OSError) as exc:
                failed.append({"title": row["title"], "reason": getattr(exc, "reason", str(exc))})
                continue
            self.index.upsert(name, chunks, self.embed(chunks))
            total += len(chunks)
        progress(0.9, "Building the search graph")
        self.index.optimize(name)
        return total, failed

    def _swap(self, name: str, actor: str) -> None:
        previous = self.index.swap_alias(name)
        for build in self.store.build_rows():
            if build["status"] == "previous" and build["collection"] not in (name, previous):
                if build["collection"] in self.index.collections():
                    self.index.drop(build["collection"])
                self.store.update_build(build["collection"], status="retired")
        if previous:
            self.store.update_build(previous, status="previous")
        self.store.update_build(name, status="live")
        self.store.log(actor, "swap-alias", name, "ok", f"previous: {previous}")

    def go_live(self, name: str, actor: str) -> None:
        """Put a finished collection (a seeded snapshot) live; the current one becomes previous."""
        self._swap(name, actor)

    def rollback(self, actor: str) -> str:
        """Put the previous collection back behind the alias in one step."""
        previous = next((b["collection"] for b in self.store.build_rows() if b["status"] == "previous"), None)
        if not previous or previous not in self.index.collections():
            raise RuntimeError("There is no previous index to roll back to.")
        self._swap(previous, actor)
        return previous
