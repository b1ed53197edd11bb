"""The evaluation harness: gold questions → ranks, abstentions, calibration, latency."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any, Iterator

from pipelines.models import Answer


def load_questions(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if "q" not in row:
                raise ValueError(f"{path}:{n}: each line needs a 'q'")
            rows.append({"q": row["q"], "expect": row.get("expect", []), "abstain": bool(row.get("abstain"))})
    return rows


def first_match_rank(titles: list[str], expect: list[str]) -> int | None:
    wanted = [e.lower() for e in expect]
    for rank, title in enumerate(titles, 1):
        if any(w in title.lower() for w in wanted):
            return rank
    return None


def score_answer(item: dict[str, Any], answer: Answer) -> dict[str, Any]:
    titles = [p.title for p in answer.sources]
    return {
        "q": item["q"],
        "rank": first_match_rank(titles, item["expect"]) if item["expect"] else None,
        "level": answer.confidence.level,
        "abstained": answer.abstained,
        "top_titles": list(dict.fromkeys(titles)),
        "ms": round(answer.timings_ms.get("total", 0.0), 1),
        "cited_ok": bool(first_match_rank([c.title for c in answer.citations], item["expect"]))
        if item["expect"] else None,
        "expect_abstain": item["abstain"],
    }


def run(assistant: Any, questions: list[dict[str, Any]], collection: str | None = None) -> Iterator[dict[str, Any]]:
    """One scored row per question, asked without touching the query log."""
    for item in questions:
        answer = assistant.ask(item["q"], collection=collection, log=False)
        yield score_answer(item, answer)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if not r["expect_abstain"]]
    should = [r for r in rows if r["expect_abstain"]]
    abstained = [r for r in rows if r["abstained"]]
    ranks = [r["rank"] for r in answerable]
    n = max(len(answerable), 1)
    calibration = {}
    for level in ("high", "moderate", "low"):
        at = [r for r in answerable if r["level"] == level]
        calibration[level] = {"n": len(at), "cited_right": round(sum(bool(r["cited_ok"]) for r in at) / len(at), 3)
                              if at else None}
    ms = [r["ms"] for r in rows]
    return {
        "n": len(rows),
        "hit@1": round(sum(1 for r in ranks if r == 1) / n, 3),
        "hit@5": round(sum(1 for r in ranks if r and r <= 5) / n, 3),
        "mrr": round(sum(1 / r for r in ranks if r) / n, 3),
        "abstain_precision": round(sum(r["expect_abstain"] for r in abstained) / len(abstained), 3) if abstained else None,
        "abstain_recall": round(sum(r["abstained"] for r in should) / len(should), 3) if should else None,
        "false_abstention": round(sum(r["abstained"] for r in answerable) / n, 3),
        "calibration": calibration,
        "p50_ms": round(statistics.median(ms), 1) if ms else 0.0,
        "p95_ms": round(percentile(ms, 0.95), 1),
    }
