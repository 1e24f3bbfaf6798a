"""Strength, weakness or neutral: the tone model on hand-labelled held-out sentences, and its fallbacks."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from indexer import tone
from indexer.settings import PROJECT_ROOT

HELDOUT_FLOOR = {"accuracy": 0.85, "weakness_recall": 0.80, "strength_precision": 0.90}


def test_the_word_cue_rule_reads_negation_and_shortfalls():
    assert tone.rule_label("Management oversight is not consistently effective.") == "weakness"
    assert tone.rule_label("Too many care leavers live in unsuitable accommodation.") == "weakness"
    assert tone.rule_label("IROs challenge effectively, and children's plans progress well.") == "strength"
    assert tone.rule_label("The local authority has appointed a new director.") == "neutral"


def test_vectors_of_another_model_get_the_rule_not_the_trained_weights():
    text = "Management oversight is not consistently effective."
    random = np.random.default_rng(0).normal(size=(1, 384)).astype(np.float32)
    assert tone.label([text], random, "hashing-test-embedder") == [tone.rule_label(text)]


def test_the_trained_model_is_shipped_with_its_embedding_model_named():
    model = tone.load_model()
    assert model is not None, "indexer/data/tone.npz: run scripts/train_tone.py"
    weights, bias, labels, name = model
    assert labels == tone.LABELS and weights.shape == (3, 384 + len(tone.CUES)) and name.startswith("all-MiniLM")


@pytest.mark.model
def test_the_tone_model_holds_its_scores_on_the_held_out_sentences():
    sys.path.insert(0, str(PROJECT_ROOT / "eval"))
    sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
    from tone import scores  # eval/tone.py
    from train_tone import SENTENCES, embed, load

    from indexer.settings import Settings

    rows = load(SENTENCES, "heldout")
    texts, gold = [row["text"] for row in rows], [row["label"] for row in rows]
    vectors, name = embed(texts, Settings.from_env())
    result = scores(gold, tone.label(texts, vectors, name))
    print(result)
    assert result["n"] >= 700
    assert result["accuracy"] >= HELDOUT_FLOOR["accuracy"]
    assert result["weakness"]["recall"] >= HELDOUT_FLOOR["weakness_recall"]
    assert result["strength"]["precision"] >= HELDOUT_FLOOR["strength_precision"]
