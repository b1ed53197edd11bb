"""The benchmark's load measurements: questions asked one by one (with per-stage times), during
a full rebuild, and by many askers at once; each against the single-user figure of the same run."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from pipelines.bench_stats import ratio, summary

STAGES = ("safety", "condense", "retrieve", "grade", "total")


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


def measure_concurrency(assistant: Any, questions: list[str], plan: Any) -> dict[str, Any]:
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
