"""build_index(corpus folders) -> a new index: read, describe, split, embed what is new, store."""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .embedding import Embedder
from .errors import DocumentError, IndexerError
from .metadata import METADATA_FILE, describe_document, read_metadata_file
from .passages import Document, Passage, embedding_text, lexical_text
from .reading import SUPPORTED_SUFFIXES, file_checksum, read_document
from .settings import FORMAT_VERSION, Settings
from .splitting import split_passages
from .store import current_build, read_manifest, write_index

IGNORED_NAMES = {METADATA_FILE, "README.md", "readme.md", ".gitkeep", ".DS_Store"}


@dataclass
class BuildReport:
    """What a build read, skipped and embedded."""

    documents: list[tuple[str, str, int]] = field(default_factory=list)  # (path, doc_id, passages)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    build: Path | None = None

    @property
    def passages(self) -> int:
        return sum(count for _, _, count in self.documents)


def corpus_files(folders: list[Path]) -> list[Path]:
    """Every file under the corpus folders, sorted, minus the metadata file and dot-files."""
    files = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise IndexerError(f"corpus folder {folder} does not exist")
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name not in IGNORED_NAMES and not path.name.startswith("."):
                files.append(path)
    return files


def _metadata_checksums(folders: list[Path]) -> dict[str, str]:
    return {str(Path(folder) / METADATA_FILE): file_checksum(Path(folder) / METADATA_FILE)
            for folder in folders if (Path(folder) / METADATA_FILE).is_file()}


def stale_reasons(folders: list[Path], index_folder: Path, settings: Settings) -> list[str]:
    """Why the index does not match the corpus and settings; empty when it is up to date."""
    try:
        manifest = read_manifest(index_folder)
    except IndexerError:
        return [f"no index in {index_folder}"]
    reasons = []
    for key, want in (("format_version", FORMAT_VERSION), ("model", settings.model),
                      ("max_passage_tokens", settings.max_passage_tokens)):
        if manifest.get(key) != want:
            reasons.append(f"{key} is {manifest.get(key)!r}, settings say {want!r}")
    if manifest.get("corpus") != [str(Path(folder).resolve()) for folder in folders]:
        reasons.append("built from other corpus folders")
    indexed = manifest.get("files", {})
    present = {str(path.resolve()): path for path in corpus_files(folders)}
    for name in sorted(set(present) - set(indexed)):
        reasons.append(f"new file {name}")
    for name in sorted(set(indexed) - set(present)):
        reasons.append(f"removed file {name}")
    for name in sorted(set(present) & set(indexed)):
        if file_checksum(present[name]) != indexed[name]:
            reasons.append(f"changed file {name}")
    if manifest.get("metadata_files", {}) != _metadata_checksums(folders):
        reasons.append("metadata file changed")
    return reasons


def slug(text: str) -> str:
    """A readable, URL-safe id from a file name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "document"


def embed_key(model: str, text: str) -> str:
    """Cache key of an embedding: the model and the exact text embedded."""
    return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()


def _previous_vectors(index_folder: Path, model: str) -> dict[str, np.ndarray]:
    """Vectors of the current build by embed key, so unchanged passages are not embedded again."""
    build = current_build(index_folder)
    if build is None:
        return {}
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("model") != model:
            return {}
        keys = json.loads((build / "embed_keys.json").read_text(encoding="utf-8"))
        vectors = np.load(build / "vectors.npy")
    except (OSError, ValueError):
        return {}
    return dict(zip(keys, vectors))


def build_index(folders: list[Path], index_folder: Path, embedder: Embedder, settings: Settings,
                progress: bool = True, log=print) -> BuildReport:
    """Read every file under `folders`, embed passages not embedded before, and swap the new index in."""
    started = time.perf_counter()
    folders = [Path(folder) for folder in folders]
    report = BuildReport()
    files = corpus_files(folders)
    overrides = {}
    for folder in folders:
        for name, row in read_metadata_file(folder).items():
            overrides[str((folder / name).resolve())] = row
    documents: list[Document] = []
    passages: list[Passage] = []
    by_checksum: dict[str, str] = {}
    used_ids: set[str] = set()
    file_checksums: dict[str, str] = {}
    iterator = files
    if progress:
        from tqdm import tqdm
        iterator = tqdm(files, desc="Reading", unit="file")
    for path in iterator:
        resolved = str(path.resolve())
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            report.skipped.append((str(path), f"unsupported file type '{path.suffix or '(none)'}'"))
            continue
        checksum = file_checksum(path)
        file_checksums[resolved] = checksum
        if checksum in by_checksum:
            report.skipped.append((str(path), f"duplicate of {by_checksum[checksum]} (same bytes): indexed once"))
            continue
        doc_id = _unique(slug(path.stem), used_ids)
        try:
            document = describe_document(read_document(path, doc_id=doc_id), overrides.get(resolved))
            found = split_passages(document, settings.max_passage_tokens, embedder.token_count)
        except DocumentError as error:
            report.skipped.append((str(path), error.problem))
            continue
        if not found:
            report.skipped.append((str(path), "no passages found in the text"))
            continue
        used_ids.add(doc_id)
        by_checksum[checksum] = str(path)
        documents.append(document)
        passages.extend(found)
        report.documents.append((str(path), doc_id, len(found)))
    if not passages:
        raise IndexerError("nothing could be indexed: " + "; ".join(f"{p}: {r}" for p, r in report.skipped)
                           if report.skipped else f"no documents found in {', '.join(map(str, folders))}")
    texts = [embedding_text(passage) for passage in passages]
    keys = [embed_key(embedder.name, text) for text in texts]
    cache = _previous_vectors(Path(index_folder), embedder.name)
    missing = [row for row, key in enumerate(keys) if key not in cache]
    vectors = np.zeros((len(passages), embedder.dimensions), dtype=np.float32)
    for row, key in enumerate(keys):
        if key in cache:
            vectors[row] = cache[key]
    if missing:
        log(f"Embedding {len(missing)} passages ({len(passages) - len(missing)} unchanged, reused)")
        vectors[missing] = embedder.encode([texts[row] for row in missing], progress=progress)
    report.embedded, report.reused = len(missing), len(passages) - len(missing)
    counts = {doc_id: count for _, doc_id, count in report.documents}
    manifest = {
        "model": embedder.name,
        "dimensions": embedder.dimensions,
        "max_passage_tokens": settings.max_passage_tokens,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "corpus": [str(folder.resolve()) for folder in folders],
        "files": file_checksums,
        "metadata_files": _metadata_checksums(folders),
        "skipped": [{"path": path, "reason": reason} for path, reason in report.skipped],
    }
    records = [{**document.describe(), "passages": counts[document.doc_id]} for document in documents]
    lexical = [lexical_text(passage) for passage in passages]
    build = write_index(Path(index_folder), manifest, records, passages, vectors, lexical, keys)
    report.build = build
    report.seconds = time.perf_counter() - started
    return report


def _unique(candidate: str, used: set[str]) -> str:
    name, number = candidate, 2
    while name in used:
        name, number = f"{candidate}-{number}", number + 1
    return name
