"""What the scale benchmark times on each grown collection: retrieval, the index query and the
offline answer (`latency`, with the full garbage collections among the timed questions), HNSW
against exact scoring (`ann_vs_exact`), LangChain's dense-only store (`dense_only`) and related
questions among many stored ones (`related`). Growing the collections is in `bench_scale`."""

from __future__ import annotations

import gc
import os
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from pipelines.bench_stats import summary, vary
from pipelines.config import Settings
from pipelines.index import DENSE, Point


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
