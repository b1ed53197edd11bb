"""Measure what ingest makes of a folder of documents: whole passages, real headings, dose rows
that keep their drug, metadata found.

    python scripts/ingest_quality.py DOCS_FOLDER [--json OUT.json] [--markdown]
    python scripts/ingest_quality.py --compare BEFORE.json AFTER.json   # the table for docs/

Runs `parse_document` + `chunk_sections` of whichever `pipelines` is importable (set PYTHONPATH to
an older checkout to measure it the same way), storing nothing. The judgements are deliberately
independent of the parser's own rules:
- a passage ends whole when its last line ends a sentence or clause (. ! ? : ; ) ] or a quote) or
  with a web address, or is a list item ("- ...") or a table row ("| ... |");
- a section label is a real heading when it starts with a capital letter or a number and is not a
  short sentence tail ("in a UK population.", "of:");
- a dosing row (a line with a dose and an age or weight band, or a table row with a dose) "has
  its drug" when a drug name appears in the same line; the drug names are a measuring list for
  the antimicrobial documents, not used by the engine.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

DRUGS = """amoxicillin ampicillin azithromycin benzylpenicillin cefalexin cefuroxime ceftriaxone cefixime
cefotaxime cefaclor cefadroxil ciprofloxacin clarithromycin clindamycin co-amoxiclav co-trimoxazole
doxycycline erythromycin flucloxacillin fosfomycin gentamicin levofloxacin metronidazole
nitrofurantoin ofloxacin phenoxymethylpenicillin pivmecillinam temocillin tetracycline
trimethoprim vancomycin teicoplanin linezolid moxifloxacin piperacillin tazobactam meropenem
amikacin aciclovir valaciclovir famciclovir oseltamivir zanamivir fluconazole nystatin
clotrimazole terbinafine itraconazole mebendazole ivermectin permethrin malathion fusidic
mupirocin neomycin chloramphenicol ibuprofen paracetamol prednisolone dexamethasone
methenamine naproxen aspirin phenazone lidocaine estriol mometasone chlorhexidine""".split()
ANTIMICROBIAL_DOCS = ("NG109", "NG84", "NG91", "NG79", "NG120", "NG112", "amoxicillin_guideline_antimicrobial",
                      "NG114", "amoxicillin_guideline_antibiotics")
DOSE = re.compile(r"\b\d+(?:\.\d+)?\s?(?:mg|g|ml|micrograms?|mg/kg|units)\b", re.I)
_DRUG = re.compile(r"\b(" + "|".join(re.escape(d) for d in DRUGS) + r")(?![a-z])", re.I)
# A dosing row: a dose on a line that names an age or weight band ("1 to 11 months", "8 kg to
# 11 kg", "18 years and over"), or a row of a table passage.
BAND = re.compile(r"\b\d+\s*(?:months?|years?|kg)\b", re.I)
_URL_END = re.compile(r"(https?://|www\.|\.(org|uk|com|scot|net)\b)\S*$")  # an entry ending in its address
_ENDS = re.compile(r"""[.!?:;)\]"'”’]\s*$""")


def ends_whole(text: str) -> bool:
    last = text.strip().split("\n")[-1].strip()
    return bool(_ENDS.search(last) or _URL_END.search(last)) or last.startswith(("- ", "|"))


def real_heading(label: str) -> bool:
    last = label.split(" › ")[-1].strip()
    if not last or last == "Introduction":
        return True
    first = next((ch for ch in last if ch.isalnum()), "")
    if not (first.isupper() or first.isdigit()):
        return False
    return not (last.endswith(".") and len(last.split()) <= 6)


def dose_rows(text: str, table: bool = False) -> tuple[int, int]:
    """(dosing rows, those with a drug named in the row): a dosing row is a line with a dose and
    an age or weight band, or a table row with a dose."""
    doses = with_drug = 0
    for line in text.split("\n"):
        if not (BAND.search(line) or (table and line.startswith("|") and not line.startswith("| ---"))):
            continue
        if DOSE.search(line):
            doses += 1
            with_drug += bool(_DRUG.search(line))
    return doses, with_drug


def measure(path: Path) -> dict:
    from pipelines.ingest import chunk_sections, parse_document
    from pipelines.validate import IngestError, Limits

    started = time.perf_counter()
    row = {"file": path.name}
    try:
        doc = parse_document(path, Limits(300_000_000, 200.0, 500_000_000), max_pages=400)
    except IngestError as exc:
        return {**row, "refused": exc.reason, "seconds": round(time.perf_counter() - started, 1)}
    chunks = chunk_sections(doc)
    labels = {c.section for c in chunks}
    doses = [dose_rows(c.text, getattr(c, "kind", "") == "table") for c in chunks]
    meta = doc.meta
    antimicrobial = any(k.lower() in path.name.lower() for k in ANTIMICROBIAL_DOCS)
    return {**row, "pages": doc.pages, "passages": len(chunks),
            "ends_whole": sum(ends_whole(c.text) for c in chunks),
            "labels": len(labels), "real_headings": sum(real_heading(lb) for lb in labels),
            "doses": sum(d for d, _ in doses) if antimicrobial else 0,
            "doses_with_drug": sum(w for _, w in doses) if antimicrobial else 0,
            "kinds": _count(getattr(c, "kind", "?") for c in chunks),
            "title": meta.title, "publisher": meta.publisher, "code": getattr(meta, "code", ""),
            "last_reviewed": meta.last_reviewed, "review_date": getattr(meta, "review_date", ""),
            "url": meta.source_url,
            "publisher_found": "unknown" not in meta.publisher.lower(),
            "date_found": bool(meta.last_reviewed or getattr(meta, "review_date", "")),
            "seconds": round(time.perf_counter() - started, 1)}


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def totals(rows: list[dict]) -> dict:
    ok = [r for r in rows if "refused" not in r]
    passages = sum(r["passages"] for r in ok) or 1
    labels = sum(r["labels"] for r in ok) or 1
    doses = sum(r["doses"] for r in ok) or 1
    return {"documents": len(rows), "refused": len(rows) - len(ok), "passages": sum(r["passages"] for r in ok),
            "ends_whole": round(sum(r["ends_whole"] for r in ok) / passages, 3),
            "real_headings": round(sum(r["real_headings"] for r in ok) / labels, 3),
            "dose_rows_with_drug": round(sum(r["doses_with_drug"] for r in ok) / doses, 3),
            "doses_counted": sum(r["doses"] for r in ok),
            "publisher_found": round(sum(r["publisher_found"] for r in ok) / len(rows), 3),
            "date_found": round(sum(r["date_found"] for r in ok) / len(rows), 3),
            "seconds": round(sum(r["seconds"] for r in rows), 1)}


def markdown(rows: list[dict]) -> str:
    head = ("| document | pages | passages | end whole | real headings | dose rows with drug | publisher | "
            "last reviewed / review | title |\n|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        if "refused" in r:
            lines.append(f"| {r['file'][:48]} | | refused | | | | | | {r['refused'][:40]} |")
            continue
        dose = f"{r['doses_with_drug']}/{r['doses']}" if r["doses"] else "-"
        lines.append(f"| {r['file'][:48]} | {r['pages'] or '-'} | {r['passages']} | "
                     f"{r['ends_whole']}/{r['passages']} | {r['real_headings']}/{r['labels']} | {dose} | "
                     f"{r['publisher'][:30]} | {r['last_reviewed'] or r['review_date'] or '-'} | {r['title'][:40]} |")
    return "\n".join(lines)


def _share(done: int, total: int) -> str:
    return f"{done}/{total}" if total else "-"


def compare(before: dict, after: dict) -> str:
    """Per document, before → after, and the totals, as a Markdown table."""
    old = {r["file"]: r for r in before["rows"]}
    lines = ["| document | pages | passages | end whole | real headings | dose rows with drug | "
             "publisher | date | title found |", "|---|---|---|---|---|---|---|---|---|"]
    for r in after["rows"]:
        b = old.get(r["file"], {})
        if "refused" in r:
            lines.append(f"| {r['file']} | | refused: {r['refused'][:60]} | | | | | | |")
            continue
        was = "refused → " if "refused" in b else f"{b.get('passages', '?')} → "
        lines.append(
            f"| {r['file'][:60]} | {r['pages'] or '-'} | {was}{r['passages']} | "
            f"{_share(b.get('ends_whole', 0), b.get('passages', 0))} → {_share(r['ends_whole'], r['passages'])} | "
            f"{_share(b.get('real_headings', 0), b.get('labels', 0))} → {_share(r['real_headings'], r['labels'])} | "
            f"{_share(b.get('doses_with_drug', 0), b.get('doses', 0))} → {_share(r['doses_with_drug'], r['doses'])} | "
            f"{r['publisher'][:40] if r['publisher_found'] else '—'} | "
            f"{(r['last_reviewed'] or r['review_date']) if r['date_found'] else '—'} | {r['title'][:50]} |")
    tb, ta = before["totals"], after["totals"]
    lines += ["", "| total | before | after |", "|---|---|---|"]
    for key, label in (("passages", "passages"), ("ends_whole", "passages ending at a sentence or item end"),
                       ("real_headings", "section labels that are real headings"),
                       ("dose_rows_with_drug", "dosing rows carrying their drug (antimicrobial documents)"),
                       ("publisher_found", "documents with a publisher"), ("date_found", "documents with a date"),
                       ("refused", "documents refused"), ("seconds", "seconds to read all 45 (2 cores)")):
        lines.append(f"| {label} | {tb[key]} | {ta[key]} |")
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        print(compare(json.loads(Path(sys.argv[2]).read_text()), json.loads(Path(sys.argv[3]).read_text())))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--json", help="write every row and the totals to this file")
    parser.add_argument("--markdown", action="store_true", help="print the per-document table")
    args = parser.parse_args()
    rows = []
    for path in sorted(Path(args.folder).iterdir()):
        if path.is_file():
            rows.append(measure(path))
            sys.stderr.write(f"{path.name[:60]:<60} {rows[-1].get('passages', 'refused')}\n")
    summary = totals(rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "totals": summary}, indent=1))
    if args.markdown:
        print(markdown(rows))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
