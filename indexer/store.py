"""Save and load the index folder: FAISS vectors, BM25, passages, documents and a manifest, swapped in atomically.

Layout of the index folder:
    current -> builds/<stamp>     a symbolic link, replaced atomically when a build finishes
    builds/<stamp>/manifest.json  model, dimensions, format version, settings, checksum of every corpus file
    builds/<stamp>/documents.jsonl, passages.jsonl, vectors.npy, dense.faiss, lexical/ (bm25s)
A build writes a new folder under builds/ and only then moves `current`, so a crash or kill at any point
leaves the previous index whole.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .errors import IndexMissingError, IndexStaleError
from .passages import Passage
from .settings import FORMAT_VERSION, Settings

CURRENT = "current"
BUILDS = "builds"


@dataclass
class Index:
    """An index loaded into memory."""

    folder: Path  # the build folder it was read from
    manifest: dict
    documents: dict[str, dict]  # doc_id -> document record (metadata and passage count)
    passages: list[Passage]
    vectors: np.ndarray
    dense: object  # faiss index over `vectors`, row i = passages[i]
    lexical: object  # bm25s retriever over the same rows
    row_of: dict[str, int] = field(default_factory=dict)  # passage_id -> row

    def __post_init__(self):
        self.row_of = {passage.passage_id: row for row, passage in enumerate(self.passages)}

    def neighbours(self, passage_id: str, before: int = 2, after: int = 2) -> list[Passage]:
        """The passage with up to `before`/`after` passages around it from the same document, in order."""
        row = self.row_of[passage_id]
        doc_id = self.passages[row].doc_id
        low, high = max(0, row - before), min(len(self.passages), row + after + 1)
        return [passage for passage in self.passages[low:high] if passage.doc_id == doc_id]

    def document_passages(self, doc_id: str) -> list[Passage]:
        """All passages of one document, in reading order."""
        return [passage for passage in self.passages if passage.doc_id == doc_id]


def lexical_tokens(texts: list[str], return_ids: bool = True):
    """Tokenise for BM25 the same way at build and query time: English stop words out, words stemmed."""
    import bm25s
    import Stemmer

    return bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), return_ids=return_ids,
                          show_progress=False)


def build_dense(vectors: np.ndarray):
    """An exact inner-product FAISS index (vectors are unit length, so this is cosine)."""
    import faiss

    dense = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        dense.add(vectors)
    return dense


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
                vectors: np.ndarray, lexical_texts: list[str], embed_keys: list[str]) -> Path:
    """Write a complete build next to the current one, then point `current` at it atomically."""
    import faiss

    index_folder = Path(index_folder)
    builds = index_folder / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    work = builds / f".incomplete-{stamp}"
    work.mkdir()
    with open(work / "documents.jsonl", "w", encoding="utf-8") as handle:
        for record in documents:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    with open(work / "passages.jsonl", "w", encoding="utf-8") as handle:
        for passage in passages:
            handle.write(json.dumps(asdict(passage), ensure_ascii=False) + "\n")
    np.save(work / "vectors.npy", vectors.astype(np.float32))
    (work / "embed_keys.json").write_text(json.dumps(embed_keys), encoding="utf-8")
    faiss.write_index(build_dense(vectors), str(work / "dense.faiss"))
    if lexical_texts:
        build_lexical(lexical_texts).save(str(work / "lexical"))
    manifest = {**manifest, "format_version": FORMAT_VERSION, "passages": len(passages), "documents": len(documents)}
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    _fsync_folder(work)
    final = builds / stamp
    work.rename(final)
    _point_current(index_folder, final)
    _remove_old_builds(builds, keep=final)
    return final


def _fsync_folder(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _point_current(index_folder: Path, build: Path) -> None:
    """Replace the `current` link in one rename, so readers see the old build or the new, never neither."""
    temporary = index_folder / f".current-{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(Path(BUILDS) / build.name)
    os.replace(temporary, index_folder / CURRENT)


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
    """The manifest of the current build; IndexMissingError when there is none."""
    build = current_build(index_folder)
    if build is None or not (build / "manifest.json").is_file():
        raise IndexMissingError(f"no index in {index_folder}: run `python -m indexer build` (or `make run`)")
    return json.loads((build / "manifest.json").read_text(encoding="utf-8"))


def load_index(index_folder: Path, settings: Settings | None = None) -> Index:
    """Load the current build into memory, refusing one built with another model or format."""
    import bm25s
    import faiss

    settings = settings or Settings.from_env()
    manifest = read_manifest(index_folder)
    build = current_build(index_folder)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexStaleError(
            f"the index in {index_folder} has format {manifest.get('format_version')}, this version reads "
            f"{FORMAT_VERSION}: run `python -m indexer build`")
    if manifest.get("model") != settings.model:
        raise IndexStaleError(
            f"index built with model {manifest.get('model')}, settings say {settings.model}: "
            "run `python -m indexer build`")
    documents = {}
    with open(build / "documents.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            documents[record["doc_id"]] = record
    with open(build / "passages.jsonl", encoding="utf-8") as handle:
        passages = [Passage(**json.loads(line)) for line in handle]
    vectors = np.load(build / "vectors.npy")
    dense = faiss.read_index(str(build / "dense.faiss"))
    lexical = bm25s.BM25.load(str(build / "lexical")) if (build / "lexical").exists() else bm25s.BM25()
    return Index(build, manifest, documents, passages, vectors, dense, lexical)
