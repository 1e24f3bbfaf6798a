"""Tests for indexer.embedding: the fake embedder, backend names, the export cache, and backends agreeing with fp32."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from indexer import embedding
from indexer.embedding import HashingEmbedder, exported_model, load_embedder, sentence_embedder
from indexer.errors import IndexerError
from indexer.settings import PROJECT_ROOT, Settings

TEXTS = [
    "Care leavers have pathway plans that are reviewed regularly.",
    "IROs do not always challenge drift and delay in children's plans effectively.",
    "The local authority has improved the quality of social work practice since the last inspection, "
    "although too many children still experience changes of social worker. " * 3,
    "MASH",
]


def test_hashing_embedder_is_deterministic_and_unit_length():
    first, second = HashingEmbedder().encode(TEXTS), HashingEmbedder().encode(TEXTS)
    assert np.array_equal(first, second)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0)
    assert first.shape == (len(TEXTS), HashingEmbedder.dimensions) and first.dtype == np.float32


def test_hashing_embedder_counts_what_it_embeds():
    embedder = HashingEmbedder()
    embedder.encode(TEXTS[:2])
    embedder.encode(TEXTS[:1])
    assert embedder.calls == [2, 1]


def test_index_model_name_marks_int8_vectors_only():
    names = {backend: Settings(backend=backend).embedding_model for backend in ("torch", "onnx", "onnx-int8")}
    assert names == {"torch": "all-MiniLM-L6-v2", "onnx": "all-MiniLM-L6-v2", "onnx-int8": "all-MiniLM-L6-v2+int8"}
    assert Settings(backend="onnx-int8", model=HashingEmbedder.name).embedding_model == HashingEmbedder.name


def test_backend_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("INDEXER_BACKEND", "torch")
    assert Settings.from_env().backend == "torch"


def test_unknown_backend_names_the_valid_ones():
    with pytest.raises(IndexerError, match="torch, onnx, onnx-int8"):
        load_embedder(Settings(backend="tensorrt"))


def test_export_is_made_once_then_reused(tmp_path, monkeypatch):
    made = []

    def fake_export(target, layers=6):
        made.append(target.name if layers == 6 else f"{target.name} ({layers} layers)")
        target.write_bytes(b"onnx")

    monkeypatch.setattr(embedding, "_export_onnx", fake_export)
    monkeypatch.setattr(embedding, "_quantise", lambda source, target: target.write_bytes(b"int8"))
    settings = Settings(index=tmp_path / "index", backend="onnx")
    folder = exported_model(settings)
    assert exported_model(settings) == folder == tmp_path / "index" / "models" / "onnx"
    assert made == ["model.onnx"]
    assert (folder / "tokenizer.json").is_file()
    # int8 quantises the fp32 export already there instead of exporting again
    int8 = exported_model(Settings(index=tmp_path / "index", backend="onnx-int8"))
    assert (int8 / "model.onnx").read_bytes() == b"int8" and made == ["model.onnx"]
    assert sorted(path.name for path in (tmp_path / "index" / "models").iterdir()) == ["onnx", "onnx-int8"]
    # the first layers alone (the sentence model) are exported once, to a folder of their own
    first = exported_model(Settings(index=tmp_path / "index", backend="onnx-int8"), layers=3)
    assert first.name == "onnx-int8-3-layers" and made == ["model.onnx", "model-fp32.onnx (3 layers)"]
    assert json.loads((first / "export.json").read_text())["layers"] == 3
    assert exported_model(Settings(index=tmp_path / "index", backend="onnx-int8"), layers=3) == first
    assert len(made) == 2


def test_stale_export_is_redone(tmp_path, monkeypatch):
    made = []
    monkeypatch.setattr(embedding, "_export_onnx", lambda target, layers=6: made.append(target) or target.write_bytes(b"x"))
    settings = Settings(index=tmp_path / "index", backend="onnx")
    folder = exported_model(settings)
    record = json.loads((folder / "export.json").read_text())
    (folder / "export.json").write_text(json.dumps({**record, "recipe": 0}))
    exported_model(settings)
    assert len(made) == 2 and json.loads((folder / "export.json").read_text()) == record
    assert not [path for path in folder.parent.iterdir() if path.name.startswith(".")]  # no temporary folders left


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    """Every backend of the real model, exporting into a temporary index folder once for the module."""
    index = tmp_path_factory.mktemp("index")
    return {backend: load_embedder(Settings(index=index, backend=backend))
            for backend in ("torch", "onnx", "onnx-int8")}


@pytest.mark.model
def test_backends_agree_with_torch_fp32(backends):
    reference = backends["torch"].encode(TEXTS)
    onnx = backends["onnx"].encode(TEXTS)
    int8 = backends["onnx-int8"].encode(TEXTS)
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    assert (onnx * reference).sum(axis=1).min() > 0.9999  # the same fp32 computation
    assert (int8 * reference).sum(axis=1).min() > 0.97  # int8 weights: 0.993 on average over the corpus


@pytest.mark.model
def test_backends_keep_input_order_and_count_tokens_alike(backends):
    together = backends["onnx-int8"].encode(TEXTS)
    one_by_one = np.vstack([backends["onnx-int8"].encode([text]) for text in TEXTS])
    # Sorting by length must not reorder rows, and a text's int8 vector must not move with the texts encoded
    # beside it (its activations are quantised per batch, so each text is a batch of its own).
    assert np.array_equal(together, one_by_one)
    fp32_together = backends["onnx"].encode(TEXTS)
    fp32_alone = np.vstack([backends["onnx"].encode([text]) for text in TEXTS])
    assert np.allclose(fp32_together, fp32_alone, atol=1e-5)
    counts = {name: [embedder.token_count(text) for text in TEXTS] for name, embedder in backends.items()}
    assert counts["onnx"] == counts["onnx-int8"] == counts["torch"]
    assert backends["onnx"].encode([]).shape == (0, 384)


@pytest.mark.model
def test_reloading_uses_the_cached_export(backends, monkeypatch):
    folder = backends["onnx-int8"].folder
    before = (folder / "model.onnx").stat().st_mtime_ns

    def no_export(*_):
        raise AssertionError("exported again")

    monkeypatch.setattr(embedding, "_export_onnx", no_export)
    monkeypatch.setattr(embedding, "_quantise", no_export)
    again = load_embedder(Settings(index=folder.parent.parent, backend="onnx-int8"))
    assert again.folder == folder and (folder / "model.onnx").stat().st_mtime_ns == before


@pytest.mark.model
def test_quantising_leaves_the_root_logger_as_it_was(backends, tmp_path):
    """onnxruntime's quantiser configures logging when imported: it must not turn on console logging for the
    rest of a build (a fresh interpreter, since pytest gives the root logger handlers of its own)."""
    source = backends["onnx"].folder / "model.onnx"
    script = ("import logging, sys; from pathlib import Path; from indexer import embedding; "
              "embedding._quantise(Path(sys.argv[1]), Path(sys.argv[2])); root = logging.getLogger(); "
              "print(len(root.handlers), root.level)")
    done = subprocess.run([sys.executable, "-c", script, str(source), str(tmp_path / "int8.onnx")],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", str(logging.WARNING)]
    assert "pre-processing" not in done.stderr  # the quantiser's advice is not printed
    assert (tmp_path / "int8.onnx").stat().st_size > 1_000_000


@pytest.mark.model
def test_sentences_get_the_first_layers_of_the_same_backend(backends, tmp_path):
    settings = Settings(index=backends["onnx-int8"].folder.parent.parent, backend="onnx-int8", sentence_layers=3)
    first = sentence_embedder(backends["onnx-int8"], settings)
    assert first.name == "all-MiniLM-L6-v2+int8 (first 3 layers)" == settings.sentence_model
    assert sentence_embedder(backends["onnx-int8"], settings) is first  # made once per embedder
    assert first.folder.name == "onnx-int8-3-layers"
    torch_first = sentence_embedder(backends["torch"], replace(settings, backend="torch"))
    assert torch_first.name == "all-MiniLM-L6-v2 (first 3 layers)"
    vectors, reference = first.encode(TEXTS), torch_first.encode(TEXTS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * reference).sum(axis=1).min() > 0.97  # the same cut model, int8 weights
    whole = backends["torch"].encode(TEXTS)
    assert (reference * whole).sum(axis=1).max() < 0.9  # a different model from the whole one
    # the whole model by setting, and a fake, score sentences themselves
    assert sentence_embedder(backends["onnx-int8"], replace(settings, sentence_layers=6)) is backends["onnx-int8"]
    fake = HashingEmbedder()
    assert sentence_embedder(fake, Settings(index=tmp_path, model=fake.name)) is fake


@pytest.mark.model
def test_a_large_encode_gives_the_vectors_small_ones_do(backends):
    """A build's encode() runs its batches on several threads at once: each vector still lands in its own row."""
    texts = [f"{text} ({number})" for number in range(embedding.BULK_TEXTS // len(TEXTS) + 1) for text in TEXTS]
    assert len(texts) >= embedding.BULK_TEXTS
    embedder = backends["onnx-int8"]
    workers = embedder.workers
    try:
        embedder.workers = 2  # whatever this machine's cores
        bulk = embedder.encode(texts)
        assert embedder._bulk_session is not None
        embedder.workers = 1  # the same batches, one at a time
        one_at_a_time = embedder.encode(texts)
    finally:
        embedder.workers = workers
    # the same batches through the same model: equal but for float rounding, so no row can have moved
    assert np.abs(bulk - one_at_a_time).max() < 1e-4
    assert np.abs(bulk[:-1] - bulk[1:]).max(axis=1).min() > 1e-3  # while neighbouring texts' vectors differ
    small = np.vstack([embedder.encode(texts[start:start + 32]) for start in range(0, len(texts), 32)])
    assert (bulk * small).sum(axis=1).min() > 0.98
