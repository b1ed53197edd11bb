"""Command line: python -m pipelines ingest|inspect|status|ask|eval|reindex|seed-edge|rollback|hash-password|related|bench|audit."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipelines.config import get_settings


def progress_bar(fraction: float, message: str) -> None:
    """A one-line terminal progress bar on stderr."""
    width = 30
    filled = int(width * max(0.0, min(1.0, fraction)))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} {message[:60]:<60}")
    if fraction >= 1.0:
        sys.stderr.write("\n")
    sys.stderr.flush()


def open_assistant(seed: bool = True):
    from pipelines.assistant import Assistant
    from pipelines.index import IndexLockedError

    try:
        assistant = Assistant.create(get_settings())
    except IndexLockedError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(2) from None
    if seed:
        assistant.startup(progress=progress_bar)
    return assistant


def cmd_ingest(args: argparse.Namespace) -> int:
    assistant = open_assistant(seed=False)
    assistant.library.recover()
    failed = 0
    files = [p for path in args.paths for p in (sorted(Path(path).iterdir()) if Path(path).is_dir() else [Path(path)])]
    for i, path in enumerate(files):
        progress_bar(i / max(len(files), 1), f"Indexing {path.name}")

        def within(fraction: float, message: str, i: int = i) -> None:  # this file's share of the bar
            progress_bar((i + fraction) / max(len(files), 1), message)

        report = assistant.library.ingest_file(path, actor=args.actor, progress=within)
        failed += report.status == "failed"
        line = f"{report.status:>9}  {path.name}" + (f"  ({report.chunks} chunks)" if report.chunks else "")
        sys.stderr.write("\r" + " " * 100 + "\r")
        print(line + (f"  — {report.reason}" if report.reason else ""))
    progress_bar(1.0, f"{len(files)} file(s), {failed} failed")
    return 1 if failed else 0


def cmd_inspect(args: argparse.Namespace) -> int:
    """What ingest would store for one file (metadata, sections, passages), storing nothing."""
    from pipelines.ingest import chunk_sections, parse_document
    from pipelines.validate import IngestError, Limits

    settings = get_settings()
    try:
        doc = parse_document(Path(args.path), Limits.from_settings(settings), max_pages=settings.max_pages)
    except IngestError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    meta = doc.meta
    chunks = chunk_sections(doc)
    found = {"title": meta.title, "publisher": meta.publisher, "code": meta.code,
             "published": meta.published, "last_updated": meta.last_reviewed,
             "review_date": meta.review_date, "url": meta.source_url}
    passages = [{"section": c.section, "kind": c.kind, "page": c.page, "printed_page": c.printed_page,
                 "text": c.text} for c in chunks]
    if args.json:
        print(json.dumps({"metadata": found, "passages": passages, "warnings": doc.warnings}, indent=1))
        return 0
    for key, value in found.items():
        print(f"{key:>13}: {value or '-'}")
    print(f"{'pages':>13}: {doc.pages or '-'}   passages: {len(passages)}")
    for w in doc.warnings:
        print(f"      warning: {w}")
    print("\nSections:")
    for label in dict.fromkeys(" › ".join(s.path[1:]) or "Introduction" for s in doc.sections):
        print(f"  {label}")
    for n, p in enumerate(passages, 1):
        page = f"p{p['page']}" + (f" (printed {p['printed_page']})" if p["printed_page"] else "")
        print(f"\n[{n}] {p['section']} · {p['kind']} · {page}\n{p['text']}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    status = open_assistant().status()
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        for key, value in status.items():
            print(f"{key:>18}: {value}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    assistant = open_assistant()
    answer = assistant.ask(args.question)
    if args.json:
        print(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
        return 0
    print(f"{answer.confidence.label}\n\n{answer.answer}\n")
    for flag in answer.red_flags:
        print(f"RED FLAG: {flag.message}")
    for notice in answer.notices:
        print(f"Note: {notice}")
    for c in answer.citations:
        page = f", page {c.page}" if c.page else ""
        print(f"[{c.n}] {c.title} › {c.section}{page} — {c.publisher}, reviewed {c.last_reviewed} {c.url}")
    print("\nAlways verify against the source and use clinical judgement.")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from pipelines import evaluate

    assistant = open_assistant()
    questions = evaluate.load_questions(Path(args.questions or get_settings().eval_questions))
    assistant.retriever.exact = bool(getattr(args, "exact", False))
    if args.ablation:
        table = evaluate.ablate(assistant, questions, progress=progress_bar)
        if args.json:
            print(json.dumps({"ablation": table}))
        else:
            print("| variant | " + " | ".join(evaluate.ABLATION_KEYS) + " |")
            print("| --- " * (len(evaluate.ABLATION_KEYS) + 1) + "|")
            for row in table:
                print(f"| {row['variant']} | " + " | ".join(f"{row[k]:.3f}" for k in evaluate.ABLATION_KEYS) + " |")
        return 0
    rows = []
    for row in evaluate.run(assistant, questions):
        rows.append(row)
        if args.json:
            print(json.dumps({k: row[k] for k in ("q", "rank", "level", "abstained", "top_titles", "ms")},
                             ensure_ascii=False))
    summary = evaluate.summarise(rows)
    print(json.dumps({"summary": summary}) if args.json else json.dumps(summary, indent=2))
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from pipelines import evaluate

    assistant = open_assistant()
    questions = evaluate.load_questions(get_settings().eval_questions)

    def score(collection: str) -> dict[str, Any]:
        return evaluate.summarise(list(evaluate.run(assistant, questions, collection=collection)))

    report = assistant.library.rebuild(actor=args.actor, progress=progress_bar,
                                       evaluate=None if args.no_eval else score, force=args.force)
    print(json.dumps(report, indent=2, default=str))
    return 0 if report["swapped"] else 1


def cmd_rollback(args: argparse.Namespace) -> int:
    assistant = open_assistant()
    print(f"Live index is now {assistant.library.rollback(args.actor)}")
    return 0


def cmd_seed_edge(args: argparse.Namespace) -> int:
    from pipelines.index.seed import SeedError, seed_from_snapshot

    assistant = open_assistant(seed=False)
    try:
        report = seed_from_snapshot(assistant, Path(args.snapshot), args.actor)
    except SeedError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    print(f"Live index is now {report.collection}: {report.points} passages, {report.versions} "
          f"guideline versions (previous: {report.previous or 'none'}; `rollback` puts it back)")
    return 0


def cmd_related(args: argparse.Namespace) -> int:
    assistant = open_assistant()
    answer = assistant.ask(args.question, log=False)
    for r in assistant.related(answer):
        print(f"{r.similarity:.2f}  ×{r.count}  {r.text}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from pipelines import bench

    return bench.main(args)


def cmd_audit(args: argparse.Namespace) -> int:
    from pipelines import audit

    return audit.main(online=args.online, as_json=args.json)


def read_new_password(stdin: bool) -> str:
    """The password from a prompt (typed twice, not echoed) or from the first line of stdin."""
    if stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("New admin password: ")
    if first != getpass.getpass("Repeat it: "):
        raise SystemExit("error: the two passwords differ")
    return first


def cmd_hash_password(args: argparse.Namespace) -> int:
    from pipelines.auth import hash_password

    try:
        hashed = hash_password(read_new_password(args.stdin))
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    print(password_hash_line(hashed))
    sys.stderr.write("Put this line in .env (or export it; in .streamlit/secrets.toml write "
                     "admin_password_hash = '...'), then restart the app.\n")
    return 0


def password_hash_line(hashed: str) -> str:
    """`GUIDELIGHT_ADMIN_PASSWORD_HASH='$argon2id$...'`: single quotes keep the `$`s literal in a
    shell and in `.env` alike (an argon2 hash never contains a quote)."""
    return f"GUIDELIGHT_ADMIN_PASSWORD_HASH='{hashed}'"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest", help="ingest files or folders into the live index")
    p.add_argument("paths", nargs="+")
    p.add_argument("--actor", default="cli")
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("inspect", help="show what ingest would store for a file, storing nothing")
    p.add_argument("path")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_inspect)
    p = sub.add_parser("status", help="guidelines, chunks, embedding model, index version")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("eval", help="run the gold question set")
    p.add_argument("--questions")
    p.add_argument("--json", action="store_true")
    p.add_argument("--ablation", action="store_true",
                   help="the gold-set figures with each retrieval choice switched off in turn")
    p.add_argument("--exact", action="store_true",
                   help="score every dense vector instead of walking the HNSW graph (what the graph costs)")
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("reindex", help="rebuild into a new collection and swap if quality holds")
    p.add_argument("--actor", default="cli")
    p.add_argument("--force", action="store_true", help="swap even if the gold-set hit@5 dropped")
    p.add_argument("--no-eval", action="store_true")
    p.set_defaults(func=cmd_reindex)
    p = sub.add_parser("seed-edge", help="make a Qdrant server's shard snapshot the live Edge index")
    p.add_argument("snapshot", help="the file from GET <QDRANT_URL>/collections/<name>/shards/0/snapshot")
    p.add_argument("--actor", default="cli")
    p.set_defaults(func=cmd_seed_edge)
    p = sub.add_parser("rollback", help="put the previous index back live")
    p.add_argument("--actor", default="cli")
    p.set_defaults(func=cmd_rollback)
    p = sub.add_parser("hash-password", help="make the argon2 hash for the admin password")
    p.add_argument("--stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_hash_password)
    p = sub.add_parser("related", help="related past questions for a question")
    p.add_argument("question")
    p.set_defaults(func=cmd_related)
    p = sub.add_parser("bench", help="latency and throughput benchmark (prints medians)")
    p.add_argument("--quick", action="store_true", help="a smaller run (about a minute)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--write-docs", action="store_true", help="also write docs/benchmark.md")
    p.add_argument("--related", type=int, default=0, help="past queries to store (default 10000)")
    p.add_argument("--threads", type=int, default=20, help="concurrent askers")
    p.add_argument("--scale", help="only measure growth at these index sizes, e.g. 1000,10000,100000,300000")
    p.add_argument("--grow-from", type=Path, help="with --scale: also grow from this data folder's live index")
    p.add_argument("--local-max", type=int, default=50_000, help="with --scale: largest size for local mode")
    p.add_argument("--related-stored", type=int, default=100_000, help="with --scale: past queries stored")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("audit", help="check installed dependencies against known-flawed releases")
    p.add_argument("--online", action="store_true", help="also ask PyPI's JSON API (needs network)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pipelines.index import close_clients

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    finally:
        close_clients()


if __name__ == "__main__":
    raise SystemExit(main())
