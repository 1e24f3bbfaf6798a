"""How many of the model's layers sentence vectors need: the evaluation questions, once per layer count.

Builds one index of the evaluation corpus (the seeds and the PDFs the questions cite) and rebuilds it with
sentence vectors from the first 6, 5, ... 1 layers (`INDEXER_SENTENCE_LAYERS`); each rebuild reuses the
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

from indexer.benchmark import SHARED, eval_corpus, eval_index  # noqa: E402
from indexer.embedding import load_embedder  # noqa: E402
from indexer.evaluation import load_questions  # noqa: E402
from indexer.settings import MODEL_LAYERS, PROJECT_ROOT, Settings  # noqa: E402


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

    corpus, questions = eval_corpus(args.work / "eval-corpus", load_questions(args.questions), SHARED / "seeds",
                                    SHARED / "ofsted-ilacs")
    settings = Settings.from_env(index=args.work / "index", backend=args.backend)
    embedder = load_embedder(settings)
    print(f"{len(questions)} questions, backend {args.backend}")
    for layers in [int(value) for value in args.layers.split(",")]:
        started = time.perf_counter()
        scores, report = eval_index(corpus, replace(settings, sentence_layers=layers), embedder, questions)
        print(f"{layers} layers: {json.dumps(scores)}  (rebuild and score {time.perf_counter() - started:.1f} s, "
              f"{report.sentences_embedded} sentences embedded)", flush=True)


if __name__ == "__main__":
    main()
