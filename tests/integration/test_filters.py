"""The chat page's library filters through the real retriever: a guideline body (matched on what
the publisher line names) and a specialty, applied inside the Qdrant query."""

from __future__ import annotations

from pipelines.assistant import Assistant
from pipelines.retrieval import SearchFilters, publisher_bodies

ASTHMA = "What is the first-line reliever inhaler for asthma?"


def test_a_body_filter_cites_only_that_bodys_guidelines(reader: Assistant) -> None:
    answer = reader.ask("emergency contraception after unprotected sex, which method?",
                        filters=SearchFilters(publisher="FSRH"), log=False)
    assert not answer.abstained and answer.citations
    assert all("FSRH" in publisher_bodies(c.publisher) for c in answer.citations)
    assert all("FSRH" in publisher_bodies(p.publisher) for p in answer.sources)
    assert "Searched only guidelines with publisher FSRH." in answer.notices


def test_a_filter_that_excludes_the_topic_abstains(reader: Assistant) -> None:
    unfiltered = reader.ask(ASTHMA, log=False)
    assert unfiltered.citations and unfiltered.sources[0].title == "Asthma"
    answer = reader.ask(ASTHMA, filters=SearchFilters(publisher="FSRH"), log=False)
    assert answer.abstained and answer.citations == []
    assert not any(p.title == "Asthma" for p in answer.sources)


def test_filters_rank_within_the_filtered_set_not_what_survives_the_top(reader: Assistant) -> None:
    """With a narrow prefetch the unfiltered top results are all asthma; filtering afterwards
    would leave nothing, filtering in the query still finds the specialty's own passages."""
    narrow = reader.retriever.model_copy(update={"prefetch_k": 5, "top_k": 5})
    top = narrow.search(ASTHMA)
    assert top and all(p.specialty != "Children" for p in top)
    children = narrow.search(ASTHMA, SearchFilters(specialty="Children"))
    assert children and all(p.specialty == "Children" for p in children)
    both = narrow.search(ASTHMA, SearchFilters(publisher="NICE", specialty="Respiratory"))
    assert both and both[0].title == "Asthma"
    assert all(p.specialty == "Respiratory" and "NICE" in publisher_bodies(p.publisher) for p in both)


def test_an_unknown_body_matches_nothing(reader: Assistant) -> None:
    assert reader.retriever.search(ASTHMA, SearchFilters(publisher="No such body")) == []
