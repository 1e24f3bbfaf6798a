"""Measure following.py on the hand-labelled pairs of eval/follow_pairs.jsonl: link precision and recall, outcomes.

    HF_HUB_OFFLINE=1 .venv/bin/python eval/follow.py --index DIR [--split dev|heldout] [--sweep]

Each labelled pair is a recommendation and one passage of the next inspection, relevant or not; each
recommendation has an outcome (improved, still weak, not mentioned). Pairs are found again in the index by
their text (the recommendation's words in the earlier report, the later sentence in the later report), so
the labels outlive a change of reader or splitter. A link is what `following.trace` shows: one of the best
MAX_CANDIDATES by similarity whose relevance clears the bar (at most MAX_LINKS).
- precision: of the labelled pairs it links, the share labelled relevant (links to unlabelled passages are
  counted apart, as "unjudged");
- recall: of the pairs labelled relevant, the share it links;
- outcome accuracy: its outcome against the hand label, per recommendation.
--sweep prints the same for a range of bars (choose on dev, then report held out once).
--split template scores the older-template pairs (2014-2017 report -> ILACS), which are never trained on
(--authority Oldham or Tameside for one of them).
--plans measures the plan actions instead, on eval/plan_pairs.jsonl (similarity bar; --sweep for several).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer import following  # noqa: E402
from indexer.embedding import load_embedder  # noqa: E402
from indexer.search import Searcher  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import load_index  # noqa: E402

PAIRS = ROOT / "eval" / "follow_pairs.jsonl"
PLAN_PAIRS = ROOT / "eval" / "plan_pairs.jsonl"


def norm(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).lower()


def load_pairs(path: Path, split: str | None, draw: str | None = None, authority: str | None = None
               ) -> dict[str, list[dict]]:
    """Labelled pairs grouped by recommendation id, of one split (or all), one draw (or all) and one authority (or
    all)."""
    grouped: dict[str, list[dict]] = {}
    with open(path, encoding="utf-8") as handle:
        for row in map(json.loads, handle):
            if split in (None, row["split"]) and draw in (None, row.get("draw", "first")) \
                    and authority in (None, row["authority"]):
                grouped.setdefault(row["recommendation_id"], []).append(row)
    return grouped


def locate(index, pairs: list[dict]):
    """(the recommendation passage, the earlier and later report records) in this index, found by text."""
    first = pairs[0]
    authority, wanted = first["authority"], norm(first["recommendation"])
    inspections = following.reports(index, authority)
    later = next((r for r in inspections if r["doc_id"] == first["later_report"]), None)
    if later is None:
        return None, None, None
    number = inspections.index(later)
    earlier = inspections[number - 1] if number else None
    if earlier is None:
        return None, None, None
    return recommendation_in(index, earlier["doc_id"], wanted), earlier, later


def recommendation_in(index, doc_id: str, wanted: str):
    """The recommendation of document `doc_id` whose words, normalised, are `wanted` (None when it has none)."""
    return next((passage for passage in index.document_passages(doc_id) if passage.kind == "recommendation"
                 and norm(following.recommendation_text(passage)) == wanted), None)


def judge(searcher, grouped: dict[str, list[dict]], bar: float) -> dict:
    index = searcher.index
    linked_relevant = linked_irrelevant = unjudged = relevant_total = found_pairs = 0
    outcomes, missing = Counter(), 0
    confusion: Counter[tuple[str, str]] = Counter()
    for pairs in grouped.values():
        recommendation, earlier, later = locate(index, pairs)
        if recommendation is None:
            missing += 1
            continue
        chain = following.trace(searcher, recommendation, earlier, later, bar)
        shown = [norm(link.passage.text) for link in chain.later]
        judged_shown = set()
        for pair in pairs:
            sentence = norm(pair["later_sentence"])
            place = next((i for i, text in enumerate(shown) if sentence in text), None)
            found_pairs += 1
            relevant_total += bool(pair["relevant"])
            if place is not None:
                judged_shown.add(place)
                if pair["relevant"]:
                    linked_relevant += 1
                else:
                    linked_irrelevant += 1
        unjudged += len(set(range(len(shown))) - judged_shown)
        gold = pairs[0]["outcome"]
        confusion[(gold, chain.outcome)] += 1
        outcomes["right" if chain.outcome == gold else "wrong"] += 1
    linked = linked_relevant + linked_irrelevant
    return {"recommendations": len(grouped) - missing, "not found in the index": missing, "pairs": found_pairs,
            "precision": round(linked_relevant / linked, 3) if linked else None,
            "recall": round(linked_relevant / relevant_total, 3) if relevant_total else None,
            "links judged": linked, "links unjudged": unjudged,
            "outcome accuracy": round(outcomes["right"] / max(1, sum(outcomes.values())), 3),
            "outcome confusion": {f"{g} -> {s}": n for (g, s), n in sorted(confusion.items())}}


def judge_plans(searcher, grouped: dict[str, list[dict]], bar: float) -> dict:
    """The same for plan actions (eval/plan_pairs.jsonl): of the plan and council-paper passages following.trace
    shows for a recommendation (similarity at least `bar`, at most MAX_ACTIONS), the share labelled as answering it,
    and of those so labelled, the share shown."""
    index = searcher.index
    right = wrong = unjudged = relevant = 0
    for pairs in grouped.values():
        first = pairs[0]
        report = index.documents.get(first["recommendation_id"].split("/")[0])
        recommendation = recommendation_in(index, report["doc_id"], norm(first["recommendation"])) if report else None
        if recommendation is None:
            continue
        inspections = following.reports(index, first["authority"])
        number = next(i for i, r in enumerate(inspections) if r["doc_id"] == report["doc_id"])
        later = inspections[number + 1] if number + 1 < len(inspections) else None
        shown = [norm(link.passage.text) for link in
                 following.trace(searcher, recommendation, report, later, action_bar=bar).actions]
        judged = set()
        for pair in pairs:
            relevant += bool(pair["relevant"])
            place = next((i for i, text in enumerate(shown) if norm(pair["later_sentence"]) in text), None)
            if place is not None:
                judged.add(place)
                right += bool(pair["relevant"])
                wrong += not pair["relevant"]
        unjudged += len(set(range(len(shown))) - judged)
    return {"recommendations": len(grouped), "precision": round(right / (right + wrong), 3) if right + wrong else None,
            "recall": round(right / relevant, 3) if relevant else None, "links judged": right + wrong,
            "links unjudged": unjudged}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--split", default="heldout", help="dev, heldout or all")
    parser.add_argument("--draw", help="first, second, third, fourth or fifth: one draw of pairs only (eval/FOLLOW.md)")
    parser.add_argument("--authority", help="one authority's pairs only")
    parser.add_argument("--sweep", action="store_true", help="several bars (for choosing on dev)")
    parser.add_argument("--plans", action="store_true",
                        help="measure the plan actions instead, on eval/plan_pairs.jsonl (or --pairs)")
    args = parser.parse_args()
    settings = Settings.from_env(index=args.index)
    searcher = Searcher(load_index(settings.index, settings), load_embedder(settings), settings)
    if args.plans:
        grouped = load_pairs(PLAN_PAIRS if args.pairs == PAIRS else args.pairs, None)
        for bar in (0.4, 0.45, following.ACTION_BAR, 0.55, 0.6, 0.65) if args.sweep else (following.ACTION_BAR,):
            print(f"plan actions, bar {bar:.2f}: {json.dumps(judge_plans(searcher, grouped, bar))}")
        return
    grouped = load_pairs(args.pairs, None if args.split == "all" else args.split, args.draw, args.authority)
    model = searcher.index.manifest.get("model")
    models = following.models_for(model)
    if args.sweep:
        bars = (0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75) if models is None else (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8)
        for bar in bars:
            result = judge(searcher, grouped, bar)
            print(f"bar {bar:.2f}: precision {result['precision']} recall {result['recall']} "
                  f"outcome {result['outcome accuracy']} (links judged {result['links judged']}, "
                  f"unjudged {result['links unjudged']})")
        return
    result = judge(searcher, grouped, following.link_bar(model))
    print(f"{args.split}{f' ({args.draw} draw)' if args.draw else ''}: bar {following.link_bar(model):.3f} "
          f"({'relevance and outcome models' if models else 'similarity and the tone rule'})")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
