"""Defaults and environment overrides, read in one place: a name, a default and a line of help each."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FORMAT_VERSION = 1  # bump when the files in the index folder change shape


@dataclass(frozen=True)
class Settings:
    """Every tunable of the indexer; each can be set by the environment variable INDEXER_<NAME>."""

    corpus: Path = PROJECT_ROOT / "corpus"  # folder of documents to index
    index: Path = PROJECT_ROOT / "index"  # folder the built index lives in
    model: str = "all-MiniLM-L6-v2"  # embedding model: the packaged all-MiniLM-L6-v2
    backend: str = "torch"  # embedding backend: torch (fp32)
    batch_size: int = 32  # passages embedded per batch
    max_passage_tokens: int = 200  # word pieces per passage; the model reads 256 including title and section
    candidates: int = 100  # passages each retriever proposes before fusion
    rrf_k: int = 60  # reciprocal rank fusion constant
    dense_weight: float = 1.0  # weight of the dense ranking in fusion
    lexical_weight: float = 1.0  # weight of the lexical ranking in fusion
    threads: int = 0  # CPU threads for embedding and FAISS; 0 means all cores

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults, then INDEXER_* environment variables, then explicit overrides."""
        values = {}
        for spec in fields(cls):
            raw = os.environ.get(f"INDEXER_{spec.name.upper()}")
            if raw is not None:
                kind = type(spec.default)
                values[spec.name] = Path(raw) if kind is type(PROJECT_ROOT) or isinstance(spec.default, Path) else kind(raw)
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)
