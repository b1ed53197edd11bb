"""The bundled MiniLM on ONNX Runtime gives sentence-transformers' vectors, is re-exported when
its graph is altered, and falls back to PyTorch when it cannot be exported."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from pipelines import embeddings as emb
from pipelines import onnx_minilm

TEXTS = [
    "",
    "AF",
    "first line antibiotic for a pregnant woman with a UTI, penicillin allergic",
    "Offer a statin to people with a 10-year QRISK3 score of 10% or more. " * 40,  # > 256 tokens
    *[f"dose of amoxicillin for a child aged {i} years with acute otitis media" for i in range(1, 40)],
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return np.asarray(emb.MiniLMEmbeddings(runtime="torch").embed_documents(TEXTS))


def fresh(cache_dir: Path, **kw) -> emb.MiniLMEmbeddings:
    emb._shared_onnx.pop(Path(cache_dir), None)  # as a new process would
    return emb.MiniLMEmbeddings(cache_dir=cache_dir, **kw)


def test_onnx_runtime_gives_the_pytorch_vectors(cache: Path, torch_vectors: np.ndarray) -> None:
    model = fresh(cache)
    got = np.asarray(model.embed_documents(TEXTS))
    assert model.runtime == "onnx"
    graph = onnx_minilm.graph_path(cache)
    assert onnx_minilm.is_valid(graph)
    assert np.abs(got - torch_vectors).max() < 1e-4
    one = np.asarray(model.embed_query(TEXTS[2]))
    assert np.abs(one - torch_vectors[2]).max() < 1e-4
    assert abs(float(np.linalg.norm(one)) - 1.0) < 1e-5
    # Order is kept although batches are formed by length
    assert np.argmax(got @ torch_vectors.T, axis=1).tolist() == list(range(len(TEXTS)))


def test_an_altered_graph_is_exported_again(cache: Path, torch_vectors: np.ndarray) -> None:
    fresh(cache).embed_query("make sure the graph exists")
    graph = onnx_minilm.graph_path(cache)
    with graph.open("ab") as fh:
        fh.write(b"torn")
    assert not onnx_minilm.is_valid(graph)
    model = fresh(cache)
    got = np.asarray(model.embed_documents(TEXTS[:4]))
    assert model.runtime == "onnx" and onnx_minilm.is_valid(graph)
    assert np.abs(got - torch_vectors[:4]).max() < 1e-4
    assert not list(cache.glob("*.tmp"))


def test_no_usable_cache_falls_back_to_pytorch(tmp_path: Path, torch_vectors: np.ndarray,
                                               caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger="pipelines.embeddings"):
        model = fresh(blocker / "models")
        got = np.asarray(model.embed_documents(TEXTS[:4]))
    assert model.runtime == "torch"
    assert "using PyTorch" in caplog.text
    assert np.abs(got - torch_vectors[:4]).max() < 1e-6
