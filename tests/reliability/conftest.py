"""Fixtures for the reliability tier: a real PostgreSQL server, small libraries, timing helpers.

PostgreSQL comes from Debian's `postgresql` package: `initdb` and `pg_ctl` run as the `postgres`
user (initdb refuses root) on a data folder in /tmp, listening on 127.0.0.1 on a free port. When
the binaries are missing the fixture fails with the package to install: a skipped scale-out test
would read as a pass.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.config import Settings
from pipelines.parsing import ParserPool
from pipelines.validate import Limits
from tests.support.data_copy import copy_data

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "data" / "guidelines"
SMALL_LIBRARY = ["bronchiolitis.md", "otitis-media-acute.md", "osteoarthritis.md",
                 "falls-in-older-people.md", "gout.pdf"]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def report(name: str, **figures: object) -> None:
    """Print a measured figure so `pytest -s` (and docs/reliability.md) can quote it."""
    print(f"\n[figure] {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


@pytest.fixture(scope="session")
def parser_pool() -> Iterator[ParserPool]:
    """One parser worker for the tier (its imports cost seconds)."""
    defaults = Settings(_env_file=None, data_dir=Path("/nonexistent"))
    pool = ParserPool(Limits.from_settings(defaults), timeout_s=defaults.parse_timeout_s,
                      memory_mb=defaults.parse_memory_mb, max_pages=defaults.max_pages)
    yield pool
    pool.close()


@pytest.fixture
def small_library(tmp_path: Path) -> Path:
    """A folder with five real guideline files (Markdown and PDF) from the demo library."""
    folder = tmp_path / "library"
    folder.mkdir()
    for name in SMALL_LIBRARY:
        shutil.copy(LIBRARY / name, folder / name)
    return folder


@pytest.fixture(scope="session")
def small_template(tmp_path_factory: pytest.TempPathFactory, parser_pool: ParserPool) -> Path:
    """A data folder with the five-file library indexed once per session (a few seconds)."""
    from pipelines.assistant import Assistant
    from pipelines.index import close_client

    root = tmp_path_factory.mktemp("small")
    library = root / "library"
    library.mkdir()
    for name in SMALL_LIBRARY:
        shutil.copy(LIBRARY / name, library / name)
    settings = Settings(_env_file=None, data_dir=root / "data", library_dir=library)
    assistant = Assistant.create(settings)
    assistant.library.parser = parser_pool
    assistant.startup()
    close_client(settings)
    return root / "data"


@pytest.fixture
def small_settings(small_template: Path, tmp_path: Path) -> Iterator[Settings]:
    """Settings over a private copy of the small indexed library (safe to change)."""
    from pipelines.index import close_client

    data_dir = tmp_path / "data"
    copy_data(small_template, data_dir)
    settings = Settings(_env_file=None, data_dir=data_dir, library_dir=small_template.parent / "library")
    yield settings
    close_client(settings)


# PostgreSQL --------------------------------------------------------------------------------
def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        pytest.fail("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/pg_ctl): install "
                    "the Debian package `postgresql` (apt-get install -y postgresql).", pytrace=False)
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*cmd: str) -> subprocess.CompletedProcess[str]:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=120)


def _checked(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        pytest.fail(f"PostgreSQL {what} failed:\n{result.stdout}\n{result.stderr}", pytrace=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL server on 127.0.0.1; yields its base URL (no database name)."""
    bin_dir = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="guidelight-pg-"))
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(data, "postgres", "postgres")
    port = _free_port()
    _checked(_as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                          "--auth=trust", "-E", "UTF8", "--no-instructions"), "initdb")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    _checked(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                          "-o", options, "-w", "-t", "60", "start"), "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def create_database(server_url: str) -> str:
    """A fresh, empty database on the server; returns its SQLAlchemy URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:10]}"
    dsn = server_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The records database URL: a SQLite file, then a fresh database on the real server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'records' / 'app.db'}"
    return create_database(request.getfixturevalue("postgres_server"))


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05) -> bool:
    """Poll until `predicate()` is true or `timeout` passes (for subprocess milestones)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
