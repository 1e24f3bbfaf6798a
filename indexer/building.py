"""build_index(corpus folders) -> a new index: read, describe, split, embed what is new, store.

Builds are incremental: a file whose bytes and metadata row are unchanged keeps its document id,
passages and vectors from the current build, and only passages whose embedded text is new are
embedded. Files added with `add` and documents taken out with `remove` are remembered in the
manifest, so later builds of the same folders keep them that way.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from .answers import sentence_spans
from .embedding import Embedder, sentence_embedder, sentence_model, software_versions
from .errors import DocumentError, IndexerError, IndexMissingError, SearchUnavailableError
from .metadata import METADATA_FILE, describe_document, read_metadata_file
from .passages import Passage, embedding_text, lexical_text
from . import reading
from .reading import SUPPORTED_SUFFIXES, file_checksum, printable, read_document
from .settings import FORMAT_VERSION, READER_VERSION, Settings
from .splitting import split_passages
from .locking import build_lock  # noqa: F401  (the CLI takes it from here)
from .store import SentenceVectors, open_store

UNREADABLE = "unreadable"  # the checksum recorded for a file the build could not open
IGNORED_NAMES = {METADATA_FILE, "README.md", "readme.md", ".gitkeep", ".DS_Store"}
PARALLEL_READING_FROM = 8  # files to read before a second process pays for its start-up


@dataclass
class BuildReport:
    """What a build read, reused, skipped and embedded."""

    documents: list[tuple[str, str, int]] = field(default_factory=list)  # (path, doc_id, passages)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    unresolved: list[tuple[str, str | None]] = field(default_factory=list)  # (path, authority name seen or None)
    read: int = 0  # files read and split afresh
    reused_files: int = 0  # unchanged files taken from the previous build
    embedded: int = 0
    reused: int = 0  # passages whose vectors were reused
    sentences_embedded: int = 0  # sentences embedded (besides passages that are one sentence)
    seconds: float = 0.0
    build: Path | str | None = None  # the build folder, or the Milvus collection

    @property
    def passages(self) -> int:
        return sum(count for _, _, count in self.documents)


@dataclass(frozen=True)
class Plan:
    """Which files an index is built from: corpus folders, plus files added, minus files removed."""

    folders: tuple[Path, ...]
    added: tuple[Path, ...] = ()
    removed: tuple[Path, ...] = ()

    def scan(self) -> tuple[list[Path], list[tuple[Path, str]]]:
        """(every file to consider, in a stable order: folder files sorted, then added files; files and folders
        that cannot be, each with the reason)."""
        removed = {str(path) for path in self.removed}
        found, problems = scan_corpus(list(self.folders))
        seen, unique = set(), []
        for path in found + list(self.added):
            if path in self.added and _bad_name(path):
                problems.append((path, BAD_NAME))
                continue
            resolved = str(path.resolve())
            if resolved not in removed and resolved not in seen:
                seen.add(resolved)
                unique.append(path)
        return unique, problems

    def files(self) -> list[Path]:
        """Every file to consider (see scan)."""
        return self.scan()[0]


def corpus_files(folders: list[Path]) -> list[Path]:
    """Every file under the corpus folders, sorted, minus the metadata file and dot-files (see scan_corpus)."""
    return scan_corpus(folders)[0]


def scan_corpus(folders: list[Path], follow_links: bool | None = None) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(files under the corpus folders, sorted; what was found and not taken, with the reason).

    Links are not followed out of a corpus folder unless `follow_links` (INDEXER_FOLLOW_LINKS) says so: a
    link to /etc/passwd dropped into a shared folder is not indexed. Folder links are never followed (a loop
    would never end), and a link to a file inside the folder is left to that file. A name that is not valid
    UTF-8 is reported rather than indexed: it could not be written into the index or shown.
    """
    follow = Settings.from_env().follow_links if follow_links is None else follow_links
    files: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise IndexerError(f"corpus folder {printable(str(folder))} does not exist")
        root = folder.resolve()
        for here, subfolders, names in os.walk(folder, onerror=lambda error: problems.append(
                (Path(error.filename or folder), f"folder cannot be read: {error.strerror or error}"))):
            for name in sorted(subfolders):
                path = Path(here) / name
                if path.is_symlink() and not name.startswith("."):
                    target = path.resolve()
                    if target == root or target in path.parents:
                        reason = "a link to a folder above it (a loop): not followed"
                    elif root in target.parents:
                        reason = "a link to another folder of the corpus: not followed (its files are read there)"
                    else:
                        reason = f"a link to a folder outside the corpus folder ({printable(str(target))}): not followed"
                    problems.append((path, reason))
            subfolders[:] = sorted(name for name in subfolders if not (Path(here) / name).is_symlink()
                                   and not name.startswith("."))
            for name in sorted(names):
                if name in IGNORED_NAMES or name.startswith("."):
                    continue
                path = Path(here) / name
                reason = _unusable(path, root, follow)
                if reason:
                    problems.append((path, reason))
                else:
                    files.append(path)
    files.sort()
    return files, problems


BAD_NAME = "its name is not valid UTF-8 (shown with \\x escapes): rename the file to index it"


def _bad_name(path: Path) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in str(path))


def _unusable(path: Path, root: Path, follow: bool) -> str | None:
    """Why a file found in a corpus folder is not read, or None."""
    if _bad_name(path):
        return BAD_NAME
    if not path.is_symlink():
        return None if path.is_file() else "not a regular file"
    if not path.exists():
        return f"a dangling link: its target {printable(os.readlink(path))} does not exist"
    target = path.resolve()
    if root not in target.parents:
        return None if follow else (f"a link to a file outside the corpus folder ({printable(str(target))}): not "
                                    "indexed (INDEXER_FOLLOW_LINKS=1 follows such links)")
    return f"a link to {printable(str(target.relative_to(root)))}, which is indexed under its own name"


def plan_from_manifest(folders: list[Path] | None, index_folder: Path, default: Path,
                       settings: Settings | None = None) -> Plan:
    """The plan of the current index, for the given folders (or the index's own, or the default)."""
    try:
        manifest = open_store(settings or Settings.from_env(), index_folder).read_manifest()
    except SearchUnavailableError:
        raise
    except IndexerError:
        manifest = {}
    indexed_folders = [Path(folder) for folder in manifest.get("corpus", [])]
    chosen = [Path(folder) for folder in folders] if folders else (indexed_folders or [default])
    if [str(folder.resolve()) for folder in chosen] != [str(folder) for folder in indexed_folders]:
        return Plan(tuple(chosen))  # other folders: what was added or removed before does not carry over
    return Plan(tuple(chosen), tuple(Path(p) for p in manifest.get("added", [])),
                tuple(Path(p) for p in manifest.get("removed", [])))


def _metadata_rows(folders) -> dict[str, dict[str, str]]:
    rows = {}
    for folder in folders:
        for name, row in read_metadata_file(Path(folder)).items():
            rows[str((Path(folder) / name).resolve())] = row
    return rows


def _metadata_checksums(folders) -> dict[str, str]:
    """Checksum of each folder's metadata file, by its absolute path (a build given `corpus` and an app given
    the same folder's full path must agree)."""
    return {str((Path(folder) / METADATA_FILE).resolve()): file_checksum(Path(folder) / METADATA_FILE)
            for folder in folders if (Path(folder) / METADATA_FILE).is_file()}


def stale_reasons(folders: list[Path], index_folder: Path, settings: Settings) -> list[str]:
    """Why the index does not match the corpus and settings; empty when it is up to date.

    A search service that does not answer (SearchUnavailableError) is raised, not called a reason: the index
    may well be up to date.
    """
    store = open_store(settings, index_folder)
    try:
        manifest = store.read_manifest()
    except IndexMissingError:
        return [f"no index in {store.where}"]
    except SearchUnavailableError:
        raise
    except IndexerError as error:  # a damaged manifest: the index must be built again
        return [str(error)]
    reasons = []
    for key, want in (("format_version", FORMAT_VERSION), ("model", settings.embedding_model),
                      ("sentence_model", settings.sentence_model),
                      ("max_passage_tokens", settings.max_passage_tokens), ("reader_version", READER_VERSION)):
        if manifest.get(key) != want:
            reasons.append(f"{key} is {manifest.get(key)!r}, settings say {want!r}")
    if manifest.get("corpus") != [str(Path(folder).resolve()) for folder in folders]:
        reasons.append("built from other corpus folders")
        return reasons
    plan = plan_from_manifest(folders, index_folder, folders[0], settings)
    indexed, unread = manifest.get("files", {}), manifest.get("unread", {})
    # Files the build never reads (another type, a link out of the folder) cannot make the index stale.
    present = {str(path.resolve()): path for path in plan.files() if path.suffix.lower() in SUPPORTED_SUFFIXES}
    for name in sorted(set(present) - set(indexed) - set(unread)):
        reasons.append(f"new file {name}")
    for name in sorted(set(indexed) - set(present)):
        reasons.append(f"removed file {name}")
    for name in sorted(set(present) & (set(indexed) | set(unread))):
        was = indexed.get(name) or unread.get(name)
        try:
            now = file_checksum(present[name])
        except OSError:
            continue  # still unreadable: a build would skip it again
        if was == UNREADABLE:
            reasons.append(f"file {name} can be read now")
        elif was and now != was:
            reasons.append(f"changed file {name}")
    try:
        store.check()
    except SearchUnavailableError:
        raise
    except IndexerError as error:
        reasons.insert(0, str(error))
    if manifest.get("metadata_files", {}) != _metadata_checksums(folders):
        reasons.append("metadata file changed")
    return reasons


def slug(text: str) -> str:
    """A readable, URL-safe id from a file name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "document"


def embed_key(model: str, text: str) -> str:
    """Cache key of an embedding: the model and the exact text embedded."""
    return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()


def _row_checksum(row: dict | None) -> str:
    return hashlib.sha256(json.dumps(row or {}, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class _Previous:
    """What the current build can lend the next one."""

    records: dict[str, dict]  # resolved path -> document record
    passages: dict[str, list[Passage]]  # doc_id -> passages
    vectors: dict[str, np.ndarray]  # embed key -> vector, of passages and of their sentences


def _previous_build(store, model: str, max_tokens: int, sentence_model: str) -> _Previous:
    empty = _Previous({}, {}, {})
    try:
        manifest = store.read_manifest()
    except SearchUnavailableError:
        raise
    except IndexerError:
        return empty  # no index, or an unreadable one: it lends nothing, the new one is made from scratch
    if (manifest.get("model"), manifest.get("format_version"), manifest.get("max_passage_tokens")) != (
            model, FORMAT_VERSION, max_tokens):
        return empty
    contents = store.contents()
    if contents is None:
        return empty  # a damaged build: its rows cannot be matched to their texts
    passages: dict[str, list[Passage]] = {}
    for passage in contents.passages:
        passages.setdefault(passage.doc_id, []).append(passage)
    known: dict[str, np.ndarray] = {}
    sentences = contents.sentences
    if sentences is not None and contents.manifest.get("sentence_model") == sentence_model:
        # sentence keys are made again from the passage texts and spans
        for row, passage in enumerate(contents.passages):
            spans, sentence_vectors = sentences.of(row)
            for (start, end), vector in zip(spans, sentence_vectors):
                known[embed_key(sentence_model, passage.text[start:end])] = vector
    known.update(zip(contents.embed_keys, contents.vectors))
    if contents.manifest.get("reader_version") != READER_VERSION:
        return _Previous({}, {}, known)  # files are read and split again; their vectors are still reused by text
    return _Previous({str(Path(r["path"]).resolve()): r for r in contents.documents}, passages, known)


def _read(path: Path, doc_id: str, max_bytes: int):
    """Read one file in a worker process: a Document, or the DocumentError to report."""
    try:
        return read_document(path, doc_id=doc_id, max_bytes=max_bytes)
    except DocumentError as error:
        return error


def _exit_with_parent(parent: int) -> None:
    """In a reader process: end it when the build that started it has gone (killed with -9, its pool never shut)."""
    import threading

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _read_all(jobs: list[tuple[Path, str]], progress: bool):
    """Read files, on every core when there are enough of them (PDF parsing is the slow part)."""
    workers = min(os.cpu_count() or 1, len(jobs))
    limit = reading.MAX_FILE_BYTES  # read here, so the workers apply the limit the caller set
    if workers > 1 and len(jobs) >= PARALLEL_READING_FROM:
        executor = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                       initializer=_exit_with_parent, initargs=(os.getpid(),))
        results = executor.map(_read, [path for path, _ in jobs], [doc_id for _, doc_id in jobs],
                               [limit] * len(jobs), chunksize=4)
    else:
        executor = None
        results = (_read(path, doc_id, limit) for path, doc_id in jobs)
    if progress:
        from tqdm import tqdm
        results = tqdm(results, total=len(jobs), desc="Reading", unit="file")
    try:
        yield from results
    finally:
        if executor:
            executor.shutdown(cancel_futures=True)  # an error part-way: do not wait for every queued read


def build_index(folders: list[Path], index_folder: Path, embedder: Embedder, settings: Settings,
                progress: bool = True, log=print, plan: Plan | None = None) -> BuildReport:
    """Index every planned file, reusing what is unchanged, and swap the new index in atomically."""
    started = time.perf_counter()
    index_folder = Path(index_folder)
    plan = plan or Plan(tuple(Path(folder) for folder in folders))
    report = BuildReport()
    store = open_store(settings, index_folder)
    overrides = _metadata_rows(plan.folders)
    sentence_name = sentence_model(embedder, settings)  # the model's first layers: see Settings.sentence_layers
    previous = _previous_build(store, embedder.name, settings.max_passage_tokens, sentence_name)
    used_ids = {record["doc_id"] for record in previous.records.values()}

    # First pass: checksums, duplicates, unsupported files, and which files can be reused unchanged.
    entries: list[dict] = []  # per kept file: path, resolved, checksum, doc_id, record/passages or None
    by_checksum: dict[str, str] = {}
    file_checksums: dict[str, str] = {}
    unread: dict[str, str] = {}  # files that could be indexed but were not: name -> checksum, for stale_reasons
    taken_ids: set[str] = set()
    files, problems = plan.scan()
    for path, reason in problems:
        report.skipped.append((printable(str(path)), reason))
        unread[printable(str(path.absolute()))] = ""
    for path in files:
        resolved = str(path.resolve())
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            report.skipped.append((printable(str(path)), f"unsupported file type '{printable(path.suffix) or '(none)'}'; "
                                                         f"supported: {', '.join(SUPPORTED_SUFFIXES)}"))
            continue
        try:
            checksum = file_checksum(path)
        except OSError as error:
            report.skipped.append((printable(str(path)), f"cannot be read: {error.strerror or error}"))
            unread[resolved] = UNREADABLE
            continue
        file_checksums[resolved] = checksum
        if checksum in by_checksum:
            report.skipped.append((str(path), f"duplicate of {by_checksum[checksum]} (same content): indexed once"))
            continue
        by_checksum[checksum] = str(path)
        old = previous.records.get(resolved)
        row = overrides.get(resolved)
        entry = {"path": path, "resolved": resolved, "checksum": checksum, "row": row}
        if old and old.get("checksum") == checksum and old.get("metadata_row") == _row_checksum(row) \
                and old["doc_id"] in previous.passages and old["doc_id"] not in taken_ids:
            entry.update(doc_id=old["doc_id"], record=old, passages=previous.passages[old["doc_id"]], reused=True)
        else:
            # a changed file keeps its id; a new one gets a readable id no other document has had
            doc_id = old["doc_id"] if old and old["doc_id"] not in taken_ids else _unique(slug(path.stem),
                                                                                       used_ids | taken_ids)
            entry.update(doc_id=doc_id, record=None, passages=None, reused=False)
        taken_ids.add(entry["doc_id"])
        entries.append(entry)

    # Second pass: read, describe and split what changed (in parallel), and keep the rest.
    fresh = [entry for entry in entries if entry["record"] is None]
    for entry, result in zip(fresh, _read_all([(e["path"], e["doc_id"]) for e in fresh], progress)):
        if isinstance(result, DocumentError):
            entry["error"] = result.problem
            continue
        entry["checksum"] = file_checksums[entry["resolved"]] = result.checksum  # of the bytes read
        try:
            document = describe_document(result, entry["row"])
            passages = split_passages(document, settings.max_passage_tokens, embedder.token_count)
        except DocumentError as error:
            entry["error"] = error.problem
            continue
        if not passages:
            entry["error"] = "no passages found in the text"
            continue
        entry["record"] = {**document.describe(), "passages": len(passages),
                           "metadata_row": _row_checksum(entry["row"])}
        entry["passages"] = passages
        report.read += 1
    records, passages = [], []
    for entry in entries:
        if entry.get("error"):
            report.skipped.append((str(entry["path"]), entry["error"]))
            unread[entry["resolved"]] = file_checksums.pop(entry["resolved"])
            continue
        report.reused_files += entry["reused"]
        if not entry["record"].get("authority_code"):
            report.unresolved.append((str(entry["path"]), entry["record"].get("authority")))
        records.append({**entry["record"], "path": str(entry["path"])})
        passages.extend(entry["passages"])
        report.documents.append((str(entry["path"]), entry["doc_id"], len(entry["passages"])))
    if not passages:
        detail = printable("; ".join(f"{path}: {reason}" for path, reason in report.skipped))
        raise IndexerError(f"nothing could be indexed ({detail})" if detail else
                           f"nothing to index: no documents in {', '.join(map(str, plan.folders))}")

    # Embed only what the previous build did not already embed: passages, and the sentences of each
    # (a hit's answering sentences are scored with them at query time, without calling the model).
    known = previous.vectors  # this build's own: new vectors are added to it
    texts = [embedding_text(passage) for passage in passages]
    keys = [embed_key(embedder.name, text) for text in texts]
    missing = [row for row, key in enumerate(keys) if key not in known]
    wanted = {keys[row]: texts[row] for row in missing}
    report.embedded, report.reused = len(missing), len(passages) - len(missing)
    spans = [sentence_spans(passage.text) if settings.sentence_vectors else [] for passage in passages]
    by_sentence = sentence_embedder(embedder, settings) if settings.sentence_vectors else embedder
    # With the whole model for sentences too, a one-sentence passage's sentence is the passage: one key, one call.
    wanted_sentences = wanted if by_sentence is embedder else {}
    sentence_keys = []
    for passage, rows in zip(passages, spans):
        sentence_keys.append([embed_key(by_sentence.name, passage.text[start:end]) for start, end in rows])
        for key, (start, end) in zip(sentence_keys[-1], rows):
            if key not in known and key not in wanted_sentences:
                wanted_sentences[key] = passage.text[start:end]
                report.sentences_embedded += 1
    if wanted or wanted_sentences:
        log(f"Embedding {report.embedded} passages and {report.sentences_embedded} sentences "
            f"({report.reused} passages unchanged, reused)")
        known.update(zip(wanted, embedder.encode(list(wanted.values()), progress=progress)))
        if wanted_sentences is not wanted:
            known.update(zip(wanted_sentences, by_sentence.encode(list(wanted_sentences.values()), progress=progress)))
    vectors = np.zeros((len(passages), embedder.dimensions), dtype=np.float32)
    for row, key in enumerate(keys):
        vectors[row] = known[key]
    sentences = SentenceVectors.from_lists(
        spans, [np.array([known[key] for key in row], dtype=np.float32).reshape(-1, embedder.dimensions)
                for row in sentence_keys], embedder.dimensions) if settings.sentence_vectors else None

    manifest = {
        "model": embedder.name,
        "sentence_model": sentence_name,
        "dimensions": embedder.dimensions,
        "max_passage_tokens": settings.max_passage_tokens,
        "reader_version": READER_VERSION,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "software": software_versions(),
        "corpus": [str(folder.resolve()) for folder in plan.folders],
        "added": [str(path.resolve()) for path in plan.added if str(path.resolve()) in file_checksums],
        "removed": [str(path) for path in plan.removed],
        "files": file_checksums,
        "unread": unread,
        "metadata_files": _metadata_checksums(plan.folders),
        "skipped": [{"path": path, "reason": reason} for path, reason in report.skipped],
        "unresolved": [{"path": path, "authority": name} for path, name in report.unresolved],
    }
    lexical = [lexical_text(passage) for passage in passages]
    report.build = store.write(manifest, records, passages, vectors, lexical, keys, sentences)
    report.seconds = time.perf_counter() - started
    return report


def _unique(candidate: str, used: set[str]) -> str:
    name, number = candidate, 2
    while name in used:
        name, number = f"{candidate}-{number}", number + 1
    return name


def document_path(index_folder: Path, doc_id: str, settings: Settings | None = None) -> Path:
    """The file a document id was read from, for `remove`."""
    try:
        records = open_store(settings or Settings.from_env(), index_folder).documents()
    except IndexMissingError:
        records = []
    for record in records:
        if doc_id in (record["doc_id"], record["path"], Path(record["path"]).name):
            return Path(record["path"])
    raise IndexerError(f"no document '{doc_id}' in the index: `python -m indexer documents` lists them")

