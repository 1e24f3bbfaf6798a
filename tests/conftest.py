"""Shared fixtures: a fake embedder for fast tests, the real packaged model and a seed index for end-to-end ones."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from indexer.embedding import HashingEmbedder
from indexer.settings import PROJECT_ROOT, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SEED_CORPUS = PROJECT_ROOT / "corpus"
TEST_DATA = Path(__file__).parent / "data"
SHARED_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"


@pytest.fixture(autouse=True)
def keep_main_module():
    """Streamlit's AppTest leaves app.py as __main__; worker processes started later would re-run it."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture
def hashing_embedder() -> HashingEmbedder:
    """A deterministic bag-of-words embedder: no model, counts how much it embeds."""
    return HashingEmbedder()


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings pointing at a fresh index folder, named for the fake embedder."""
    return Settings.from_env(index=tmp_path / "index", model=HashingEmbedder.name)


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write a small corpus inline: {name: text or bytes}."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def real_embedder():
    """The packaged all-MiniLM-L6-v2, loaded once for the whole session."""
    from indexer.embedding import load_embedder

    return load_embedder(Settings.from_env())


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, real_embedder) -> Path:
    """An index of the seed corpus built with the real model, once per session."""
    from indexer.building import build_index

    folder = tmp_path_factory.mktemp("seed-index")
    settings = Settings.from_env(index=folder)
    build_index([SEED_CORPUS], folder, real_embedder, settings, progress=False, log=lambda *_: None)
    return folder
