"""Sections → passages (chunks) for the index.

A section's text is a run of whole units separated by blank lines (a recommendation with its
list, a paragraph, a table). Units are packed into passages up to a target size and are only cut
when one alone is longer than a passage may be: a list at its items, a table at its rows (each
piece repeating the table's header), prose at sentence ends.
"""

from __future__ import annotations

import re

from pipelines.models import Chunk, GuidelineMeta, ParsedDocument
from pipelines.safety import looks_like_injection, neutralise_passage
from pipelines.text import split_sentences

BOILERPLATE = re.compile(r"^\s*Demonstration summary written for Guidelight", re.I)


def chunk_sections(doc: ParsedDocument, target_chars: int = 900, max_chars: int = 1400) -> list[Chunk]:
    """Chunks that never cross a section or page and never cut a unit that fits in one."""
    meta: GuidelineMeta = doc.meta
    chunks: list[Chunk] = []
    for section in doc.sections:
        if BOILERPLATE.match(section.text) and len(section.text) < 300:
            continue
        label = " › ".join(section.path[1:]) or "Introduction"
        label_flags: list[str] = []
        if looks_like_injection(label):
            label, label_flags = "Section", ["instruction aimed at a model"]
        pieces = (split_table(section.text, max_chars) if section.kind == "table"
                  else pack_units(section.text, target_chars, max_chars))
        for piece in pieces:
            text, flags = neutralise_passage(piece)
            if text.strip():
                chunks.append(Chunk(meta.guideline_id, meta.version, len(chunks), text, label,
                                    section.page, meta, tuple(dict.fromkeys(label_flags + flags)),
                                    section.kind, section.printed_page, section.end_page))
    _warn_neutralised(doc, chunks)
    return chunks


def _warn_neutralised(doc: ParsedDocument, chunks: list[Chunk]) -> None:
    """Tell the uploader (preview and ingest report) what was taken out of the passages."""
    flagged = [c for c in chunks if c.flags]
    if flagged:
        kinds = ", ".join(dict.fromkeys(f for c in flagged for f in c.flags))
        doc.warnings.append(f"{len(flagged)} passage(s) carried content removed before indexing "
                            f"({kinds}); check the source file before publishing.")


def pack_units(text: str, target: int, max_chars: int) -> list[str]:
    """Whole units packed up to `target` characters; a unit over `max_chars` split inside."""
    units = [u.strip() for u in re.split(r"\n\s*\n", text) if u.strip()]
    parts = [part for unit in units
             for part in ([unit] if len(unit) <= max_chars else _split(unit, target, max_chars))]
    return _pack(parts, target)


def _pack(items: list[str], target: int) -> list[str]:
    """Consecutive items joined by lines into pieces of up to `target` characters."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for item in items:
        if current and size + len(item) > target:
            pieces.append("\n".join(current))
            current, size = [], 0
        current.append(item)
        size += len(item) + 1
    if current:
        pieces.append("\n".join(current))
    return pieces


def split_table(markdown: str, max_chars: int) -> list[str]:
    """A Markdown table in pieces of whole rows, each with the header and rule lines."""
    lines = markdown.split("\n")
    head, rows = lines[:2], lines[2:]
    budget = max(max_chars - sum(len(h) + 1 for h in head), 200)
    pieces: list[list[str]] = [[]]
    for long_row in rows:
        for row in _split_row(long_row, budget):
            if pieces[-1] and sum(len(r) + 1 for r in pieces[-1]) + len(row) > budget:
                pieces.append([])
            pieces[-1].append(row)
    return ["\n".join(head + piece) for piece in pieces if piece]


def _split_row(row: str, budget: int) -> list[str]:
    """A row too long for one passage: its longest cells move to rows of their own, in their own
    column and with the row's first cell, so what remains (drug, dose, duration) stays together
    on one row. A cell is cut at its entries ("Teicoplanin: ...", "Linezolid (...): ...") and
    sentences, and a piece that continues an entry repeats the entry's label, so no piece holds a
    dose without its drug."""
    if len(row) <= budget:
        return [row]
    cells = [c.strip() for c in row.strip().strip("|").split(" | ")]
    first, out = cells[0][:200], []
    while len(_row(cells)) > budget and len(cells) > 1:
        k = max(range(1, len(cells)), key=lambda n: len(cells[n]))
        if len(cells[k]) < 40:
            break
        room = budget - len(first) - 6 * len(cells)
        for piece in cell_pieces(cells[k], room):
            out.append(_row([first] + ["" if n != k else piece for n in range(1, len(cells))]))
        cells[k] = "…"
    if all(c in ("", "…") for c in cells[1:]):
        return out
    rest = _row(cells)
    return out + ([rest] if len(rest) <= budget else [_row([first, p]) for p in _hard_wrap(rest, budget - len(first) - 12)])


# Where an entry starts inside a cell: a capitalised name of up to four words, perhaps with a
# bracketed note, then a colon ("Vancomycin:", "Piperacillin with tazobactam:", "Linezolid (if
# vancomycin cannot be used; specialist advice only):").
_ENTRY = re.compile(r"(?<!\S)(?=[A-Z][\w-]*(?: [a-z][\w-]*){0,3}(?: \([^()]{0,160}\))?: )")
_LABEL = re.compile(r"^([A-Z][\w-]*(?: [a-z][\w-]*){0,3}(?: \([^()]{0,160}\))?):")


def cell_pieces(text: str, room: int) -> list[str]:
    """A long cell in pieces of at most `room` characters, cut between its entries, then between
    sentences; an entry cut in two carries its label into the next piece."""
    room = max(room, 120)
    entries = [e.strip() for e in _ENTRY.split(text) if e.strip()]
    parts: list[str] = []
    for entry in entries:
        if len(entry) <= room:
            parts.append(entry)
            continue
        label = _LABEL.match(entry)
        prefix = f"{label.group(1)} (continued): " if label else ""
        chunks = [c.replace("\n", " ") for c in _split(entry, room - len(prefix), room - len(prefix))]
        parts += [chunks[0]] + [prefix + c for c in chunks[1:]]
    pieces: list[str] = []
    for part in parts:
        if pieces and len(pieces[-1]) + 1 + len(part) <= room:
            pieces[-1] += " " + part
        else:
            pieces.append(part)
    return pieces


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _split(text: str, target: int, max_chars: int) -> list[str]:
    """A unit too long for one passage, cut at list items, then sentences, then spaces."""
    units = [unit for line in text.split("\n")
             for unit in ([line] if line.startswith("- ") else split_sentences(line))]
    return _pack([part for unit in units for part in _hard_wrap(unit, max_chars)], target)


def _hard_wrap(unit: str, max_chars: int) -> list[str]:
    """A "sentence" longer than a chunk (a text file of one enormous line) cut at spaces, or
    anywhere when it has none, so no chunk exceeds `max_chars`."""
    if len(unit) <= max_chars:
        return [unit]
    pieces, rest = [], unit
    while len(rest) > max_chars:
        cut = rest.rfind(" ", 0, max_chars)
        cut = cut if cut > max_chars // 2 else max_chars
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return pieces + ([rest] if rest else [])
