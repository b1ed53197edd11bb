"""The evaluation harness: gold questions → ranks, abstentions, calibration, latency."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any, Iterator

from pipelines.embeddings import embedding_dimension
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


def rank_scores(ranks: list[int | None]) -> dict[str, float]:
    """hit@1, hit@5 and mean reciprocal rank of the right guideline's ranks (None: not found)."""
    n = max(len(ranks), 1)
    return {"hit@1": round(sum(1 for r in ranks if r == 1) / n, 3),
            "hit@5": round(sum(1 for r in ranks if r and r <= 5) / n, 3),
            "mrr": round(sum(1 / r for r in ranks if r) / n, 3)}


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
        **rank_scores(ranks),
        "abstain_precision": round(sum(r["expect_abstain"] for r in abstained) / len(abstained), 3) if abstained else None,
        "abstain_recall": round(sum(r["abstained"] for r in should) / len(should), 3) if should else None,
        "false_abstention": round(sum(r["abstained"] for r in answerable) / n, 3),
        "calibration": calibration,
        "p50_ms": round(statistics.median(ms), 1) if ms else 0.0,
        "p95_ms": round(percentile(ms, 0.95), 1),
    }


ABLATIONS: list[tuple[str, dict[str, Any]]] = [
    ("as shipped: hybrid RRF, cap 3 per guideline, spelling repair, title+section embedded", {}),
    ("dense vectors only", {"mode": "dense"}),
    ("sparse (BM25) only", {"mode": "sparse"}),
    ("no per-guideline cap", {"per_guideline_cap": 100}),
    ("no spelling repair", {"spelling_repair": False}),
]
ABLATION_KEYS = ("hit@1", "hit@5", "mrr", "abstain_precision", "abstain_recall", "false_abstention")


def ablate(assistant: Any, questions: list[dict[str, Any]],
           progress: Any = lambda fraction, message: None) -> list[dict[str, Any]]:
    """The gold-set figures with each retrieval choice switched off in turn.

    Retriever settings are changed on this assistant for the duration of each run and restored;
    the title/section variant is a temporary collection re-embedded from the passage text alone.
    """
    retriever, rows = assistant.retriever, []
    steps = len(ABLATIONS) + 1
    for i, (name, changes) in enumerate(ABLATIONS):
        progress(i / steps, f"Evaluating: {name}")
        saved = {key: getattr(retriever, key) for key in changes}
        try:
            for key, value in changes.items():
                setattr(retriever, key, value)
            summary = summarise(list(run(assistant, questions)))
        finally:
            for key, value in saved.items():
                setattr(retriever, key, value)
        rows.append({"variant": name, **{k: summary[k] for k in ABLATION_KEYS}})

    progress(len(ABLATIONS) / steps, "Re-embedding passages without title and section")
    live = assistant.index.live_collection()
    scratch = f"ablation_text_only_{live}"
    sparse = retriever.sparse

    def embed(payloads: list[dict[str, Any]]):
        texts = [p.get("text", "") for p in payloads]
        return retriever.embeddings.embed_documents(texts), sparse.embed_documents(texts)

    try:
        assistant.index.copy_reembedded(live, scratch, embed, assistant.library.embedding_name,
                                        embedding_dimension(retriever.embeddings))
        summary = summarise(list(run(assistant, questions, collection=scratch)))
        rows.append({"variant": "passage text embedded without title and section",
                     **{k: summary[k] for k in ABLATION_KEYS}})
    finally:
        assistant.index.drop(scratch)
    progress(1.0, "Done")
    return rows
