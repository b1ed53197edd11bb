"""Ingest throughput beside raw embedding throughput, on the same passages, in the same run.

    python scripts/bench_ingest.py FILE [FILE ...]

For each file: the time to read its structure (parse + passages) with each PDF reader (PDFium's
characters and ruling lines, the default, and pdfminer.six's, as before), the time to embed its
passages once (dense MiniLM + sparse BM25), and passages per second for the whole ingest versus
embedding alone. The ratio says how much the parser costs on top of the embedding that any ingest
must pay. Both readers run in the same process, one after the other, on the same files, so their
figures compare on a shared, noisy machine. Stores nothing; embeds on this machine's CPU.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

READERS = ("pdfium", "pdfminer")


def _parse(name: str, reader: str) -> tuple[float, list, int]:
    from pipelines.ingest import chunk_sections, parse_document, pdf_pages
    from pipelines.validate import Limits

    pdf_pages.USE_PDFIUM = reader == "pdfium"
    started = time.perf_counter()
    doc = parse_document(Path(name), Limits(300_000_000, 200.0, 500_000_000), max_pages=400)
    chunks = chunk_sections(doc)
    return time.perf_counter() - started, chunks, doc.pages


def main(paths: list[str]) -> int:
    from pipelines.config import Settings
    from pipelines.embeddings import BM25SparseEmbeddings, make_embeddings

    dense = make_embeddings(Settings(_env_file=None))
    sparse = BM25SparseEmbeddings()
    dense.embed_documents(["warm up the model"])
    totals = {"passages": 0, "embed_s": 0.0, **{f"parse_{r}_s": 0.0 for r in READERS}}
    for name in paths:
        parsed = {r: _parse(name, r) for r in READERS}
        _, chunks, pages = parsed[READERS[0]]
        texts = [c.embed_text for c in chunks]
        started = time.perf_counter()
        dense.embed_documents(texts)
        sparse.embed_documents(texts)
        embed_s = time.perf_counter() - started
        row: dict = {"file": Path(name).name, "pages": pages, "passages": len(chunks),
                     "embed_s": round(embed_s, 2),
                     "embed_passages_per_s": round(len(chunks) / max(embed_s, 1e-9), 1)}
        for r in READERS:
            parse_s, same, _ = parsed[r]
            row[f"parse_{r}_s"] = round(parse_s, 2)
            row[f"passages_{r}"] = len(same)
            row[f"ratio_{r}"] = round(embed_s / (embed_s + parse_s), 2)
            totals[f"parse_{r}_s"] += parse_s
        print(json.dumps(row))
        totals["passages"] += len(chunks)
        totals["embed_s"] += embed_s
    embed_s = totals["embed_s"]
    total = {"passages": totals["passages"], "embed_s": round(embed_s, 1),
             "embed_passages_per_s": round(totals["passages"] / max(embed_s, 1e-9), 1)}
    for r in READERS:
        parse_s = totals[f"parse_{r}_s"]
        total[f"parse_{r}_s"] = round(parse_s, 1)
        total[f"ingest_{r}_passages_per_s"] = round(totals["passages"] / (parse_s + embed_s), 1)
        total[f"ratio_{r}"] = round(embed_s / (embed_s + parse_s), 2)
    print(json.dumps({"total": total}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
