"""Fixtures for the integration tier: one parser worker shared by the tier, offline and model-mode
assistants over private copies of the seeded library, and the loopback LLM server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.assistant import Assistant
from pipelines.config import Settings
from pipelines.index import close_client
from pipelines.parsing import ParserPool
from pipelines.validate import Limits
from tests.support.llm_server import LLMServer, llm_server, model_settings  # noqa: F401  (fixture)
from tests.support.data_copy import copy_data

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "data" / "guidelines"


def _settings(data_dir: Path) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir)


@pytest.fixture(scope="session")
def parser_pool() -> Iterator[ParserPool]:
    """One parser worker for the whole tier: its imports (unstructured, pdfminer) cost seconds."""
    defaults = _settings(Path("/nonexistent"))
    pool = ParserPool(Limits.from_settings(defaults), timeout_s=defaults.parse_timeout_s,
                      memory_mb=defaults.parse_memory_mb, max_pages=defaults.max_pages)
    yield pool
    pool.close()


def open_assistant(settings: Settings, pool: ParserPool, *, start: bool = True) -> Assistant:
    """An Assistant over `settings` that parses with the shared worker."""
    assistant = Assistant.create(settings)
    assistant.library.parser = pool
    if start:
        assistant.startup()
    return assistant


@pytest.fixture
def empty_assistant(settings: Settings, parser_pool: ParserPool) -> Iterator[Assistant]:
    """An offline Assistant over an empty data folder, with an empty live collection."""
    assistant = open_assistant(settings, parser_pool, start=False)
    assistant.library.ensure_live()
    yield assistant
    close_client(settings)


@pytest.fixture
def library_assistant(seeded_settings: Settings, parser_pool: ParserPool) -> Assistant:
    """An offline Assistant over a private, changeable copy of the seeded library."""
    return open_assistant(seeded_settings, parser_pool)


@pytest.fixture(scope="module")
def shared_copy(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One copy of the seeded library for a module of read-mostly tests."""
    data_dir = tmp_path_factory.mktemp("shared") / "data"
    copy_data(seeded_template, data_dir)
    settings = _settings(data_dir)
    yield settings
    close_client(settings)


@pytest.fixture(scope="module")
def reader(shared_copy: Settings, parser_pool: ParserPool) -> Assistant:
    """A module-wide offline Assistant for questions that do not change the library."""
    return open_assistant(shared_copy, parser_pool)


@pytest.fixture(scope="module")
def module_llm() -> Iterator[LLMServer]:
    """A loopback model server shared by a module; tests reset it before use."""
    server = LLMServer().start()
    yield server
    server.close()
