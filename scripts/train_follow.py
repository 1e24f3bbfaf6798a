"""Train the link relevance model (indexer/following.py) on the dev pairs of eval/follow_pairs.jsonl.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/train_follow.py --index DIR     # writes indexer/data/follow.npz
    HF_HUB_OFFLINE=1 .venv/bin/python eval/follow.py --index DIR              # measures it on the held-out pairs

A logistic model over following.FEATURES of each labelled candidate; the bar is the lowest probability at which
the dev pairs' cross-validated predictions keep a precision of at least --precision (the issue's 0.85), so
that recall is as high as that allows. Only dev pairs are read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

from follow import PAIRS, load_pairs, locate, norm  # noqa: E402  (eval/follow.py)

from indexer import following  # noqa: E402
from indexer.embedding import load_embedder  # noqa: E402
from indexer.search import Searcher  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import load_index  # noqa: E402


def labelled_features(searcher, grouped) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, group) of the labelled candidates found again among each recommendation's best."""
    rows, labels, groups = [], [], []
    for number, pairs in enumerate(grouped.values()):
        recommendation, earlier, later = locate(searcher.index, pairs)
        if recommendation is None:
            continue
        links = following.candidates(searcher, recommendation, {later["doc_id"]}, following.LATER_KINDS)
        links = links[:following.MAX_CANDIDATES]
        raw = [[l.passage, l.score, l.start, l.end, l.tone, l.passage_score, l.sentence_score] for l in links]
        features = following.link_features(recommendation, raw, searcher.index.stem_frequency,
                                           len(searcher.index.passages))
        for pair in pairs:
            sentence = norm(pair["later_sentence"])
            place = next((i for i, link in enumerate(links) if sentence in norm(link.passage.text)), None)
            if place is not None:
                rows.append(features[place])
                labels.append(int(bool(pair["relevant"])))
                groups.append(number)
    return np.array(rows), np.array(labels), np.array(groups)


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--precision", type=float, default=0.85)
    parser.add_argument("--out", type=Path, default=following.RELEVANCE_MODEL)
    args = parser.parse_args()
    settings = Settings.from_env(index=args.index)
    searcher = Searcher(load_index(settings.index, settings), load_embedder(settings), settings)
    if args.out.exists():
        args.out.unlink()  # features are the model's inputs, not its outputs: train from none
        following.relevance_model.cache_clear()
    features, labels, groups = labelled_features(searcher, load_pairs(args.pairs, "dev"))
    model = LogisticRegression(C=1.0, max_iter=5000)
    chances = cross_val_predict(model, features, labels, cv=GroupKFold(n_splits=5), groups=groups,
                                method="predict_proba")[:, 1]
    bar, best = 0.5, None
    for candidate in np.arange(0.2, 0.95, 0.01):
        shown = chances >= candidate
        if not shown.any():
            continue
        precision = labels[shown].mean()
        recall = (shown & (labels == 1)).sum() / max(1, labels.sum())
        print(f"bar {candidate:.2f}: dev cross-validated precision {precision:.3f} recall {recall:.3f}")
        if precision >= args.precision and best is None:
            bar, best = float(candidate), (precision, recall)
    model.fit(features, labels)
    np.savez(args.out, weights=model.coef_[0].astype(np.float32), bias=np.float32(model.intercept_[0]),
             bar=np.float32(bar), features=np.array(following.FEATURES),
             trained_on=np.array(f"{len(labels)} dev pairs of {args.pairs.name}"))
    print(f"Trained on {len(labels)} dev pairs ({labels.sum()} relevant); bar {bar:.2f}"
          + (f" (dev cross-validated precision {best[0]:.3f}, recall {best[1]:.3f})" if best else
             " (no bar reached the precision asked for)") + f"; saved {args.out}")
    print("weights: " + ", ".join(f"{name} {w:+.2f}" for name, w in zip(following.FEATURES, model.coef_[0])))


if __name__ == "__main__":
    main()
