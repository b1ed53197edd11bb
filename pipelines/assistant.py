"""The facade every client uses (pages, CLI, tests): ask, stream, related, feedback, status.

Built once per process from `Settings` by `Assistant.create`; it owns the collaborators and passes
them into the chain. The question pipeline is a LangChain composition of named stages:
safety → condense → retrieve → compose → grade, then the offline answer or the model, and verify.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Iterator

from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from pipelines import generate
from pipelines.answer import compose as composer
from pipelines.answer import model as model_answer
from pipelines.answer.confidence import Thresholds, grade, with_lead
from pipelines.answer.emergency import urgent_action
from pipelines.answer.finish import abstain_text, finish
from pipelines.answer.followup import condense
from pipelines.answer.patient import read_patient
from pipelines.config import Settings
from pipelines.embeddings import make_embeddings
from pipelines.grading import measure, question_terms
from pipelines.index import Index
from pipelines.library import STORAGE_ERRORS, Library, Progress, no_progress
from pipelines.models import Answer, Confidence, Passage
from pipelines.parsing import ParserPool
from pipelines.related import RelatedQuestion, RelatedQuestions
from pipelines.retrieval import Found, GuidelineRetriever, SearchFilters
from pipelines.safety import Scrubber, clean_question, looks_like_injection, red_flags, search_text
from pipelines.store import Store
from pipelines.validate import Limits

logger = logging.getLogger(__name__)


class Assistant:
    def __init__(self, settings: Settings, store: Store, index: Index, library: Library,
                 retriever: GuidelineRetriever, scrubber: Scrubber, related: RelatedQuestions,
                 llm: Any | None = None) -> None:
        self.settings = settings
        self.store = store
        self.index = index
        self.library = library
        self.retriever = retriever
        self.scrubber = scrubber
        self.related_store = related
        self.thresholds = Thresholds.from_settings(settings)
        self.generation = generate.build_generation_chain(llm) if llm is not None else None
        self.model_name = settings.llm_model if llm is not None else None
        self.chain = self._build_chain()

    @classmethod
    def create(cls, settings: Settings, llm: Any | None = None) -> Assistant:
        store = Store(settings.db_url)
        index = Index.open(settings)
        embeddings = make_embeddings(settings)
        limits = Limits.from_settings(settings)
        parser = ParserPool(limits, timeout_s=settings.parse_timeout_s,
                            memory_mb=settings.parse_memory_mb, max_pages=settings.max_pages)
        library = Library(settings, store, index, embeddings, parser)
        retriever = GuidelineRetriever(
            index=index, embeddings=embeddings, top_k=settings.top_k, prefetch_k=settings.prefetch_k,
            per_guideline_cap=settings.per_guideline_cap,
            is_active=lambda gid, version: (gid, version) in library.active_versions())
        scrubber = Scrubber(known_term=lambda term: term in retriever.vocabulary().df)
        related = RelatedQuestions(index, embeddings, settings.queries_collection, 384)
        related.merge_threshold = settings.related_merge_similarity
        if llm is None and settings.model_mode:
            llm = generate.make_llm(settings)
        return cls(settings, store, index, library, retriever, scrubber, related, llm)

    # Start-up ------------------------------------------------------------------------------
    def startup(self, progress: Progress = no_progress) -> None:
        """Move an old local-mode index to Edge, recover from interruptions, seed an empty index
        and related-question store, purge."""
        from pipelines.index.migrate import migrate

        migrate(self, progress)
        self.library.recover()
        self.library.seed_if_empty(progress)
        self.related_store.seed_starters()
        self.related_store.purge(self.settings.query_retention_days)
        self.store.purge_query_events(self.settings.query_retention_days)

    @property
    def mode(self) -> str:
        return f"model:{self.model_name}" if self.generation is not None else "offline-extractive"

    # The chain -----------------------------------------------------------------------------
    def _build_chain(self):
        def timed(name: str, fn):
            def run(state: dict[str, Any]) -> Any:
                started = time.perf_counter()
                out = fn(state)
                state["timings"][name] = (time.perf_counter() - started) * 1000
                return out
            return RunnableLambda(run).with_config(run_name=name)

        return (
            RunnablePassthrough.assign(safety=timed("safety", self._safety))
            | RunnablePassthrough.assign(condensed=timed("condense", self._condense))
            | RunnablePassthrough.assign(search_query=lambda s: s["condensed"].query)
            | RunnablePassthrough.assign(retrieved=timed("retrieve", self._retrieve))
            | RunnablePassthrough.assign(passages=lambda s: s["retrieved"].passages,
                                         reserve=lambda s: s["retrieved"].reserve,
                                         evidence=lambda s: s["retrieved"].evidence)
            | RunnablePassthrough.assign(composition=timed("compose", self._compose_stage))
            | RunnablePassthrough.assign(confidence=timed("grade", self._grade))
        ).with_config(run_name="guidelight_answer")

    def _safety(self, state: dict[str, Any]) -> dict[str, Any]:
        question, notices = clean_question(state["question"], self.settings.max_question_chars)
        scrubbed = self.scrubber.scrub(question)
        history = [self.scrubber.scrub(h).text for h in state.get("history", [])]
        return {"text": scrubbed.text, "found": scrubbed.found, "notices": notices,
                "history": history, "red_flags": red_flags(scrubbed.text),
                "injection": looks_like_injection(scrubbed.text)}

    def _condense(self, state: dict[str, Any]):
        return condense(search_text(state["safety"]["text"]), [search_text(h) for h in state["safety"]["history"]])

    def _retrieve(self, state: dict[str, Any]) -> Found:
        """The ranked passages (cited, graded, shown as sources) and the reserve the offline
        composer may also quote from (more of the same guidelines, held back by the cap, and,
        when a red flag fired, the passages found for the red flag with the question)."""
        query = state["search_query"]
        if not query.strip():
            return Found([], [], [])
        passages, reserve, evidence = self.retriever.search_with_reserve(query, state.get("filters"),
                                                                         state.get("collection"))
        flags = state["safety"]["red_flags"]
        if flags:
            seen = {p.id for p in passages + reserve}
            flagged = self.retriever.search(" ".join(f.name for f in flags) + " " + query,
                                            state.get("filters"), state.get("collection"))
            reserve += [p for p in flagged if p.id not in seen]
        return Found(passages, reserve, evidence)

    def _compose_stage(self, state: dict[str, Any]) -> composer.Composition:
        """The offline composition, always: it is the answer offline, chooses the passages a
        model is given, and its lead is part of the confidence."""
        vocab = self.retriever.vocabulary(state.get("collection"))
        patient = read_patient(state["search_query"])
        request = composer.Request(state["search_query"], question_terms(state["search_query"], vocab), patient,
                                   list(state["condensed"].own_terms))
        pool = state["passages"] + state.get("reserve", [])
        return composer.compose(request, pool, vocab, urgent_action(state["safety"]["red_flags"], pool, patient,
                                                                    state["search_query"]))

    def _grade(self, state: dict[str, Any]) -> Confidence:
        if state["safety"]["injection"]:
            return Confidence("insufficient", ["This reads as an instruction to the assistant, not a "
                                               "clinical question, so it is not answered."])
        vocab = self.retriever.vocabulary(state.get("collection"))
        evidence = measure(state["search_query"], state.get("evidence") or state["passages"], vocab)
        evidence = with_lead(evidence, state["search_query"], state["composition"], vocab,
                             urgent=state["composition"].urgent is not None)
        return grade(evidence, self.thresholds)

    # Asking ----------------------------------------------------------------------------------
    def ask(self, question: str, history: list[str] | None = None,
            filters: SearchFilters | None = None, *, collection: str | None = None,
            log: bool = True) -> Answer:
        answer = None
        for item in self.stream(question, history, filters, collection=collection, log=log):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(self, question: str, history: list[str] | None = None,
               filters: SearchFilters | None = None, *, collection: str | None = None,
               log: bool = True) -> Iterator[str | Answer]:
        """Yield answer text as it is produced, then the finished `Answer`.

        Args:
            question: as typed; it is normalised and scrubbed before anything else sees it.
            history: the earlier questions of this conversation, oldest first.
            filters: optional publisher / specialty filter.
            collection: a collection other than the live one (evaluating a rebuild).
            log: record the query event and related question (off for evaluation).
        """
        started = time.perf_counter()
        # Resolve the alias once: a rebuild may swap it mid-question, and every stage (search,
        # vocabulary, index_version) must see the same collection.
        collection = collection or self.index.live_collection()
        mismatch = self.library.embedding_mismatch(collection) if collection else None
        if mismatch:
            refusal = self._refuse_mixed(question, collection, mismatch, started)
            yield refusal.answer
            yield refusal
            return
        state = self.chain.invoke({"question": question, "history": history or [],
                                   "filters": filters or SearchFilters(), "timings": {},
                                   "collection": collection})
        passages: list[Passage] = state["passages"]
        confidence: Confidence = state["confidence"]
        notices = list(state["safety"]["notices"])
        if state["condensed"].merged:
            notices.append(f"Searched as: {state['search_query']}")
        notices += model_answer.patient_notices(state.get("composition"))
        if state["filters"]:
            notices.append(f"Searched only guidelines with {state['filters'].describe()}.")
        if confidence.level == "insufficient":
            text, cited, mode = abstain_text(passages), [], "abstain"
            yield text
        elif self.generation is not None:
            text, cited, mode, confidence = yield from self._generate(state, notices)
        else:
            text, cited = self._compose(state)
            mode = "offline-extractive"
            yield text
        state["timings"]["total"] = (time.perf_counter() - started) * 1000
        answer = finish(state, text, cited, confidence, mode, notices,
                        self.settings.review_interval_days, self.index.live_collection() or "")
        if log:
            self._log(answer, state)
        yield answer

    def _compose(self, state: dict[str, Any]) -> tuple[str, list[Passage]]:
        composition: composer.Composition = state["composition"]
        return composition.markdown, composition.used

    def _generate(self, state: dict[str, Any], notices: list[str]):
        return (yield from model_answer.generate_answer(self.generation, state, notices, self.mode,
                                                 self.retriever.vocabulary(state.get("collection")),
                                                 self.thresholds))

    def _refuse_mixed(self, question: str, collection: str, mismatch: str, started: float) -> Answer:
        """No search at all when the index holds another model's vectors: comparing a query
        vector with them would return confident nonsense (or fail on the dimension)."""
        safety = self._safety({"question": question, "history": []})
        return Answer(
            question=safety["text"], answer="This question cannot be answered until the index is rebuilt.",
            confidence=Confidence("insufficient", [mismatch]), citations=[], sources=[], mode="abstain",
            timings_ms={"total": (time.perf_counter() - started) * 1000}, index_version=collection,
            redacted=safety["found"], red_flags=safety["red_flags"], notices=[mismatch])

    def _log(self, answer: Answer, state: dict[str, Any]) -> None:
        """Record the question; a failed write (a full disk) is logged, never shown as an error,
        because the clinician's answer matters more than its record."""
        try:
            self._record(answer, state)
        except STORAGE_ERRORS as exc:
            logger.warning("query event not recorded: %s", type(exc).__name__)

    def _record(self, answer: Answer, state: dict[str, Any]) -> None:
        """Query event always (text only when clean); related-question store only when clean."""
        clean = not answer.redacted
        self.store.add_query_event(
            question=answer.question if clean else None, level=answer.confidence.level,
            abstained=answer.abstained, top_title=answer.sources[0].title if answer.sources else None,
            cited=[{"title": c.title, "section": c.section, "guideline_id": c.guideline_id,
                    "version": c.version} for c in answer.citations], identifiers_found=not clean, mode=answer.mode,
            ms=answer.timings_ms.get("total"), index_version=answer.index_version)
        if clean and not state["safety"]["injection"]:
            vector = self.retriever.embeddings.embed_query(answer.question)
            self.related_store.record(answer.question, vector, answer.confidence.level)
            state["question_vector"] = vector

    # Around the answer -----------------------------------------------------------------------
    def related(self, answer: Answer, earlier: list[str] | None = None) -> list[RelatedQuestion]:
        """Stored questions close to this one, curated or asked by colleagues; never this
        question nor, given `earlier` (the conversation's questions), one already asked."""
        embeddings = self.retriever.embeddings
        vector = embeddings.embed_query(answer.search_query or answer.question)
        earlier = earlier or []
        return self.related_store.similar(
            vector, answer.question, self.settings.related_limit, self.settings.related_min_similarity,
            earlier=earlier, earlier_vectors=embeddings.embed_documents(earlier) if earlier else [])

    def feedback(self, answer: Answer, rating: int, comment: str = "") -> int:
        """Store a rating with its comment (scrubbed); returns the row id for `feedback_comment`."""
        comment_text = self.scrubber.scrub(comment).text if comment else ""
        return self.store.add_feedback(
            answer.question if not answer.redacted else "[withheld: identifiers]", answer.answer,
            1 if rating > 0 else -1, comment_text,
            [{"n": c.n, "title": c.title, "section": c.section} for c in answer.citations],
            answer.index_version)

    def feedback_comment(self, feedback_id: int, comment: str) -> bool:
        """A comment written after the thumb joins that stored rating (scrubbed like the first)."""
        return self.store.set_feedback_comment(feedback_id, self.scrubber.scrub(comment).text)

    def status(self) -> dict[str, Any]:
        live = self.index.live_collection()
        rows = self.store.guideline_rows()
        return {
            "guidelines": sum(1 for r in rows if r["status"] == "active"),
            "retired": sum(1 for r in rows if r["status"] == "retired"),
            "chunks": self.index.count(live) if live else 0,
            "embedding_model": self.library.embedding_name,
            "index_version": live or "",
            "mode": self.mode,
            "vector_store": self.settings.qdrant_url or str(self.settings.index_path),
            "vector_engine": {"edge": "Qdrant Edge (embedded)", "local": "qdrant-client local mode",
                              "server": "Qdrant server"}.get(self.index.engine, self.index.engine),
            "records": self.settings.db_url.split("://")[0],
            "embedding_mismatch": self.library.embedding_mismatch(),
        }
