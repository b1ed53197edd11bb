"""Ingest throughput beside raw embedding throughput, on the same passages, in the same run.

    python scripts/bench_ingest.py FILE [FILE ...]

For each file: the time to read its structure (parse + passages), the time to embed its passages
(dense MiniLM + sparse BM25), and passages per second for the whole ingest versus embedding alone.
The ratio says how much the parser costs on top of the embedding that any ingest must pay.
Stores nothing; embeds on this machine's CPU.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(paths: list[str]) -> int:
    from pipelines.config import Settings
    from pipelines.embeddings import BM25SparseEmbeddings, make_embeddings
    from pipelines.ingest import chunk_sections, parse_document
    from pipelines.validate import Limits

    dense = make_embeddings(Settings(_env_file=None))
    sparse = BM25SparseEmbeddings()
    dense.embed_documents(["warm up the model"])
    totals = {"passages": 0, "parse_s": 0.0, "embed_s": 0.0}
    for name in paths:
        started = time.perf_counter()
        doc = parse_document(Path(name), Limits(300_000_000, 200.0, 500_000_000), max_pages=400)
        chunks = chunk_sections(doc)
        parsed = time.perf_counter()
        texts = [c.embed_text for c in chunks]
        dense.embed_documents(texts)
        sparse.embed_documents(texts)
        embedded = time.perf_counter()
        row = {"file": Path(name).name, "pages": doc.pages, "passages": len(chunks),
               "parse_s": round(parsed - started, 2), "embed_s": round(embedded - parsed, 2),
               "ingest_passages_per_s": round(len(chunks) / (embedded - started), 1),
               "embed_passages_per_s": round(len(chunks) / max(embedded - parsed, 1e-9), 1)}
        row["ratio"] = round(row["ingest_passages_per_s"] / row["embed_passages_per_s"], 2)
        print(json.dumps(row))
        totals["passages"] += len(chunks)
        totals["parse_s"] += parsed - started
        totals["embed_s"] += embedded - parsed
    whole = totals["passages"] / (totals["parse_s"] + totals["embed_s"])
    raw = totals["passages"] / max(totals["embed_s"], 1e-9)
    print(json.dumps({"total": {"passages": totals["passages"], "parse_s": round(totals["parse_s"], 1),
                                "embed_s": round(totals["embed_s"], 1),
                                "ingest_passages_per_s": round(whole, 1),
                                "embed_passages_per_s": round(raw, 1), "ratio": round(whole / raw, 2)}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
