"""Save and load the index folder: FAISS vectors, BM25, passages, documents and a manifest, swapped in atomically.

Everything else reaches the index through `open_store(settings)`: this folder (FileStore, the default) or, when
INDEXER_MILVUS_URI is set, Milvus (milvus_store.MilvusStore), with the same methods.

Layout of the index folder:
    current -> builds/<stamp>     a symbolic link, replaced atomically when a build finishes
    builds/<stamp>/manifest.json  model, dimensions, format version, settings, checksum of every corpus file
    builds/<stamp>/documents.jsonl, passages.jsonl, vectors.npy, lexical/ (bm25s)
    builds/<stamp>/sentences/     every passage's sentences: offsets.npy, spans.npy, vectors.npy (float16)
    builds/<stamp>/dense.faiss    only for an approximate (HNSW) index: exact search is made from vectors.npy
    models/<backend>/             ONNX exports of the embedding model, made once (see embedding.exported_model)
A build writes a new folder under builds/ and only then moves `current`, so a crash or kill at any point
leaves the previous index whole.

The dense index is chosen by size (settings.flat_max_passages): exact inner-product search while a scan
of every vector is fast, an HNSW graph above that. Both take FAISS's IDSelector search parameters.
"""

from __future__ import annotations

import errno
import json
import mmap
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .answers import stem_frequency
from .errors import IndexCorruptError, IndexerError, IndexMissingError, IndexStaleError
from .filtering import FilterColumns
from .passages import Passage
from .retrieval import FilesRetriever, Retriever
from .settings import FORMAT_VERSION, Settings

if TYPE_CHECKING:
    from .milvus_store import MilvusStore

CURRENT = "current"
BUILDS = "builds"


@dataclass
class Index:
    """An index loaded into memory: its passages and documents, and the retriever searches ask for candidates
    (FAISS and bm25s over the arrays below, or the build's own in Milvus, where those arrays are None)."""

    folder: Path  # the build folder it was read from
    manifest: dict
    documents: dict[str, dict]  # doc_id -> document record (metadata and passage count)
    passages: list[Passage]
    vectors: np.ndarray
    dense: object  # faiss index over `vectors`, row i = passages[i]
    lexical: object  # bm25s retriever over the same rows
    sentences: "SentenceVectors | None" = None  # the sentences of every passage, embedded at build time
    sentence_dense: object = None  # faiss index over the sentence vectors, row i = sentence i
    stem_frequency: dict[str, int] | None = None  # passages each content stem occurs in, counted at build time
    row_of: dict[str, int] = field(default_factory=dict)  # passage_id -> row
    remote: "Retriever | None" = None  # the build's own retriever (Milvus); None: FAISS and bm25s in this process
    name: str = ""  # the build, when it is not a folder (Milvus: its URI and collection)
    retriever: "Retriever" = field(init=False, repr=False, compare=False)  # what searches ask for candidates
    _columns: "FilterColumns | None" = field(init=False, default=None, repr=False, compare=False)
    rows_of_document: dict[str, list[int]] = field(init=False, default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        self.row_of = {passage.passage_id: row for row, passage in enumerate(self.passages)}
        for row, passage in enumerate(self.passages):  # doc_id -> its rows in reading order, made once
            self.rows_of_document.setdefault(passage.doc_id, []).append(row)
        self.retriever = self.remote if self.remote is not None else FilesRetriever(self)

    @property
    def build_id(self) -> str:
        """Which build this is: its folder, or its Milvus URI and collection (a new build has a new one)."""
        return self.name or str(self.folder)

    @property
    def columns(self) -> FilterColumns:
        """The fields filters test, per row (made on first use)."""
        if self._columns is None:
            self._columns = FilterColumns(self.passages)
        return self._columns

    def search_dense(self, vectors: np.ndarray, k: int, allowed: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the k nearest passages to each query vector, only among `allowed` rows if given."""
        limit = self.manifest.get("dense", {}).get("flat_max_passages", 0)
        return _nearest(self.dense, self.vectors, vectors, k, allowed, limit)

    def search_sentences(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, passage rows) of the k sentences nearest to one query vector, best first.

        `allowed` is a mask of passage rows: only their sentences are searched. A passage appears once
        for each of its sentences found, so there may be fewer than k distinct passages.
        """
        if self.sentences is None or self.sentence_dense is None or not len(self.sentences.vectors):
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        sentences = self.sentences
        if allowed is not None:
            allowed = np.repeat(np.asarray(allowed, dtype=bool), np.diff(sentences.offsets))
        limit = self.manifest.get("sentence_dense", {}).get("flat_max_sentences", 0)
        scores, rows = _nearest(self.sentence_dense, sentences.vectors, vector.reshape(1, -1), k, allowed, limit)
        scores, rows = scores[0], rows[0]
        found = rows >= 0
        passages = np.searchsorted(sentences.offsets, rows[found], side="right") - 1
        return scores[found], passages

    def neighbours(self, passage_id: str, before: int = 2, after: int = 2) -> list[Passage]:
        """The passage with up to `before`/`after` passages around it from the same document, in order."""
        row = self.row_of[passage_id]
        doc_id = self.passages[row].doc_id
        low, high = max(0, row - before), min(len(self.passages), row + after + 1)
        return [passage for passage in self.passages[low:high] if passage.doc_id == doc_id]

    def document_passages(self, doc_id: str) -> list[Passage]:
        """All passages of one document, in reading order."""
        return [self.passages[row] for row in self.rows_of_document.get(doc_id, ())]


@dataclass
class SentenceVectors:
    """The sentences of every passage (character spans in its text) with their vectors, made at build time.

    Scoring a hit's sentences against a question then needs no model call: encoding the sentences of
    ten passages at query time cost 100-300 ms on two cores, the whole search budget several times over.
    Passage `row`'s sentences are rows offsets[row]:offsets[row + 1] of `spans` and `vectors`.
    Vectors are float16 (half the disk and memory; cosines move by about 0.001).
    """

    offsets: np.ndarray  # int64, one more than there are passages
    spans: np.ndarray  # int32 (sentences, 2): start and end in the passage text
    vectors: np.ndarray  # float16 (sentences, dimensions), unit length

    FILES = ("offsets.npy", "spans.npy", "vectors.npy")

    @classmethod
    def from_lists(cls, spans: list[list[tuple[int, int]]], vectors: list[np.ndarray], dimensions: int
                   ) -> "SentenceVectors":
        """From one list of spans and one (sentences, dimensions) array per passage."""
        counts = np.array([len(row) for row in spans], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        flat = [span for row in spans for span in row]
        stacked = np.concatenate([np.asarray(v, dtype=np.float16).reshape(-1, dimensions) for v in vectors]) \
            if vectors else np.zeros((0, dimensions), np.float16)
        return cls(offsets, np.array(flat, dtype=np.int32).reshape(-1, 2), stacked)

    def of(self, row: int) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Spans and float32 vectors of passage `row`'s sentences."""
        low, high = int(self.offsets[row]), int(self.offsets[row + 1])
        spans = [(int(start), int(end)) for start, end in self.spans[low:high]]
        return spans, np.asarray(self.vectors[low:high], dtype=np.float32)

    def save(self, folder: Path) -> None:
        folder.mkdir()
        for name, array in zip(self.FILES, (self.offsets, self.spans, self.vectors)):
            np.save(folder / name, array)

    @classmethod
    def load(cls, folder: Path, random_reads: bool = False) -> "SentenceVectors | None":
        """Mapped from disk: only the sentences of the passages a search shows are read.

        `random_reads` (a searcher's index): reads come a few kilobytes at scattered rows, so the system is
        told not to read ahead around them (cold reads at a million passages took 0.22 ms a passage with
        read-ahead, 0.09 ms without). A build reading every row in order keeps read-ahead.
        """
        if not all((folder / name).is_file() for name in cls.FILES):
            return None
        arrays = [np.load(folder / name, mmap_mode="r") for name in cls.FILES]
        mapped = getattr(arrays[2], "_mmap", None)
        if random_reads and mapped is not None and hasattr(mmap, "MADV_RANDOM"):
            mapped.madvise(mmap.MADV_RANDOM)
        return cls(*arrays)


def _nearest(dense, stored: np.ndarray, vectors: np.ndarray, k: int, allowed: np.ndarray | None,
             exact_limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) of the k nearest of a FAISS index's rows to each query vector, only `allowed` ones if given.

    An approximate index walks its graph past rows a filter forbids, so a narrow filter (one
    authority among a million passages) would leave it with too few results: when the filter
    allows no more rows than an exact scan handles quickly, those rows are scanned exactly instead.
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    k = min(k, dense.ntotal)
    if allowed is None:
        return dense.search(vectors, k)
    rows = np.flatnonzero(allowed)
    if is_approximate(dense) and len(rows) <= exact_limit:
        scores = vectors @ np.asarray(stored[rows], dtype=np.float32).T
        k = min(k, len(rows))
        best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(scores, best, axis=1), rows[best]
    bits = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")
    selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))  # O(1) to make, unlike a batch
    return dense.search(vectors, k, params=faiss.SearchParameters(sel=selector))


def lexical_tokens(texts: list[str], return_ids: bool = True):
    """Tokenise for BM25 the same way at build and query time: English stop words out, words stemmed."""
    import bm25s
    import Stemmer

    return bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), return_ids=return_ids,
                          show_progress=False)


def build_dense(vectors: np.ndarray, settings: Settings | None = None, flat_max: int | None = None):
    """A FAISS inner-product index (vectors are unit length, so this is cosine), chosen by size.

    Up to `flat_max` rows (settings.flat_max_passages unless given): exact search over every vector (5.7 ms
    p95 at 50,000 on one core). Above: an HNSW graph, which at a million passages answered in 11 ms p95
    with recall@10 0.988 against exact search, with efSearch 2048 (BENCHMARKS.md, "Choosing the FAISS index").
    """
    import faiss

    settings = settings or Settings.from_env()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) <= (settings.flat_max_passages if flat_max is None else flat_max):
        dense = faiss.IndexFlatIP(vectors.shape[1])
    else:
        dense = faiss.IndexHNSWFlat(vectors.shape[1], settings.hnsw_neighbours, faiss.METRIC_INNER_PRODUCT)
        dense.hnsw.efConstruction = settings.hnsw_ef_construction
        dense.hnsw.efSearch = settings.hnsw_ef_search
    if len(vectors):
        with faiss_threads(settings.threads or os.cpu_count() or 1):  # building uses every core
            dense.add(vectors)
    return dense


def is_approximate(dense) -> bool:
    """True for an HNSW index, False for exact (flat) search."""
    import faiss

    return not isinstance(dense, faiss.IndexFlat)


@contextmanager
def faiss_threads(count: int):
    """Run a block with FAISS (OpenMP) using `count` threads, then go back to one.

    One thread is what searching wants: a single query gains nothing from a second thread, and on a
    two-core machine that also runs the embedding model the two fight: a flat search over the 266 PDFs
    took 2.17 ms p50 on one thread and 3.47 ms with FAISS on both cores (BENCHMARKS.md, "Threads").
    """
    import faiss

    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(1)


def build_lexical(texts: list[str]):
    """A BM25 index over the given texts."""
    import bm25s

    retriever = bm25s.BM25()
    if texts:
        retriever.index(lexical_tokens(texts), show_progress=False)
    return retriever


def current_build(index_folder: Path) -> Path | None:
    """The build folder `current` points to, or None when there is no index yet."""
    link = Path(index_folder) / CURRENT
    if not link.exists():
        return None
    return link.resolve()


def write_index(index_folder: Path, manifest: dict, documents: list[dict], passages: list[Passage],
                vectors: np.ndarray, lexical_texts: list[str], embed_keys: list[str],
                settings: Settings | None = None, sentences: SentenceVectors | None = None) -> Path:
    """Write a complete build next to the current one, then point `current` at it atomically."""
    settings = settings or Settings.from_env()
    index_folder = Path(index_folder)
    builds = index_folder / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    _remove_abandoned(builds)
    work = builds / f".incomplete-{stamp}"
    try:
        work.mkdir()
        final = _write_build(work, builds / stamp, manifest, documents, passages, vectors, lexical_texts, embed_keys,
                             settings, sentences)
    except OSError as error:
        shutil.rmtree(work, ignore_errors=True)  # at once: a retry must not find the disk still full of it
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            need = _estimated_bytes(passages, vectors, sentences) / 1e6
            raise IndexerError(f"disk full at {builds}: need about {max(1, round(need))} MB free for the new build "
                               "(the index in use is unchanged); free some space and build again") from None
        raise IndexerError(f"could not write the new build in {builds}: {error.strerror or error} "
                           "(the index in use is unchanged)") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)  # killed or failed another way: no partial folder either
        raise
    _point_current(index_folder, final)
    _fsync_directory(index_folder)
    _remove_old_builds(builds, keep=final)
    return final


def _estimated_bytes(passages: list[Passage], vectors: np.ndarray, sentences: "SentenceVectors | None") -> float:
    """About what a build takes on disk: vectors, sentence vectors, and the passages' text three times over
    (passages.jsonl, the BM25 index, documents)."""
    text = sum(len(passage.text) for passage in passages)
    sentence_bytes = 0 if sentences is None else sentences.vectors.nbytes + sentences.spans.nbytes
    return vectors.size * 4 + sentence_bytes + 3 * text


def _write_build(work: Path, final: Path, manifest: dict, documents: list[dict], passages: list[Passage],
                 vectors: np.ndarray, lexical_texts: list[str], embed_keys: list[str], settings: Settings,
                 sentences: "SentenceVectors | None") -> Path:
    """Write every file of a build into `work`, then rename it to `final`."""
    import faiss

    with open(work / "documents.jsonl", "w", encoding="utf-8") as handle:
        for record in documents:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    with open(work / "passages.jsonl", "w", encoding="utf-8") as handle:
        for passage in passages:
            handle.write(json.dumps(asdict(passage), ensure_ascii=False) + "\n")
    np.save(work / "vectors.npy", vectors.astype(np.float32))
    (work / "embed_keys.json").write_text(json.dumps(embed_keys), encoding="utf-8")
    sentence_record = {}
    if sentences is not None:
        sentences.save(work / "sentences")
        sentence_dense = build_dense(sentences.vectors, settings, settings.flat_max_sentences)
        if is_approximate(sentence_dense):  # an exact one is made from sentences/vectors.npy on load
            faiss.write_index(sentence_dense, str(work / "sentences" / "dense.faiss"))
        sentence_record = {"kind": "hnsw" if is_approximate(sentence_dense) else "flat",
                           "flat_max_sentences": settings.flat_max_sentences, "sentences": len(sentences.vectors)}
        if is_approximate(sentence_dense):
            sentence_record["ef_search"] = settings.hnsw_ef_search
    # Counted here, not on the first question: reading a million passages' words takes about a minute.
    frequency = stem_frequency(passage.text for passage in passages)
    (work / "stem_frequency.json").write_text(json.dumps(frequency, ensure_ascii=False), encoding="utf-8")
    dense = build_dense(vectors, settings)
    if is_approximate(dense):  # an exact index is only the vectors again: it is made from vectors.npy on load
        faiss.write_index(dense, str(work / "dense.faiss"))
    if lexical_texts:
        build_lexical(lexical_texts).save(str(work / "lexical"))
    dense_record = {"kind": "hnsw" if is_approximate(dense) else "flat",
                    "flat_max_passages": settings.flat_max_passages}
    if is_approximate(dense):
        dense_record.update(neighbours=settings.hnsw_neighbours, ef_construction=settings.hnsw_ef_construction,
                            ef_search=settings.hnsw_ef_search)
    manifest = {**manifest, "format_version": FORMAT_VERSION, "passages": len(passages), "documents": len(documents),
                "dense": dense_record, "sentence_dense": sentence_record}
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")  # (\\u escapes: any name)
    _fsync_folder(work)
    work.rename(final)
    _fsync_directory(final.parent)
    return final


def _remove_abandoned(builds: Path) -> None:
    """Delete partial builds whose process has ended (killed, or stopped by a full disk)."""
    for path in builds.glob(".incomplete-*"):
        try:
            pid = int(path.name.split("-")[3])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, as another user's process
    return True


def _fsync_folder(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _fsync_directory(folder: Path) -> None:
    """Make a rename inside `folder` durable (a power cut, not only a killed process, keeps it)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not every platform opens folders; a rename is still atomic there
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _point_current(index_folder: Path, build: Path) -> None:
    """Replace the `current` link in one rename, so readers see the old build or the new, never neither."""
    temporary = index_folder / f".current-{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(Path(BUILDS) / build.name)
    previous = current_build(index_folder)
    os.replace(temporary, index_folder / CURRENT)
    if previous is not None and previous.exists() and previous != build:
        os.utime(previous)  # its grace period before deletion starts now, when it stops being current


def _remove_old_builds(builds: Path, keep: Path, grace_seconds: float = 3600) -> None:
    """Delete finished builds other than `keep` and abandoned partial ones older than an hour.

    A just-replaced build is kept for the grace period, so a running app that has not yet
    noticed the swap can still read it.
    """
    now = time.time()
    for path in builds.iterdir():
        if path == keep:
            continue
        if path.name.startswith(".incomplete-") or now - path.stat().st_mtime > grace_seconds:
            if path.name.startswith(".incomplete-") and now - path.stat().st_mtime < grace_seconds:
                continue  # perhaps another build still writing it
            shutil.rmtree(path, ignore_errors=True)


def read_manifest(index_folder: Path) -> dict:
    """The manifest of the current build; IndexMissingError when there is none, IndexCorruptError when damaged."""
    build = current_build(index_folder)
    if build is None or not (build / "manifest.json").is_file():
        raise IndexMissingError(f"no index in {index_folder}: run `python -m indexer build` (or `make run`)")
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise _corrupt(index_folder, f"its manifest.json cannot be read: {error}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("passages"), int):
        raise _corrupt(index_folder, "its manifest.json is not an index manifest")
    return manifest


def _corrupt(index_folder: Path, problem: str) -> IndexCorruptError:
    return IndexCorruptError(f"the index in {index_folder} cannot be used ({problem}); rebuild it with "
                             "`python -m indexer build` (or `make run`)")


def _lines(path: Path) -> int:
    """Complete lines in a file (a last line without its newline was cut off, and is not counted)."""
    count = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            count += chunk.count(b"\n")
    return count


def check_index(index_folder: Path) -> dict:
    """The manifest, once the build's files are there and agree in their counts; IndexCorruptError otherwise.

    Cheap (array headers and line counts, no parsing): a truncated or edited file would otherwise give
    tracebacks, or worse, vectors matched to the wrong passages.
    """
    manifest = read_manifest(index_folder)
    build = current_build(index_folder)
    passages, documents = manifest["passages"], manifest.get("documents")
    try:
        for name, want in (("passages.jsonl", passages), ("documents.jsonl", documents)):
            if _lines(build / name) != want:
                raise _corrupt(index_folder, f"{name} holds {_lines(build / name)} complete lines, the manifest "
                                             f"says {want}")
        vectors = np.load(build / "vectors.npy", mmap_mode="r")
        if vectors.shape != (passages, manifest.get("dimensions")):
            raise _corrupt(index_folder, f"vectors.npy is {vectors.shape[0]} × {vectors.shape[1:]}, the manifest "
                                         f"says {passages} passages of {manifest.get('dimensions')} dimensions")
        if (build / "sentences").is_dir():
            offsets, spans, sentence_vectors = (np.load(build / "sentences" / name, mmap_mode="r")
                                                for name in SentenceVectors.FILES)
            if len(offsets) != passages + 1 or not len(spans) == len(sentence_vectors) == int(offsets[-1]):
                raise _corrupt(index_folder, "the sentence files disagree with the passages")
    except (OSError, ValueError, EOFError) as error:
        raise _corrupt(index_folder, f"a file cannot be read: {error}") from None
    return manifest


def load_index(index_folder: Path, settings: Settings | None = None) -> Index:
    """Load the current build into memory, refusing one built with another model or format, or damaged."""
    settings = settings or Settings.from_env()
    manifest = read_manifest(index_folder)
    check_compatible(manifest, settings, f"in {index_folder}")
    check_index(index_folder)
    try:
        return _load(index_folder, current_build(index_folder), manifest, settings)
    except IndexerError:
        raise
    except (OSError, ValueError, TypeError, KeyError, EOFError, RuntimeError) as error:  # (faiss raises RuntimeError)
        raise _corrupt(index_folder, f"{type(error).__name__}: {error}") from None


def check_compatible(manifest: dict, settings: Settings, where: str) -> None:
    """IndexStaleError unless this version can search the index with these settings (format, models)."""
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexStaleError(
            f"the index {where} has format {manifest.get('format_version')}, this version reads "
            f"{FORMAT_VERSION}: run `python -m indexer build`")
    if manifest.get("model") != settings.embedding_model:
        raise IndexStaleError(
            f"index built with model {manifest.get('model')}, settings say {settings.embedding_model} "
            f"(backend {settings.backend}): run `python -m indexer build`, or set INDEXER_BACKEND to the "
            "backend the index was built with")
    if manifest.get("sentence_model") != settings.sentence_model:
        raise IndexStaleError(
            f"index built with sentence model {manifest.get('sentence_model')}, settings say "
            f"{settings.sentence_model} (INDEXER_SENTENCE_LAYERS={settings.sentence_layers}): run "
            "`python -m indexer build`")


def _load(index_folder: Path, build: Path, manifest: dict, settings: Settings) -> Index:
    import bm25s
    import faiss

    documents = {}
    with open(build / "documents.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            documents[record["doc_id"]] = record
    with open(build / "passages.jsonl", encoding="utf-8") as handle:
        passages = [Passage(**json.loads(line)) for line in handle]
    # Mapped, not read: an approximate index keeps its own copy, so these pages are touched only by
    # filtered and "more like this" searches, and the operating system may drop them again.
    vectors = np.load(build / "vectors.npy", mmap_mode="r")
    if (build / "dense.faiss").is_file():
        dense = faiss.read_index(str(build / "dense.faiss"))
        if hasattr(dense, "hnsw"):
            dense.hnsw.efSearch = manifest.get("dense", {}).get("ef_search", settings.hnsw_ef_search)
        if dense.ntotal != len(passages):
            raise _corrupt(index_folder, f"dense.faiss holds {dense.ntotal} vectors for {len(passages)} passages")
    else:
        dense = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            dense.add(np.ascontiguousarray(vectors))
    faiss.omp_set_num_threads(1)  # see faiss_threads: searches run one query at a time
    lexical = bm25s.BM25.load(str(build / "lexical")) if (build / "lexical").exists() else bm25s.BM25()
    frequency_file = build / "stem_frequency.json"
    frequency = json.loads(frequency_file.read_text(encoding="utf-8")) if frequency_file.is_file() else None
    sentences = SentenceVectors.load(build / "sentences", random_reads=True)
    return Index(build, manifest, documents, passages, vectors, dense, lexical, sentences,
                 _sentence_dense(build / "sentences", sentences, manifest, settings), frequency)


def _sentence_dense(folder: Path, sentences: "SentenceVectors | None", manifest: dict, settings: Settings):
    """The FAISS index over every sentence: read (HNSW), or made from the stored vectors (exact)."""
    import faiss

    if sentences is None:
        return None
    if (folder / "dense.faiss").is_file():
        dense = faiss.read_index(str(folder / "dense.faiss"))
        dense.hnsw.efSearch = manifest.get("sentence_dense", {}).get("ef_search", settings.hnsw_ef_search)
        return dense
    dense = faiss.IndexFlatIP(sentences.vectors.shape[1])
    if len(sentences.vectors):
        dense.add(np.ascontiguousarray(sentences.vectors, dtype=np.float32))
    return dense


# ---------------------------------------------------------------- one interface over both places an index lives


@dataclass
class Contents:
    """What the current build holds, for the next build to reuse: its rows in order, with their vectors."""

    manifest: dict
    documents: list[dict]  # document records, in order
    passages: list[Passage]  # row i of the vectors
    embed_keys: list[str]  # row i: the key of the text row i's vector was embedded from
    vectors: np.ndarray
    sentences: SentenceVectors | None


def open_store(settings: Settings, index_folder: Path | None = None) -> "FileStore | MilvusStore":
    """Where the index lives: files in the index folder (the default), or Milvus when settings.milvus_uri is set.

    Both have the same methods (FileStore's); every command and the app reach the index through one of them.
    """
    if settings.milvus_uri:
        from .milvus_store import MilvusStore

        return MilvusStore(settings)
    return FileStore(Path(index_folder or settings.index), settings)


class FileStore:
    """The index as files in a folder: builds/<stamp>/, the `current` link swapped when a build finishes."""

    def __init__(self, folder: Path, settings: Settings):
        self.folder, self.settings = Path(folder), settings
        self.where = str(self.folder)

    def build_id(self) -> str | None:
        """The current build (its folder), or None when there is none yet."""
        build = current_build(self.folder)
        return str(build) if build is not None and (build / "manifest.json").is_file() else None

    def read_manifest(self) -> dict:
        return read_manifest(self.folder)

    def check(self) -> dict:
        return check_index(self.folder)

    def load(self) -> Index:
        return load_index(self.folder, self.settings)

    def write(self, manifest: dict, documents: list[dict], passages: list[Passage], vectors: np.ndarray,
              lexical_texts: list[str], embed_keys: list[str], sentences: SentenceVectors | None) -> Path:
        return write_index(self.folder, manifest, documents, passages, vectors, lexical_texts, embed_keys,
                           self.settings, sentences)

    def documents(self) -> list[dict]:
        """The current build's document records; IndexMissingError when there is no index."""
        build = current_build(self.folder)
        if build is None:
            raise IndexMissingError(f"no index in {self.folder}: run `python -m indexer build`")
        try:
            with open(build / "documents.jsonl", encoding="utf-8") as handle:
                return [json.loads(line) for line in handle]
        except (OSError, ValueError) as error:
            raise _corrupt(self.folder, f"documents.jsonl cannot be read: {error}") from None

    def contents(self) -> Contents | None:
        """The current build's rows and vectors; None when there is none or it cannot be read whole."""
        build = current_build(self.folder)
        if build is None:
            return None
        try:
            manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
            with open(build / "documents.jsonl", encoding="utf-8") as handle:
                records = [json.loads(line) for line in handle]
            with open(build / "passages.jsonl", encoding="utf-8") as handle:
                passages = [Passage(**json.loads(line)) for line in handle]
            keys = json.loads((build / "embed_keys.json").read_text(encoding="utf-8"))
            vectors = np.load(build / "vectors.npy")
            sentences = SentenceVectors.load(build / "sentences")
        except (OSError, ValueError, TypeError, KeyError, EOFError):
            return None
        return _whole(Contents(manifest, records, passages, keys, vectors, sentences))


def _whole(contents: Contents) -> Contents | None:
    """The contents when their counts agree (rows matched to their texts), the sentences dropped when theirs do not."""
    count = len(contents.passages)
    if not len(contents.embed_keys) == len(contents.vectors) == count == contents.manifest.get("passages"):
        return None  # a damaged build: its rows cannot be matched to their texts
    sentences = contents.sentences
    if sentences is not None and not (len(sentences.offsets) == count + 1
                                      and len(sentences.vectors) == len(sentences.spans) == sentences.offsets[-1]):
        contents.sentences = None
    return contents
