"""MiniLM tuned on the labelled pairs (indexer/tuned.py): trained, saved, loaded back and better than the stock
model on pairs it never saw."""

from __future__ import annotations

import json

import numpy as np
import pytest

from indexer import following, tuned
from indexer.settings import PROJECT_ROOT

PAIRS = [
    ("The quality of pathway plans for care leavers.", "Pathway plans for care leavers are not of good quality.", 1.0),
    ("The quality of pathway plans for care leavers.", "The local authority's fostering service recruits well.", 0.0),
    ("Management oversight of casework.", "Managers do not consistently oversee casework.", 1.0),
    ("Management oversight of casework.", "Children's health assessments are timely.", 0.0),
    ("Timeliness of achieving permanence for children in care.",
     "There is widespread drift and delay in achieving permanence.", 1.0),
    ("Timeliness of achieving permanence for children in care.", "Care leavers live in suitable homes.", 0.0),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tuned")
    steps = []
    model = tuned.train(PAIRS, out=folder, epochs=1, progress=lambda step, total: steps.append((step, total)))
    return folder, model, steps


def test_an_adapter_is_trained_saved_and_read_back_the_same(trained):
    folder, model, steps = trained
    assert steps and steps[-1] == (1, 1)  # 6 pairs: one batch, progress reported
    assert tuned.available(folder) and (folder / "adapter_model.safetensors").stat().st_size < 3_000_000
    texts = [passage for _, passage, _ in PAIRS[:2]]
    in_hand = tuned.pair_cosines(model, PAIRS[0][0], texts)
    read_back = tuned.cosines(PAIRS[0][0], texts, path=folder)
    assert np.allclose(in_hand, read_back, atol=1e-5), (in_hand, read_back)
    stock = tuned._base_model()
    before = tuned.pair_cosines(stock, PAIRS[0][0], texts)
    assert np.abs(before - read_back).max() > 1e-4  # the adapter changed the model
    assert tuned.cosines("anything", [], path=folder).shape == (0,)


def test_training_is_seeded(trained):
    _, model, _ = trained
    again = tuned.train(PAIRS, epochs=1)
    texts = [passage for _, passage, _ in PAIRS]
    assert np.allclose(tuned.pair_cosines(model, PAIRS[2][0], texts), tuned.pair_cosines(again, PAIRS[2][0], texts),
                       atol=1e-6)


def test_no_adapter_means_no_tuned_cosine_and_no_trained_models(tmp_path, monkeypatch):
    assert tuned.cosines("x", ["y"], path=tmp_path) is None
    monkeypatch.setattr(tuned, "available", lambda path=tuned.TUNED_MODEL: False)
    following.relevance_model.cache_clear()
    try:
        assert following.relevance_model() is None  # the shipped models read the tuned cosine: none without it
    finally:
        monkeypatch.undo()
        following.relevance_model.cache_clear()
    assert following.relevance_model() is not None


@pytest.mark.model
def test_the_shipped_adapter_separates_held_out_pairs_better_than_the_stock_model():
    """On 200 held-out pairs (authorities it never saw): relevant passages score higher against their
    recommendation than irrelevant ones more often with the tuned model than with the stock one."""
    from sklearn.metrics import roc_auc_score

    assert tuned.available(), "indexer/data/follow_tuned/ is missing: run scripts/train_follow.py"
    with open(PROJECT_ROOT / "eval" / "follow_pairs.jsonl", encoding="utf-8") as handle:
        rows = [row for row in map(json.loads, handle) if row["split"] == "heldout"][:200]
    labels = [bool(row["relevant"]) for row in rows]
    assert 20 < sum(labels) < 180
    stock = tuned._base_model()
    plain = [float(tuned.pair_cosines(stock, row["recommendation"], [row["later_text"]])[0]) for row in rows]
    tuned_scores = [float(tuned.cosines(row["recommendation"], [row["later_text"]])[0]) for row in rows]
    assert roc_auc_score(labels, tuned_scores) > roc_auc_score(labels, plain) + 0.03
