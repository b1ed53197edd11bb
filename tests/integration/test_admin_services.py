"""The services beneath the admin page, on real files, a real index and a real records store:
sign-in and lockout, upload preview warnings, publishing with a bad file, version change
reports, library actions refused without a session, and gap grouping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.admin import AdminService, PendingUpload, document_identifier_kinds, group_similar
from pipelines.assistant import Assistant
from pipelines.auth import AdminSession, Authenticator, NotAuthorised, hash_password
from pipelines.store import Store
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "data" / "guidelines"
PASSWORD = "correct horse battery"
HASH = hash_password(PASSWORD)


class Clock:
    """A settable clock: lockout and timeout are tested without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def guideline_md(title: str, version: str, sections: dict[str, str]) -> str:
    body = "\n\n".join(f"## {name}\n\n{text}" for name, text in sections.items())
    return (f"---\ntitle: {title}\npublisher: Test publisher\nlast_reviewed: 2025-01-01\n"
            f"specialty: Testing\nversion: \"{version}\"\n---\n# {title}\n\n{body}\n")


LONG = ("Offer the first-line treatment for three days and review if symptoms persist. "
        "Explain the expected course, the warning signs and when to seek urgent help again. ") * 4


@pytest.fixture
def auth(library_assistant: Assistant) -> Authenticator:
    return Authenticator(library_assistant.settings.model_copy(update={"admin_password_hash": HASH}),
                         library_assistant.store)


@pytest.fixture
def service(library_assistant: Assistant, auth: Authenticator) -> AdminService:
    return AdminService(library_assistant, auth)


@pytest.fixture
def session(auth: Authenticator) -> AdminSession:
    result = auth.sign_in("admin", PASSWORD)
    assert result.ok
    return result.session


# Sign-in -------------------------------------------------------------------------------------
def make_auth(tmp_path: Path, clock: Clock, **overrides) -> Authenticator:
    settings = make_settings(tmp_path / "data", admin_password_hash=HASH, **overrides)
    return Authenticator(settings, Store(settings.db_url), clock=clock)


def test_lockout_backs_off_exponentially_and_holds_across_authenticators(tmp_path: Path) -> None:
    clock = Clock()
    auth = make_auth(tmp_path, clock, lockout_after=3, lockout_base_s=30)
    assert [auth.sign_in("admin", "wrong").locked_for_s for _ in range(3)] == [0, 0, 30]
    assert not auth.sign_in("admin", PASSWORD).ok, "the right password is refused while locked"
    clock.now += 31
    assert auth.sign_in("admin", "wrong again").locked_for_s == 60
    clock.now += 61
    other_process = make_auth(tmp_path, clock, lockout_after=3, lockout_base_s=30)
    assert other_process.sign_in("admin", "still wrong").locked_for_s == 120
    clock.now += 121
    assert auth.sign_in("admin", PASSWORD).ok
    assert auth.sign_in("admin", "wrong").locked_for_s == 0, "a success resets the count"
    outcomes = [r["outcome"] for r in auth.store.audit_rows() if r["action"] == "sign-in"]
    assert {"ok", "failed", "locked"} <= set(outcomes)


def test_sessions_expire_are_signed_per_process_and_cannot_be_built_by_hand(tmp_path: Path) -> None:
    clock = Clock()
    auth = make_auth(tmp_path, clock, session_timeout_min=30)
    session = auth.sign_in("admin", PASSWORD).session
    assert auth.validate(session.token) == session
    assert auth.validate(session.token[:-4] + "AAAA") is None
    assert auth.validate("forged") is None and auth.validate(True) is None
    assert make_auth(tmp_path, clock).validate(session.token) is None, "another process's secret"
    with pytest.raises(NotAuthorised):
        AdminSession("admin", clock.now + 60, session.token)
    renewed = auth.renew(session)
    assert auth.validate(session.token) is None and auth.validate(renewed.token) is not None
    clock.now += 31 * 60
    assert auth.validate(renewed.token) is None and auth.expired(renewed.token)
    with pytest.raises(NotAuthorised):
        auth.require(renewed)


def test_no_hash_configured_means_no_sign_in(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    auth = Authenticator(settings, Store(settings.db_url))
    result = auth.sign_in("admin", "")
    assert not auth.configured and not result.ok
    assert "python -m pipelines hash-password" in result.message


def test_services_refuse_without_a_valid_session(service: AdminService, session: AdminSession) -> None:
    row = service.store.guideline_rows("active")[0]
    service.auth.sign_out(session)
    for call in (lambda: service.retire(session, row["id"]), lambda: service.delete(None, row["id"]),
                 lambda: service.table("admin"), lambda: service.rollback(True)):
        with pytest.raises(NotAuthorised):
            call()
    assert service.store.find_guideline(row["guideline_id"], status="active")["id"] == row["id"]
    assert any(r["outcome"] == "refused" for r in service.store.audit_rows())


# Upload preview ----------------------------------------------------------------------------------
def test_preview_warns_about_patient_identifiers(service: AdminService, session: AdminSession,
                                                 tmp_path: Path) -> None:
    case = tmp_path / "case-study.md"
    case.write_text(guideline_md("Chest infection case study", "1", {
        "Case": "Patient: John Smith, NHS 943 476 5919, DOB 01/02/1960, presented with cough. " + LONG,
        "Management": LONG}))
    preview = service.preview(session, case, case.name)
    warning = next(w for w in preview.warnings if "patient identifiers" in w)
    assert "NHS number" in warning and "date of birth" in warning and "name" in warning
    clean = service.preview(session, LIBRARY / "impetigo.md", "impetigo.md")
    assert not any("identifiers" in w for w in clean.warnings)
    assert {"Overview", "Assessment and diagnosis", "Referral"} <= set(clean.sections)
    assert clean.chunks > 3 and not clean.replaces


@pytest.mark.parametrize("document", [
    "PDF review of the IPCC 2023 report, 18.5-24 kg/m2, reviewed 2021-11-26, Wells score.",
])
def test_document_identifier_scan_ignores_ordinary_guideline_text(document: str) -> None:
    assert document_identifier_kinds(document) == []


def test_preview_warns_short_and_empty_files(service: AdminService, session: AdminSession,
                                             tmp_path: Path) -> None:
    short = tmp_path / "short.md"
    short.write_text("# Tiny note\n\nOffer paracetamol for fever and review in two days if needed.\n")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert any(w.startswith("Very short") for w in service.preview(session, short, short.name).warnings)
    blank = service.preview(session, empty, empty.name)
    assert not blank.publishable and blank.warnings and "empty" in blank.error.lower()


def test_preview_warns_that_an_existing_guideline_would_be_replaced(
        service: AdminService, session: AdminSession, tmp_path: Path) -> None:
    v2 = tmp_path / "impetigo-2026.md"
    v2.write_text((LIBRARY / "impetigo.md").read_text().replace('version: "1"', 'version: "2"'))
    preview = service.preview(session, v2, v2.name)
    assert preview.replaces and preview.replaces["version"] == "1"
    assert any("Replaces the published version 1 of 'Impetigo'" in w for w in preview.warnings)
    same = service.preview(session, LIBRARY / "impetigo.md", "impetigo.md")
    assert "already published" in same.blocked and not same.publishable  # Publish stays disabled


# Publishing ----------------------------------------------------------------------------------------
def test_publishing_several_files_keeps_going_past_a_corrupt_one(
        service: AdminService, session: AdminSession, tmp_path: Path) -> None:
    good = []
    for name, title in (("tattoo.md", "Tattoo aftercare"), ("diving.md", "Fitness to dive")):
        (tmp_path / name).write_text(guideline_md(title, "1", {"Advice": LONG, "Follow-up": LONG}))
        good.append(PendingUpload(tmp_path / name, name))
    corrupt = tmp_path / "broken.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not really a PDF")
    live = service.library.index.live_collection()
    before = service.library.index.count(live)
    fractions: dict[int, list[float]] = {}
    results = service.publish(session, [good[0], PendingUpload(corrupt, "broken.pdf"), good[1]],
                              progress_for=lambda i: lambda f, m: fractions.setdefault(i, []).append(f))
    statuses = [r.report.status for r in results]
    assert statuses == ["added", "failed", "added"]
    assert "PDF" in results[1].report.reason
    added_chunks = results[0].report.chunks + results[2].report.chunks
    assert service.library.index.count(live) == before + added_chunks
    assert not [r for r in service.store.guideline_rows() if r["file_name"] == "broken.pdf"
                and r["status"] != "failed"]
    assert all(f[-1] == 1.0 for f in fractions.values()) and len(fractions) == 3
    failed = [r for r in service.store.audit_rows() if r["target"] == "broken.pdf"]
    assert failed and failed[0]["outcome"] == "failed" and failed[0]["actor"] == "admin"


def test_version_change_report_lists_sections_and_the_questions_that_cited_them(
        service: AdminService, session: AdminSession, tmp_path: Path) -> None:
    sections = {
        "Scalp cooling": "Scalp cooling caps reduce hair loss during taxane chemotherapy. " + LONG,
        "Wig vouchers": "Wig vouchers are issued by the oncology unit after the first cycle. " + LONG,
        "Eyebrow tattooing": "Microblading of eyebrows should wait until neutrophils recover. " + LONG,
    }
    v1 = tmp_path / "alopecia-v1.md"
    v1.write_text(guideline_md("Chemotherapy alopecia", "1", sections))
    assert service.publish(session, [PendingUpload(v1, v1.name)])[0].report.status == "added"
    asked = service.assistant.ask("When are wig vouchers issued for chemotherapy alopecia?")
    assert any(c.section == "Wig vouchers" for c in asked.citations)
    changed = dict(sections)
    changed["Wig vouchers"] = "Wig vouchers are now issued by the GP practice at diagnosis. " + LONG
    del changed["Eyebrow tattooing"]
    changed["Headscarves"] = "Headscarves and soft caps are an alternative to wigs. " + LONG
    v2 = tmp_path / "alopecia-v2.md"
    v2.write_text(guideline_md("Chemotherapy alopecia", "2", changed))
    result = service.publish(session, [PendingUpload(v2, v2.name)])[0]
    report = result.changes
    assert result.report.status == "replaced" and report is not None
    assert (report.added, report.removed, report.changed, report.unchanged) == (
        ["Headscarves"], ["Eyebrow tattooing"], ["Wig vouchers"], 1)
    assert [q.question for q in report.questions] == [asked.question]
    assert report.questions[0].section == "Wig vouchers"


# Gaps ----------------------------------------------------------------------------------------------
def test_group_similar_is_greedy_by_cosine_and_largest_first() -> None:
    texts = ["a1", "b1", "a2", "c1", "b2", "a3"]
    vectors = [[1, 0, 0], [0, 1, 0], [0.9, 0.1, 0], [0, 0, 1], [0.1, 0.95, 0], [0.95, 0, 0.05]]
    gaps = group_similar(texts, vectors, threshold=0.75)
    assert [g.questions for g in gaps] == [["a1", "a2", "a3"], ["b1", "b2"], ["c1"]]
    assert group_similar([], []) == []
    with pytest.raises(ValueError):
        group_similar(["x"], [])


def test_unanswered_questions_are_grouped_by_meaning(service: AdminService, session: AdminSession) -> None:
    questions = ["What is the dose of ivermectin for scabies in a care home outbreak?",
                 "Scabies outbreak in a care home: ivermectin dose?",
                 "How do I manage a suspected scabies outbreak in a nursing home with ivermectin?",
                 "What vaccinations are needed before travel to Brazil?",
                 "Which travel vaccines for a trip to Brazil?"]
    for q in questions:
        service.store.add_query_event(question=q, level="insufficient", abstained=True, cited=[])
    service.store.add_query_event(question="How is gout treated?", level="high", abstained=False, cited=[])
    gaps = service.gaps(session)
    assert [sorted(g.questions) for g in gaps] == [sorted(questions[:3]), sorted(questions[3:])]
    assert re.search("scabies", gaps[0].label, re.I)


def test_demonstration_library_is_labelled_and_removed_in_one_audited_action(
        service: AdminService, session: AdminSession, library_assistant: Assistant, tmp_path: Path) -> None:
    own = tmp_path / "local-pathway.md"
    own.write_text(guideline_md("Local cough pathway", "1", {"Management": LONG}), "utf-8")
    assert library_assistant.library.ingest_file(own).status == "added"
    table = service.table(session)
    assert table["Demonstration"].sum() >= 40 and not table[table["Title"] == "Local cough pathway"]["Demonstration"].any()
    removed = service.remove_demo(session)
    assert removed == int(table["Demonstration"].sum())
    left = service.table(session)
    assert list(left["Title"]) == ["Local cough pathway"]
    answer = library_assistant.ask("How do I treat acne vulgaris?", log=False)
    assert not any(p.publisher.startswith("Demonstration summary") for p in answer.sources)
    assert any(r["action"] == "remove demonstration library" and r["actor"] == "admin"
               for r in library_assistant.store.audit_rows())


IMPETIGO_OWN = {
    "Treatment": ("For localised non-bullous impetigo in a person who is not systemically unwell, "
                  "offer hydrogen peroxide 1% cream applied two or three times a day for 5 days. "
                  "If hydrogen peroxide is unsuitable, offer fusidic acid 2% cream three times a "
                  "day for 5 days. ") * 2,
    "Advice": ("Keep children off school or nursery until the lesions have crusted over and "
               "healed, or for 48 hours after starting antibiotic treatment. ") * 2,
}


def test_own_guidance_leads_a_same_titled_demonstration_summary_that_stays_for_other_topics(
        service: AdminService, session: AdminSession, library_assistant: Assistant, tmp_path: Path) -> None:
    own = tmp_path / "impetigo-trust.md"
    own.write_text(guideline_md("Impetigo", "1", IMPETIGO_OWN), "utf-8")
    preview = service.preview(session, own, own.name)
    assert not preview.replaces and preview.publishable  # another publisher's Impetigo: kept beside
    assert any("'Impetigo' from Demonstration summary" in w and "both are kept" in w
               for w in preview.warnings), preview.warnings
    assert library_assistant.library.ingest_file(own).status == "added"
    impetigo = [r for r in service.store.guideline_rows("active") if r["title"] == "Impetigo"]
    assert len(impetigo) == 2  # the two publishers' documents coexist
    answer = library_assistant.ask("How should I treat impetigo in a child?", log=False)
    cited = [c.publisher for c in answer.citations]
    assert cited and set(cited) == {"Test publisher"}, cited  # the demonstration summary stands back
    assert "hydrogen peroxide" in answer.answer.splitlines()[0].lower(), answer.answer
    other = library_assistant.ask("How do I treat acne vulgaris?", log=False)
    assert other.sources and other.sources[0].publisher.startswith("Demonstration summary")


def test_a_used_install_is_never_reseeded_with_the_demonstration_library(
        service: AdminService, session: AdminSession, library_assistant: Assistant) -> None:
    service.remove_demo(session)
    assert library_assistant.store.guideline_rows() == []
    assert library_assistant.library.seed_if_empty() == []
    assert library_assistant.store.guideline_rows() == []


SCABIES = ("For a scabies outbreak in a care home, treat every resident and member of staff on the "
           "same day. Oral ivermectin 200 micrograms per kilogram is given when topical permethrin "
           "cream cannot be applied to the whole body, repeated after 7 days. Wash bedding and "
           "clothing at 60 degrees on the day of treatment. ") * 3


def test_insights_flag_wrong_refusals_list_weak_answers_and_mark_covered_gaps(
        service: AdminService, session: AdminSession, library_assistant: Assistant, tmp_path: Path) -> None:
    store = service.store
    chest = "Crushing chest pain with sweating for an hour in a 60 year old: what should I do?"
    store.add_query_event(question=chest, level="insufficient", abstained=True, top_title="Stable angina", cited=[])
    store.add_query_event(question="Rate or rhythm control first in atrial fibrillation?", level="insufficient",
                          abstained=True, top_title="Atrial fibrillation", cited=[])
    scabies = "What is the ivermectin dose for a scabies outbreak in a care home?"
    store.add_query_event(question=scabies, level="insufficient", abstained=True, top_title="Impetigo", cited=[])
    store.add_query_event(question="Gout flare on a diuretic, what next?", level="low", abstained=False,
                          top_title="Gout", cited=[{"title": "Gout", "section": "Acute flare"}])
    answer = library_assistant.ask("How should acute gout be treated?", log=False)
    library_assistant.feedback(answer, -1, "It left out the colchicine dose")
    library_assistant.feedback(answer, 1, "")

    insights = service.insights(session)
    wrong = {g.gap.label: g.wrong_refusal for g in insights.of_kind("likely wrong refusal")}
    assert wrong.keys() == {chest, "Rate or rhythm control first in atrial fibrillation?"}
    assert wrong[chest] == "Red flag: Acute coronary syndrome"
    assert [g.gap.label for g in insights.of_kind("gap")] == [scabies]
    assert list(insights.low_confidence["Question"]) == ["Gout flare on a diuretic, what next?"]
    assert list(insights.negative_feedback["Comment"]) == ["It left out the colchicine dose"]
    assert len(insights.feedback) == 2

    guideline = tmp_path / "scabies-care-homes.md"
    guideline.write_text(guideline_md("Scabies outbreaks in care homes", "1", {"Treatment": SCABIES}), "utf-8")
    assert library_assistant.library.ingest_file(guideline).status == "added"
    covered = service.insights(session).of_kind("covered")
    # Only the scabies gap: the others may be answered now, but not by a newly published guideline.
    assert [(g.gap.label, g.covered_by) for g in covered] == [(scabies, "Scabies outbreaks in care homes")]

    service.log_export(session, "gaps", 3)
    assert store.audit_rows(1)[0]["action"] == "export"


# All or nothing ----------------------------------------------------------------------------------
class TabClosed(BaseException):
    """What Streamlit raises in a script run whose tab has gone (StopException is a BaseException)."""


def interrupt_at_write(fraction: float, message: str) -> None:  # noqa: ARG001
    if message == "Writing to the index":
        raise TabClosed


def test_an_interrupted_publish_rolls_back_then_resumes_or_discards(
        service: AdminService, session: AdminSession, tmp_path: Path) -> None:
    library = service.library
    live = library.index.live_collection()
    before = library.index.count(live)
    path = tmp_path / "tattoo.md"
    path.write_text(guideline_md("Tattoo aftercare", "1", {"Advice": LONG, "Follow-up": LONG}))
    with pytest.raises(TabClosed):
        library.ingest_file(path, actor="admin", progress=interrupt_at_write)
    [row] = [r for r in service.store.guideline_rows() if r["title"] == "Tattoo aftercare"]
    assert row["status"] == "failed" and library.index.count(live) == before  # nothing half-served
    preview = service.preview(session, path, path.name)
    assert preview.publishable and any("interrupted and rolled back" in w for w in preview.warnings)

    report = service.resume(session, row["id"])
    assert report.status == "added"
    assert [r["status"] for r in service.store.guideline_rows() if r["title"] == "Tattoo aftercare"] == ["active"]
    assert library.index.count(live) == before + report.chunks

    other = tmp_path / "diving.md"
    other.write_text(guideline_md("Fitness to dive", "1", {"Advice": LONG}))
    with pytest.raises(TabClosed):
        library.ingest_file(other, actor="admin", progress=interrupt_at_write)
    [failed] = [r for r in service.store.guideline_rows() if r["title"] == "Fitness to dive"]
    service.delete(session, failed["id"])  # Discard
    assert not [r for r in service.store.guideline_rows() if r["title"] == "Fitness to dive"]


def test_publish_runs_on_the_server_without_anyone_watching(
        service: AdminService, session: AdminSession, tmp_path: Path) -> None:
    path = tmp_path / "tattoo.md"
    path.write_text(guideline_md("Tattoo aftercare", "1", {"Advice": LONG, "Follow-up": LONG}))
    cleaned: list[bool] = []
    job = service.start_publish(session, [PendingUpload(path, path.name)], cleanup=lambda: cleaned.append(True))
    assert service.publish_job(session, job.id) is job
    assert job.wait(timeout=600)  # nobody polls the progress: it completes all the same
    assert [r.report.status for r in job.results] == ["added"] and cleaned == [True]
    assert job.files()[0].fraction == 1.0 and not service.running_jobs()
    assert service.store.find_guideline(job.results[0].report.guideline_id, status="active")


def test_preview_refuses_what_publishing_would_refuse(service: AdminService, session: AdminSession,
                                                       tmp_path: Path) -> None:
    from pipelines.library import file_sha256

    changed = tmp_path / "impetigo-edited.md"
    changed.write_text((LIBRARY / "impetigo.md").read_text() + "\n\nA local note added to the text.\n")
    preview = service.preview(session, changed, changed.name)
    assert "new version number" in preview.blocked and not preview.publishable
    fresh = tmp_path / "tattoo.md"
    fresh.write_text(guideline_md("Tattoo aftercare", "1", {"Advice": LONG}))
    meta = service.preview(session, fresh, fresh.name).meta
    row = service.store.add_guideline(guideline_id=meta.guideline_id, version=meta.version, title=meta.title,
                                      status="pending", file_hash=file_sha256(fresh))
    pending = service.preview(session, fresh, fresh.name)
    assert "being published right now" in pending.blocked and "already published" not in pending.blocked
    service.store.set_status(row, "retired")
    assert "Restore this version" in service.preview(session, fresh, fresh.name).blocked
    assert service.preview(session, fresh, fresh.name).first_passages
