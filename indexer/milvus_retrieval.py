"""MilvusRetriever: the Retriever protocol (retrieval.py) answered by one build's collections in Milvus.

Each channel is one Milvus search with the filters as a boolean expression (filter_expression): dense top-k on the
passage vectors, BM25 top-k on the passages' words, top-k on the sentence vectors. Fusion needs every feature of
every candidate, so the candidates' stored vectors are read back (passage_vectors, sentence_vectors, kept for
the next searches) and the BM25 scores of those the lexical list lacks asked for in one more search restricted to
them (lexical_scores): the features are then the same numbers the files index gives, and the project's ranking
runs on them unchanged.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import numpy as np

from . import ranking
from .milvus_client import call, quoted
from .milvus_store import BM25, META, SENTENCES
from .query import Filters
from .settings import Settings

ROWS_KEPT = 8192  # passages whose vectors (and sentences' vectors) a searcher keeps: about 60 MB at 384 dimensions
ROWS_PER_QUERY = 256  # rows asked for in one `row in [...]` query
# Milvus scores BM25 as Lucene did before 8.0, with (k1 + 1) over each term's share; bm25s (and Lucene since) without
# it. Dividing by it gives bm25s's numbers: the same lexical_score in a hit, whichever backend found it.
BM25_SCALE = 1.0 + BM25["bm25_k1"]
PLAIN_DATE = re.compile(r"[0-9A-Za-z-]+")  # a value `like` can take as a prefix (no % or _)


def filter_expression(filters: Filters) -> str:
    """The filters as a Milvus boolean expression over the fields milvus_store writes ('' allows everything).

    The same answers as filtering.FilterColumns.mask: authorities and types compared in lower case, dates as
    text, "until 2020" admitting 2020-12-31 (the date's first four characters compared, here a prefix match).
    """
    def one_of(values) -> str:
        return "[" + ", ".join(quoted(value) for value in sorted(set(values))) + "]"

    parts = []
    if filters.authorities:
        parts.append(f"authority in {one_of(a.lower() for a in filters.authorities)}")
    if filters.doc_types:
        parts.append(f"doc_type in {one_of(t.lower() for t in filters.doc_types)}")
    if filters.doc_ids:
        parts.append(f"doc_id in {one_of(filters.doc_ids)}")
    if filters.kinds:
        parts.append(f"kind in {one_of(filters.kinds)}")
    if filters.exclude_doc_ids:
        parts.append(f"doc_id not in {one_of(filters.exclude_doc_ids)}")
    if filters.since:
        parts.append(f'(date != "" and date >= {quoted(filters.since)})')
    if filters.until:
        prefix = f" or date like {quoted(filters.until + '%')}" if PLAIN_DATE.fullmatch(filters.until) else ""
        parts.append(f'(date != "" and (date <= {quoted(filters.until)}{prefix}))')
    return " and ".join(parts)


def _rows_expression(rows) -> str:
    return f"row in [{', '.join(str(int(row)) for row in rows)}]"


class _Kept:
    """A bounded, thread-safe map of row -> what was read for it (a build's rows never change)."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, rows) -> dict:
        with self.lock:
            found = {row: self.items[row] for row in rows if row in self.items}
            for row in found:
                self.items.move_to_end(row)
        return found

    def put(self, values: dict) -> None:
        with self.lock:
            self.items.update(values)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


class MilvusRetriever:
    """Candidates and stored vectors from one build's collections."""

    def __init__(self, settings: Settings, name: str, manifest: dict):
        self.settings = settings
        self.passages = name
        self.sentence_collection = name + SENTENCES if manifest.get("sentence_dense") else None
        self.dimensions = int(manifest["dimensions"])
        self.collections = [name, name + META] + ([self.sentence_collection] if self.sentence_collection else [])
        self._dense_params = _search_params(manifest.get("dense") or {})
        self._sentence_params = _search_params(manifest.get("sentence_dense") or {})
        self._vectors = _Kept(ROWS_KEPT)
        self._sentences = _Kept(ROWS_KEPT)

    @property
    def has_sentences(self) -> bool:
        return self.sentence_collection is not None

    def _call(self, doing: str, method: str, collection: str, **arguments):
        return call(self.settings, doing, method, collection, **arguments)

    def _search(self, collection: str, data, field: str, k: int, expression: str, params: dict) -> list:
        if k <= 0:
            return []
        if "ef" in params.get("params", {}):  # HNSW looks at no fewer candidates than it returns
            params = {**params, "params": {**params["params"], "ef": max(params["params"]["ef"], k)}}
        found = self._call("searching", "search", collection, data=data, anns_field=field, limit=min(k, 16384),
                           filter=expression, output_fields=["row"], search_params=params)
        return list(found[0]) if found else []

    def dense(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[int, float]]:
        vector = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        hits = self._search(self.passages, [vector], "vector", k, filter_expression(filters), self._dense_params)
        return [(int(hit["entity"]["row"]), float(hit["distance"])) for hit in hits]

    def lexical(self, words: list[str], k: int, filters: Filters) -> list[tuple[int, float]]:
        if not words:
            return []
        hits = self._search(self.passages, [" ".join(words)], "sparse", k, filter_expression(filters),
                            {"metric_type": "BM25"})
        found = [(int(hit["entity"]["row"]), _bm25(hit)) for hit in hits]
        return sorted((pair for pair in found if pair[1] > 0), key=lambda pair: (-pair[1], pair[0]))

    def lexical_scores(self, words: list[str], rows: np.ndarray) -> np.ndarray:
        scores = np.zeros(len(rows))
        if not words or not len(rows):
            return scores
        found: dict[int, float] = {}
        for low in range(0, len(rows), 4096):
            chunk = rows[low:low + 4096]
            for hit in self._search(self.passages, [" ".join(words)], "sparse", len(chunk), _rows_expression(chunk),
                                    {"metric_type": "BM25"}):
                found[int(hit["entity"]["row"])] = _bm25(hit)
        for position, row in enumerate(np.asarray(rows).tolist()):
            scores[position] = found.get(row, 0.0)
        return scores

    def sentences(self, vector: np.ndarray, k: int, filters: Filters) -> list[int]:
        if self.sentence_collection is None:
            return []
        vector = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        hits = self._search(self.sentence_collection, [vector], "vector", k, filter_expression(filters),
                            self._sentence_params)
        return list(dict.fromkeys(int(hit["entity"]["row"]) for hit in hits))

    def passage_vectors(self, rows: np.ndarray) -> np.ndarray:
        rows = [int(row) for row in np.asarray(rows).reshape(-1)]
        kept = self._vectors.get(rows)
        missing = sorted(set(rows) - set(kept))
        for low in range(0, len(missing), ROWS_PER_QUERY):
            chunk = missing[low:low + ROWS_PER_QUERY]
            read = self._call("reading passage vectors", "query", self.passages, filter=_rows_expression(chunk),
                              output_fields=["row", "vector"], limit=len(chunk))
            values = {int(item["row"]): np.asarray(item["vector"], dtype=np.float32) for item in read}
            self._vectors.put(values)
            kept.update(values)
        return np.stack([kept[row] for row in rows]) if rows else np.zeros((0, self.dimensions), np.float32)

    def sentence_vectors(self, rows: list[int]) -> list[tuple[list[tuple[int, int]], np.ndarray]]:
        rows = [int(row) for row in rows]
        kept = self._sentences.get(rows)
        missing = sorted(set(rows) - set(kept))
        for low in range(0, len(missing), ROWS_PER_QUERY):
            chunk = missing[low:low + ROWS_PER_QUERY]
            read = self._call("reading sentence vectors", "query", self.sentence_collection,
                              filter=_rows_expression(chunk), output_fields=["id", "row", "start", "end", "vector"])
            grouped: dict[int, list] = {row: [] for row in chunk}
            for item in sorted(read, key=lambda item: item["id"]):
                grouped[int(item["row"])].append(item)
            values = {row: ([(int(item["start"]), int(item["end"])) for item in items],
                            np.asarray([item["vector"] for item in items], dtype=np.float32).reshape(-1, self.dimensions))
                      for row, items in grouped.items()}
            self._sentences.put(values)
            kept.update(values)
        return [kept[row] for row in rows]

    def sentence_arrays(self, rows: np.ndarray):
        from .store import SentenceVectors

        return SentenceVectors.from_lists(*zip(*self.sentence_vectors(np.asarray(rows).tolist())) if len(rows)
                                          else ([], []), self.dimensions)

    def best_sentences(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray | None:
        if self.sentence_collection is None:
            return None
        return ranking.best_sentence_scores(self.sentence_vectors(np.asarray(rows).tolist()), vector)


def _bm25(hit) -> float:
    """A BM25 hit's score on bm25s's scale. Milvus Lite gives it negated (smaller is nearer), Milvus as it is."""
    return abs(float(hit["distance"])) / BM25_SCALE


def _search_params(record: dict) -> dict:
    """IP for every vector search; HNSW's ef from the manifest (the files index's efSearch)."""
    if record.get("kind") == "hnsw":
        return {"metric_type": "IP", "params": {"ef": int(record.get("ef_search", 64))}}
    return {"metric_type": "IP"}
