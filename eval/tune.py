"""Tuning bench for the ranking: score variants of the searcher on the dev questions, fast.

Not part of the package. It loads an index once, caches every vector it computes on disk (so a
variant of the embedded text or of the highlighter costs one encoding, ever), and prints one line
of metrics per variant. Usage:

    HF_HUB_OFFLINE=1 .venv/bin/python eval/tune.py [--index seeds=DIR ilacs=DIR] [--only PATTERN ...]
                                                   [--show NAME] [--highlight]

Seed questions are scored on the `seeds` index, PDF questions on the `ilacs` one (build commands in
eval/TUNING.md). Variants are listed in VARIANTS below; eval/TUNING.md records what they gave.
"""

from __future__ import annotations

import argparse
import atexit
import fnmatch
import pickle
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer import evaluation  # noqa: E402
from indexer.embedding import load_embedder  # noqa: E402
from indexer.search import RankingOptions, Searcher  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import build_dense, build_lexical, load_index  # noqa: E402

CACHE_FOLDER = Path("/tmp")  # one vector cache per embedder (model and backend)


class CachedEmbedder:
    """The real embedder behind a text -> vector cache kept on disk between runs."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.name = embedder.name
        self.dimensions = embedder.dimensions
        self.path = CACHE_FOLDER / f"tune-embed-cache-{embedder.name.replace('/', '_')}.pkl"
        self.cache: dict[str, np.ndarray] = pickle.loads(self.path.read_bytes()) if self.path.exists() else {}
        self.dirty = False
        atexit.register(self.save)

    def encode(self, texts, progress=False):
        missing = list(dict.fromkeys(text for text in texts if text not in self.cache))
        if missing:
            for text, vector in zip(missing, self.embedder.encode(missing, progress=len(missing) > 200)):
                self.cache[text] = vector
            self.dirty = True
        if not texts:
            return np.zeros((0, self.dimensions), np.float32)
        return np.stack([self.cache[text] for text in texts]).astype(np.float32)

    def token_count(self, text):
        return self.embedder.token_count(text)

    def with_layers(self, layers):
        """The cached sentence model (see embedding.sentence_embedder)."""
        return CachedEmbedder(self.embedder.with_layers(layers))

    def save(self):
        if self.dirty:
            self.path.write_bytes(pickle.dumps(self.cache))
            self.dirty = False


# What is embedded / given to BM25 for a passage, by name.
def _title_section(p):
    context = " — ".join(part for part in (p.title, p.section) if part)
    return f"{context}\n{p.text}" if context else p.text


def _section(p):
    return f"{p.section}\n{p.text}" if p.section else p.text


def _authority_section(p):
    context = " — ".join(part for part in (p.authority, p.section) if part)
    return f"{context}\n{p.text}" if context else p.text


def _title(p):
    return f"{p.title}\n{p.text}"


def _section_title(p):
    context = " — ".join(part for part in (p.section, p.title) if part)
    return f"{p.text}\n({context})" if context else p.text


def _short(text, words=10):
    parts = (text or "").split()
    return " ".join(parts[:words])


def _ts_short(p):
    context = " — ".join(part for part in (p.title, _short(p.section)) if part)
    return f"{context}\n{p.text}" if context else p.text


def _ts_rows_text(p):
    return p.text if p.layout == "table row" else _title_section(p)


def _ts_short_rows_text(p):
    return p.text if p.layout == "table row" else _ts_short(p)


def _title_only_prose(p):
    return p.text if p.layout == "table row" else _title(p)


TEXTS = {
    "t+s short": _ts_short,
    "t+s rows text": _ts_rows_text,
    "t+s short rows text": _ts_short_rows_text,
    "title prose": _title_only_prose,
    "title": _title,
    "text+(section—title)": _section_title,
    "title+section": _title_section,
    "section": _section,
    "authority+section": _authority_section,
    "text": lambda p: p.text,
}


def with_texts(index, embedder, embed_name: str, lexical_name: str):
    """A copy of the loaded index whose vectors and BM25 read other passage texts."""
    embed = TEXTS[embed_name]
    lexical = TEXTS[lexical_name]
    vectors = embedder.encode([embed(p) for p in index.passages])
    return replace(index, vectors=vectors, dense=build_dense(vectors),
                   lexical=build_lexical([lexical(p) for p in index.passages]))


def line(name: str, scores: dict) -> str:
    overall = scores["all"]["project"]
    kinds = " ".join(f"{row[5:9]}={by['project']['mrr@10']:.2f}" for row, by in scores.items()
                     if row.startswith("kind="))
    return (f"{name:<34} h@1 {overall['hit@1']:.3f}  h@5 {overall['hit@5']:.3f}  MRR {overall['mrr@10']:.3f}  "
            f"ans@1 {overall['answer@1']:.3f} | {kinds}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", nargs="*", default=["seeds=/tmp/q3-idx-seeds", "ilacs=/tmp/q3-idx-ilacs6"],
                        help="CORPUS=FOLDER: questions of that `corpus` are scored on that index")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--questions", default=str(Path(__file__).parent / "questions.jsonl"))
    parser.add_argument("--only", nargs="*", help="variant names to run (shell patterns)")
    parser.add_argument("--show", help="print the misses of this variant")
    parser.add_argument("--highlight", action="store_true", help="tune the highlighter instead")
    args = parser.parse_args()
    questions = evaluation.load_questions(args.questions, args.split)
    embedder = None
    parts = []  # (corpus, index, settings, questions)
    for spec in args.index:
        corpus, folder = spec.split("=", 1)
        settings = Settings.from_env(index=Path(folder))
        index = load_index(settings.index, settings)
        if embedder is None:
            embedder = CachedEmbedder(load_embedder(settings))
        mine = [q for q in questions if q.corpus == corpus]
        parts.append((corpus, index, settings, mine))
        print(f"{corpus}: {len(mine)} questions on {folder} ({len(index.passages)} passages)")
    if args.highlight:
        corpus, index, settings, mine = parts[0]
        tune_highlighter(index, embedder, settings, mine)
        return
    indexes = {}
    for name, (texts, options, overrides) in VARIANTS.items():
        if args.only and not any(fnmatch.fnmatch(name, pattern) for pattern in args.only):
            continue
        started = time.perf_counter()
        every = []
        cells = []
        for corpus, index, settings, mine in parts:
            key = (corpus, texts)
            if key not in indexes:
                indexes[key] = with_texts(index, embedder, *texts)
            searcher = Searcher(indexes[key], embedder, replace(settings, **overrides), options)
            outcomes = evaluation.evaluate(evaluation.ProjectSystem(searcher), mine)
            every.extend(outcomes)
            scores = evaluation.score(outcomes)
            cells.append(f"{corpus} MRR {scores['mrr@10']:.3f} h@5 {scores['hit@5']:.3f} ans {scores['answer@1']:.3f}")
            if args.show == name:
                show(outcomes)
        embedder.save()
        print(line(name, evaluation.table({"project": every})), "|", " | ".join(cells),
              f"({time.perf_counter() - started:.0f} s)", flush=True)


def show(outcomes):
    for outcome in outcomes:
        if outcome.rank == 1 and not outcome.answered:
            print(f"  {outcome.question.id} [{outcome.question.kind}] rank={outcome.rank} "
                  f"ans={outcome.answered} {outcome.question.q}")
            print(f"      answer: {(outcome.answer or '')[:200]!r}")
            print(f"      gold: {outcome.question.gold}")


def tune_highlighter(base_index, embedder, settings, questions):
    """Sentence choice alone: in every passage holding a gold snippet, is the top sentence the gold one?"""
    from indexer import answers

    index = with_texts(base_index, embedder, *TEXT)
    searcher = Searcher(index, embedder, settings, ALL_ON)
    pairs = []
    for question in questions:
        gold = [evaluation.normalise(g) for g in question.gold]
        for passage in index.passages:
            if evaluation.matches(passage.text, gold):
                pairs.append((question, passage, gold))
    print(f"{len(pairs)} (question, gold passage) pairs")
    for dense_w, lexical_w in ((1, 0), (1, 0.25), (1, 0.5), (1, 1.0), (1, 2.0), (0, 1)):
        for idf in (True, False):
            highlighter = answers.Highlighter(searcher.sentence_embedder, dense_weight=dense_w, lexical_weight=lexical_w)
            searcher._highlighter = highlighter
            right = 0
            for question, passage, gold in pairs:
                meaning = searcher.interpret(question.q)
                concepts = searcher.concepts(meaning) if idf else answers.question_concepts(
                    meaning.query, [(e.term, e.expansion) for e in meaning.expansions])
                vector = searcher.sentence_embedder.encode([meaning.search_text])[0]
                rows = highlighter.score(question.q, [passage.text], vector, concepts)[0]
                right += bool(rows) and evaluation.matches(passage.text[rows[0][0]:rows[0][1]], gold)
            if idf:
                outcomes = evaluation.evaluate(evaluation.ProjectSystem(searcher), questions)
                answer = evaluation.score(outcomes)["answer@1"]
            else:
                answer = float("nan")
            print(f"dense {dense_w} lexical {lexical_w} idf {idf!s:<5}: sentence accuracy "
                  f"{right / len(pairs):.3f}  answer@1 {answer:.3f}", flush=True)


BASE = ("title+section", "title+section")  # (embedded text, BM25 text) the project started with
TEXT = ("text", "title+section")  # what the dev questions chose
# The searcher as it started: reciprocal rank fusion of dense and BM25, nothing else.
START = RankingOptions(fusion="rrf", expand_acronyms=False, mine_acronyms=False, authority="off", year_boost=0.0,
                       collapse_copies=False, per_document=0, rerank=0, sentence_short_words=0,
                       sentence_number_bonus=0.0)
BEST = RankingOptions()  # the defaults: what the steps below arrived at
ALL_ON = replace(BEST, year_boost=0.0, per_document=0, rerank=0, sentence_short_words=0, sentence_number_bonus=0.0)

VARIANTS: dict[str, tuple[tuple[str, str], RankingOptions, dict]] = {
    # 1. retrievers alone and the text they read
    "start (rrf, nothing else)": (BASE, START, {}),
    "dense only": (BASE, START, {"lexical_weight": 0.0}),
    "lexical only": (BASE, START, {"dense_weight": 0.0}),
}
for embedded in ("text", "section", "authority+section", "title", "t+s short", "t+s rows text", "title prose",
                 "text+(section—title)"):
    VARIANTS[f"embed {embedded}"] = ((embedded, "title+section"), START, {})
for lexical in ("text", "section", "authority+section"):
    VARIANTS[f"bm25 reads {lexical}"] = (("text", lexical), START, {})
# 2. fusion
for dense_weight in (1.0, 1.5, 2.0, 3.0):
    for rrf_k in (10, 60):
        VARIANTS[f"rrf d={dense_weight} k={rrf_k}"] = (TEXT, START, {"dense_weight": dense_weight, "rrf_k": rrf_k})
for alpha in (0.4, 0.5, 0.6, 0.7, 0.8):
    VARIANTS[f"score a={alpha}"] = (TEXT, replace(START, fusion="score", score_dense_weight=alpha), {})
# 3. one feature at a time on score fusion a=0.6
FUSED = replace(START, fusion="score", score_dense_weight=0.6)
VARIANTS.update({
    "+acronyms": (TEXT, replace(FUSED, expand_acronyms=True), {}),
    "+acronyms+mined": (TEXT, replace(FUSED, expand_acronyms=True, mine_acronyms=True), {}),
    "+authority filter": (TEXT, replace(FUSED, authority="filter"), {}),
    "+authority boost 0.5": (TEXT, replace(FUSED, authority="boost", authority_boost=0.5), {}),
    "+year boost 0.3": (TEXT, replace(FUSED, year_boost=0.3), {}),
    "+collapse copies": (TEXT, replace(FUSED, collapse_copies=True), {}),
    "+per document 3": (TEXT, replace(FUSED, per_document=3), {}),
    "+per document 5": (TEXT, replace(FUSED, per_document=5), {}),
    "ALL_ON (acronyms, mined, authority filter, copies)": (TEXT, ALL_ON, {}),
})
# 4. on top of ALL_ON
for year in (0.1, 0.2, 0.4, 0.6):
    VARIANTS[f"ALL_ON year {year}"] = (TEXT, replace(ALL_ON, year_boost=year), {})
for depth in (10, 20, 40):
    for weight in (0.25, 0.5, 1.0, 2.0):
        VARIANTS[f"ALL_ON year .5 rerank {depth} w {weight}"] = (
            TEXT, replace(ALL_ON, year_boost=0.5, rerank=depth, rerank_weight=weight), {})
# 5. ablations of the final defaults
VARIANTS.update({
    "BEST": (TEXT, BEST, {}),
    "BEST embed title+section": (BASE, BEST, {}),
    "BEST embed title": (("title", "title+section"), BEST, {}),
    "BEST rrf d2 k10": (TEXT, replace(BEST, fusion="rrf"), {"dense_weight": 2.0, "rrf_k": 10}),
    "BEST rrf d1.5 k10": (TEXT, replace(BEST, fusion="rrf"), {"dense_weight": 1.5, "rrf_k": 10}),
    "BEST score a=0.5": (TEXT, replace(BEST, score_dense_weight=0.5), {}),
    "BEST score a=0.7": (TEXT, replace(BEST, score_dense_weight=0.7), {}),
    "BEST no acronyms": (TEXT, replace(BEST, expand_acronyms=False), {}),
    "BEST no mined acronyms": (TEXT, replace(BEST, mine_acronyms=False), {}),
    "BEST authority boost 0.3": (TEXT, replace(BEST, authority="boost", authority_boost=0.3), {}),
    "BEST authority boost 1": (TEXT, replace(BEST, authority="boost", authority_boost=1.0), {}),
    "BEST authority off": (TEXT, replace(BEST, authority="off"), {}),
    "BEST year 0": (TEXT, replace(BEST, year_boost=0.0), {}),
    "BEST no collapse": (TEXT, replace(BEST, collapse_copies=False), {}),
    "BEST per document 0": (TEXT, replace(BEST, per_document=0), {}),
    "BEST per document 2": (TEXT, replace(BEST, per_document=2), {}),
    "BEST no rerank": (TEXT, replace(BEST, rerank=0), {}),
    "BEST rerank 15": (TEXT, replace(BEST, rerank=15), {}),
    "BEST rerank 5": (TEXT, replace(BEST, rerank=5), {}),
    "BEST rerank w 0.5": (TEXT, replace(BEST, rerank_weight=0.5), {}),
    "BEST sentence words 0.25": (TEXT, replace(BEST, sentence_word_weight=0.25), {}),
    "BEST sentence words 1.0": (TEXT, replace(BEST, sentence_word_weight=1.0), {}),
    "BEST no short-sentence penalty": (TEXT, replace(BEST, sentence_short_words=0), {}),
    "BEST no number bonus": (TEXT, replace(BEST, sentence_number_bonus=0.0), {}),
    "BEST candidates 50": (TEXT, BEST, {"candidates": 50}),
    "BEST candidates 200": (TEXT, BEST, {"candidates": 200}),
})


if __name__ == "__main__":
    main()
