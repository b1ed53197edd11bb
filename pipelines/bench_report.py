"""The benchmark's report: the Markdown table `bench` prints and docs/benchmark.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.config import REPO_ROOT

DOCS_PATH = REPO_ROOT / "docs" / "benchmark.md"


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
        f"Machine: {m.get('cpu', 'unknown')}, {m['cores']} cores, Python {m['python']}, {m['platform']}; 1-minute load average at "
        f"start {m['load_avg_1m_at_start']:.1f} (the machine was shared); {m['date']}.\n\n"
        + table(results) + "\n\n"
        "Percentiles are nearest-rank. Edge is one process's engine; for several processes, replicas "
        "or high availability use a Qdrant server (`QDRANT_URL`); growth to 300,000 chunks is in "
        "`docs/benchmark-scale.md`.\n\n"
        "```json\n" + json.dumps(results, indent=2) + "\n```\n")
    DOCS_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOCS_PATH.write_text(text, "utf-8")
    return DOCS_PATH
