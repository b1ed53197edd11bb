"""Ingestion: a file → validated → its structure (headings, whole units, tables, kinds, pages) →
metadata → passages. `parse_document` and `chunk_sections` are the two entry points."""

from pipelines.ingest.chunking import chunk_sections
from pipelines.ingest.document import (cpu_count, library_files, parse_document, use_bundled_spacy_model,
                                       without_instructions)

__all__ = ["chunk_sections", "cpu_count", "library_files", "parse_document", "use_bundled_spacy_model",
           "without_instructions"]
