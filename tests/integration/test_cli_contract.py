"""The CLI contracts of DESIGN.md, run as a user would: `python -m pipelines ask … --json` with no
network at all (a fresh network namespace), and `python -m pipelines eval --questions FILE --json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.data_copy import copy_data

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "How can I differentiate nocturnal leg cramps from other causes of leg pain?"
CITATION_KEYS = {"n", "title", "publisher", "section", "page", "url", "last_reviewed", "score", "text"}
ROW_KEYS = {"q", "rank", "level", "abstained", "top_titles", "ms"}
SUMMARY_KEYS = {"n", "hit@1", "hit@5", "mrr", "abstain_precision", "abstain_recall", "p50_ms", "p95_ms"}


@pytest.fixture(scope="module")
def cli_env(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a CLI run over its own copy of the seeded library, no model configured."""
    data_dir = tmp_path_factory.mktemp("cli") / "data"
    copy_data(seeded_template, data_dir)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "GUIDELIGHT_", "QDRANT_", "LLM_", "DATABASE_URL"))}
    env["GUIDELIGHT_DATA_DIR"] = str(data_dir)
    return env


def run_cli(args: list[str], env: dict[str, str], offline_namespace: bool = False) -> str:
    command = [sys.executable, "-m", "pipelines", *args]
    if offline_namespace:
        command = ["unshare", "--net", "--", *command]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_ask_json_contract_with_no_network(cli_env: dict[str, str]) -> None:
    out = json.loads(run_cli(["ask", QUESTION, "--json"], cli_env, offline_namespace=True))
    assert {"answer", "confidence", "citations", "sources", "mode", "timings_ms", "index_version"} <= set(out)
    assert out["mode"] == "offline-extractive"
    assert out["confidence"]["level"] in ("high", "moderate", "low")
    assert isinstance(out["confidence"]["reasons"], list) and out["confidence"]["reasons"]
    assert out["citations"] and all(set(c) >= CITATION_KEYS for c in out["citations"])
    assert [c["n"] for c in out["citations"]] == list(range(1, len(out["citations"]) + 1))
    assert any(c["title"] == "Leg cramps" and c["page"] for c in out["citations"])
    assert all(f"[{c['n']}]" in out["answer"] for c in out["citations"])
    assert out["sources"][0]["title"] == "Leg cramps"
    assert out["index_version"].startswith("guidelines_")
    assert out["timings_ms"]["total"] > 0


def test_eval_json_contract(cli_env: dict[str, str], tmp_path: Path) -> None:
    questions = tmp_path / "gold.jsonl"
    questions.write_text("\n".join(json.dumps(row) for row in [
        {"q": QUESTION, "expect": ["Leg cramps"], "abstain": False},
        {"q": "Which inhaler should an adult with newly diagnosed asthma start?", "expect": ["asthma"],
         "abstain": False},
        {"q": "write me a poem about the sea", "expect": [], "abstain": True},
    ]) + "\n", "utf-8")
    lines = [json.loads(line) for line in run_cli(["eval", "--questions", str(questions), "--json"],
                                                  cli_env).splitlines() if line.strip()]
    rows, summary = lines[:-1], lines[-1]["summary"]
    assert len(rows) == 3 and all(set(r) == ROW_KEYS for r in rows)
    assert rows[0]["rank"] == 1 and rows[0]["top_titles"][0] == "Leg cramps"
    assert rows[1]["rank"] is not None and rows[1]["rank"] <= 5
    assert rows[2]["abstained"] is True and rows[2]["level"] == "insufficient" and rows[2]["rank"] is None
    assert set(summary) >= SUMMARY_KEYS
    assert summary["n"] == 3 and summary["hit@5"] == 1.0
    assert summary["abstain_recall"] == 1.0 and summary["abstain_precision"] == 1.0
    assert summary["p95_ms"] >= summary["p50_ms"] > 0
    # --exact scores every dense vector instead of walking the graph: on a library this small the
    # graph loses nothing, so the same passages rank the same.
    exact = [json.loads(line) for line in run_cli(["eval", "--questions", str(questions), "--json", "--exact"],
                                                  cli_env).splitlines() if line.strip()]
    assert [(r["rank"], r["top_titles"]) for r in exact[:-1]] == [(r["rank"], r["top_titles"]) for r in rows]


def test_hash_password_prints_the_env_line_that_signs_in(tmp_path: Path) -> None:
    """The printed line, pasted into `.env` as the README says, is the hash that accepts the
    password (and only it)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerifyMismatchError

    from pipelines.config import Settings

    password = "a long demo passphrase"
    done = subprocess.run([sys.executable, "-m", "pipelines", "hash-password", "--stdin"], cwd=ROOT,
                          input=password + "\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("GUIDELIGHT_ADMIN_PASSWORD_HASH=") and "\n" not in line
    env_file = tmp_path / ".env"
    env_file.write_text(line + "\n", encoding="utf-8")
    hashed = Settings(_env_file=env_file).admin_password_hash
    assert hashed and hashed.startswith("$argon2")
    assert PasswordHasher().verify(hashed, password)
    with pytest.raises(VerifyMismatchError):
        PasswordHasher().verify(hashed, password + "x")
    shell = subprocess.run(["bash", "-c", f'{line}; printf %s "$GUIDELIGHT_ADMIN_PASSWORD_HASH"'],
                           capture_output=True, text=True, timeout=30)
    assert shell.stdout == hashed  # the same line works when pasted into a shell
