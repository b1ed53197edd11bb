"""Privacy: no patient identifier is stored, logged or sent to a model, whatever its layout.

The 200 questions of data/eval/identifiers.jsonl (scripts/make_identifier_corpus.py) go through
the real Assistant, offline and in model mode against the loopback model server; afterwards every
text column of every records table, every payload of the related-questions collection, every log
record (DEBUG, all loggers) and every request body the model server received is searched for
every identifier, with digits, spacing and case normalised. Also: clinical eponyms survive
scrubbing, and a guideline carrying a patient case is flagged before it is published.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, select

from pipelines.assistant import Assistant
from pipelines.admin import AdminService, document_identifier_kinds
from pipelines.auth import Authenticator, hash_password
from pipelines.safety import Scrubber
from tests.support.llm_server import LLMServer, llm_server, model_settings  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "data" / "eval" / "identifiers.jsonl"
_SEPARATORS = re.compile(r"[\s\-./()+:,]")


def load_corpus() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines() if line.strip()]


def squash(text: str) -> str:
    """Lower case with spaces and separators removed: '943 476-5919' and '9434765919' meet."""
    return _SEPARATORS.sub("", text.lower())


@dataclass(frozen=True)
class Needle:
    """One identifier as a pattern over squashed text (or over lower-cased text for short ones)."""

    question_id: int
    kind: str
    value: str
    pattern: re.Pattern[str]
    squashed: bool


def needles(entry: dict[str, Any]) -> list[Needle]:
    out = []
    for ident in entry["identifiers"]:
        kind, value = ident["kind"], ident["value"]
        if kind == "surname":
            out.append(Needle(entry["id"], kind, value, re.compile(rf"\b{re.escape(value.lower())}\b"), False))
            continue
        form = squash(value)
        if kind == "phone":  # the subscriber digits, whatever the prefix (+44, (0), 0)
            form = re.sub(r"^(44)?0?", "", re.sub(r"\D", "", value))
            out.append(Needle(entry["id"], kind, value, re.compile(rf"{form}(?!\d)"), True))
            continue
        if sum(c.isalnum() for c in form) < 6:  # too short to squash safely: match as written
            light = re.sub(r"\s+", " ", value.lower())
            out.append(Needle(entry["id"], kind, value, re.compile(rf"(?<![\w.]){re.escape(light)}(?![\w])"), False))
            continue
        out.append(Needle(entry["id"], kind, value, re.compile(rf"(?<![0-9a-z]){re.escape(form)}(?![0-9a-z])"), True))
    return out


def leaks(needles_: list[Needle], places: dict[str, str]) -> list[tuple[Needle, str]]:
    """(needle, place) for every identifier found in any place's text."""
    prepared = {name: (squash(text), re.sub(r"\s+", " ", text.lower())) for name, text in places.items()}
    return [(n, name) for n in needles_ for name, (sq, light) in prepared.items()
            if n.pattern.search(sq if n.squashed else light)]


def records_text(db_url: str) -> str:
    """Every text and JSON value of every table of the records database, one per line."""
    engine = create_engine(db_url)
    meta = MetaData()
    meta.reflect(engine)
    lines = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    if isinstance(value, str):
                        lines.append(value)
                    elif isinstance(value, (dict, list)):
                        lines.append(json.dumps(value, ensure_ascii=False))
    engine.dispose()
    return "\n".join(lines)


def payloads_text(assistant: Assistant, collection: str) -> tuple[str, int]:
    """Every payload of a Qdrant collection as JSON lines, and the point count."""
    lines = [json.dumps(p.payload, ensure_ascii=False) for p in assistant.index.iter_points(collection)]
    return "\n".join(lines), len(lines)


def stored_question_texts(db_url: str) -> list[str]:
    engine = create_engine(db_url)
    meta = MetaData()
    meta.reflect(engine, only=["query_events"])
    with engine.connect() as conn:
        rows = [r.question for r in conn.execute(select(meta.tables["query_events"]))]
    engine.dispose()
    return [q for q in rows if q]


def test_identifier_corpus_is_as_committed() -> None:
    """The committed corpus is what the seeded script writes, and covers every kind asked for."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("corpus", ROOT / "scripts" / "make_identifier_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.make_corpus(200) == load_corpus()
    entries = load_corpus()
    kinds = {i["kind"] for e in entries for i in e["identifiers"]}
    assert len(entries) == 200 and all(e["identifiers"] for e in entries)
    assert kinds >= {"nhs_number", "date_of_birth", "postcode", "phone", "ni_number", "email", "name",
                     "address"}
    values = " ".join(i["value"] for e in entries for i in e["identifiers"])
    for layout in (r"\b\d{10}\b", r"\b\d{3} \d{3} \d{4}\b", r"\b\d{3}-\d{3}-\d{4}\b",  # NHS layouts
                   r"\b[a-z]{1,2}\d[a-z\d]?\d[a-z]{2}\b", r"\+44", r"\b\d{1,2}\.\d{1,2}\.\d{2}\b"):
        assert re.search(layout, values), layout


def test_no_identifier_is_stored_logged_or_sent(seeded_settings, llm_server: LLMServer,  # noqa: F811
                                                caplog: pytest.LogCaptureFixture) -> None:
    """All 200 questions offline and in model mode: 0 identifiers anywhere they could land."""
    caplog.set_level(logging.DEBUG)
    entries = load_corpus()
    all_needles = [n for e in entries for n in needles(e)]
    offline = Assistant.create(seeded_settings)
    offline.startup()
    queries = offline.settings.queries_collection
    baseline_text = records_text(seeded_settings.db_url) + payloads_text(offline, queries)[0]
    assert not leaks(all_needles, {"seeded library": baseline_text}), "corpus overlaps the library"
    related_before = payloads_text(offline, queries)[1]
    model = Assistant.create(model_settings(seeded_settings, llm_server))

    scrub_misses = set()
    for entry in entries:
        answer = offline.ask(entry["q"], history=[entry["q"]])  # history is scrubbed too
        assert answer.redacted, f"question {entry['id']}: no identifier detected"
        if leaks(needles(entry), {"scrubbed": answer.question}):
            scrub_misses.add(entry["id"])
        offline.feedback(answer, -1, comment=entry["q"])
        assert model.ask(entry["q"]).redacted

    places = {"records": records_text(seeded_settings.db_url),
              "related questions": payloads_text(offline, queries)[0],
              "logs": caplog.text + "\n".join(r.getMessage() for r in caplog.records),
              "model requests": llm_server.sent_text()}
    found = leaks(all_needles, places)
    leaked = sorted({n.question_id for n, _ in found})
    print(f"\nidentifier corpus: {len(entries)} questions, {len(all_needles)} identifiers; "
          f"scrubber missed something in {len(scrub_misses)}; leaked into a store in {len(leaked)}; "
          f"model requests {len(llm_server.requests)}")
    assert not found, [(n.question_id, n.kind, n.value, place) for n, place in found[:20]]
    assert not scrub_misses, f"scrubbing missed identifiers in questions {sorted(scrub_misses)}"
    assert llm_server.requests, "model mode never called the model: the request check proved nothing"
    # Queries that tripped the filter are not stored: no question text, no related entry.
    assert stored_question_texts(seeded_settings.db_url) == []
    assert payloads_text(offline, queries)[1] == related_before


def test_clean_question_is_still_stored(assistant: Assistant) -> None:
    """The control for the test above: a question without identifiers is logged and offered."""
    queries = assistant.settings.queries_collection
    before = payloads_text(assistant, queries)[1]
    question = "How long should a trial of quinine be for nocturnal leg cramps?"
    answer = assistant.ask(question)
    assert not answer.redacted and answer.confidence.level in ("high", "moderate")
    assert stored_question_texts(assistant.settings.db_url) == [question]
    text, after = payloads_text(assistant, queries)
    assert after == before + 1 and "quinine" in text


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber()


@pytest.mark.parametrize("question, kept", [
    ("Mrs Okafor has Parkinson's disease and falls, what next?", "Parkinson's disease"),
    ("Steroid sick day rules in Addison's disease?", "Addison's disease"),
    ("Bell's palsy: is prednisolone indicated?", "Bell's palsy"),
    ("Does Down syndrome change thyroid screening?", "Down syndrome"),
    ("Crohn's and iron deficiency anaemia: oral or IV iron?", "Crohn's"),
    ("Margaret Pemberton has Crohn's disease, which iron?", "Crohn's disease"),
    ("Is Bell's palsy in Mr Whitfield a stroke mimic?", "Bell's palsy"),
])
def test_clinical_eponyms_survive_scrubbing(scrubber: Scrubber, question: str, kept: str) -> None:
    result = scrubber.scrub(question)
    assert kept in result.text
    for name in ("Okafor", "Pemberton", "Whitfield", "Margaret"):
        assert name not in result.text


PATIENT_CASE = """---
title: Persistent hiccups in adults
publisher: Demo Trust
version: "1"
---
# Persistent hiccups in adults

## Management
Hiccups lasting more than 48 hours are persistent and need a search for a cause. Consider
chlorpromazine or baclofen for intractable hiccups after excluding structural causes.

## Case study
Mrs Gwendolyn Abernethy (NHS number 999 349 1063, DOB 12/03/1941) of 14 Acacia Avenue, LS1 4AP,
telephone 07700 900123, presented with hiccups for five days after starting dexamethasone.
"""


def test_patient_case_in_an_upload_is_flagged_before_publishing(seeded_settings, tmp_path) -> None:
    """The admin preview (the step before publishing) warns about the identifiers, by kind."""
    settings = seeded_settings.model_copy(update={"admin_password_hash": hash_password("preview-pass")})
    assistant = Assistant.create(settings)
    auth = Authenticator(settings, assistant.store)
    session = auth.sign_in(settings.admin_user, "preview-pass").session
    path = tmp_path / "hiccups.md"
    path.write_text(PATIENT_CASE, "utf-8")
    live = assistant.index.live_collection()
    before = (assistant.index.count(live), len(assistant.store.guideline_rows()))
    try:
        preview = AdminService(assistant, auth).preview(session, path, "hiccups.md")
    finally:
        assistant.library.parser.close()
    text = " ".join(preview.warnings)
    assert preview.publishable and "patient identifiers" in text, preview.warnings
    for kind in ("NHS number", "date of birth", "postcode", "phone number", "name"):
        assert kind in text, (kind, text)
    assert "999 349 1063" not in text and "Abernethy" not in text  # kinds, never the values
    assert (assistant.index.count(live), len(assistant.store.guideline_rows())) == before


def test_the_bundled_library_raises_no_identifier_warning(assistant: Assistant) -> None:
    """The check's false-positive guard: none of the 48 demonstration guidelines carries a patient
    identifier, though they are full of doses, dates, phone lines (NHS 111) and eponyms."""
    live = assistant.index.live_collection()
    payloads = assistant.index.scroll_payloads(live, ["text", "title"])
    flagged = [(p["title"], kinds) for p in payloads if (kinds := document_identifier_kinds(p["text"]))]
    assert len(payloads) > 300 and flagged == []
    assert document_identifier_kinds(PATIENT_CASE)
