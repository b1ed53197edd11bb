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
import os
import platform
import random
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Callable

from pipelines.config import REPO_ROOT, Settings

DOCS_PATH = REPO_ROOT / "docs" / "benchmark.md"
STAGES = ("safety", "condense", "retrieve", "grade", "total")

# Variations that turn one gold question into many realistic past queries.
PREFIXES = ["", "", "quick q: ", "In primary care, ", "GP here - ", "For an adult, ", "For an elderly patient, ",
            "Pharmacist asking: ", "Nurse query: ", "Can you remind me ", "What does the guidance say: "]
SUFFIXES = ["", "", "?", " in pregnancy", " in CKD", " in children", " in over 65s", " - first line?",
            " and when to refer", " and follow-up interval", " and safety netting", " (NICE)", " in care homes"]


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


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": round(statistics.median(values), 1) if values else 0.0,
            "p95": round(percentile(values, 95), 1)}


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else 0.0


def load_gold(settings: Settings, limit: int | None) -> list[str]:
    lines = settings.eval_questions.read_text("utf-8").splitlines()
    questions = [json.loads(line)["q"] for line in lines if line.strip()]
    return questions[:limit] if limit else questions


def vary(questions: list[str], n: int, seed: int = 7) -> list[str]:
    """`n` distinct past queries made from the gold questions with realistic variations."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        base = rng.choice(questions)
        words = base.split()
        if len(words) > 6 and rng.random() < 0.3:
            words = words[: rng.randint(5, len(words))]
        text = rng.choice(PREFIXES) + " ".join(words) + rng.choice(SUFFIXES)
        if rng.random() < 0.2:
            text = text.lower()
        if text in seen:
            text = f"{text} (case {len(out)})"
        seen.add(text)
        out.append(text)
    return out


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


def ask_all(assistant: Any, questions: list[str]) -> tuple[list[float], dict[str, list[float]]]:
    """Ask each question once (not logged); total ms and per-stage ms."""
    totals: list[float] = []
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    for q in questions:
        started = time.perf_counter()
        answer = assistant.ask(q, log=False)
        totals.append((time.perf_counter() - started) * 1000)
        for stage in STAGES:
            if stage in answer.timings_ms:
                stages[stage].append(answer.timings_ms[stage])
    return totals, stages


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


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory of this process and of its largest finished child (the parser)."""
    import resource

    return {"main_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "largest_child_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


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


def ask_until(assistant: Any, questions: list[str], stop: threading.Event,
              out: list[float], errors: list[str]) -> None:
    """Ask questions round-robin until `stop` is set (the rebuild's companion)."""
    i = 0
    while not stop.is_set():
        started = time.perf_counter()
        try:
            assistant.ask(questions[i % len(questions)], log=False)
            out.append((time.perf_counter() - started) * 1000)
        except Exception as exc:  # a failure during the rebuild is a finding, not a crash
            errors.append(f"{type(exc).__name__}: {exc}")
        i += 1


def measure_rebuild(assistant: Any, questions: list[str], idle: list[float]) -> dict[str, Any]:
    during: list[float] = []
    errors: list[str] = []
    stop = threading.Event()
    asker = threading.Thread(target=ask_until, args=(assistant, questions, stop, during, errors))
    asker.start()
    started = time.perf_counter()
    try:
        report = assistant.library.rebuild(actor="bench")
    finally:
        stop.set()
        asker.join()
    seconds = time.perf_counter() - started
    idle_s, during_s = summary(idle), summary(during)
    return {"seconds": round(seconds, 1), "chunks": report["chunks"], "swapped": report["swapped"],
            "chunks_per_s": round(report["chunks"] / seconds, 1), "idle_ms": idle_s,
            "during_ms": during_s, "p50_ratio": ratio(during_s["p50"], idle_s["p50"]),
            "p95_ratio": ratio(during_s["p95"], idle_s["p95"]), "errors": len(errors)}


def run_threads(n: int, work: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def measure_concurrency(assistant: Any, questions: list[str], plan: Plan) -> dict[str, Any]:
    single, _ = ask_all(assistant, questions[: plan.single_user])
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def asker(i: int) -> None:
        for k in range(plan.per_thread):
            q = questions[(i * plan.per_thread + k) % len(questions)]
            started = time.perf_counter()
            try:
                assistant.ask(q, log=False)
            except Exception as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    run_threads(plan.threads, asker)
    wall = time.perf_counter() - started
    one, many = summary(single), summary(latencies)
    return {"threads": plan.threads, "questions": plan.threads * plan.per_thread, "errors": len(errors),
            "single_ms": one, "concurrent_ms": many, "p95_ratio": ratio(many["p95"], one["p95"]),
            "throughput_qps": round(len(latencies) / wall, 1),
            "single_qps": round(1000 / one["p50"], 1) if one["p50"] else 0.0}


# Running and reporting -------------------------------------------------------------------------
def cpu_name(info: str | None = None) -> str:
    """The processor's model name and widest vector extension (Linux), e.g. "AMD EPYC, AVX-512":
    the scale benchmark's retrieval ran 1.3-1.5 times as fast on one 2-core machine here as on
    another (an Intel Xeon and an AMD EPYC, both AVX-512, 2026-12-04 and 12-06)."""
    if info is None:
        try:
            info = Path("/proc/cpuinfo").read_text("utf-8", "replace")
        except OSError:
            return platform.processor() or "unknown"
    name = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), "unknown")
    flags = next((ln.split(":", 1)[1].split() for ln in info.splitlines() if ln.startswith("flags")), [])
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{name}, {vector}"


def machine() -> dict[str, Any]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cores": os.cpu_count(), "cpu": cpu_name(), "python": platform.python_version(),
            "platform": platform.platform(terse=True), "load_avg_1m_at_start": load,
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


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


def table(results: dict[str, Any]) -> str:
    """The results as a Markdown table (also what the terminal shows)."""
    s, q, r, c, b = (results[k] for k in ("seed", "questions", "related", "concurrency", "rebuild"))
    rows = [
        ("Seed demo library (ingest)", f"{s['seconds']} s", f"{s['guidelines']} guidelines, {s['chunks']} chunks, "
                                                            f"{s['chunks_per_s']} chunks/s"),
        ("Question latency, offline", f"p50 {q['latency_ms']['p50']} ms · p95 {q['latency_ms']['p95']} ms",
         f"{q['latency_ms']['n']} gold questions, one user"),
    ]
    for stage, v in q["stages_ms"].items():
        rows.append((f"  stage: {stage}", f"p50 {v['p50']} ms · p95 {v['p95']} ms", "Answer.timings_ms"))
    if "baseline" in results:
        bl = results["baseline"]
        o, d = bl["ours"], bl["dense_only"]
        rows += [
            ("Retrieval: hybrid (ours)", f"hit@5 {o['hit@5']} · MRR {o['mrr']} · p50 {o['latency_ms']['p50']} ms "
                                         f"· p95 {o['latency_ms']['p95']} ms",
             f"{bl['questions']} answerable gold questions, {bl['k']} passages each"),
            ("Retrieval: baseline, LangChain QdrantVectorStore dense-only",
             f"hit@5 {d['hit@5']} · MRR {d['mrr']} · p50 {d['latency_ms']['p50']} ms · p95 {d['latency_ms']['p95']} ms",
             f"same collection and vectors; ours/baseline latency p50 ×{bl['p50_ratio']} · p95 ×{bl['p95_ratio']}"),
        ]
    if "model" in results:
        m = results["model"]
        rows += [
            ("Model mode: question to first token", f"p50 {m['question_to_first_token_ms']['p50']} ms · p95 "
                                                    f"{m['question_to_first_token_ms']['p95']} ms",
             f"{m['answers']} answers streamed from the loopback OpenAI-compatible server; the request alone "
             f"p50 {m['request_to_first_token_ms']['p50']} ms"),
            ("Model mode: question to checked answer", f"p50 {m['question_to_complete_ms']['p50']} ms · p95 "
                                                       f"{m['question_to_complete_ms']['p95']} ms",
             "includes citation and support checking"),
        ]
    rows += [
        ("Related lookup (vector search only)", f"p50 {r['lookup_ms']['p50']} ms · p95 {r['lookup_ms']['p95']} ms",
         f"{r['stored']} stored past queries"),
        ("Related lookup incl. embedding", f"p50 {r['with_embedding_ms']['p50']} ms · p95 "
                                           f"{r['with_embedding_ms']['p95']} ms", "Assistant.related(answer)"),
        ("Storing past queries", f"{r['fill_s']} s", f"{r['fill_per_s']} queries/s (embed + upsert)"),
        ("Full rebuild (Library.rebuild)", f"{b['seconds']} s", f"{b['chunks']} chunks, {b['chunks_per_s']} chunks/s, "
                                                                f"swapped={b['swapped']}"),
        ("Questions during rebuild vs idle", f"p50 ×{b['p50_ratio']} · p95 ×{b['p95_ratio']}",
         f"idle p95 {b['idle_ms']['p95']} ms, during p95 {b['during_ms']['p95']} ms "
         f"({b['during_ms']['n']} asked, {b['errors']} errors)"),
        (f"{c['threads']} concurrent askers vs one", f"p95 ×{c['p95_ratio']}",
         f"single p95 {c['single_ms']['p95']} ms, concurrent p95 {c['concurrent_ms']['p95']} ms, "
         f"{c['questions']} asked, {c['errors']} errors, {c['throughput_qps']} q/s vs {c['single_qps']} q/s"),
    ]
    if "memory" in results:
        mem = results["memory"]
        rows.append(("Peak memory", f"{mem['main_mb']} MB", f"main process; parser process peak {mem['largest_child_mb']} MB"))
    lines = ["| measure | result | detail |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b_} | {d} |" for a, b_, d in rows]
    return "\n".join(lines)


def write_docs(results: dict[str, Any], quick: bool) -> Path:
    m = results["machine"]
    text = (
        "# Benchmark\n\n"
        "Produced by `python -m pipelines bench" + (" --quick" if quick else "") + " --write-docs` on a "
        "temporary copy of the demonstration library (offline mode: MiniLM embeddings on ONNX Runtime, "
        "Qdrant Edge in process, extractive answers, SQLite). Ratios compare with a baseline measured "
        "in the same run; the dense-only baseline runs on a qdrant-client local-mode copy of the live "
        "points.\n\n"
        f"Machine: {m['cores']} cores, Python {m['python']}, {m['platform']}; 1-minute load average at "
        f"start {m['load_avg_1m_at_start']:.1f} (the machine was shared); {m['date']}.\n\n"
        + table(results) + "\n\n"
        "Percentiles are nearest-rank. Edge is one process's engine; for several processes, replicas "
        "or high availability use a Qdrant server (`QDRANT_URL`); growth to 300,000 chunks is in "
        "`docs/benchmark-scale.md`.\n\n"
        "```json\n" + json.dumps(results, indent=2) + "\n```\n")
    DOCS_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOCS_PATH.write_text(text, "utf-8")
    return DOCS_PATH


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
