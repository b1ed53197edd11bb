"""What every benchmark shares: nearest-rank percentiles and ratios, the gold questions and
realistic variations of them as past queries, and the machine a run was measured on."""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.config import Settings

# Variations that turn one gold question into many realistic past queries.
PREFIXES = ["", "", "quick q: ", "In primary care, ", "GP here - ", "For an adult, ", "For an elderly patient, ",
            "Pharmacist asking: ", "Nurse query: ", "Can you remind me ", "What does the guidance say: "]
SUFFIXES = ["", "", "?", " in pregnancy", " in CKD", " in children", " in over 65s", " - first line?",
            " and when to refer", " and follow-up interval", " and safety netting", " (NICE)", " in care homes"]


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


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory of this process and of its largest finished child (the parser)."""
    import resource

    return {"main_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "largest_child_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


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
