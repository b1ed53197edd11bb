"""Rebuilding the index with no downtime: questions asked from other threads throughout a
rebuild and alias swap never fail and each comes wholly from one collection; a rebuild whose
gold-set hit@5 drops is not swapped in, and the decision is audited."""

from __future__ import annotations

import json
import threading
import time
import traceback
from pathlib import Path

from pipelines import evaluate
from pipelines.admin import AdminService
from pipelines.assistant import Assistant
from pipelines.auth import Authenticator, hash_password

ROOT = Path(__file__).resolve().parents[2]
GOLD = ROOT / "data" / "eval" / "questions.jsonl"
QUESTIONS = ["How should acute gout be treated?", "What is the first-line antibiotic for a lower UTI?",
             "Which children with croup need hospital assessment?", "When should I start a statin?",
             "What are the red flags for cauda equina syndrome?", "How do I confirm hypertension?"]


def gold_subset(tmp_path: Path, wanted: list[str], per_title: int = 3) -> Path:
    """A small questions file: the first few gold questions for each wanted title."""
    rows = [json.loads(line) for line in GOLD.read_text().splitlines() if line.strip()]
    chosen = [r for title in wanted
              for r in [r for r in rows if title in r.get("expect", [])][:per_title]]
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in chosen))
    return path


KEEP = ("Gout", "Urinary tract infection", "Croup", "Lipid modification", "Low back pain",
        "Hypertension", "Leg cramps", "Asthma")


def keep_only(assistant: Assistant, titles: tuple[str, ...] = KEEP) -> None:
    """Retire every other guideline, so a rebuild re-parses 8 originals rather than 48 (CI time);
    the rebuild path is the same whatever the library's size."""
    for row in assistant.store.guideline_rows("active"):
        if not any(row["title"].startswith(t) for t in titles):
            assistant.library.retire(row["id"], "test")


def admin_service(assistant: Assistant) -> tuple[AdminService, object]:
    password = "rebuild test password"
    settings = assistant.settings.model_copy(update={"admin_password_hash": hash_password(password)})
    auth = Authenticator(settings, assistant.store)
    return AdminService(assistant, auth), auth.sign_in("admin", password).session


def ask_until_stopped(assistant: Assistant, stop: threading.Event, answers: list, failures: list,
                      offset: int) -> None:
    n = offset
    while not stop.is_set():
        try:
            answers.append(assistant.ask(QUESTIONS[n % len(QUESTIONS)], log=False))
        except Exception:  # the test counts every failure, with where it came from
            failures.append(traceback.format_exc(limit=-4))
        n += 1


def report_latency(idle: list, during: list, rebuild_s: float) -> None:
    """Printed for the benchmark notes (run with -s); timings are never asserted."""
    def p(answers: list, q: float) -> float:
        return round(evaluate.percentile([a.timings_ms["total"] for a in answers], q), 1)
    print(json.dumps({"rebuild_s": round(rebuild_s, 1), "idle_n": len(idle), "idle_p50_ms": p(idle, 0.5),
                      "idle_p95_ms": p(idle, 0.95), "during_n": len(during),
                      "during_p50_ms": p(during, 0.5), "during_p95_ms": p(during, 0.95)}))


def comes_wholly_from(assistant: Assistant, answer) -> bool:
    """Every source passage (id and text) is a point of the collection the answer names."""
    ids = [p.id for p in answer.sources]
    points = assistant.index.retrieve(answer.index_version, ids, ["text"])
    found = {p.id: p.payload.get("text") for p in points}
    return all(found.get(p.id) == p.text for p in answer.sources)


def test_questions_never_fail_and_each_comes_from_one_index_during_a_rebuild(
        library_assistant: Assistant, tmp_path: Path) -> None:
    assistant = library_assistant
    keep_only(assistant)
    service, session = admin_service(assistant)
    old = assistant.index.live_collection()
    stop, answers, failures = threading.Event(), [], []
    threads = [threading.Thread(target=ask_until_stopped, args=(assistant, stop, answers, failures, i))
               for i in range(3)]
    for thread in threads:
        thread.start()
    try:
        while len(answers) < 9 and not failures:  # an idle baseline first (reported, not asserted)
            stop.wait(0.05)
        idle_until, started = len(answers), time.perf_counter()
        report = service.rebuild(session, questions_path=gold_subset(tmp_path, ["Gout", "Croup"]))
        rebuild_s, during_until = time.perf_counter() - started, len(answers)
        new = assistant.index.live_collection()
        seen_new = len([a for a in answers if a.index_version == new])
        while len([a for a in answers if a.index_version == new]) < seen_new + 6 and not failures:
            stop.wait(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    report_latency(answers[:idle_until], answers[idle_until:during_until], rebuild_s)
    assert report["swapped"] and new == report["collection"] != old
    assert failures == []
    versions = {a.index_version for a in answers}
    assert versions == {old, new}, "questions were answered on both sides of the swap"
    assert all(a.citations for a in answers if a.confidence.level != "insufficient")
    assert all(comes_wholly_from(assistant, a) for a in answers)
    assert old in assistant.index.collections(), "the previous collection is kept for rollback"
    assert service.rollback(session) == old and assistant.index.live_collection() == old


def test_a_rebuild_whose_hit_at_5_drops_is_not_swapped_in(library_assistant: Assistant,
                                                          tmp_path: Path) -> None:
    assistant = library_assistant
    keep_only(assistant)
    service, session = admin_service(assistant)
    live = assistant.index.live_collection()
    gout = assistant.store.find_guideline("gout", status="active")
    assistant.library.original_of(gout).unlink()  # the stored original is lost
    questions = gold_subset(tmp_path, ["Gout", "Croup"])
    report = service.rebuild(session, questions_path=questions)
    assert not report["swapped"]
    assert [f["title"] for f in report["failed"]] == ["Gout"]
    assert report["new"]["hit@5"] < report["live"]["hit@5"]
    assert assistant.index.live_collection() == live
    assert report["collection"] not in assistant.index.collections()
    build = next(b for b in assistant.store.build_rows() if b["collection"] == report["collection"])
    assert build["status"] == "rejected"
    decision = next(r for r in assistant.store.audit_rows() if r["target"] == report["collection"]
                    and r["action"] == "rebuild" and r["outcome"] == "rejected")
    assert decision["actor"] == "admin" and "hit@5 dropped" in decision["detail"]
    still = evaluate.summarise(list(evaluate.run(assistant, evaluate.load_questions(questions))))
    assert still["hit@5"] == report["live"]["hit@5"], "the live index still answers as before"
