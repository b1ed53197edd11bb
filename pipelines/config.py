"""One Settings object for the whole app: environment variables, `.env`, Streamlit secrets.

Defaults are the embedded, offline mode (Qdrant local mode, MiniLM embeddings, the extractive
composer, SQLite). The scaled options are read from the names DESIGN.md fixes: `QDRANT_URL`,
`QDRANT_API_KEY`, `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `LLM_MODEL`, `DATABASE_URL`; everything
else is `GUIDELIGHT_<FIELD>`. Nothing is read at import time: call `get_settings()`.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _alias(name: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(name, name.lower()))


class StreamlitSecretsSource(PydanticBaseSettingsSource):
    """Reads `.streamlit/secrets.toml` as plain TOML, so the core never imports Streamlit."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path.is_file():
            with path.open("rb") as handle:
                raw = tomllib.load(handle)
            self._data = {k.lower(): v for k, v in raw.items() if not isinstance(v, dict)}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            keys = [name, f"guidelight_{name}"]
            if field.validation_alias is not None:
                keys += [str(c).lower() for c in getattr(field.validation_alias, "choices", [])]
            for key in keys:
                if key in self._data:
                    out[name] = self._data[key]
                    break
        return out


MODEL_CACHE_DIR = Path.home() / ".cache" / "guidelight"


class Settings(BaseSettings):
    """Every tunable of Guidelight. Tests build `Settings(data_dir=tmp_path, ...)` directly."""

    model_config = SettingsConfigDict(
        env_prefix="GUIDELIGHT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # Where things live
    data_dir: Path = REPO_ROOT / "data"
    library_dir: Path = REPO_ROOT / "data" / "guidelines"
    eval_questions: Path = REPO_ROOT / "data" / "eval" / "questions.jsonl"

    # Vector store: Qdrant Edge in process by default, a server or cluster with QDRANT_URL
    qdrant_url: str | None = _alias("QDRANT_URL")
    qdrant_api_key: str | None = _alias("QDRANT_API_KEY")
    # Without QDRANT_URL: "edge" (Qdrant Edge in process, the default) or "local" (qdrant-client's
    # local mode, kept as the stand-in for the server API in tests)
    vector_engine: str = "edge"
    alias: str = "guidelines"
    # Edge's HNSW search beam (None: the engine's default). The scale benchmark reports hit@5 and
    # MRR with the graph and with exact scoring. At 100,000 chunks grown from the real and demo
    # library (each chunk about 23 near-copies, 60 gold questions, 2026-12-06): beam 256 gave MRR
    # 0.842 against exact 0.881 (88 % of questions the same passages), 512 gave 0.84 / 0.872
    # (95 %), 1024 gave 0.872 / 0.872 (100 %) for index query p50 2.6 -> 3.2 ms; a denser graph
    # (m 32, ef_construct 256) with beam 512 gave 0.872 / 0.881 (98 %) but built 50 % slower.
    # Graphs differ from build to build: in the full scale run, beam 1024 gave 0.851 / 0.872 (97 %)
    # at 100,000 and 0.832 / 0.86 (95 %) at 300,000 (docs/benchmark-scale.md).
    hnsw_ef: int | None = 1024
    queries_collection: str = "past_queries"

    # Embeddings: the bundled MiniLM, or "openai:<model>" through the OpenAI-compatible endpoint
    embedding_model: str = "all-MiniLM-L6-v2"
    # The bundled MiniLM runs on ONNX Runtime from a graph exported once from its own weights
    # (the same vectors, about 4 times faster per question); the export is kept here, shared by
    # every data folder. "torch" keeps the sentence-transformers path.
    model_cache_dir: Path = MODEL_CACHE_DIR
    embedding_runtime: str = "onnx"

    # Generation: offline extractive composer unless an API key is configured
    openai_api_key: str | None = _alias("OPENAI_API_KEY")
    openai_base_url: str | None = _alias("OPENAI_BASE_URL")
    llm_model: str = Field(default="gpt-4o-mini", validation_alias=AliasChoices("LLM_MODEL", "llm_model"))
    llm_timeout_s: float = 20.0
    llm_max_retries: int = 2
    llm_temperature: float = 0.0

    # Records: SQLite file by default, PostgreSQL with DATABASE_URL
    database_url: str | None = _alias("DATABASE_URL")

    # Ingestion limits
    max_upload_mb: int = 50
    max_pages: int = 400
    parse_timeout_s: float = 300.0  # a 150-page guideline on 2 cores takes about a minute
    parse_memory_mb: int = 6144
    max_zip_ratio: float = 100.0
    max_unzipped_mb: int = 200
    chunk_target_chars: int = 900
    chunk_max_chars: int = 1400

    # Retrieval and grading
    top_k: int = 6
    prefetch_k: int = 40
    per_guideline_cap: int = 3
    # Calibrated on data/eval/questions.jsonl (see README "Confidence levels")
    high_similarity: float = 0.55
    moderate_similarity: float = 0.45
    low_similarity: float = 0.23
    min_term_coverage: float = 0.26
    gate_similarity: float = 0.52
    gate_coverage: float = 0.45
    lead_similarity: float = 0.55
    lead_coverage: float = 0.55
    moderate_lead_similarity: float = 0.4
    moderate_lead_coverage: float = 0.3
    semantic_cover: float = 0.6
    lone_similarity: float = 0.4

    # Chat and records
    review_interval_days: int = 3 * 365
    query_retention_days: int = 180
    related_limit: int = 5
    related_min_similarity: float = 0.55
    related_merge_similarity: float = 0.93
    max_question_chars: int = 2000

    # Admin sign-in
    admin_user: str = "admin"
    admin_password_hash: str | None = None
    session_timeout_min: int = 30
    lockout_after: int = 5
    lockout_base_s: float = 30.0

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index"

    @property
    def originals_dir(self) -> Path:
        return self.data_dir / "originals"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'app.db'}"

    @property
    def model_mode(self) -> bool:
        return bool(self.openai_api_key)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        secrets = StreamlitSecretsSource(settings_cls, REPO_ROOT / ".streamlit" / "secrets.toml")
        return init_settings, env_settings, dotenv_settings, secrets


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
