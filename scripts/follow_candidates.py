"""Draw recommendation -> later-passage pairs for hand-labelling (eval/follow_pairs.jsonl; see eval/FOLLOW.md).

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/follow_candidates.py --index /tmp/national > /tmp/pairs.jsonl

For a fixed sample of authorities with two inspections in a row, every recommendation of the earlier report is
paired with the later report's passages that score highest against it (the top --per-recommendation, no bar),
so that a bar can be chosen on the labelled pairs and the links' precision and recall measured. Authorities
are split dev / heldout half and half by a fixed seed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.embedding import load_embedder  # noqa: E402
from indexer.following import (LATER_KINDS, MAX_CANDIDATES, PLAN_KINDS, candidates, plan_documents,  # noqa: E402
                               recommendation_text, reports)
from indexer.search import Searcher  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import load_index  # noqa: E402

ALWAYS = ("Oldham", "Tameside")  # the two end-to-end chains


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--authorities", type=int, default=22)
    parser.add_argument("--per-recommendation", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--exclude", type=Path, help="a pairs file whose authorities are left out (a further draw)")
    parser.add_argument("--all-dev", action="store_true", help="put every authority drawn in dev (more training pairs)")
    parser.add_argument("--all-heldout", action="store_true",
                        help="put every authority drawn in the held-out split (a larger test set)")
    parser.add_argument("--complete", type=Path,
                        help="a labelled pairs file: print, for each of its recommendations, the passages among the "
                             f"best {MAX_CANDIDATES} (those the relevance model weighs) it does not label yet")
    parser.add_argument("--earlier-template", action="store_true",
                        help="instead: every authority with three reports, its first two (2014-2017 template -> "
                             f"ILACS), the best {MAX_CANDIDATES} per recommendation, split 'template' (never trained on)")
    parser.add_argument("--plans", action="store_true",
                        help="instead: each recommendation with the best passages of the plans and council papers "
                             "that answer its report (following.answers), for labelling plan actions; split 'plans'")
    args = parser.parse_args()
    settings = Settings.from_env(index=args.index)
    searcher = Searcher(load_index(settings.index, settings), load_embedder(settings), settings)
    index = searcher.index
    if args.complete:
        complete(searcher, args.complete)
        return
    if args.plans:
        print_plan_pairs(searcher, args.per_recommendation)
        return
    if args.earlier_template:
        for authority in sorted({r["authority"] for r in index.documents.values() if r.get("authority")}):
            inspections = reports(index, authority)
            if len(inspections) >= 3:
                print_pairs(searcher, authority, "template", inspections[-3], inspections[-2], MAX_CANDIDATES)
        return
    names = sorted({r["authority"] for r in index.documents.values() if r.get("authority")})
    eligible = [name for name in names if len(reports(index, name)) >= 2]
    rng = random.Random(args.seed)
    taken = set()
    if args.exclude:
        taken = {json.loads(line)["authority"] for line in args.exclude.read_text(encoding="utf-8").splitlines()}
    others = [name for name in eligible if name not in ALWAYS and name not in taken]
    rng.shuffle(others)
    first = [] if args.exclude else list(ALWAYS)
    chosen = first + others[:args.authorities - len(first)]
    heldout = set() if args.all_dev else set(chosen) if args.all_heldout else \
        set(chosen[len(first):][::2]) | {"Tameside"}
    for authority in chosen:
        inspections = reports(index, authority)
        print_pairs(searcher, authority, "heldout" if authority in heldout else "dev", inspections[-2],
                    inspections[-1], args.per_recommendation)


def print_pairs(searcher, authority: str, split: str, earlier: dict, later: dict, per_recommendation: int) -> None:
    """Every recommendation of the earlier report with the later report's best passages, one JSON line a pair."""
    for recommendation in (p for p in searcher.index.document_passages(earlier["doc_id"])
                           if p.kind == "recommendation"):
        for rank, link in enumerate(candidates(searcher, recommendation, {later["doc_id"]}, LATER_KINDS)
                                    [:per_recommendation], start=1):
            print(json.dumps(pair(authority, split, recommendation, later, rank, link), ensure_ascii=False))


def print_plan_pairs(searcher, per_recommendation: int) -> None:
    """Every recommendation of a report some plan or council paper answers, with those papers' best passages
    (the kinds following.trace weighs as plan actions). `later_report` is then the paper, not an inspection."""
    index = searcher.index
    for authority in sorted({r["authority"] for r in index.documents.values() if r.get("authority")}):
        inspections = reports(index, authority)
        for number, report in enumerate(inspections):
            later = inspections[number + 1] if number + 1 < len(inspections) else None
            papers = plan_documents(index, report, later)
            if not papers:
                continue
            for recommendation in (p for p in index.document_passages(report["doc_id"]) if p.kind == "recommendation"):
                for rank, link in enumerate(candidates(searcher, recommendation, papers, PLAN_KINDS)
                                            [:per_recommendation], start=1):
                    row = pair(authority, "plans", recommendation, index.documents[link.passage.doc_id], rank, link)
                    row["later_report"] = link.passage.doc_id
                    print(json.dumps(row, ensure_ascii=False))


def pair(authority: str, split: str, recommendation, later: dict, rank: int, link) -> dict:
    """One unlabelled pair, as the labellers read it."""
    return {"authority": authority, "split": split, "recommendation_id": recommendation.passage_id,
            "recommendation": recommendation_text(recommendation),
            "recommendation_citation": recommendation.citation, "later_report": later["doc_id"],
            "later_grades": later.get("grades") or {}, "rank": rank, "later_id": link.passage.passage_id,
            "later_kind": link.passage.kind, "later_sentence": link.sentence, "later_text": link.passage.text,
            "later_citation": link.passage.citation, "score": round(link.score, 4), "tone": link.tone}


def complete(searcher, labelled: Path) -> None:
    """The passages among each labelled recommendation's best MAX_CANDIDATES that no pair labels yet (matched as
    eval/follow.py matches them: the labelled sentence within the passage), so that every passage the model can
    link is judged. Each keeps its recommendation's split and draw, and says `"added": "top6"`."""
    sys.path.insert(0, str(ROOT / "eval"))
    from follow import load_pairs, locate, norm  # eval/follow.py

    for pairs in load_pairs(labelled, None).values():
        recommendation, _, later = locate(searcher.index, pairs)
        if recommendation is None:
            print(f"not found in the index: {pairs[0]['recommendation_id']}", file=sys.stderr)
            continue
        sentences = [norm(p["later_sentence"]) for p in pairs]
        found = candidates(searcher, recommendation, {later["doc_id"]}, LATER_KINDS)[:MAX_CANDIDATES]
        for rank, link in enumerate(found, start=1):
            text = norm(link.passage.text)
            if not any(sentence in text for sentence in sentences):
                row = pair(pairs[0]["authority"], pairs[0]["split"], recommendation, later, rank, link)
                row["draw"], row["added"] = pairs[0].get("draw", "first"), "top6"
                print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
