"""Defaults and environment overrides, read in one place: a name, a default and a line of help each."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FORMAT_VERSION = 8  # bump when the files in the index folder change shape, answers.sentence_spans changes, or
# the exports (embedding.EXPORT_RECIPE) or the way texts are batched change their vectors (8: int8, one text per batch)
READER_VERSION = 8  # bump when reading, sections or splitting change the passages a file gives: the next build
# reads every file again (vectors of unchanged text are still reused)
PACKAGED_MODEL = "all-MiniLM-L6-v2"  # the only model the embedders load; another name is a label (a test's fake)
MODEL_LAYERS = 6  # transformer layers of the packaged model
BACKENDS = ("torch", "onnx", "onnx-int8")  # embedding backends: see embedding.load_embedder and BENCHMARKS.md
OFSTED_FILES_URL = "https://files.ofsted.gov.uk"  # Ofsted's file service: report PDFs at /v1/file/<id>
OFSTED_REPORTS_URL = "https://reports.ofsted.gov.uk"  # Ofsted's report site: a page per provider at /provider/44/<urn>


@dataclass(frozen=True)
class Settings:
    """Every tunable of the indexer; each can be set by the environment variable INDEXER_<NAME>."""

    corpus: Path = PROJECT_ROOT / "corpus"  # folder of documents to index
    index: Path = PROJECT_ROOT / "index"  # folder the built index lives in
    model: str = PACKAGED_MODEL  # embedding model: the packaged all-MiniLM-L6-v2
    backend: str = "onnx-int8"  # embedding backend: onnx-int8 (ONNX Runtime, int8 weights), onnx (fp32) or torch (fp32)
    batch_size: int = 8  # passages embedded per batch (torch, onnx; onnx-int8 takes one text per batch, so its vectors
    # do not depend on their neighbours): with one batch per core, 8 ran faster than 32 (BENCHMARKS.md)
    max_passage_tokens: int = 200  # word pieces per passage; the model reads 256 including title and section
    candidates: int = 100  # passages each retriever proposes before fusion
    rrf_k: int = 60  # reciprocal rank fusion constant
    dense_weight: float = 1.0  # weight of the dense ranking in fusion
    lexical_weight: float = 1.0  # weight of the lexical ranking in fusion
    threads: int = 0  # CPU threads for embedding and for building the FAISS index; 0 means all cores
    flat_max_passages: int = 50_000  # exact (flat) dense search up to this many passages, HNSW above
    flat_max_sentences: int = 200_000  # the same for the sentence vectors' index
    hnsw_neighbours: int = 32  # HNSW graph links per vector (M): more is better recall, more memory
    hnsw_ef_construction: int = 40  # HNSW candidates while building: more is better recall, slower build
    sentence_vectors: bool = True  # embed every passage's sentences at build time: builds take about 1.5 times as
    # long, a question needs no model call for them; off, each question embeds its candidates' sentences
    sentence_layers: int = 6  # transformer layers (of 6) that embed sentences: the whole model, so that sentences
    # are a retrieval channel of their own, scored against the question's one vector; 3 builds faster (BENCHMARKS.md)
    follow_links: bool = False  # index files that links in a corpus folder point to outside it (never loops)
    hnsw_ef_search: int = 2048  # HNSW candidates while searching: recall@10 0.91 at 512, 0.99 at 2048 (BENCHMARKS.md)
    ofsted_files_url: str = OFSTED_FILES_URL  # where `fetch` downloads report PDFs (a local server in tests)
    ofsted_reports_url: str = OFSTED_REPORTS_URL  # where `fetch --refresh` reads the authorities' provider pages
    fetch_pause: float = 1.0  # seconds between two requests to Ofsted: one request at a time, politely
    fetch_backoff: float = 5.0  # seconds before retrying a 429, 5xx or broken download, doubling each try; a
    # server's Retry-After wins when longer (up to fetch.MAX_WAIT)
    fetch_tries: int = 4  # tries per file before it is reported as failed
    fetch_timeout: float = 60.0  # seconds to wait for Ofsted to answer or send more bytes
    milvus_uri: str = ""  # empty: the index is files in the index folder (the default). A Milvus Lite file (`x.db`,
    # one process at a time) or a Milvus server (`http://host:19530`): the index lives there (milvus_store.py)
    milvus_token: str = field(default="", repr=False)  # "user:password" or an API key, when the server asks for one
    milvus_collection: str = "ofsted"  # the alias searchers read in Milvus; each build is a collection behind it
    milvus_timeout: float = 10.0  # seconds a Milvus call may take before the search service counts as unavailable

    @property
    def embedding_model(self) -> str:
        """The model name an index records: int8 vectors differ from fp32 ones, so they get their own name.

        torch and onnx compute the same fp32 vectors (cosine 1.0000 to each other), so an index built
        with one is used as it is by the other. Another model name (a test's fake embedder) is kept as it is.
        """
        return f"{self.model}+int8" if self.backend == "onnx-int8" and self.model == PACKAGED_MODEL else self.model

    @property
    def sentence_model(self) -> str:
        """The model name of sentence vectors: the packaged model's first `sentence_layers` layers, or the whole."""
        if self.model != PACKAGED_MODEL or not 0 < self.sentence_layers < MODEL_LAYERS:
            return self.embedding_model
        return f"{self.embedding_model} (first {self.sentence_layers} layers)"

    @property
    def model_cache(self) -> Path:
        """Where exported models are kept: beside the builds in the index folder, made once."""
        return Path(self.index) / "models"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults, then INDEXER_* environment variables, then explicit overrides."""
        values = {}
        for spec in fields(cls):
            raw = os.environ.get(f"INDEXER_{spec.name.upper()}")
            if raw is not None:
                kind = type(spec.default)
                if isinstance(spec.default, Path):
                    values[spec.name] = Path(raw)
                elif kind is bool:
                    values[spec.name] = raw.strip().lower() in ("1", "true", "yes", "on")
                else:
                    values[spec.name] = kind(raw)
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)
