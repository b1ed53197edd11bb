"""The evaluation harness: gold questions → ranks, abstentions, calibration, latency."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any, Iterator

from pipelines.answer_checks import check_answer, gold_page_hit
from pipelines.embeddings import embedding_dimension
from pipelines.models import Answer


def load_questions(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if "q" not in row:
                raise ValueError(f"{path}:{n}: each line needs a 'q'")
            rows.append({"q": row["q"], "expect": row.get("expect", []), "abstain": bool(row.get("abstain")),
                         "key": row.get("key"), "avoid": row.get("avoid") or [], "history": row.get("history") or [],
                         "kind": row.get("kind", ""), "gold_doc": row.get("gold_doc"),
                         "gold_pages": row.get("gold_pages") or []})
    return rows


def first_match_rank(titles: list[str], expect: list[str]) -> int | None:
    wanted = [e.lower() for e in expect]
    for rank, title in enumerate(titles, 1):
        if any(w in title.lower() for w in wanted):
            return rank
    return None


def score_answer(item: dict[str, Any], answer: Answer, files: dict[str, str] | None = None) -> dict[str, Any]:
    """One question's row. With `gold_doc` and the files behind the guidelines, the right source
    is matched on its file name (titles change as metadata extraction improves); else on `expect`."""
    files = files or {}
    titles = [p.title for p in answer.sources]
    text = "" if answer.abstained else answer.answer
    check = check_answer(text, item.get("key"), item.get("avoid"))
    sources = [(files.get(p.guideline_id, ""), p.page, p.page_end) for p in answer.sources]
    gold = item.get("gold_doc") if files else None
    if gold:
        rank = next((i for i, (name, _, _) in enumerate(sources, 1) if name == gold), None)
        cited_ok = any(files.get(c.guideline_id) == gold for c in answer.citations)
    else:
        rank = first_match_rank(titles, item["expect"]) if item["expect"] else None
        cited_ok = bool(first_match_rank([c.title for c in answer.citations], item["expect"]))
    pages = item.get("gold_pages") or []
    return {
        "q": item["q"],
        "rank": rank if not item["abstain"] else None,
        "level": answer.confidence.level,
        "abstained": answer.abstained,
        "top_titles": list(dict.fromkeys(titles)),
        "ms": round(answer.timings_ms.get("total", 0.0), 1),
        "cited_ok": cited_ok if (item["expect"] or gold) else None,
        "expect_abstain": item["abstain"],
        "kind": item.get("kind", ""),
        "key_top": check.key_top, "key_any": check.key_any, "avoided": check.avoided,
        "gold_page": gold_page_hit(sources, gold, pages),
        "gold_page_near": gold_page_hit(sources, gold, pages, 1),
    }


def run(assistant: Any, questions: list[dict[str, Any]], collection: str | None = None) -> Iterator[dict[str, Any]]:
    """One scored row per question, asked without touching the query log."""
    files = {r["guideline_id"]: r.get("file_name") or "" for r in assistant.store.guideline_rows()}
    for item in questions:
        answer = assistant.ask(item["q"], item.get("history") or None, collection=collection, log=False)
        yield score_answer(item, answer, files)


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
        **answer_level(rows),
        "n": len(rows),
        **rank_scores(ranks),
        "abstain_precision": round(sum(r["expect_abstain"] for r in abstained) / len(abstained), 3) if abstained else None,
        "abstain_recall": round(sum(r["abstained"] for r in should) / len(should), 3) if should else None,
        "false_abstention": round(sum(r["abstained"] for r in answerable) / n, 3),
        "calibration": calibration,
        "p50_ms": round(statistics.median(ms), 1) if ms else 0.0,
        "p95_ms": round(percentile(ms, 0.95), 1),
    }


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def answer_level(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What a clinician reads: the key in the lead and first two bullets, anywhere, wrong-patient
    strings, emergencies answered, follow-ups, the gold page, and calibration on the key."""
    keyed = [r for r in rows if r.get("key_top") is not None]  # questions with a key (abstained: False)
    out: dict[str, Any] = {}
    if keyed:
        out["key_top"] = _share([bool(r["key_top"]) for r in keyed])
        out["key_any"] = _share([bool(r["key_any"]) for r in keyed])
        out["by_kind"] = {k: {"n": len(g), "key_top": _share([bool(r["key_top"]) for r in g]),
                              "key_any": _share([bool(r["key_any"]) for r in g])}
                          for k in sorted({r.get("kind") or "plain" for r in keyed})
                          for g in [[r for r in keyed if (r.get("kind") or "plain") == k]]}
        out["key_calibration"] = {lv: _share([bool(r["key_any"]) for r in keyed if r["level"] == lv])
                                  for lv in ("high", "moderate", "low")}
    out["avoid_violations"] = sum(1 for r in rows if r.get("avoided"))
    emergencies = [r for r in rows if r.get("kind") == "emergency" and not r["expect_abstain"]]
    if emergencies:
        out["emergencies_answered"] = _share([not r["abstained"] for r in emergencies])
    pages = [r for r in rows if r.get("gold_page") is not None]
    if pages:
        out["gold_page_top5"] = _share([r["gold_page"] for r in pages])
        out["gold_page_top5_within_1"] = _share([r["gold_page_near"] for r in pages])
    return out


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
