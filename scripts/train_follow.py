"""Train following.py's two models on the dev pairs of eval/follow_pairs.jsonl: link relevance, then outcome.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/train_follow.py --index DIR     # writes indexer/data/follow.npz
    HF_HUB_OFFLINE=1 .venv/bin/python eval/follow.py --index DIR              # measures them on the held-out pairs

1. Relevance: a logistic model over following.FEATURES of each labelled candidate (the best MAX_CANDIDATES of
   the later report). Its predictions are cross-validated by authority (5 folds: no authority is scored by a
   model that saw it), and the bar is the lowest probability from which on every higher bar the links that
   following.trace would show (the best MAX_LINKS above the bar) keep a precision of at least --precision (the
   issue's 0.85), so that recall is as high as that allows.
2. Outcome: a multinomial logistic model over following.OUTCOME_FEATURES of each dev recommendation, read with
   the cross-validated relevance of step 1 (as a new authority would be read), against the hand-labelled
   outcome. Its accuracy is cross-validated by authority too.
Only dev pairs are read; the held-out half is for eval/follow.py.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

from follow import PAIRS, load_pairs, locate, norm  # noqa: E402  (eval/follow.py)

from indexer import following  # noqa: E402
from indexer.embedding import load_embedder  # noqa: E402
from indexer.passages import content_text  # noqa: E402
from indexer.practice_areas import areas, rarity  # noqa: E402
from indexer.search import Searcher  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import load_index  # noqa: E402

RELEVANCE_C = 3.0  # chosen by cross-validation within dev (eval/FOLLOW.md)
OUTCOME_C = 1.0


def gather(searcher, grouped, area_rarity: dict[str, float]) -> list[dict]:
    """Per dev recommendation: its candidates, their features, the labels found among them, its outcome."""
    index = searcher.index
    out = []
    for pairs in grouped.values():
        recommendation, earlier, later = locate(index, pairs)
        if recommendation is None:
            continue
        found = following.candidates(searcher, recommendation, {later["doc_id"]}, following.LATER_KINDS)
        raw = [[l.passage, l.score, l.start, l.end, l.tone, l.passage_score, l.sentence_score] for l in found]
        features = following.link_features(recommendation, raw, index.stem_frequency, len(index.passages),
                                           following.MAX_CANDIDATES, area_rarity)
        weighed = found[:following.MAX_CANDIDATES]
        labels = [None] * len(weighed)
        for pair in pairs:
            sentence = norm(pair["later_sentence"])
            place = next((i for i, link in enumerate(weighed) if sentence in norm(link.passage.text)), None)
            if place is not None:
                labels[place] = bool(pair["relevant"])
        grades = later.get("grades") or {}
        area = following.judgement_of(recommendation, grades)
        out.append({"authority": pairs[0]["authority"], "found": found, "features": features[:len(weighed)],
                    "labels": labels, "asked": areas(content_text(recommendation)), "relevant": sum(bool(pair["relevant"]) for pair in pairs),
                    "outcome": pairs[0]["outcome"], "grade": grades.get(area),
                    "overall": grades.get("overall effectiveness")})
    return out


def links_shown(chances: np.ndarray, bar: float) -> list[int]:
    """The candidates following.trace links: the best MAX_LINKS by relevance among those at or above the bar."""
    above = [i for i in np.argsort(-chances, kind="stable") if chances[i] >= bar]
    return above[:following.MAX_LINKS]


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--precision", type=float, default=0.85)
    parser.add_argument("--out", type=Path, default=following.RELEVANCE_MODEL)
    args = parser.parse_args()
    settings = Settings.from_env(index=args.index)
    searcher = Searcher(load_index(settings.index, settings), load_embedder(settings), settings)
    if args.out.exists():
        args.out.unlink()  # features are the models' inputs, not their outputs: train from none
        following.relevance_model.cache_clear()
    area_rarity = rarity(passage.text for passage in searcher.index.passages)  # of the training corpus, kept
    records = gather(searcher, load_pairs(args.pairs, "dev"), area_rarity)
    authorities = sorted({record["authority"] for record in records})
    group = np.array([authorities.index(record["authority"]) for record in records])
    folds = list(GroupKFold(n_splits=5).split(np.zeros(len(records)), groups=group))

    def labelled(chosen):
        rows = [(records[n]["features"][i], label) for n in chosen
                for i, label in enumerate(records[n]["labels"]) if label is not None]
        return np.array([row for row, _ in rows]), np.array([int(label) for _, label in rows])

    # 1. relevance, cross-validated by authority
    for train, test in folds:
        model = LogisticRegression(C=RELEVANCE_C, max_iter=5000).fit(*labelled(train))
        for n in test:
            records[n]["chances"] = model.predict_proba(records[n]["features"])[:, 1]
    features, labels = labelled(range(len(records)))
    relevant_total = sum(record["relevant"] for record in records)
    curve = []
    for bar in np.round(np.arange(0.2, 0.95, 0.01), 2):
        right = wrong = 0
        for record in records:
            for i in links_shown(record["chances"], bar):
                if record["labels"][i] is not None:
                    right += record["labels"][i]
                    wrong += not record["labels"][i]
        if right + wrong:
            curve.append((float(bar), right / (right + wrong), right / relevant_total, right + wrong))
    bar = next((curve[i][0] for i in range(len(curve)) if all(p >= args.precision for _, p, _, _ in curve[i:])),
               curve[-1][0] if curve else 0.5)
    for point in curve:
        print(f"bar {point[0]:.2f}: dev cross-validated precision {point[1]:.3f} recall {point[2]:.3f} "
              f"({point[3]} judged links)" + ("  <- bar" if point[0] == bar else ""))
    relevance = LogisticRegression(C=RELEVANCE_C, max_iter=5000).fit(features, labels)

    # 2. outcome, read with the cross-validated relevance
    rows, outcomes = [], []
    for record in records:
        weighed = [replace(link, relevance=float(chance)) for link, chance in
                   zip(record["found"][:following.MAX_CANDIDATES], record["chances"])]
        rows.append(following.outcome_features(record["found"], weighed, record["overall"], record["grade"],
                                               record["asked"], area_rarity))
        outcomes.append(record["outcome"])
    rows, outcomes = np.array(rows), np.array(outcomes)
    said = np.empty(len(outcomes), dtype=object)
    for train, test in folds:
        said[test] = LogisticRegression(C=OUTCOME_C, max_iter=5000).fit(rows[train], outcomes[train]).predict(rows[test])
    print(f"outcome: dev cross-validated accuracy {np.mean(said == outcomes):.3f} over {len(outcomes)} recommendations "
          f"(always 'improved': {np.mean(outcomes == 'improved'):.3f})")
    reader = LogisticRegression(C=OUTCOME_C, max_iter=5000).fit(rows, outcomes)
    assert tuple(reader.classes_) == following.OUTCOMES, reader.classes_

    np.savez(args.out, weights=relevance.coef_[0].astype(np.float32), bias=np.float32(relevance.intercept_[0]),
             bar=np.float32(bar), features=np.array(following.FEATURES),
             outcome_weights=reader.coef_.astype(np.float32), outcome_bias=reader.intercept_.astype(np.float32),
             outcome_features=np.array(following.OUTCOME_FEATURES), outcomes=np.array(following.OUTCOMES),
             model=np.array(searcher.index.manifest.get("model") or ""),
             areas=np.array(list(area_rarity)), area_rarity=np.array(list(area_rarity.values()), dtype=np.float32),
             trained_on=np.array(f"{len(labels)} dev pairs, {len(outcomes)} dev recommendations of {args.pairs.name}"))
    print(f"Trained on {len(labels)} dev pairs ({labels.sum()} relevant) and {len(outcomes)} recommendations; "
          f"bar {bar:.2f}; saved {args.out}")
    print("relevance weights: " + ", ".join(f"{name} {w:+.2f}" for name, w in zip(following.FEATURES,
                                                                                  relevance.coef_[0])))
    for name, weights in zip(reader.classes_, reader.coef_):
        print(f"outcome {name}: " + ", ".join(f"{feature} {w:+.2f}" for feature, w in
                                              zip(following.OUTCOME_FEATURES, weights)))


if __name__ == "__main__":
    main()
