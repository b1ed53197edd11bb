"""Benchmark: `python -m pipelines bench [--quick] [--json] [--write-docs]`.

Measures, on a throw-away data folder (never the repo's `data/index`), what a clinician or a
clinical lead would feel: seeding the demonstration library, question latency over the gold set
with per-stage timings, hybrid retrieval against LangChain's dense-only `QdrantVectorStore` over
the same chunks (hit@5, MRR, latency), model mode against the loopback OpenAI-compatible server
(time to first token), related-question lookup with thousands of stored past questions, a full
rebuild, questions asked during that rebuild, 20 concurrent askers, and peak memory. Every ratio is taken
against a baseline measured in the same run, so a busy machine skews both sides alike.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pipelines.bench_load import ask_all, measure_concurrency, measure_rebuild
from pipelines.bench_report import table, write_docs
from pipelines.bench_stats import load_gold, machine, peak_memory_mb, ratio, summary, vary
from pipelines.config import Settings




@dataclass(frozen=True)
class Plan:
    """How much work one run does; `--quick` shrinks everything."""

    questions: int | None  # None: every gold question
    related_points: int
    related_lookups: int
    threads: int
    per_thread: int
    single_user: int
    model_answers: int

    @classmethod
    def of(cls, quick: bool, args: argparse.Namespace) -> Plan:
        if quick:
            return cls(40, args.related or 2000, 40, args.threads, 3, 30, 10)
        return cls(None, args.related or 10_000, 100, args.threads, 5, 60, 40)


# Measurements ----------------------------------------------------------------------------------
def measure_seed(settings: Settings) -> tuple[Any, dict[str, Any]]:
    from pipelines.assistant import Assistant

    started = time.perf_counter()
    assistant = Assistant.create(settings)
    assistant.startup()
    seconds = time.perf_counter() - started
    # The benchmark repeats questions; measure the embedding every time, not the query cache.
    # (Within one answer the cache still saves the repeat embeddings, as in the app.)
    if hasattr(assistant.retriever.embeddings, "QUERY_CACHE"):
        assistant.retriever.embeddings.QUERY_CACHE = 3
    chunks = assistant.index.count(assistant.index.live_collection())
    return assistant, {"seconds": round(seconds, 1), "chunks": chunks,
                       "guidelines": len(assistant.store.guideline_rows("active")),
                       "chunks_per_s": round(chunks / seconds, 1)}


def measure_dense_baseline(assistant: Any, settings: Settings) -> dict[str, Any]:
    """Our hybrid retriever against LangChain's `QdrantVectorStore` in dense-only mode over the
    same live collection (same chunks, same MiniLM vectors, same number of passages), on every
    answerable gold question: hit@5 and MRR by the eval's rule, and latency with the question
    embedded afresh for each call (the query cache is emptied; the order alternates)."""
    from langchain_qdrant import QdrantVectorStore, RetrievalMode

    from pipelines.evaluate import first_match_rank, load_questions, rank_scores
    from pipelines.index import DENSE

    from pipelines.bench_scale import base_points, build
    from pipelines.index.client import ClientIndex, connect

    index, retriever = assistant.index, assistant.retriever
    collection = index.live_collection()
    titles = {pid: p.get("title", "") for pid, p in index.scroll_by_id(collection, ["title"]).items()}
    # LangChain's store needs qdrant-client: the same points, copied into a local-mode folder.
    local = ClientIndex(connect(None, None, settings.data_dir / "bench-dense-only"), "guidelines", local=True)
    base = base_points([(index, collection)])
    build(local, collection, base, len(base), assistant.library.embedding_name, keep_ids=True)
    store = QdrantVectorStore(client=local.client, collection_name=collection,
                              embedding=retriever.embeddings, retrieval_mode=RetrievalMode.DENSE,
                              vector_name=DENSE, content_payload_key="text", metadata_payload_key="metadata")
    k = settings.top_k

    def ours(q: str) -> list[str]:
        return [p.title for p in retriever.search(q)]

    def dense_only(q: str) -> list[str]:
        docs = store.similarity_search(q, k=k)
        return [titles.get(str(d.metadata.get("_id")), "") for d in docs]

    items = [i for i in load_questions(settings.eval_questions) if not i["abstain"]]
    ranks: dict[str, list[int | None]] = {"ours": [], "dense_only": []}
    latency: dict[str, list[float]] = {"ours": [], "dense_only": []}
    cache = getattr(retriever.embeddings, "_queries", None)
    for n, item in enumerate(items):
        order = [("ours", ours), ("dense_only", dense_only)]
        for name, search in order if n % 2 == 0 else order[::-1]:
            if cache is not None:
                cache.clear()
            started = time.perf_counter()
            found = search(item["q"])
            latency[name].append((time.perf_counter() - started) * 1000)
            ranks[name].append(first_match_rank(found, item["expect"]))

    def scores(name: str) -> dict[str, Any]:
        return {**rank_scores(ranks[name]), "latency_ms": summary(latency[name])}

    local.close()
    ours_s, base_s = scores("ours"), scores("dense_only")
    return {"questions": len(items), "k": k, "ours": ours_s, "dense_only": base_s,
            "p50_ratio": ratio(ours_s["latency_ms"]["p50"], base_s["latency_ms"]["p50"]),
            "p95_ratio": ratio(ours_s["latency_ms"]["p95"], base_s["latency_ms"]["p95"])}


def measure_model_mode(assistant: Any, questions: list[str], n: int) -> dict[str, Any]:
    """Model mode against the loopback OpenAI-compatible server (tests/support/llm_server.py,
    streaming over real HTTP on 127.0.0.1): time from asking to the first streamed token, the
    request's own first-token time, and the complete checked answer."""
    from pipelines import generate
    from pipelines.assistant import Assistant
    from pipelines.models import Answer
    from tests.support.llm_server import LLMServer, model_settings

    server = LLMServer().start()
    try:
        settings = model_settings(assistant.settings, server, llm_timeout_s=10.0)
        model = Assistant(settings, assistant.store, assistant.index, assistant.library,
                          assistant.retriever, assistant.scrubber, assistant.related_store,
                          generate.make_llm(settings))
        to_first, request_first, complete, other_modes = [], [], [], 0
        for q in questions:
            if len(complete) >= n:
                break
            started = time.perf_counter()
            first, answer = None, None
            for item in model.stream(q, log=False):
                if isinstance(item, Answer):
                    answer = item
                elif first is None:
                    first = (time.perf_counter() - started) * 1000
            elapsed = (time.perf_counter() - started) * 1000
            if answer is None or not answer.mode.startswith("model:"):
                other_modes += answer is not None and answer.mode != "abstain"
                continue
            to_first.append(first)
            request_first.append(answer.timings_ms.get("first_token", 0.0))
            complete.append(elapsed)
        return {"answers": len(complete), "not_model_answers": other_modes,
                "question_to_first_token_ms": summary(to_first),
                "request_to_first_token_ms": summary(request_first),
                "question_to_complete_ms": summary(complete)}
    finally:
        server.close()


def fill_related(assistant: Any, texts: list[str], batch: int = 256) -> float:
    """Store `texts` as past queries (real embedder, batched upserts); returns seconds."""
    from pipelines.index import DENSE, Point

    store = assistant.related_store
    store._ensure()
    started = time.perf_counter()
    now = time.time()
    for start in range(0, len(texts), batch):
        part = texts[start:start + batch]
        vectors = assistant.retriever.embeddings.embed_documents(part)
        points = [Point(str(uuid.uuid4()), {DENSE: v}, {
            "text": t, "count": 1, "source": "asked", "created_ts": now, "last_ts": now})
            for t, v in zip(part, vectors, strict=True)]
        assistant.index.write_points(store.collection, points, batch)
    assistant.index.optimize(store.collection)
    return time.perf_counter() - started


def measure_related(assistant: Any, questions: list[str], plan: Plan) -> dict[str, Any]:
    texts = vary(questions, plan.related_points)
    seconds = fill_related(assistant, texts)
    stored = assistant.index.count(assistant.related_store.collection)
    lookups, full = [], []
    for q in questions[: plan.related_lookups]:
        vector = assistant.retriever.embeddings.embed_query(q)
        started = time.perf_counter()
        assistant.related_store.similar(vector, q, assistant.settings.related_limit,
                                        assistant.settings.related_min_similarity)
        lookups.append((time.perf_counter() - started) * 1000)
        answer = assistant.ask(q, log=False)
        started = time.perf_counter()
        assistant.related(answer)
        full.append((time.perf_counter() - started) * 1000)
    return {"stored": stored, "fill_s": round(seconds, 1),
            "fill_per_s": round(len(texts) / seconds, 1), "lookup_ms": summary(lookups),
            "with_embedding_ms": summary(full)}


# Running and reporting -------------------------------------------------------------------------
def run(plan: Plan, data_dir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    from pipelines.index import close_client

    settings = Settings(_env_file=None, data_dir=data_dir, openai_api_key=None)
    results: dict[str, Any] = {"machine": machine(), "plan": plan.__dict__}
    log("seeding the demonstration library")
    assistant, results["seed"] = measure_seed(settings)
    try:
        questions = load_gold(settings, plan.questions)
        log(f"asking {len(questions)} gold questions")
        totals, stages = ask_all(assistant, questions)
        results["questions"] = {"latency_ms": summary(totals),
                                "stages_ms": {s: summary(v) for s, v in stages.items() if v}}
        log("hybrid retrieval vs LangChain QdrantVectorStore dense-only, same chunks")
        results["baseline"] = measure_dense_baseline(assistant, settings)
        log("model mode against the loopback OpenAI-compatible server")
        results["model"] = measure_model_mode(assistant, questions, plan.model_answers)
        log(f"storing {plan.related_points} past queries and looking up related questions")
        results["related"] = measure_related(assistant, questions, plan)
        log(f"{plan.threads} concurrent askers vs one")
        results["concurrency"] = measure_concurrency(assistant, questions, plan)
        log("full rebuild while a second thread keeps asking")
        idle, _ = ask_all(assistant, questions[: plan.single_user])
        results["rebuild"] = measure_rebuild(assistant, questions, idle)
    finally:
        assistant.library.parser.close()
        close_client(settings)
    results["memory"] = peak_memory_mb()
    return results


def main(args: argparse.Namespace) -> int:
    """Run the benchmark on a temporary data folder and print (and optionally save) the figures."""
    import sys

    if getattr(args, "scale", None):
        from pipelines import bench_scale

        return bench_scale.main(args)
    quick = bool(getattr(args, "quick", False))
    plan = Plan.of(quick, args)
    data_dir = Path(tempfile.mkdtemp(prefix="guidelight-bench-")) / "data"

    def log(message: str) -> None:
        sys.stderr.write(f"[bench] {message}\n")
        sys.stderr.flush()

    started = time.perf_counter()
    try:
        results = run(plan, data_dir, log)
    finally:
        shutil.rmtree(data_dir.parent, ignore_errors=True)
    results["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results, indent=2) if args.json else table(results))
    if getattr(args, "write_docs", False):
        log(f"wrote {write_docs(results, quick)}")
    log(f"done in {results['wall_s']} s")
    return 0
