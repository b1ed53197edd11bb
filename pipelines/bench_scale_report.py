"""The scale benchmark's report: the Markdown table of `bench --scale` and the
docs/benchmark-scale.md page written by `--write-docs` (measuring is in `bench_scale`)."""

from __future__ import annotations

import json
from typing import Any

from pipelines.bench_stats import ratio


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
    from pipelines import bench_scale  # its docstring says what is measured

    how = (bench_scale.__doc__ or "").split("in one run:")[1].split("`--json`")[0].strip()
    return ("# Benchmark: national-size libraries\n\n"
            f"Produced by `{command}`. {n} gold questions per size and engine after an untimed "
            "warm-up; offline mode. In one run:\n\n" + how
            + f"\n\nMachine: {at_start.get('cpu', 'unknown')}, {at_start['cores']} cores, load average at start "
            f"{at_start['load_avg_1m_at_start']:.1f}, {at_start['date']}.\n\n" + table(rows)
            + "\n\n```json\n" + "\n".join(json.dumps(r) for r in rows) + "\n```\n")
