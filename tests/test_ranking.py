"""Ranking's pure functions: fusion, kind weights, diversity, the per-document cap, copies."""

from __future__ import annotations

import numpy as np
import pytest

from indexer import ranking


def test_minmax_scales_over_the_candidates():
    assert ranking.minmax(np.array([2.0, 4.0, 3.0])).tolist() == [0.0, 1.0, 0.5]
    assert ranking.minmax(np.array([5.0, 5.0])).tolist() == [0.0, 0.0]


def test_fuse_weighs_each_feature_after_scaling_it():
    features = {"passage": np.array([0.2, 0.4, 0.3]), "lexical": np.array([10.0, 0.0, 5.0])}
    fused = ranking.fuse(features, {"passage": 0.75, "lexical": 0.25})
    assert fused.tolist() == pytest.approx([0.25, 0.75, 0.5])
    assert ranking.fuse(features, {"sentence": 1.0}).tolist() == [0.0, 0.0, 0.0]  # a feature nobody has


def test_kind_weights_hold_back_boilerplate_and_recommendations_unless_asked():
    kinds = ["finding", "boilerplate", "recommendation", "summary"]
    assert ranking.kind_weights(kinds, False, 0.3, 0.5).tolist() == [1.0, 0.3, 0.5, 1.0]
    assert ranking.kind_weights(kinds, True, 0.3, 0.5).tolist() == [1.0, 0.3, 1.0, 1.0]


def test_diversify_deals_the_named_groups_in_turn_best_first():
    group = {1: "A", 2: "A", 3: "A", 4: "B", 5: "C", 6: "B", 7: "X"}
    assert ranking.diversify([1, 2, 3, 4, 5, 6, 7], group.get, ["A", "B", "C"], 10) == [1, 4, 5, 2, 6, 3, 7]
    assert ranking.diversify([1, 2, 4], group.get, ["A"], 10) == [1, 2, 4]  # one group: nothing to deal


def test_the_cap_keeps_documents_from_filling_every_place_but_gives_way():
    document = {1: "a", 2: "a", 3: "a", 4: "b", 5: "a"}.get
    assert ranking.cap_per_document([1, 2, 3, 4, 5], document, 2, 3) == [1, 2, 4]
    assert ranking.cap_per_document([1, 2, 3, 5], document, 2, 3) == [1, 2, 3]  # nothing else to give
    assert ranking.cap_per_document([1, 2, 3, 4], document, 0, 3) == [1, 2, 3]


def test_copies_are_told_by_shared_word_runs():
    original = ranking.shingles("The timeliness and effectiveness of pathway plans for care leavers.")
    quoted = ranking.shingles("Ofsted said: the timeliness and effectiveness of pathway plans for care leavers.")
    other = ranking.shingles("Care leavers live in suitable housing and stay in touch with their advisers.")
    assert ranking.is_copy(original, quoted, 0.8)
    assert not ranking.is_copy(original, other, 0.8)
    assert not ranking.is_copy(frozenset(), quoted, 0.8)


def test_boost_adds_shares_of_the_top_score():
    scores = {1: 2.0, 2: 1.0, 3: 0.5}
    boosted = ranking.boost(scores, lambda row: {2: (0.5,), 3: (0.5, 0.25)}.get(row, ()))
    assert boosted == {1: 2.0, 2: 2.0, 3: 2.0} and ranking.boost({}, lambda row: (1.0,)) == {}


def test_rerank_reorders_the_head_by_its_best_sentences_and_leaves_the_tail():
    scores = {1: 1.0, 2: 0.9, 3: 0.8, 4: 0.1}
    order = ranking.rerank([1, 2, 3, 4], scores, {1: 0.0, 2: 0.5, 3: 0.1}, 1.0)
    assert order == [2, 1, 3, 4] and scores == {1: 1.0, 2: 1.4, 3: 0.9, 4: 0.1}
