"""Searcher: dense and lexical retrieval over the same passages, fused, filtered -> [Hit]."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .embedding import Embedder
from .passages import Hit
from .settings import Settings
from .store import Index, lexical_tokens


@dataclass(frozen=True)
class Filters:
    """Which passages a search may return; empty means no restriction."""

    authorities: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    since: str | None = None  # "2019" or "2019-05-01": on or after
    until: str | None = None  # "2020" or "2020-12-31": on or before
    doc_ids: tuple[str, ...] = ()  # only these documents (e.g. those of authorities with a given grade)
    exclude_doc_ids: tuple[str, ...] = ()  # never these documents

    def is_empty(self) -> bool:
        return not (self.authorities or self.doc_types or self.since or self.until or self.doc_ids
                    or self.exclude_doc_ids)


class Searcher:
    """Answers questions from a loaded index with one embedder, loaded once."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings | None = None):
        self.index = index
        self.embedder = embedder
        self.settings = settings or Settings.from_env()
        passages = index.passages
        self._authority = np.array([(p.authority or "").lower() for p in passages], dtype=object)
        self._doc_type = np.array([p.doc_type.lower() for p in passages], dtype=object)
        self._date = np.array([p.date or "" for p in passages], dtype=object)
        self._doc_id = np.array([p.doc_id for p in passages], dtype=object)

    def allowed_rows(self, filters: Filters) -> np.ndarray | None:
        """A boolean mask of rows the filters allow, or None when they allow everything."""
        if filters.is_empty():
            return None
        mask = np.ones(len(self.index.passages), dtype=bool)
        if filters.authorities:
            mask &= np.isin(self._authority, [a.lower() for a in filters.authorities])
        if filters.doc_types:
            mask &= np.isin(self._doc_type, [t.lower() for t in filters.doc_types])
        if filters.doc_ids:
            mask &= np.isin(self._doc_id, list(filters.doc_ids))
        if filters.exclude_doc_ids:
            mask &= ~np.isin(self._doc_id, list(filters.exclude_doc_ids))
        if filters.since:
            mask &= np.array([bool(d) and d >= filters.since for d in self._date])
        if filters.until:
            # "2020" must admit "2020-12-31": compare against the prefix of the same length
            mask &= np.array([bool(d) and d[:len(filters.until)] <= filters.until for d in self._date])
        return mask

    def search(self, query: str, k: int = 10, filters: Filters = Filters()) -> list[Hit]:
        """The k best passages for `query`, best first."""
        query = query.strip()
        if not query or not self.index.passages:
            return []
        mask = self.allowed_rows(filters)
        if mask is not None and not mask.any():
            return []
        pool = max(self.settings.candidates, k)
        dense = self._dense(query, pool, mask)
        lexical = self._lexical(query, pool, mask)
        return self._fuse(dense, lexical, k)

    def similar(self, passage_id: str, k: int = 10, filters: Filters = Filters()) -> list[Hit]:
        """Passages closest in meaning to a given one ("more like this"), never from its own document."""
        row = self.index.row_of[passage_id]
        own = self.index.passages[row].doc_id
        filters = Filters(**{**filters.__dict__, "exclude_doc_ids": (*filters.exclude_doc_ids, own)})
        mask = self.allowed_rows(filters)
        if not mask.any():
            return []
        found = self._dense_vector(self.index.vectors[row:row + 1], k, mask)
        return [
            Hit(passage=self.index.passages[r], score=score, rank=rank, dense_score=score)
            for rank, (r, score) in enumerate(found, start=1)
        ]

    def _dense(self, query: str, pool: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
        return self._dense_vector(self.embedder.encode([query]), pool, mask)

    def _dense_vector(self, vector: np.ndarray, pool: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
        import faiss

        params = None
        if mask is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64)))
        scores, rows = self.index.dense.search(vector, min(pool, len(self.index.passages)), params=params)
        return [(int(row), float(score)) for row, score in zip(rows[0], scores[0]) if row >= 0]

    def _lexical(self, query: str, pool: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
        tokens = lexical_tokens([query], return_ids=False)
        if not tokens or not tokens[0] or self.index.lexical.scores is None:
            return []
        vocabulary = self.index.lexical.vocab_dict
        words = [[word for word in tokens[0] if word in vocabulary]]
        if not words[0]:
            return []
        rows, scores = self.index.lexical.retrieve(
            words, k=min(pool, len(self.index.passages)), show_progress=False,
            weight_mask=None if mask is None else mask.astype(np.float32),
        )
        return [(int(row), float(score)) for row, score in zip(rows[0], scores[0]) if score > 0]

    def _fuse(self, dense: list[tuple[int, float]], lexical: list[tuple[int, float]], k: int) -> list[Hit]:
        """Reciprocal rank fusion: each ranking adds weight / (rrf_k + rank)."""
        settings = self.settings
        fused: dict[int, float] = {}
        dense_score = dict(dense)
        lexical_score = dict(lexical)
        for weight, ranking in ((settings.dense_weight, dense), (settings.lexical_weight, lexical)):
            for rank, (row, _) in enumerate(ranking, start=1):
                fused[row] = fused.get(row, 0.0) + weight / (settings.rrf_k + rank)
        best = sorted(fused, key=lambda row: (-fused[row], row))[:k]
        return [
            Hit(
                passage=self.index.passages[row], score=fused[row], rank=rank,
                dense_score=dense_score.get(row), lexical_score=lexical_score.get(row),
            )
            for rank, row in enumerate(best, start=1)
        ]
