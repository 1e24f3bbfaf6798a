"""Measure the tone model (indexer/tone.py) on the held-out sentences of eval/sentences.jsonl.

    HF_HUB_OFFLINE=1 .venv/bin/python eval/tone.py [--split heldout|dev] [--json]

Prints accuracy, per-class precision and recall, macro-F1 and the confusion table, for the trained model,
the word-cue rule alone, and always saying "strength" (the majority class), each per sample draw too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from indexer import tone  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from train_tone import SENTENCES, embed, load  # noqa: E402


def scores(gold: list[str], said: list[str]) -> dict:
    """Accuracy, per-class precision/recall/F1, macro-F1 and the confusion counts (gold -> said)."""
    out: dict = {"n": len(gold), "accuracy": round(sum(g == s for g, s in zip(gold, said)) / max(1, len(gold)), 3)}
    f1s = []
    for label in tone.LABELS:
        tp = sum(g == s == label for g, s in zip(gold, said))
        predicted, actual = said.count(label), gold.count(label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        out[label] = {"n": actual, "precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}
    out["macro_f1"] = round(sum(f1s) / len(f1s), 3)
    out["confusion"] = {g: dict(Counter(s for gg, s in zip(gold, said) if gg == g)) for g in tone.LABELS}
    return out


def show(name: str, result: dict) -> None:
    print(f"{name:<22} n={result['n']:<4} accuracy {result['accuracy']:.3f}  macro-F1 {result['macro_f1']:.3f}  "
          + "  ".join(f"{label} P {result[label]['precision']:.2f} R {result[label]['recall']:.2f} (n {result[label]['n']})"
                      for label in tone.LABELS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="heldout")
    parser.add_argument("--sentences", type=Path, default=SENTENCES)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = load(args.sentences, args.split)
    texts, gold = [row["text"] for row in rows], [row["label"] for row in rows]
    vectors, model_name = embed(texts, Settings.from_env())
    systems = {"model": tone.label(texts, vectors, model_name), "word-cue rule": [tone.rule_label(t) for t in texts],
               "always strength": ["strength"] * len(texts)}
    report = {}
    for name, said in systems.items():
        report[name] = {"all": scores(gold, said)}
        for sample in sorted({row.get("sample", "natural") for row in rows}):
            picked = [i for i, row in enumerate(rows) if row.get("sample", "natural") == sample]
            report[name][sample] = scores([gold[i] for i in picked], [said[i] for i in picked])
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{len(rows)} {args.split} sentences of {args.sentences.name}; model {tone.MODEL.name} "
          f"({'trained' if tone.load_model() else 'missing: the rule is used'})")
    for name, parts in report.items():
        for part, result in parts.items():
            show(f"{name} [{part}]", result)
    confusion = report["model"]["all"]["confusion"]
    print("\nConfusion of the model (rows: hand label; columns: the model's):")
    print(f"{'':<10}" + "".join(f"{label:>10}" for label in tone.LABELS))
    for label in tone.LABELS:
        print(f"{label:<10}" + "".join(f"{confusion[label].get(other, 0):>10}" for other in tone.LABELS))


if __name__ == "__main__":
    main()
