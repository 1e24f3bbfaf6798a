"""Tests for indexer.store: round trip, the atomic swap under crashes and kills, and the dense index chosen by size."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict

import faiss
import numpy as np
import pytest

from indexer import store
from indexer.embedding import HashingEmbedder
from indexer.errors import IndexerError, IndexMissingError, IndexStaleError
from indexer.passages import Passage, embedding_text
from indexer.settings import PROJECT_ROOT, Settings
from indexer.store import current_build, is_approximate, load_index, read_manifest, write_index

WORDS = ("care leavers pathway plans children social workers visits strategy meetings fostering adoption "
         "placements health education independent reviewing officers court proceedings threshold").split()


def passages(count: int, doc: str = "doc") -> list[Passage]:
    """`count` small passages with varied words, two documents' worth of authorities."""
    found = []
    for row in range(count):
        words = " ".join(WORDS[(row * 7 + step * 3) % len(WORDS)] for step in range(12))
        found.append(Passage(
            passage_id=f"{doc}/{row + 1:04d}", doc_id=doc, title=f"{doc} report",
            authority="Oldham" if row % 2 else "Tameside",
            doc_type="inspection report", date="2019-01-01", section="Care leavers", paragraph=str(row + 1), page=1,
            text=f"{row} {words}.", start=row * 100, end=row * 100 + 90,
        ))
    return found


def write(settings: Settings, rows: list[Passage], documents: list[dict] | None = None):
    vectors = HashingEmbedder().encode([embedding_text(p) for p in rows])
    texts = [embedding_text(p) for p in rows]
    manifest = {"model": settings.embedding_model, "sentence_model": settings.sentence_model, "dimensions": 384}
    build = write_index(settings.index, manifest, documents or [{"doc_id": "doc"}], rows, vectors, texts,
                        [str(n) for n in range(len(rows))], settings)
    return build, vectors


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(index=tmp_path / "index", model=HashingEmbedder.name)


def test_round_trip_gives_back_what_was_written(settings):
    rows = passages(30)
    build, vectors = write(settings, rows)
    index = load_index(settings.index, settings)
    assert index.folder == build == current_build(settings.index)
    assert index.passages == rows
    assert np.array_equal(np.asarray(index.vectors), vectors)
    assert index.manifest["passages"] == 30 and index.manifest["dense"]["kind"] == "flat"
    assert not is_approximate(index.dense) and index.dense.ntotal == 30
    assert not (build / "dense.faiss").exists()  # exact search is made from vectors.npy
    scores, found = index.search_dense(vectors[[3, 7]], 1)
    assert found[:, 0].tolist() == [3, 7] and np.allclose(scores[:, 0], 1.0, atol=1e-5)
    assert index.neighbours("doc/0005", 1, 1) == rows[3:6]


def test_index_of_another_model_is_refused(settings):
    write(settings, passages(5))
    with pytest.raises(IndexStaleError, match="INDEXER_BACKEND"):
        load_index(settings.index, Settings(index=settings.index, backend="onnx-int8"))


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexMissingError, match="python -m indexer build"):
        read_manifest(tmp_path / "nothing")


def test_crash_while_writing_leaves_the_previous_build(settings, monkeypatch):
    old, _ = write(settings, passages(10))

    def crash(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "build_lexical", crash)  # after passages and vectors are on disk
    with pytest.raises(IndexerError, match="could not write the new build .* disk full"):
        write(settings, passages(20))
    assert [path.name for path in (settings.index / "builds").iterdir()] == [old.name]  # no partial build left
    assert current_build(settings.index) == old
    assert len(load_index(settings.index, settings).passages) == 10
    monkeypatch.undo()
    monkeypatch.setattr(store.os, "replace", crash)  # the new build is complete, the link not yet moved
    with pytest.raises(OSError):
        write(settings, passages(20))
    assert current_build(settings.index) == old and len(load_index(settings.index, settings).passages) == 10


def test_kill_at_any_moment_leaves_a_loadable_index(settings):
    """kill -9 a process rewriting the index at several moments: `current` always loads, old or new."""
    old, _ = write(settings, passages(10))
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(PROJECT_ROOT)!r})
        from tests.test_store import passages, write
        from indexer.settings import Settings
        settings = Settings(index={str(settings.index)!r}, model={HashingEmbedder.name!r})
        print("ready", flush=True)
        while True:
            write(settings, passages(3000))
    """)
    for delay in (0.05, 0.3, 0.8):
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        index = load_index(settings.index, settings)
        assert len(index.passages) in (10, 3000) and index.dense.ntotal == len(index.passages)


def test_large_index_is_approximate_and_keeps_recall(tmp_path):
    settings = Settings(index=tmp_path / "index", model=HashingEmbedder.name, flat_max_passages=100)
    rows = passages(400)
    build, vectors = write(settings, rows)
    index = load_index(settings.index, settings)
    assert index.manifest["dense"] == {"kind": "hnsw", "flat_max_passages": 100, "neighbours": 32,
                                       "ef_construction": 40, "ef_search": settings.hnsw_ef_search}
    assert is_approximate(index.dense) and (build / "dense.faiss").is_file()
    queries = vectors[:50]
    exact = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :10]
    exact_scores = np.take_along_axis(queries @ vectors.T, exact, axis=1)
    scores, _ = index.search_dense(queries, 10)
    assert np.allclose(scores, exact_scores, atol=1e-4)  # ties make rows ambiguous; scores are not


def test_filtered_search_returns_only_allowed_rows(tmp_path):
    settings = Settings(index=tmp_path / "index", model=HashingEmbedder.name, flat_max_passages=100)
    _, vectors = write(settings, passages(400))
    index = load_index(settings.index, settings)
    narrow = np.zeros(400, dtype=bool)
    narrow[[5, 50, 150]] = True  # fewer rows than the exact limit: scanned exactly
    scores, found = index.search_dense(vectors[:2], 10, narrow)
    assert found.shape == (2, 3) and set(found[0]) == {5, 50, 150}
    wide = np.arange(400) % 2 == 0  # many rows: the HNSW graph with a selector
    _, found = index.search_dense(vectors[:20], 10, wide)
    assert (found >= 0).all() and wide[found].all()
    assert found[0, 0] == 0
    # and the FAISS selector search.py uses directly works on the approximate index too
    selector = faiss.IDSelectorBatch(np.flatnonzero(wide).astype(np.int64))
    _, rows = index.dense.search(vectors[:1], 5, params=faiss.SearchParameters(sel=selector))
    assert wide[rows[0]].all()


def test_building_uses_every_core_then_searching_one(tmp_path):
    settings = Settings(index=tmp_path / "index", model=HashingEmbedder.name, flat_max_passages=10, threads=2)
    write(settings, passages(50))
    assert faiss.omp_get_max_threads() == 1


def test_manifest_is_readable_json(settings):
    build, _ = write(settings, passages(3))
    record = json.loads((build / "manifest.json").read_text())
    assert record["model"] == HashingEmbedder.name and record["format_version"] >= 1
    assert [json.loads(line) for line in (build / "passages.jsonl").read_text().splitlines()] == [
        asdict(p) for p in passages(3)]
