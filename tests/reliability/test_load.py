"""Load: many askers through one Assistant (what one Streamlit process shares between sessions),
and questions asked throughout a full rebuild and alias swap.

No timing thresholds: p95 under load is printed beside the single-user p95 (`pytest -s`) and
quoted in docs/reliability.md; the asserts are about errors and lost records.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from pipelines.assistant import Assistant
from pipelines.config import Settings
from pipelines.models import Answer
from tests.reliability.conftest import ROOT, percentile, report

GOLD = [json.loads(line)["q"] for line in (ROOT / "data" / "eval" / "questions.jsonl").read_text("utf-8")
        .splitlines() if line.strip()]


def timed_ask(assistant: Assistant, question: str) -> tuple[Answer, float]:
    started = time.perf_counter()
    answer = assistant.ask(question)
    return answer, (time.perf_counter() - started) * 1000


def concurrent_askers(assistant: Assistant, threads: int, per_thread: int) -> tuple[list[float], list[str]]:
    """`threads` threads each asking `per_thread` different gold questions back to back."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def asker(t: int) -> None:
        for k in range(per_thread):
            question = GOLD[(t * per_thread + k) % len(GOLD)]
            try:
                answer, ms = timed_ask(assistant, question)
                assert isinstance(answer, Answer) and answer.answer and answer.index_version
            except Exception as exc:  # noqa: BLE001  (every failure is counted, none hidden)
                with lock:
                    errors.append(f"{question!r}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies.append(ms)

    workers = [threading.Thread(target=asker, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies, errors


def run_load(assistant: Assistant, threads: int, per_thread: int, single: int) -> None:
    assistant.ask(GOLD[-1], log=False)  # warm-up: first-use loading is not latency under load
    events_before = len(assistant.store.query_event_rows())
    alone = [timed_ask(assistant, q)[1] for q in GOLD[:single]]
    latencies, errors = concurrent_askers(assistant, threads, per_thread)
    report(f"{threads} concurrent askers", questions=threads * per_thread, errors=len(errors),
           single_p95_ms=round(percentile(alone, 95)), concurrent_p95_ms=round(percentile(latencies, 95)),
           ratio=round(percentile(latencies, 95) / percentile(alone, 95), 1))
    assert errors == []
    assert len(latencies) == threads * per_thread
    # every question was logged once: no query event lost to concurrent SQLite writers
    assert len(assistant.store.query_event_rows()) == events_before + single + threads * per_thread


def test_twenty_concurrent_askers_get_answers_without_errors(assistant: Assistant) -> None:
    run_load(assistant, threads=20, per_thread=3, single=20)


@pytest.mark.nightly
def test_twenty_concurrent_askers_sustained(assistant: Assistant) -> None:
    run_load(assistant, threads=20, per_thread=25, single=60)


def test_questions_throughout_a_rebuild_come_wholly_from_one_index(small_settings: Settings,
                                                                    parser_pool) -> None:
    assistant = Assistant.create(small_settings)
    assistant.library.parser = parser_pool
    assistant.startup()
    old = assistant.index.live_collection()
    answers: list[Answer] = []
    errors: list[str] = []
    stop = threading.Event()

    def keep_asking(offset: int) -> None:
        questions = ["How should acute gout be treated?", "bronchiolitis admission criteria",
                     "falls risk assessment", "knee osteoarthritis first line treatment"]
        i = offset
        while not stop.is_set():
            try:
                answers.append(assistant.ask(questions[i % len(questions)], log=False))
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{type(exc).__name__}: {exc}")
            i += 1

    askers = [threading.Thread(target=keep_asking, args=(n,)) for n in range(4)]
    for a in askers:
        a.start()
    try:
        rebuilt = assistant.library.rebuild(actor="admin")
        time.sleep(0.5)  # a few questions after the swap as well
    finally:
        stop.set()
        for a in askers:
            a.join()
    new = rebuilt["collection"]
    versions = {a.index_version for a in answers}
    report("questions during rebuild", asked=len(answers), errors=len(errors),
           from_old=sum(a.index_version == old for a in answers),
           from_new=sum(a.index_version == new for a in answers))
    assert errors == [] and rebuilt["swapped"]
    assert versions <= {old, new} and new in versions
    assert all(a.sources for a in answers)
    assert assistant.index.live_collection() == new
