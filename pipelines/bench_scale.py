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

import gc
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from pipelines.bench import load_gold, measure_seed, ratio, summary, vary
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


@contextmanager
def gc_pauses() -> Iterator[dict[str, float]]:
    """Full (generation 2) garbage collections while the block runs: how many, and their ms."""
    seen: dict[str, float] = {"gc_full": 0, "gc_full_ms": 0.0}
    started = [0.0]

    def note(phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            seen["gc_full"] += 1
            seen["gc_full_ms"] += (time.perf_counter() - started[0]) * 1000

    gc.callbacks.append(note)
    try:
        yield seen
    finally:
        gc.callbacks.remove(note)
        seen["gc_full_ms"] = round(seen["gc_full_ms"], 1)


def settle() -> None:
    """After the warm-up, before the timed questions: collect what earlier sizes left (local
    mode keeps its collection as Python objects), then freeze the survivors (library, models,
    vocabulary) out of later full collections, so the tail measures the engine, not the garbage
    of earlier sizes.
    `BENCH_NO_SETTLE=1` skips it, to compare."""
    gc.collect()
    gc.freeze()


def latency(assistant: Any, questions: list[str], name: str, answers: bool = True) -> dict[str, Any]:
    assistant.retriever.vocabulary(name)  # untimed warm-up: the term vocabulary, one search,
    assistant.retriever.search("warm-up question", collection=name)  # one answer (its models)
    assistant.ask(questions[-1], collection=name, log=False)
    if not os.environ.get("BENCH_NO_SETTLE"):
        settle()
    retrieve, answer, search = [], [], []
    with gc_pauses() as pauses:
        timed(assistant, questions, name, answers, retrieve, answer, search)
    r, a, e = summary(retrieve), summary(answer) if answer else {"p50": None, "p95": None}, summary(search)
    return {"retrieve_p50_ms": r["p50"], "retrieve_p95_ms": r["p95"],
            "answer_p50_ms": a["p50"], "answer_p95_ms": a["p95"],
            "index_search_p50_ms": e["p50"], "index_search_p95_ms": e["p95"], **pauses}


def timed(assistant: Any, questions: list[str], name: str, answers: bool,
          retrieve: list[float], answer: list[float], search: list[float]) -> None:
    retriever, index = assistant.retriever, assistant.index
    for q in questions:
        t0 = time.perf_counter()
        retriever.search(q, collection=name)
        retrieve.append((time.perf_counter() - t0) * 1000)
        if answers:
            answer.append(assistant.ask(q, collection=name, log=False).timings_ms["total"])
        dense, sparse = retriever.embeddings.embed_query(q), retriever.sparse.embed_query(q)
        t0 = time.perf_counter()  # the engine alone: the fused query and its payloads
        index.hybrid_search(name, dense, sparse, retriever.prefetch_k, retriever.prefetch_k)
        search.append((time.perf_counter() - t0) * 1000)


def ann_vs_exact(assistant: Any, items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """hit@5 and MRR of the right guideline with the HNSW graph and with exact dense scoring on
    the same collection (HNSW is approximate: this is what it costs), and the share of questions
    whose top passages are the same both ways."""
    from pipelines.evaluate import first_match_rank, rank_scores

    retriever, found = assistant.retriever, {}
    try:
        for exact in (False, True):
            retriever.exact = exact
            found[exact] = [retriever.search(item["q"], collection=name) for item in items]
    finally:
        retriever.exact = False

    def scores(exact: bool) -> dict[str, float]:
        return rank_scores([first_match_rank([p.title for p in passages], item["expect"])
                            for item, passages in zip(items, found[exact])])

    hnsw, exact = scores(False), scores(True)
    same = sum([p.id for p in a] == [p.id for p in b] for a, b in zip(found[False], found[True]))
    return {"hit5_hnsw": hnsw["hit@5"], "hit5_exact": exact["hit@5"], "mrr_hnsw": hnsw["mrr"],
            "mrr_exact": exact["mrr"], "same_top_share": round(same / max(len(items), 1), 3)}


def gold_items(settings: Settings, limit: int) -> list[dict[str, Any]]:
    """Answerable gold questions with the guideline they expect."""
    from pipelines.evaluate import load_questions

    items = [q for q in load_questions(settings.eval_questions) if q["expect"] and not q["abstain"]]
    return items[:limit]


def dense_only(assistant: Any, local: Any, name: str, questions: list[str]) -> dict[str, Any]:
    from langchain_qdrant import QdrantVectorStore, RetrievalMode

    store = QdrantVectorStore(client=local.client, collection_name=name,
                              embedding=assistant.retriever.embeddings, retrieval_mode=RetrievalMode.DENSE,
                              vector_name=DENSE, content_payload_key="text", metadata_payload_key="metadata")
    times = []
    for q in questions:
        t0 = time.perf_counter()
        store.similarity_search(q, k=assistant.settings.top_k)
        times.append((time.perf_counter() - t0) * 1000)
    s = summary(times)
    return {"retrieve_p50_ms": s["p50"], "retrieve_p95_ms": s["p95"], "answer_p50_ms": None,
            "answer_p95_ms": None}


def related(assistant: Any, questions: list[str], stored: int) -> dict[str, Any]:
    """Lookup among `stored` past questions: 2,000 embedded variations, jittered up to `stored`."""
    store, index = assistant.related_store, assistant.index
    store._ensure()
    texts = vary(questions, 2000)
    vectors = assistant.retriever.embeddings.embed_documents(texts)
    rng = np.random.default_rng(5)
    started, now = time.perf_counter(), time.time()
    for start in range(0, stored, 1024):
        batch = []
        for i in range(start, min(stored, start + 1024)):
            v = np.asarray(vectors[i % len(vectors)]) + rng.normal(0, 0.01, len(vectors[0]))
            batch.append(Point(str(uuid.uuid4()), {DENSE: (v / np.linalg.norm(v)).tolist()}, {
                "text": f"{texts[i % len(texts)]} #{i}", "count": 1, "source": "asked",
                "created_ts": now, "last_ts": now}))
        index.write_points(store.collection, batch, 1024)
    index.optimize(store.collection)
    fill_s = time.perf_counter() - started
    asked = [assistant.retriever.embeddings.embed_query(q) for q in questions]
    times = []
    for q, v in zip(questions, asked, strict=True):
        t0 = time.perf_counter()
        store.similar(v, q, limit=assistant.settings.related_limit)
        times.append((time.perf_counter() - t0) * 1000)
    s = summary(times)
    return {"engine": index.engine, "related": True, "stored_queries": index.count(store.collection),
            "related_p50_ms": s["p50"], "related_p95_ms": s["p95"], "fill_s": round(fill_s, 1)}


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


def table(rows: list[dict[str, Any]]) -> str:
    def ms(v: Any) -> str:
        return "–" if v is None else f"{v} ms"

    lines = ["| chunks | engine | retrieval p50 / p95 | index query p50 / p95 | answer p50 / p95 | build | "
             "RSS | disk | p95 vs edge (retrieval / answer) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        if r.get("related"):
            continue
        vs = " / ".join(f"×{r[k]}" for k in ("retrieve_p95_vs_edge", "answer_p95_vs_edge") if r.get(k))
        lines.append(
            f"| {r['chunks']:,} | {r['engine']} | {ms(r['retrieve_p50_ms'])} / {ms(r['retrieve_p95_ms'])} | "
            f"{ms(r.get('index_search_p50_ms'))} / {ms(r.get('index_search_p95_ms'))} | "
            f"{ms(r['answer_p50_ms'])} / {ms(r['answer_p95_ms'])} | "
            f"{'–' if r['build_s'] is None else str(r['build_s']) + ' s'} | {r['rss_mb']} MB | "
            f"{str(r['disk_mb']) + ' MB' if r.get('disk_mb') is not None else '–'} | {vs or '–'} |")
    edge = [r for r in rows if r.get("engine") == "edge" and not r.get("related")]
    if edge and "hit5_hnsw" in edge[0]:
        lines += ["\nHNSW against exact dense scoring on the same collection (right guideline among the "
                  "retrieved passages):\n", "| chunks | hit@5 HNSW / exact | MRR HNSW / exact | same passages |",
                  "| --- | --- | --- | --- |"]
        lines += [f"| {r['chunks']:,} | {r['hit5_hnsw']} / {r['hit5_exact']} | {r['mrr_hnsw']} / "
                  f"{r['mrr_exact']} | {r['same_top_share']:.0%} |" for r in edge]
    if len(edge) > 1:
        lines.append(f"\nEdge answer p95 growth from {edge[0]['chunks']:,} to {edge[-1]['chunks']:,} chunks: "
                     f"×{ratio(edge[-1]['answer_p95_ms'], edge[0]['answer_p95_ms'])}.")
    for r in rows:
        if r.get("related"):
            lines.append(f"\nRelated questions among {r['stored_queries']:,} stored: p50 {r['related_p50_ms']} ms, "
                         f"p95 {r['related_p95_ms']} ms (stored in {r['fill_s']} s).")
    return "\n".join(lines)


def document(rows: list[dict[str, Any]], command: str, n: int, at_start: dict[str, Any]) -> str:
    how = (__doc__ or "").split("in one run:")[1].split("`--json`")[0].strip()
    return ("# Benchmark: national-size libraries\n\n"
            f"Produced by `{command}`. {n} gold questions per size and engine after an untimed "
            "warm-up; offline mode. In one run:\n\n" + how
            + f"\n\nMachine: {at_start.get('cpu', 'unknown')}, {at_start['cores']} cores, load average at start "
            f"{at_start['load_avg_1m_at_start']:.1f}, {at_start['date']}.\n\n" + table(rows)
            + "\n\n```json\n" + "\n".join(json.dumps(r) for r in rows) + "\n```\n")


def main(args: Any) -> int:
    from pipelines.bench import DOCS_PATH, machine

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
