"""How many of the model's layers sentence vectors need: the evaluation questions, once per layer count.

Builds one index of the evaluation corpus (the seeds and the PDFs the questions cite) and rebuilds it with
sentence vectors from the first 1, 2, ... 6 layers (`INDEXER_SENTENCE_LAYERS`); each rebuild reuses the
passage vectors and embeds only the sentences again. Prints hit@1, hit@5, MRR@10 and answer@1 per count,
and the seconds each rebuild spent. BENCHMARKS.md ("Sentence vectors") has the results.

    .venv/bin/python benchmarks/sentence_layers.py --work /tmp/layers
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.building import build_index  # noqa: E402
from indexer.embedding import load_embedder  # noqa: E402
from indexer.evaluation import (ProjectSystem, answerable, corpus_files_of, evaluate, load_questions,  # noqa: E402
                                raw_text, score)
from indexer.search import Searcher  # noqa: E402
from indexer.settings import MODEL_LAYERS, PROJECT_ROOT, Settings  # noqa: E402
from indexer.store import load_index  # noqa: E402

SHARED = PROJECT_ROOT.parent / "shared" / "corpus"


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--work", type=Path, required=True, help="folder for the evaluation corpus and index")
    options.add_argument("--layers", default=",".join(str(n) for n in range(MODEL_LAYERS, 0, -1)),
                         help="layer counts to try, comma-separated (default 6,5,4,3,2,1)")
    options.add_argument("--backend", default=Settings().backend)
    options.add_argument("--questions", type=Path, default=PROJECT_ROOT / "eval" / "questions.jsonl")
    args = options.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    warnings.filterwarnings("ignore")

    questions = load_questions(args.questions)
    corpus = args.work / "eval-corpus"
    if not corpus.exists():
        corpus.mkdir(parents=True)
        cited = {question.doc for question in questions if question.corpus == "ilacs"}
        for path in [*sorted((SHARED / "seeds").glob("*.txt")), *(SHARED / "ofsted-ilacs" / name for name in cited)]:
            if path.is_file():
                (corpus / path.name).symlink_to(path.resolve())
    questions, _ = answerable(questions, [raw_text(path) for path in corpus_files_of([corpus])])
    settings = Settings.from_env(index=args.work / "index", backend=args.backend)
    embedder = load_embedder(settings)
    print(f"{len(questions)} questions, backend {args.backend}")
    results = {}
    for layers in [int(value) for value in args.layers.split(",")]:
        mine = replace(settings, sentence_layers=layers)
        started = time.perf_counter()
        report = build_index([corpus], mine.index, embedder, mine, progress=False, log=lambda *_: None)
        seconds = time.perf_counter() - started
        scores = score(evaluate(ProjectSystem(Searcher(load_index(mine.index, mine), embedder, mine)), questions))
        results[layers] = {key: round(value, 4) if isinstance(value, float) else value for key, value in scores.items()}
        print(f"{layers} layers: {json.dumps(results[layers])}  (rebuild {seconds:.1f} s, "
              f"{report.sentences_embedded} sentences embedded)", flush=True)


if __name__ == "__main__":
    main()
