"""`python -m pipelines bench --scale 1000,10000,100000,300000 [--json] [--grow-from DATA_DIR]`.

Latency as the library grows to national size, on this machine, in one run:
- **edge** (the embedded default): a shard of N chunks grown from the live library's real chunks
  (the bundled demonstration library, plus the live index of `--grow-from`, e.g. a data folder
  holding the 45 real documents) repeated with small vector jitter; `optimize()` builds HNSW;
  retrieval (`retriever.search`: spelling repair, embedding the question, the index query,
  the per-guideline cap and the chosen passages' sentence vectors), the index query alone
  (`index_search`, vectors computed beforehand), and offline answer (`ask`, asked right after
  that retrieval, so it reuses the question's cached embedding: 3-5 ms of MiniLM on ONNX Runtime
  here) p50/p95, build seconds (writes and HNSW), resident memory, shard size on disk.
- **local** (qdrant-client's local mode, the engine before Edge) over the same points up to
  `--local-max` (50,000): the same retrieval and answer, for the ratio in the same run.
- **dense-only** (LangChain's `QdrantVectorStore`, dense similarity search) over the local-mode
  collection: the baseline the hybrid retriever is compared with.
- **related**: nearest past questions among `--related-stored` (100,000) stored queries, grown
  from embedded variations of the gold questions with jitter, lookup p50/p95 given the question's
  vector (the app reuses the vector it embedded for retrieval).
`--json` prints one object per size and engine with "chunks", "engine", "retrieve_p50_ms",
"retrieve_p95_ms", "answer_p50_ms", "answer_p95_ms", "build_s", "rss_mb" (and "disk_mb",
ratios where there is a baseline), then one "related" object.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from pipelines.bench import measure_seed
from pipelines.bench_stats import load_gold, ratio
from pipelines.bench_scale_measure import ann_vs_exact, dense_only, gold_items, latency, related
from pipelines.bench_scale_report import document, table
from pipelines.config import Settings
from pipelines.index import DENSE, SENTENCES, SPARSE, Hit, Point


def log(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def disk_mb(path: Path) -> float:
    """Space really used (Edge's log segments are sparse files: 32 MB apparent, little used)."""
    from pipelines.index.edge_io import disk_bytes

    return round(disk_bytes(path) / 2**20, 1)


def base_points(grow_from: list[tuple[Any, str]]) -> list[Hit]:
    """Every point (payload and vectors) of the given (index, collection) pairs."""
    out: list[Hit] = []
    for index, collection in grow_from:
        out.extend(index.iter_points(collection, True, vectors=True, page=256))
    return out


def jittered(base: list[Hit], size: int, seed: int = 11, keep_ids: bool = False) -> Iterator[list[Point]]:
    """`size` points in batches: the base points in turn, dense vectors nudged and re-normalised
    so no two are identical, payloads (guideline ids, so the active filter passes) kept;
    `keep_ids` copies the base exactly (ids and vectors) instead."""
    rng = np.random.default_rng(seed)
    for start in range(0, size, 512):
        batch = []
        for i in range(start, min(size, start + 512)):
            src = base[i % len(base)]
            if keep_ids:
                batch.append(Point(src.id, dict(src.vector), src.payload))
                continue
            dense = np.asarray(src.vector[DENSE]) + rng.normal(0, 0.01, len(src.vector[DENSE]))
            vectors = {DENSE: (dense / np.linalg.norm(dense)).tolist(), SPARSE: src.vector[SPARSE]}
            if src.vector.get(SENTENCES):  # the answer reads them back: copy them too
                vectors[SENTENCES] = src.vector[SENTENCES]
            batch.append(Point(str(uuid.uuid4()), vectors, src.payload))
        yield batch


def build(index: Any, name: str, base: list[Hit], size: int, model: str, keep_ids: bool = False) -> float:
    started = time.perf_counter()
    index.create_collection(name, len(base[0].vector[DENSE]), model)
    for batch in jittered(base, size, keep_ids=keep_ids):
        index.write_points(name, batch, 512)
    index.optimize(name)
    return time.perf_counter() - started


@contextmanager
def serving(assistant: Any, index: Any) -> Iterator[None]:
    """Answer from `index` for a while (the local-mode comparison), then put the app's back."""
    own = assistant.index
    assistant.index = assistant.retriever.index = assistant.library.index = index
    try:
        yield
    finally:
        assistant.index = assistant.retriever.index = assistant.library.index = own


def run(sizes: list[int], n_questions: int, grow_from: Path | None, local_max: int,
        related_stored: int) -> list[dict[str, Any]]:
    from pipelines.index import close_client, open_index
    from pipelines.index.client import ClientIndex, connect

    work = Path(tempfile.mkdtemp(prefix="guidelight-scale-"))
    settings = Settings(_env_file=None, data_dir=work / "data", openai_api_key=None)
    rows: list[dict[str, Any]] = []
    try:
        log("seeding the demonstration library")
        assistant, _ = measure_seed(settings)
        sources = [(assistant.index, assistant.index.live_collection())]
        if grow_from is not None:  # another install's live index, e.g. the 45 real documents
            other = Settings(_env_file=None, data_dir=grow_from)
            extra = open_index(other)
            sources.append((extra, extra.live_collection()))
        base = base_points(sources)
        if grow_from is not None:
            close_client(other)
            # The grown library serves every version it copied (the other install's registry
            # is not this one's): the active filter passes what the copies carry.
            versions = {(h.payload.get("guideline_id", ""), str(h.payload.get("version", ""))) for h in base}
            assistant.library.active_versions = lambda max_age_s=5.0: versions  # type: ignore[method-assign]
        log(f"{len(base)} base chunks")
        questions = load_gold(settings, n_questions)
        items = gold_items(settings, n_questions)
        model = assistant.library.embedding_name
        local = ClientIndex(connect(None, None, work / "local"), "guidelines", local=True)
        for size in sizes:
            name = f"scale_{size}"
            log(f"edge: building {size:,} chunks")
            build_s = build(assistant.index, name, base, size, model)
            row = {"chunks": size, "engine": "edge", **latency(assistant, questions, name),
                   "build_s": round(build_s, 1), "rss_mb": rss_mb(),
                   "disk_mb": disk_mb(settings.index_path / "edge" / name),
                   **ann_vs_exact(assistant, items, name)}
            rows.append(row)
            print(json.dumps(row), flush=True)
            assistant.index.drop(name)
            if size <= local_max:
                log(f"local mode: building {size:,} chunks")
                build_s = build(local, name, base, size, model)
                with serving(assistant, local):
                    theirs = latency(assistant, questions, name)
                lc = {"chunks": size, "engine": "local", **theirs, "build_s": round(build_s, 1),
                      "rss_mb": rss_mb(), "answer_p95_vs_edge": ratio(theirs["answer_p95_ms"], row["answer_p95_ms"]),
                      "retrieve_p95_vs_edge": ratio(theirs["retrieve_p95_ms"], row["retrieve_p95_ms"])}
                base_row = {"chunks": size, "engine": "langchain-dense-only", **dense_only(
                    assistant, local, name, questions), "build_s": None, "rss_mb": rss_mb()}
                base_row["retrieve_p95_vs_edge"] = ratio(base_row["retrieve_p95_ms"], row["retrieve_p95_ms"])
                for extra_row in (lc, base_row):
                    rows.append(extra_row)
                    print(json.dumps(extra_row), flush=True)
                local.drop(name)
        if related_stored:
            log(f"related questions: storing {related_stored:,}")
            rows.append(related(assistant, questions, related_stored))
            print(json.dumps(rows[-1]), flush=True)
        local.close()
        assistant.library.parser.close()
        close_client(settings)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main(args: Any) -> int:
    from pipelines.bench_report import DOCS_PATH
    from pipelines.bench_stats import machine

    sizes = [int(x) for x in args.scale.split(",") if x.strip()]
    n = 20 if getattr(args, "quick", False) else 60
    at_start = machine()
    rows = run(sizes, n, getattr(args, "grow_from", None), getattr(args, "local_max", 50_000),
               getattr(args, "related_stored", 100_000))
    text = table(rows)
    if not args.json:
        print(text)
    if getattr(args, "write_docs", False):
        path = DOCS_PATH.parent / "benchmark-scale.md"
        grow = " --grow-from <data folder of the 45 real documents>" if getattr(args, "grow_from", None) else ""
        path.write_text(document(rows, f"python -m pipelines bench --scale {args.scale}{grow} --write-docs",
                                 n, at_start), "utf-8")
        log(f"wrote {path}")
    return 0
