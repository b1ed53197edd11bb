"""Crash safety: `kill -9` in the middle of an ingest or a rebuild, then a restart, leaves a
complete live index, a registry consistent with it and every original intact; a full disk
during an ingest fails cleanly while the live index keeps answering.

The work runs in the real CLI (`python -m pipelines ingest|reindex`) in its own process group;
once it reports progress it is killed with SIGKILL (with its parser worker) after a random
delay. The restart is what the app does: `Assistant.create(settings).startup()`, which runs
`Library.recover()`. CI runs three iterations of each; the nightly run many more.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.assistant import Assistant
from pipelines.config import Settings
from pipelines.index import close_client
from tests.reliability.conftest import LIBRARY, ROOT, report, wait_for

CI_ITERATIONS, NIGHTLY_ITERATIONS = 3, 25


def new_files(tmp: Path) -> list[Path]:
    """Three real guideline files the small library does not hold yet."""
    chosen = sorted(p for p in LIBRARY.iterdir() if p.suffix in (".md", ".html", ".docx")
                    and p.name not in {"bronchiolitis.md", "otitis-media-acute.md", "osteoarthritis.md",
                                       "falls-in-older-people.md"})[:3]
    folder = tmp / "incoming"
    folder.mkdir(exist_ok=True)
    return [Path(shutil.copy(p, folder / p.name)) for p in chosen]


def revise(files: list[Path], iteration: int) -> None:
    """A new version of each file (version number raised, a note appended), so an ingest that
    completed is followed by one with real work to kill, not three "unchanged" files."""
    for path in files:
        text = re.sub(r'^version: "?(\d+)"?$', lambda m: f'version: "{int(m.group(1)) + 1}"',
                      path.read_text("utf-8"), count=1, flags=re.M)
        path.write_text(text + f"\n\nRevision note {iteration}: wording reviewed.\n", "utf-8")


def start_cli(settings: Settings, log: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GUIDELIGHT_DATA_DIR": str(settings.data_dir),
           "GUIDELIGHT_LIBRARY_DIR": str(settings.library_dir)}
    handle = log.open("wb")
    return subprocess.Popen([sys.executable, "-m", "pipelines", *args], cwd=ROOT, env=env,
                            stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def kill_at_random(proc: subprocess.Popen[bytes], log: Path, milestone: str, window_s: float,
                   rng: random.Random, then: str = "") -> bool:
    """SIGKILL the process group a random time (up to `window_s`) after `milestone`, or after the
    first `then` following it, shows in its log; True if it was still running (killed), False if
    it finished first."""
    def reached() -> bool:
        text = log.read_text("utf-8", "replace")
        at = text.find(milestone)
        return at >= 0 and (not then or text.find(then, at + len(milestone)) >= 0)

    wait_for(lambda: reached() or proc.poll() is not None, 180)
    time.sleep(rng.uniform(0, window_s))
    killed = proc.poll() is None
    if killed:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    return killed


INGEST_STAGES = ("Checking", "Parsing", "Embedding", "Writing to the index", "Published")


def restart(settings: Settings, parser_pool, recovered: list[str] | None = None) -> Assistant:
    """What the app does at start-up; `recovered` collects what recovery cleaned up."""
    assistant = Assistant.create(settings)
    assistant.library.parser = parser_pool
    done = assistant.library.recover()  # startup() runs it too; called here to see the actions
    if recovered is not None:
        recovered.extend(done)
    assistant.startup()
    return assistant


def check_consistent(assistant: Assistant) -> dict[str, int]:
    """The invariants a crash must not break; returns what is served."""
    store, index, library = assistant.store, assistant.index, assistant.library
    live = index.live_collection()
    assert live, "no collection behind the alias"
    active = store.guideline_rows("active")
    assert store.guideline_rows("pending") == [], "half-ingested rows left pending"
    assert index.count(live) == sum(r["chunk_count"] for r in active)
    served = Counter((p["guideline_id"], p["version"])
                     for p in index.scroll_payloads(live, ["guideline_id", "version"]))
    assert set(served) == {(r["guideline_id"], r["version"]) for r in active}
    for row in store.guideline_rows():
        if row["status"] in ("active", "superseded", "retired"):
            original = library.original_of(row)
            assert hashlib.sha256(original.read_bytes()).hexdigest() == row["file_hash"], row["title"]
    building = [b["collection"] for b in store.build_rows() if b["status"] == "building"]
    assert not set(building) & set(index.collections()), "an unfinished build survived the restart"
    answer = assistant.ask("How should acute gout be treated?", log=False)
    assert answer.sources and answer.sources[0].title == "Gout"
    return {"guidelines": len(active), "chunks": index.count(live)}


@pytest.fixture
def crash_settings(small_settings: Settings) -> Iterator[Settings]:
    close_client(small_settings)  # the CLI subprocess needs the folder lock
    yield small_settings


def crash_loop(settings: Settings, parser_pool, tmp: Path, mode: str, iterations: int) -> None:
    rng = random.Random(int(time.time()))
    files = new_files(tmp)
    killed, recovered = 0, []
    for i in range(iterations):
        log = tmp / f"{mode}-{i}.log"
        # a random file and a random stage of it (read from the ingest's own progress, so the
        # kill lands inside the work however fast it has become), or a random rebuild step
        if mode == "ingest":
            proc = start_cli(settings, log, "ingest", *map(str, files))
            stage = rng.choice(INGEST_STAGES)
            was_killed = kill_at_random(proc, log, f"Indexing {rng.choice(files).name}", 0.3, rng, stage)
            killed += was_killed
            if not was_killed:
                revise(files, i)
        else:
            proc = start_cli(settings, log, "reindex", "--no-eval")
            killed += kill_at_random(proc, log, f"({rng.randint(1, 5)}/5)", 3.0, rng)
        assistant = restart(settings, parser_pool, recovered)
        served = check_consistent(assistant)
        close_client(settings)
    report(f"kill -9 during {mode}", iterations=iterations, killed_mid_run=killed,
           completed_before_kill=iterations - killed, survived=iterations,
           recovery_actions=len(recovered), **served)


def test_kill_during_ingest_then_restart_is_consistent(crash_settings, parser_pool, tmp_path) -> None:
    crash_loop(crash_settings, parser_pool, tmp_path, "ingest", CI_ITERATIONS)


def test_kill_during_rebuild_then_restart_is_consistent(crash_settings, parser_pool, tmp_path) -> None:
    crash_loop(crash_settings, parser_pool, tmp_path, "rebuild", CI_ITERATIONS)


@pytest.mark.nightly
@pytest.mark.parametrize("mode", ["ingest", "rebuild"])
def test_kill_many_times_then_restart_is_consistent(crash_settings, parser_pool, tmp_path, mode) -> None:
    crash_loop(crash_settings, parser_pool, tmp_path, mode, NIGHTLY_ITERATIONS)


# Disk full -----------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 MB tmpfs mounted for this test (needs root, as in CI's container): Edge preallocates
    two 32 MB log segments per shard, which tmpfs backs with memory; the test fills the rest
    with ballast anyway."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail("the disk-full test mounts a 512 MB tmpfs and needs root with CAP_SYS_ADMIN: "
                    + result.stderr.strip(), pytrace=False)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path, leave_bytes: int) -> Path:
    """Write a ballast file until the filesystem has only `leave_bytes` free."""
    ballast = folder / "ballast"
    free = shutil.disk_usage(folder).free - leave_bytes
    with ballast.open("wb") as handle:
        try:
            while free > 0:
                step = min(free, 1 << 20)
                handle.write(b"\0" * step)
                free -= step
            handle.flush()
        except OSError:
            pass
    return ballast


@pytest.mark.parametrize("leave_kb", [0, 64])
def test_disk_full_during_ingest_fails_cleanly_and_keeps_serving(small_settings: Settings, parser_pool,
                                                                 small_disk: Path, tmp_path: Path,
                                                                 leave_kb: int) -> None:
    close_client(small_settings)
    data_dir = small_disk / "data"
    # Edge's write-ahead log and segments are sparse files (32 MB apparent, kilobytes used): copy
    # them as such, as a restore from backup with `cp --sparse` would.
    subprocess.run(["cp", "-a", "--sparse=always", str(small_settings.data_dir), str(data_dir)], check=True)
    settings = Settings(_env_file=None, data_dir=data_dir, library_dir=small_settings.library_dir)
    assistant = restart(settings, parser_pool)
    before = check_consistent(assistant)
    ballast = fill(small_disk, leave_kb * 1024)
    try:
        reports = [assistant.library.ingest_file(p, actor="admin") for p in new_files(tmp_path)]
        answer = assistant.ask("How should acute gout be treated?")
        assert answer.sources[0].title == "Gout"  # the live index is still served with the disk full
    finally:
        ballast.unlink()
    failed = [r for r in reports if r.status == "failed"]
    report("disk full during ingest", leave_kb=leave_kb, files=len(reports), failed=len(failed),
           reasons="; ".join(sorted({r.reason[:60] for r in failed})))
    assert failed, "nothing failed: the disk was not full enough to test anything"
    close_client(settings)
    assistant = restart(settings, parser_pool)
    after = check_consistent(assistant)
    assert after["guidelines"] == before["guidelines"] + len(reports) - len(failed)
    retried = [assistant.library.ingest_file(p, actor="admin") for p in new_files(tmp_path)]
    assert all(r.status in ("added", "unchanged") for r in retried), [r.reason for r in retried]
    close_client(settings)
