"""The index in Milvus: a build is a collection of its own behind an alias, swapped in by moving the alias.

INDEXER_MILVUS_URI chooses Milvus: a Milvus Lite file (`index.db`, which serves one process at a time) or a server
(`http://host:19530`: `milvus-lite server`, Milvus Standalone or Distributed; INDEXER_MILVUS_TOKEN when it asks
for one). pymilvus speaks the same API to all of them. A build writes three collections named for it,
<alias>__<stamp>:

    <name>            a row per passage: its row number (the primary key), the fields filters test, the key of
                      the text it was embedded from, the passage as JSON, its words for BM25 (a BM25 function
                      over the same stemmed, stop-worded words bm25s indexes) and its vector
    <name>_sentences  a row per sentence: its passage's row and its span there, the same filter fields, its vector
    <name>_meta       the manifest, the document records and the word counts, as JSON in pieces: written last

then moves the alias (INDEXER_MILVUS_COLLECTION, default `ofsted`) to <name> in one call. A searcher reads the
alias once and then its build, until it loads again; a build killed at any point leaves collections no alias
points to, which the next build drops. The build it replaced is kept for an hour, as the files' builds are,
for searchers that have not yet noticed the swap. Searches go through milvus_retrieval.MilvusRetriever, and
every call through milvus_client (one client per URI, errors said as IndexerErrors).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import time
from dataclasses import asdict

import numpy as np

from .errors import IndexCorruptError, IndexerError, IndexMissingError, SearchUnavailableError
from .milvus_client import answering, call, connect, ensure_loaded, forget_loaded, quoted
from .passages import Passage
from .settings import FORMAT_VERSION, Settings
from .store import Contents, Index, SentenceVectors, _whole, check_compatible, lexical_tokens

SENTENCES, META = "_sentences", "_meta"
TEXT_LIMIT = 65535  # characters in a VARCHAR field; JSON is written as ASCII, so characters are bytes too
PIECE = 60_000  # characters of JSON per row of the meta collection
BATCH = 500  # rows a write sends at once
PAGE = 2_000  # rows a read asks for at once
GRACE_SECONDS = 3600  # a replaced build is kept this long for searchers that still read it
BM25 = {"bm25_k1": 1.5, "bm25_b": 0.75}  # bm25s's defaults, so that the two backends score words alike
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")

# ---------------------------------------------------------------- the store


class MilvusStore:
    """The index in Milvus, with FileStore's methods (store.open_store chooses between them)."""

    def __init__(self, settings: Settings):
        if not NAME.fullmatch(settings.milvus_collection):
            raise IndexerError(f"INDEXER_MILVUS_COLLECTION={settings.milvus_collection!r} is not a Milvus name: "
                               "letters, digits and underscores, starting with a letter")
        self.settings = settings
        self.alias = settings.milvus_collection
        self.where = f"Milvus at {settings.milvus_uri} (collection {self.alias})"

    def _client(self):
        return connect(self.settings)

    def _calls(self, doing: str):
        return answering(self.settings, doing)

    def _id(self, name: str) -> str:
        return f"{self.settings.milvus_uri}#{name}"

    # ------------------------------------------------------------ reading

    def current(self) -> str | None:
        """The collection the alias points to, or None when there is no index yet."""
        client = self._client()
        with self._calls("reading which build is current"):
            if self.alias not in (client.list_aliases(timeout=self.settings.milvus_timeout) or {}).get("aliases", []):
                return None
            return client.describe_alias(self.alias, timeout=self.settings.milvus_timeout)["collection_name"]

    def build_id(self) -> str | None:
        name = self.current()
        return None if name is None else self._id(name)

    def _current_or_missing(self) -> str:
        name = self.current()
        if name is None:
            raise IndexMissingError(f"no index in {self.where}: run `python -m indexer build` (or `make run`)")
        return name

    def _corrupt(self, problem: str) -> IndexCorruptError:
        return IndexCorruptError(f"the index in {self.where} cannot be used ({problem}); rebuild it with "
                                 "`python -m indexer build` (or `make run`)")

    def _meta(self, name: str, key: str):
        """One JSON value of a build's meta collection, or None when it has none."""
        rows = call(self.settings, f"reading the index's {key}", "query", name + META,
                    filter=f"name == {quoted(key)}", output_fields=["part", "value"], limit=16384)
        if not rows:
            return None
        try:
            return json.loads("".join(row["value"] for row in sorted(rows, key=lambda row: row["part"])))
        except ValueError as error:
            raise self._corrupt(f"its {key} cannot be read: {error}") from None

    def read_manifest(self) -> dict:
        return self._manifest(self._current_or_missing())

    def _manifest(self, name: str) -> dict:
        manifest = self._meta(name, "manifest")
        if not isinstance(manifest, dict) or not isinstance(manifest.get("passages"), int):
            raise self._corrupt("its manifest is missing or not an index manifest")
        return manifest

    def _count(self, name: str) -> int:
        rows = call(self.settings, "counting rows", "query", name, filter="", output_fields=["count(*)"],
                    consistency_level="Strong")
        return int(rows[0]["count(*)"])

    def check(self) -> dict:
        """The manifest, once the build's collections are there and hold as many rows as it says."""
        name = self._current_or_missing()
        manifest = self._manifest(name)
        self._check(name, manifest)
        return manifest

    def _check(self, name: str, manifest: dict) -> None:
        client = self._client()
        with self._calls("checking the index"):
            present = set(client.list_collections(timeout=self.settings.milvus_timeout))
            wanted = {name: manifest["passages"]}
            if manifest.get("sentence_dense"):
                wanted[name + SENTENCES] = manifest["sentence_dense"].get("sentences")
            for collection, count in wanted.items():
                if collection not in present:
                    raise self._corrupt(f"its collection {collection} is missing")
                held = self._count(collection)
                if count is not None and held != count:
                    raise self._corrupt(f"{collection} holds {held} rows, the manifest says {count}")

    def documents(self, name: str | None = None) -> list[dict]:
        documents = self._meta(name or self._current_or_missing(), "documents")
        if not isinstance(documents, list):
            raise self._corrupt("its document records are missing")
        return documents

    def _rows(self, collection: str, fields: list[str], total: int, key: str = "row"):
        """Every row of a collection whose primary key counts 0..total-1, in order, a page at a time."""
        for low in range(0, total, PAGE):
            high = min(total, low + PAGE)
            page = call(self.settings, "reading the index", "query", collection,
                        filter=f"{key} >= {low} and {key} < {high}", output_fields=fields, limit=high - low)
            if len(page) != high - low:
                raise self._corrupt(f"{collection} lacks rows between {low} and {high}")
            yield from sorted(page, key=lambda row: row[key])

    def _passages(self, name: str, manifest: dict) -> list[Passage]:
        try:
            return [Passage(**json.loads(row["record"])) for row in self._rows(name, ["row", "record"],
                                                                                manifest["passages"])]
        except (ValueError, TypeError) as error:
            raise self._corrupt(f"a passage cannot be read: {error}") from None

    def load(self) -> Index:
        """The current build's manifest, documents and passages in memory, searched through Milvus.

        Each searcher holds every passage's text and metadata (as the files index does): at a region's scale,
        a few hundred megabytes. Vectors and word statistics stay in Milvus.
        """
        from .milvus_retrieval import MilvusRetriever

        with self._calls("opening the index"):
            name = self._current_or_missing()  # once: a build that moves the alias meanwhile is read next time
            manifest = self._manifest(name)
            self._check(name, manifest)
            check_compatible(manifest, self.settings, f"in {self.where}")
            documents = {record["doc_id"]: record for record in self.documents(name)}
            passages = self._passages(name, manifest)
            frequency = self._meta(name, "stem_frequency")
            retriever = MilvusRetriever(self.settings, name, manifest)
            for collection in retriever.collections:
                ensure_loaded(self._client(), self.settings, collection)
        return Index(folder=None, manifest=manifest, documents=documents, passages=passages, vectors=None,
                     dense=None, lexical=None, stem_frequency=frequency, remote=retriever, name=self._id(name))

    def contents(self) -> Contents | None:
        """The current build's rows and vectors for the next build; None when there is none or it is damaged."""
        try:
            name = self._current_or_missing()
            manifest = self._manifest(name)
            self._check(name, manifest)
            with self._calls("reading the current build"):
                rows = list(self._rows(name, ["row", "record", "embed_key", "vector"], manifest["passages"]))
                passages = [Passage(**json.loads(row["record"])) for row in rows]
                keys = [row["embed_key"] for row in rows]
                vectors = np.array([row["vector"] for row in rows], dtype=np.float32).reshape(
                    len(rows), manifest.get("dimensions") or 0)
                sentences = None
                if manifest.get("sentence_dense"):
                    sentences = self._sentences(name, manifest, len(passages))
            return _whole(Contents(manifest, self.documents(name), passages, keys, vectors, sentences))
        except SearchUnavailableError:
            raise
        except (IndexerError, ValueError, TypeError, KeyError):
            return None

    def _sentences(self, name: str, manifest: dict, passages: int) -> SentenceVectors:
        total = manifest["sentence_dense"]["sentences"]
        rows = list(self._rows(name + SENTENCES, ["id", "row", "start", "end", "vector"], total, key="id"))
        counts = np.bincount(np.array([row["row"] for row in rows], dtype=np.int64), minlength=passages)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        spans = np.array([(row["start"], row["end"]) for row in rows], dtype=np.int32).reshape(-1, 2)
        vectors = np.array([row["vector"] for row in rows], dtype=np.float16).reshape(-1, manifest["dimensions"])
        return SentenceVectors(offsets, spans, vectors)

    # ------------------------------------------------------------ writing

    def write(self, manifest: dict, documents: list[dict], passages: list[Passage], vectors: np.ndarray,
              lexical_texts: list[str], embed_keys: list[str], sentences: SentenceVectors | None) -> str:
        """Write a complete build into collections of its own, then move the alias to it."""
        client = self._client()
        with self._calls("writing the new build"):
            self._remove_abandoned(client)
            name = f"{self.alias}__{time.strftime('%Y%m%d_%H%M%S')}_{_host()}_{os.getpid()}_" \
                   f"{time.monotonic_ns() % 10**6:06d}"
            try:
                self._write_build(client, name, manifest, documents, passages, vectors, lexical_texts, embed_keys,
                                  sentences)
            except BaseException:
                self._drop(client, name)  # at once when it can; a killed build is dropped by the next
                raise
            previous = self.current()
            if self.alias in (client.list_aliases() or {}).get("aliases", []):
                client.alter_alias(collection_name=name, alias=self.alias)
            else:
                client.create_alias(collection_name=name, alias=self.alias)
            if previous is not None and previous != name:
                self._retire(client, previous)
            self._remove_old_builds(client, keep=name)
        return self._id(name)

    def _write_build(self, client, name: str, manifest: dict, documents: list[dict], passages: list[Passage],
                     vectors: np.ndarray, lexical_texts: list[str], embed_keys: list[str],
                     sentences: SentenceVectors | None) -> None:
        from .answers import stem_frequency

        settings = self.settings
        dimensions = int(vectors.shape[1]) if vectors.ndim == 2 else int(manifest["dimensions"])
        exact = len(passages) <= settings.flat_max_passages
        _create(client, name, _passage_schema(client, dimensions), _passage_indexes(client, exact, settings))
        words = lexical_tokens(lexical_texts, return_ids=False) if lexical_texts else [[] for _ in passages]
        for low in range(0, len(passages), BATCH):
            high = min(len(passages), low + BATCH)
            batch = vectors[low:high].astype(np.float32).tolist()
            client.insert(name, [_passage_row(row, passages[row], embed_keys[row], words[row], batch[row - low])
                                 for row in range(low, high)])
        client.flush(name)
        sentence_record = {}
        if sentences is not None:
            sentence_exact = len(sentences.vectors) <= settings.flat_max_sentences
            _create(client, name + SENTENCES, _sentence_schema(client, dimensions),
                    _vector_index(client, sentence_exact, settings))
            owner = np.repeat(np.arange(len(passages)), np.diff(sentences.offsets))
            for low in range(0, len(sentences.vectors), BATCH):
                high = min(len(sentences.vectors), low + BATCH)
                batch = np.asarray(sentences.vectors[low:high], dtype=np.float32).tolist()
                client.insert(name + SENTENCES, [
                    {"id": i, "row": int(owner[i]), "start": int(sentences.spans[i][0]),
                     "end": int(sentences.spans[i][1]), **_filter_fields(passages[owner[i]]), "vector": batch[i - low]}
                    for i in range(low, high)])
            client.flush(name + SENTENCES)
            sentence_record = {"kind": "flat" if sentence_exact else "hnsw", "sentences": len(sentences.vectors),
                               "flat_max_sentences": settings.flat_max_sentences}
            if not sentence_exact:
                sentence_record["ef_search"] = settings.hnsw_ef_search
        dense_record = {"kind": "flat" if exact else "hnsw", "flat_max_passages": settings.flat_max_passages}
        if not exact:
            dense_record.update(neighbours=settings.hnsw_neighbours, ef_construction=settings.hnsw_ef_construction,
                                ef_search=settings.hnsw_ef_search)
        manifest = {**manifest, "format_version": FORMAT_VERSION, "passages": len(passages),
                    "documents": len(documents), "dense": dense_record, "sentence_dense": sentence_record,
                    "milvus": {"collection": name}}
        _create(client, name + META, _meta_schema(client), _meta_index(client))
        frequency = stem_frequency(passage.text for passage in passages)
        for key, value in (("documents", documents), ("stem_frequency", frequency), ("manifest", manifest)):
            self._put(client, name, key, value)  # the manifest last: a build without one is not whole
        client.flush(name + META)
        for collection, want in ((name, len(passages)),
                                 (name + SENTENCES, None if sentences is None else len(sentences.vectors))):
            if want is not None and self._count(collection) != want:  # read back, as searchers will see it
                raise IndexerError(f"Milvus holds {self._count(collection)} rows of {collection}, {want} were written "
                                   "(the index in use is unchanged)")

    def _put(self, client, name: str, key: str, value, upsert: bool = False) -> None:
        text = json.dumps(value, ensure_ascii=True)
        rows = [{"key": f"{key}:{part:06d}", "name": key, "part": part, "value": text[start:start + PIECE],
                 "vector": [1.0, 0.0]} for part, start in enumerate(range(0, max(1, len(text)), PIECE))]
        (client.upsert if upsert else client.insert)(name + META, rows)

    def _retire(self, client, name: str) -> None:
        """Note when a build stopped being current: it is dropped a grace period later."""
        try:
            self._put(client, name, "retired_at", time.time(), upsert=True)
        except Exception:  # noqa: BLE001 (a build without its meta collection is dropped as abandoned)
            pass

    # ------------------------------------------------------------ dropping builds

    def _builds(self, client) -> dict[str, list[str]]:
        """Every build's collections, by build name."""
        builds: dict[str, list[str]] = {}
        for collection in client.list_collections():
            if collection.startswith(f"{self.alias}__"):
                base = collection.removesuffix(SENTENCES).removesuffix(META)
                builds.setdefault(base, []).append(collection)
        return builds

    def _drop(self, client, name: str) -> None:
        for collection in (name + SENTENCES, name + META, name):
            try:
                if client.has_collection(collection):
                    client.drop_collection(collection)
            except Exception:  # noqa: BLE001 (best effort: the next build tries again)
                pass
            forget_loaded(self.settings, collection)

    def _remove_abandoned(self, client) -> None:
        """Drop builds never made current whose process has ended (killed, or stopped by an error)."""
        current = self.current()
        for name in self._builds(client):
            if name != current and self._retired_at(name) is None and _ended(name):
                self._drop(client, name)

    def _retired_at(self, name: str) -> float | None:
        try:
            value = self._meta(name, "retired_at")
        except IndexerError:
            return None
        return float(value) if isinstance(value, (int, float)) else None

    def _remove_old_builds(self, client, keep: str) -> None:
        """Drop builds replaced more than the grace period ago, and abandoned ones older than it."""
        now = time.time()
        for name in self._builds(client):
            if name == keep:
                continue
            retired = self._retired_at(name)
            if retired is not None:
                if now - retired > GRACE_SECONDS:
                    self._drop(client, name)
            elif _ended(name) or now - _started(name) > GRACE_SECONDS:
                self._drop(client, name)


def _host() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def _stamp_parts(name: str) -> tuple[str, str, str, int]:
    """(date, time, host, pid) from <alias>__<date>_<time>_<host>_<pid>_<n>."""
    stamp = name.rsplit("__", 1)[-1]
    date, clock, host, pid, _ = stamp.split("_")
    return date, clock, host, int(pid)


def _ended(name: str) -> bool:
    """Whether the build's process has ended (only knowable for builds made on this machine)."""
    try:
        _, _, host, pid = _stamp_parts(name)
    except ValueError:
        return True  # not a name this module makes
    if host != _host() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _started(name: str) -> float:
    try:
        date, clock, _, _ = _stamp_parts(name)
        return time.mktime(time.strptime(f"{date}_{clock}", "%Y%m%d_%H%M%S"))
    except ValueError:
        return 0.0


# ---------------------------------------------------------------- schema


def _create(client, name: str, schema, indexes) -> None:
    """A collection with its indexes, loaded. The indexes are made on the empty collection without waiting for
    them (pymilvus polls every half second; segments are indexed as they are sealed)."""
    client.create_collection(name, schema=schema)
    client.create_index(name, indexes, sync=False)
    client.load_collection(name)


def _filter_fields(passage: Passage) -> dict[str, str]:
    """The fields filters test, as filtering.FilterColumns compares them (authority and type in lower case)."""
    return {"authority": (passage.authority or "").lower(), "doc_type": passage.doc_type.lower(),
            "date": passage.date or "", "doc_id": passage.doc_id, "kind": passage.kind}


def _passage_row(row: int, passage: Passage, key: str, words: list[str], vector: list[float]) -> dict:
    record = json.dumps(asdict(passage), ensure_ascii=True)
    if len(record) > TEXT_LIMIT:
        raise IndexerError(f"passage {passage.passage_id} is {len(record)} characters as JSON, more than Milvus "
                           f"stores in a field ({TEXT_LIMIT}); lower INDEXER_MAX_PASSAGE_TOKENS")
    lexical = " ".join(words)
    if len(lexical) > TEXT_LIMIT:  # (not at 200 word pieces a passage): cut at a word
        lexical = lexical[:TEXT_LIMIT].rsplit(" ", 1)[0]
    return {"row": row, "passage_id": passage.passage_id, **_filter_fields(passage), "embed_key": key,
            "record": record, "lexical": lexical, "vector": vector}


def _add_filter_fields(schema, data_type) -> None:
    for field, length in (("authority", 512), ("doc_type", 256), ("date", 64), ("doc_id", 512), ("kind", 64)):
        schema.add_field(field, data_type.VARCHAR, max_length=length)


def _passage_schema(client, dimensions: int):
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("passage_id", DataType.VARCHAR, max_length=1024)
    _add_filter_fields(schema, DataType)
    schema.add_field("embed_key", DataType.VARCHAR, max_length=64)
    schema.add_field("record", DataType.VARCHAR, max_length=TEXT_LIMIT)
    # The words are stemmed and stop-worded here (store.lexical_tokens, as for bm25s): the analyzer only splits them
    schema.add_field("lexical", DataType.VARCHAR, max_length=TEXT_LIMIT, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard"})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimensions)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["lexical"],
                                 output_field_names=["sparse"]))
    return schema


def _sentence_schema(client, dimensions: int):
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("row", DataType.INT64)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    _add_filter_fields(schema, DataType)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimensions)
    return schema


def _meta_schema(client):
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("name", DataType.VARCHAR, max_length=64)
    schema.add_field("part", DataType.INT64)
    schema.add_field("value", DataType.VARCHAR, max_length=TEXT_LIMIT)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
    return schema


def _vector_index(client, exact: bool, settings: Settings):
    """Exact search while a scan is fast, HNSW above (settings.flat_max_*), as for the files' FAISS index."""
    params = client.prepare_index_params()
    if exact:
        params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    else:
        params.add_index(field_name="vector", index_type="HNSW", metric_type="IP",
                         params={"M": settings.hnsw_neighbours, "efConstruction": settings.hnsw_ef_construction})
    return params


def _passage_indexes(client, exact: bool, settings: Settings):
    params = _vector_index(client, exact, settings)
    params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=dict(BM25))
    for field in ("authority", "doc_type", "doc_id", "kind"):
        params.add_index(field_name=field, index_type="INVERTED")
    return params


def _meta_index(client):
    params = client.prepare_index_params()
    params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    return params
