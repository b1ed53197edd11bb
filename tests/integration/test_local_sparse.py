"""Local mode's sparse scoring from postings gives the library's own scores and rankings."""

from __future__ import annotations

import json

import numpy as np
from qdrant_client import models
from qdrant_client.local import local_collection, sparse_distances

from pipelines import local_sparse
from pipelines.config import REPO_ROOT
from pipelines.index import DENSE, SPARSE

QUESTIONS = [json.loads(line)["q"] for line in
             (REPO_ROOT / "data" / "eval" / "questions.jsonl").read_text("utf-8").splitlines()[::9]]


def stored_sparse(assistant) -> list[models.SparseVector]:
    index = assistant.index
    live = index.live_collection()
    vectors, offset = [], None
    while True:
        points, offset = index.client.scroll(live, limit=256, offset=offset, with_vectors=[SPARSE])
        vectors.extend(p.vector[SPARSE] for p in points)
        if offset is None:
            return vectors


def test_scores_equal_the_librarys_on_the_real_library(assistant):
    vectors = stored_sparse(assistant)
    assert len(vectors) > 400 and len(QUESTIONS) > 25
    for question in QUESTIONS:
        q = assistant.retriever.sparse.embed_query(question)
        query = models.SparseVector(indices=sorted(q.indices),
                                    values=[v for _, v in sorted(zip(q.indices, q.values))])
        for empty_is_zero in (False, True):
            ours = local_sparse.calculate_distance_sparse(query, vectors, empty_is_zero)
            theirs = sparse_distances.calculate_distance_sparse(query, vectors, empty_is_zero)
            assert ours.dtype == theirs.dtype == np.float32
            assert np.array_equal(ours, theirs), question


def test_rankings_through_query_points_are_unchanged_and_follow_upserts(assistant):
    assert local_collection.calculate_distance_sparse is local_sparse.calculate_distance_sparse
    index, live = assistant.index, assistant.index.live_collection()

    def rankings() -> list[list[str]]:
        out = []
        for question in QUESTIONS:
            q = assistant.retriever.sparse.embed_query(question)
            dense = assistant.retriever.embeddings.embed_query(question)
            for mode in ("sparse", "hybrid"):
                out.append([str(p.id) for p in index.hybrid_search(live, dense, q, 30, 10, mode)])
        return out

    ours = rankings()
    local_sparse.uninstall()
    try:
        theirs = rankings()
    finally:
        local_sparse.install()
    assert ours == theirs

    # A changed collection is re-read, not served from stale postings: give one point the
    # question's exact sparse vector and it must come first.
    question = "quinine for night time leg cramps"
    q = assistant.retriever.sparse.embed_query(question)
    target = next(p for p in index.client.scroll(live, limit=400, with_vectors=[DENSE])[0]
                  if "cramp" not in str(p.payload).lower())
    boosted = models.SparseVector(indices=q.indices, values=[v * 100 for v in q.values])
    index.client.update_vectors(live, points=[models.PointVectors(id=target.id, vector={SPARSE: boosted})])
    top = index.hybrid_search(live, target.vector[DENSE], q, 30, 1, "sparse")
    assert str(top[0].id) == str(target.id)
