"""Guidelight's importable core: ingestion, index, retrieval, answering, records.

Nothing here imports Streamlit. Importing the package makes the process offline-safe before any
model library loads: hub downloads and telemetry are switched off, and torchvision (unused, and
unimportable beside the CPU torch) is hidden from transformers.
"""

from __future__ import annotations

import os
import sys

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "true",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "ANONYMIZED_TELEMETRY": "false",
}.items():
    os.environ.setdefault(_name, _value)


def _block_torchvision() -> None:
    """Guidelight never uses torchvision; keep transformers from ever trying it.

    transformers records at its own import whether torchvision is installed. If anything imports
    transformers before the embedding model loads (Streamlit's module watcher, unstructured), a
    broken torchvision (PyPI's CUDA build beside the CPU torch) then fails the model load. Marking
    it unimportable before any of that runs is cheap (nothing is imported) and always safe here.
    """
    if "torchvision" not in sys.modules:
        sys.modules["torchvision"] = None  # type: ignore[assignment]


_block_torchvision()
