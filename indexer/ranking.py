"""Ranking as pure functions: fuse retrievers' scores, weigh passage kinds and time, diversify, fold copies, pick the
best candidates and sentences.

Nothing here reads an index: every function takes arrays or plain values, so each can be tested alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

COPY_SHINGLE = 4  # words per shingle when telling a verbatim copy


def minmax(values: np.ndarray) -> np.ndarray:
    """Scores scaled to 0..1 over the candidates (all equal -> all 0)."""
    values = np.asarray(values, dtype=np.float64)
    if not len(values):
        return values
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def fuse(features: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """A weighted sum of min-max scaled features, one value per candidate.

    Scaling over the candidates keeps a retriever's lead: BM25's top match far ahead of the rest stays
    far ahead, which rank fusion would throw away (eval/TUNING.md).
    """
    total = None
    for name, weight in weights.items():
        if not weight or name not in features:
            continue
        part = weight * minmax(features[name])
        total = part if total is None else total + part
    if total is None:
        size = len(next(iter(features.values()))) if features else 0
        return np.zeros(size)
    return total


def kind_weights(kinds: Sequence[str], recommendations_asked: bool, boilerplate: float,
                 recommendation: float) -> np.ndarray:
    """A multiplier per candidate for what kind of passage it is.

    Boilerplate (contents, local-area facts, lists of earlier inspections, small print) is held back;
    "What needs to improve" items are held back unless the question asks what needs to improve, when
    they are what it wants and findings are held back instead.
    """
    out = np.ones(len(kinds))
    for i, kind in enumerate(kinds):
        if kind == "boilerplate":
            out[i] = boilerplate
        elif kind == "recommendation":
            out[i] = 1.0 if recommendations_asked else recommendation
    return out


def boost(scores: dict[int, float], shares: Callable[[int], Sequence[float]]) -> dict[int, float]:
    """Each row's score raised by shares of the top score: an authority or a time the question names lifts its
    passages by the same amount whatever the scale of the fused scores."""
    if not scores:
        return scores
    top = max(scores.values())
    boosted = {}
    for row, value in scores.items():
        for share in shares(row):
            value += share * top
        boosted[row] = value
    return boosted


def rerank(order: Sequence[int], scores: dict[int, float], best: dict[int, float], weight: float) -> list[int]:
    """The order with its leading rows (those of `best`) re-sorted after adding `weight` × the top score × each
    one's best sentence score to its score (`scores` is raised in place; ties by row).

    A question is usually answered by one sentence, which a whole paragraph's vector blurs.
    """
    head = list(order[:len(best)])
    if not head:
        return list(order)
    top = max(scores[row] for row in head) or 1.0
    for row in head:
        scores[row] += weight * top * best[row]
    return sorted(head, key=lambda row: (-scores[row], row)) + list(order[len(head):])


def diversify(order: Sequence[int], group_of: Callable[[int], str], groups: Sequence[str], k: int) -> list[int]:
    """The order re-dealt so that each of `groups` gets its turn: a question comparing three authorities
    shows each one's best passages near the top, not ten of the first one's.

    Rows are dealt round-robin, best first within each group; rows outside the groups follow in order.
    """
    wanted = list(dict.fromkeys(groups))
    if len(wanted) < 2:
        return list(order)
    queues: dict[str, list[int]] = {group: [] for group in wanted}
    rest = []
    for row in order:
        group = group_of(row)
        (queues[group] if group in queues else rest).append(row)
    dealt: list[int] = []
    while any(queues.values()) and len(dealt) < k:
        for group in wanted:
            if queues[group]:
                dealt.append(queues[group].pop(0))
    position = {row: i for i, row in enumerate(order)}
    leftover = sorted((row for group in wanted for row in queues[group]), key=position.get)
    return dealt + leftover + rest


def cap_per_document(order: Sequence[int], document_of: Callable[[int], str], per_document: int, k: int
                     ) -> list[int]:
    """The first k rows with at most `per_document` from one document, while other documents have rows
    to give; then the held-back rows fill any places left, in their original order."""
    if not per_document:
        return list(order[:k])
    kept, held = [], []
    counts: dict[str, int] = {}
    for row in order:
        if len(kept) == k:
            break
        document = document_of(row)
        if counts.get(document, 0) >= per_document:
            held.append(row)
            continue
        counts[document] = counts.get(document, 0) + 1
        kept.append(row)
    if len(kept) < k and held:
        position = {row: i for i, row in enumerate(order)}
        kept = sorted(kept + held[:k - len(kept)], key=position.get)
    return kept


def shingles(text: str) -> frozenset:
    """Runs of COPY_SHINGLE words, to tell a passage quoted verbatim in another document."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return frozenset(zip(*(words[i:] for i in range(COPY_SHINGLE))))


def is_copy(mine: frozenset, theirs: frozenset, threshold: float) -> bool:
    """True when at least `threshold` of the shorter passage's shingles are in the longer one."""
    return bool(mine and theirs) and len(mine & theirs) >= threshold * min(len(mine), len(theirs))


def top_positive(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k best (row, score) pairs with a positive score, best first, ties by row.

    Only the few rows that contain a query word are ranked: selecting among all of a million scores
    (as bm25s's retrieve does) cost 30 ms a query there, most of it spent on the zeros.
    """
    rows = np.flatnonzero(scores > 0)
    if len(rows) > k:
        rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
    rows = rows[np.lexsort((rows, -scores[rows]))]
    return [(int(row), float(scores[row])) for row in rows]


def best_sentence_scores(stored: Sequence[tuple[list, np.ndarray]], vector: np.ndarray) -> np.ndarray | None:
    """Each passage's best sentence similarity to the question vector (-1 for a passage without sentences), from
    each passage's (spans, sentence vectors); None when none of them has a sentence."""
    if not any(len(spans) for spans, _ in stored):
        return None
    best = np.full(len(stored), -1.0)
    for position, (spans, vectors) in enumerate(stored):
        if len(spans):
            best[position] = float(np.max(np.asarray(vectors, dtype=np.float32) @ vector))
    return best
