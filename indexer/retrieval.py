"""Retriever: what a backend answers for a search, whichever holds the index — candidates and stored vectors.

A search asks its retriever for candidates (dense, BM25 and sentence top-k, within the filters) and for what the
index stores about them (passage and sentence vectors, BM25 scores); fusion, boosts, re-ranking, copy folding and
the per-document cap (search.py, ranking.py) then run on those in the same way for every backend.

Two backends answer it, chosen by one setting (the shape of txtai's ann/base.py: one small interface, a factory):
    FilesRetriever (here)           FAISS and bm25s, loaded into the process from the index folder: the default
    milvus_store.MilvusRetriever    a Milvus Lite file or a Milvus server, when INDEXER_MILVUS_URI is set
Rows are always positions in the index's passage list, which every searcher holds in memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from . import ranking
from .query import Filters

if TYPE_CHECKING:
    from .store import Index, SentenceVectors

Spans = list[tuple[int, int]]


class Retriever(Protocol):
    """Candidate retrieval and stored vectors, for one build."""

    @property
    def has_sentences(self) -> bool:
        """Whether the build stores its passages' sentences with their vectors."""

    def dense(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[int, float]]:
        """The k passages nearest the vector, (row, inner product), best first."""

    def lexical(self, words: list[str], k: int, filters: Filters) -> list[tuple[int, float]]:
        """The k passages BM25 scores highest for the (stemmed, stop-worded) words, (row, score), best first;
        only passages that contain one of them."""

    def lexical_scores(self, words: list[str], rows: np.ndarray) -> np.ndarray:
        """BM25's score of each of these rows for the words (0 where none occurs)."""

    def sentences(self, vector: np.ndarray, k: int, filters: Filters) -> list[int]:
        """The passages of the k sentences nearest the vector, best first, each passage once."""

    def passage_vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of these rows, float32, in the order given."""

    def sentence_vectors(self, rows: list[int]) -> list[tuple[Spans, np.ndarray]]:
        """Each row's sentences: their spans in its text and their vectors (float32)."""

    def sentence_arrays(self, rows: np.ndarray) -> "SentenceVectors":
        """The same, flat: row i of `rows` has sentences offsets[i]:offsets[i + 1] of the spans and vectors
        returned (for code that scores many passages' sentences at once)."""

    def best_sentences(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray | None:
        """Each row's best sentence similarity to the vector (-1 without sentences); None when none has any."""


class FilesRetriever:
    """The retriever over an index loaded from the index folder: FAISS for vectors, bm25s for words."""

    def __init__(self, index: "Index"):
        self.index = index
        self._last_words: tuple[tuple[str, ...], np.ndarray | None] | None = None  # a search asks twice

    @property
    def has_sentences(self) -> bool:
        index = self.index
        return index.sentences is not None and index.sentence_dense is not None

    def _mask(self, filters: Filters) -> np.ndarray | None:
        return self.index.columns.mask(filters)

    def dense(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[int, float]]:
        mask = self._mask(filters)
        if mask is not None and not mask.any():
            return []
        vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        scores, rows = self.index.search_dense(vector, k, mask)  # a narrow filter on HNSW is scanned exactly
        return [(int(row), float(score)) for row, score in zip(rows[0], scores[0]) if row >= 0]

    def _scores(self, words: list[str]) -> np.ndarray | None:
        """BM25's score of every passage for the words, or None when none is in the index's vocabulary."""
        key = tuple(words)
        last = self._last_words
        if last is not None and last[0] == key:
            return last[1]
        lexical = self.index.lexical
        scores = None
        if words and lexical is not None and lexical.scores is not None:
            known = [word for word in words if word in lexical.vocab_dict]
            scores = lexical.get_scores(known) if known else None
        self._last_words = (key, scores)
        return scores

    def lexical(self, words: list[str], k: int, filters: Filters) -> list[tuple[int, float]]:
        scores = self._scores(words)
        if scores is None:
            return []
        mask = self._mask(filters)
        return ranking.top_positive(np.where(mask, scores, 0) if mask is not None else scores, k)

    def lexical_scores(self, words: list[str], rows: np.ndarray) -> np.ndarray:
        scores = self._scores(words)
        return np.zeros(len(rows)) if scores is None else scores[np.asarray(rows, dtype=np.int64)]

    def sentences(self, vector: np.ndarray, k: int, filters: Filters) -> list[int]:
        mask = self._mask(filters)
        if not self.has_sentences or (mask is not None and not mask.any()):
            return []
        _, rows = self.index.search_sentences(vector, k, mask)
        return list(dict.fromkeys(rows.tolist()))

    def passage_vectors(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")  # read the mapped file in order
        vectors = np.empty((len(rows), self.index.vectors.shape[1]), dtype=np.float32)
        vectors[order] = np.asarray(self.index.vectors[rows[order]], dtype=np.float32)
        return vectors

    def sentence_vectors(self, rows: list[int]) -> list[tuple[Spans, np.ndarray]]:
        return [self.index.sentences.of(row) for row in rows]

    def sentence_arrays(self, rows: np.ndarray) -> "SentenceVectors":
        """Read from the mapped file in row order."""
        from .store import SentenceVectors

        stored = self.index.sentences
        offsets = np.asarray(stored.offsets)
        rows = np.asarray(rows, dtype=np.int64)
        starts, counts = offsets[rows], offsets[rows + 1] - offsets[rows]
        picked = (np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
                  + np.arange(int(counts.sum()))).astype(np.int64)
        order = np.argsort(picked, kind="stable")
        vectors = np.empty((len(picked), stored.vectors.shape[1]), dtype=np.float32)
        vectors[order] = np.asarray(stored.vectors[picked[order]], dtype=np.float32)
        return SentenceVectors(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                               np.asarray(stored.spans[picked], dtype=np.int32).reshape(-1, 2), vectors)

    def best_sentences(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray | None:
        """Vectorised over the mapped file: one read in row order, one product, a maximum per passage."""
        stored = self.index.sentences
        if stored is None:
            return None
        offsets = np.asarray(stored.offsets)
        starts, ends = offsets[rows], offsets[rows + 1]
        counts = ends - starts
        if not counts.sum():
            return None
        picked = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]).astype(np.int64)
        order = np.argsort(picked, kind="stable")  # read the mapped file in order
        vectors = np.empty((len(picked), stored.vectors.shape[1]), dtype=np.float32)
        vectors[order] = np.asarray(stored.vectors[picked[order]], dtype=np.float32)
        similarity = vectors @ vector
        best = np.full(len(rows), -1.0)
        nonempty = counts > 0
        bounds = np.concatenate([[0], np.cumsum(counts)])[:-1][nonempty]
        best[nonempty] = np.maximum.reduceat(similarity, bounds)
        return best
