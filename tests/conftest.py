"""Shared fixtures: offline settings in a temporary folder, and one seeded library per session.

Seeding the 48-document demonstration library costs ~40 s on 2 cores, so it happens once per
test session into a template folder; tests that need a live index get their own copy of it
(`seeded_settings`) and may change it freely.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pipelines  # noqa: E402,F401  (sets the offline environment first)
from pipelines.config import Settings  # noqa: E402
from tests.support.data_copy import copy_data  # noqa: E402

# The tests never use a configured model or server unless they start one themselves.
for _name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLM_MODEL", "QDRANT_URL", "QDRANT_API_KEY",
              "DATABASE_URL"):
    os.environ.pop(_name, None)


def make_settings(data_dir: Path, **overrides) -> Settings:
    """Offline settings rooted at `data_dir`, ignoring any `.env` or secrets file."""
    return Settings(_env_file=None, data_dir=data_dir, **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with an empty data folder (nothing seeded)."""
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the whole demonstration library, indexed once per session."""
    from pipelines.assistant import Assistant
    from pipelines.index import close_client

    data_dir = tmp_path_factory.mktemp("seeded") / "data"
    template = make_settings(data_dir)
    assistant = Assistant.create(template)
    assistant.startup()
    assistant.library.parser.close()
    close_client(template)
    return data_dir


@pytest.fixture
def seeded_settings(seeded_template: Path, tmp_path: Path) -> Iterator[Settings]:
    """Settings over a private copy of the seeded library (safe to change)."""
    from pipelines.index import close_client

    data_dir = tmp_path / "data"
    copy_data(seeded_template, data_dir)
    settings = make_settings(data_dir)
    yield settings
    close_client(settings)


@pytest.fixture
def assistant(seeded_settings: Settings):
    """An offline Assistant over a private copy of the seeded library."""
    from pipelines.assistant import Assistant

    assistant = Assistant.create(seeded_settings)
    assistant.startup()
    yield assistant
    assistant.library.parser.close()
