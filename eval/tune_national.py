"""Tuning bench on the national questions: score ranking variants on the DEV split of eval/national.jsonl, fast.

Not part of the package. It loads one index over corpus/ and the 266 PDFs once, keeps every question
vector it computes, and prints one line per variant: MRR@10 by kind, then all-dev h@5, MRR and answer@1.
Held-out questions are refused unless --heldout is given, which is for the final report only.

    HF_HUB_OFFLINE=1 .venv/bin/python eval/tune_national.py --index DIR [--only PATTERN ...] [--show VARIANT]
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
import time
from dataclasses import fields
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer import evaluation  # noqa: E402
from indexer.embedding import load_embedder  # noqa: E402
from indexer.search import RankingOptions, Searcher  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import load_index  # noqa: E402

QUESTIONS = Path(__file__).resolve().parent / "national.jsonl"
BASE = {}  # the defaults
VARIANTS: dict[str, dict] = {
    "defaults": {},
    "no sentence channel": {"sentence_candidates": 0, "sentence_share": 0.0},
    "sentence share 0.3": {"sentence_share": 0.3},
    "sentence share 0.7": {"sentence_share": 0.7},
    "sentence share 1.0": {"sentence_share": 1.0},
    "dense 0.5": {"score_dense_weight": 0.5},
    "dense 0.7": {"score_dense_weight": 0.7},
    "dense 0.8": {"score_dense_weight": 0.8},
    "sentences 100": {"sentence_candidates": 100},
    "sentences 400": {"sentence_candidates": 400},
    "no rerank": {"rerank": 0},
    "rerank 0.5": {"rerank_weight": 0.5},
    "rerank 20": {"rerank": 20},
    "boilerplate 1.0": {"boilerplate_weight": 1.0},
    "boilerplate 0.1": {"boilerplate_weight": 0.1},
    "recommendation 0.7": {"recommendation_weight": 0.7},
    "recommendation 0.5": {"recommendation_weight": 0.5},
    "year boost 0": {"year_boost": 0.0},
    "year boost 1.0": {"year_boost": 1.0},
    "year boost 2.0": {"year_boost": 2.0},
    "no diversify": {"diversify_authorities": False},
    "authority boost": {"authority": "boost"},
    "authority off": {"authority": "off"},
    "no acronyms": {"expand_acronyms": False},
    "names kept in the text": {"topic_only": False},
    "November fusion": {"score_dense_weight": 0.6, "sentence_share": 0.0, "sentence_candidates": 0,
                        "recommendation_weight": 1.0, "boilerplate_weight": 1.0, "diversify_authorities": False,
                        "topic_only": False},
    "per document 0": {"per_document": 0},
    "rrf": {"fusion": "rrf"},
    "sentence words 0.25": {"sentence_word_weight": 0.25},
    "sentence words 0.0": {"sentence_word_weight": 0.0},
    "sentence words 1.0": {"sentence_word_weight": 1.0},
    "rerank 5": {"rerank": 5},
    "rerank 2.0": {"rerank_weight": 2.0},
    "candidates 50": {},
}
# A grid over the main weights: "grid d0.7 s0.3 r0.3 w1.0" = dense share, sentence share, recommendation, rerank
for _dense in (0.65, 0.7, 0.75, 0.8):
    for _sentence in (0.0, 0.2, 0.3, 0.4):
        for _rerank in (0.5, 0.75, 1.0):
            VARIANTS[f"grid d{_dense} s{_sentence} r0.3 w{_rerank}"] = {
                "score_dense_weight": _dense, "sentence_share": _sentence, "recommendation_weight": 0.3,
                "rerank_weight": _rerank}


class CachedEmbedder:
    """The real embedder, remembering every question vector (the bench asks the same questions often)."""

    def __init__(self, embedder):
        self.embedder, self.name, self.dimensions = embedder, embedder.name, embedder.dimensions
        self.cache: dict[str, np.ndarray] = {}

    def encode(self, texts, progress=False):
        missing = [text for text in dict.fromkeys(texts) if text not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.embedder.encode(missing)))
        return np.stack([self.cache[text] for text in texts]) if texts else np.zeros((0, self.dimensions))

    def token_count(self, text):
        return self.embedder.token_count(text)

    def with_layers(self, layers):
        """The cached first-layers model, for an index whose sentence vectors it made."""
        return CachedEmbedder(self.embedder.with_layers(layers))


def line(name: str, outcomes: list, kinds: list[str]) -> str:
    by_kind = {kind: evaluation.score([o for o in outcomes if o.question.kind == kind]) for kind in kinds}
    overall = evaluation.score(outcomes)
    cells = " ".join(f"{by_kind[kind]['mrr@10']:5.3f}" for kind in kinds)
    return (f"{name:<26} {cells}   {overall['hit@5']:5.3f} {overall['mrr@10']:5.3f} {overall['answer@1']:5.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True)
    parser.add_argument("--questions", default=str(QUESTIONS))
    parser.add_argument("--only", nargs="*", help="variant name patterns")
    parser.add_argument("--show", help="print the misses (first relevant rank > 5) of this variant")
    parser.add_argument("--heldout", action="store_true", help="score the held-out split (final report only)")
    parser.add_argument("--corpus", help="only questions of this corpus (eval/questions.jsonl: seeds or ilacs)")
    parser.add_argument("--all", action="store_true",
                        help="every question of the file (for eval/questions.jsonl, whose questions were tuned on before)")
    args = parser.parse_args()
    settings = Settings.from_env(index=Path(args.index))
    index = load_index(settings.index, settings)
    embedder = CachedEmbedder(load_embedder(settings))
    questions = evaluation.load_questions(args.questions, None if args.all else "heldout" if args.heldout else "dev")
    if args.all and Path(args.questions).resolve() == QUESTIONS.resolve():
        raise SystemExit("--all would score the national held-out questions: use --heldout, for the final report")
    if args.corpus:
        questions = [question for question in questions if question.corpus == args.corpus]
    kinds = [kind for kind in evaluation.KINDS if any(q.kind == kind for q in questions)]
    split = "all" if args.all else "held-out" if args.heldout else "dev"
    print(f"{len(questions)} {split} questions; MRR@10 by kind, then all h@5 MRR ans@1")
    print(f"{'variant':<26} " + " ".join(f"{kind[:5]:>5}" for kind in kinds) + "     h@5   MRR ans@1")
    names = [name for name in VARIANTS if not args.only or any(fnmatch.fnmatch(name, p) for p in args.only)]
    if args.show and args.show not in names:
        names.append(args.show)
    valid = {spec.name for spec in fields(RankingOptions)}
    for name in names:
        overrides = VARIANTS.get(name, {})
        unknown = set(overrides) - valid
        if unknown:
            raise SystemExit(f"variant {name}: unknown options {unknown}")
        searcher = Searcher(index, embedder, settings, RankingOptions(**{**BASE, **overrides}))
        started = time.perf_counter()
        outcomes = evaluation.evaluate(evaluation.ProjectSystem(searcher), questions)
        print(line(name, outcomes, kinds) + f"   ({time.perf_counter() - started:.0f} s)", flush=True)
        if name == args.show:
            for outcome in outcomes:
                metrics = outcome.metrics()
                if metrics["hit@5"] < 1:
                    print(f"  {outcome.question.id} [{outcome.question.kind}] rank {outcome.rank} "
                          f"{outcome.authority_ranks or ''}: {outcome.question.q}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
