"""tone(sentences) -> strength | weakness | neutral: what an inspector's sentence says of the practice it describes.

Inspectors write evaluative sentences: "IROs effectively challenge drift in children's plans" (a strength),
"Management oversight is not consistently effective" (a weakness), "The local authority has appointed a
new director" (neutral). A linear model reads the sentence's embedding (the vector the index already
holds for every sentence, so labelling costs a dot product) with a few word cues the embedding is known
to blur: negation ("not", "do not always") and hedged shortfalls ("too many", "variable", "inconsistent").
Its weights are trained by scripts/train_tone.py on the hand-labelled dev sentences of
eval/sentences.jsonl and kept in indexer/data/tone.npz; the held-out sentences measure it (eval/SENTENCES.md).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

LABELS = ("strength", "weakness", "neutral")
KINDS = ("finding", "summary")  # passages whose sentences are labelled: what inspectors found, not what they ask
MODEL = Path(__file__).resolve().parent / "data" / "tone.npz"

# Word cues, each a feature beside the embedding (counts, capped): the model learns their weights.
CUES = {
    "negation": r"\b(?:not|no|never|nor|cannot|can't|don't|doesn't|isn't|aren't|hasn't|haven't|without|lack(?:s|ing)?)\b",
    "shortfall": r"\b(?:too (?:many|few|much|little|long|slow|often)|insufficient(?:ly)?|inconsistent(?:ly)?|variable|"
                 r"weak(?:er|ness(?:es)?)?|poor(?:ly)?|limited|delay(?:s|ed)?|drift|gaps?|inadequate|"
                 r"fail(?:s|ed|ing|ure)?|deteriorat\w*|concern(?:s|ing)?|shortfalls?|unclear|uneven|patchy|"
                 r"overdue|backlogs?|needs? (?:to|further)|require[sd]? (?:further )?improvement|only some|not all)\b",
    "praise": r"\b(?:effective(?:ly)?|strong(?:ly)?|good|well|timely|robust|thorough(?:ly)?|high[- ]quality|"
              r"improv(?:ed|ing|ement)|impressive|excellent|outstanding|appropriate(?:ly)?|clear(?:ly)?|"
              r"consistent(?:ly)?|skilled|committed|benefit(?:s|ed)?|helpful|positive(?:ly)?|successful(?:ly)?|"
              r"sensitive(?:ly)?|creative(?:ly)?|responsive|swift(?:ly)?|prompt(?:ly)?|sustained|strengths?)\b",
    "hedge": r"\b(?:some|most|many|majority|minority|few|although|however|but|while|yet|despite|still|always|all)\b",
}
_CUES = {name: re.compile(pattern, re.I) for name, pattern in CUES.items()}


def cue_features(texts: list[str]) -> np.ndarray:
    """(len(texts), len(CUES)) cue counts, capped at 3 and scaled to 0..1."""
    return np.array([[min(len(pattern.findall(text)), 3) / 3 for pattern in _CUES.values()] for text in texts],
                    dtype=np.float32).reshape(len(texts), len(_CUES))


def features(texts: list[str], vectors: np.ndarray) -> np.ndarray:
    """What the model reads: the unit-length embedding and the cue counts, side by side."""
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
    return np.hstack([vectors, cue_features(texts)])


@lru_cache(maxsize=2)
def load_model(path: Path = MODEL) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], str] | None:
    """(weights (labels, features), bias, labels, embedding model name) of the trained model, or None."""
    if not Path(path).is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        return (data["weights"].astype(np.float32), data["bias"].astype(np.float32),
                tuple(str(label) for label in data["labels"]), str(data["model"]))


def label(texts: list[str], vectors: np.ndarray, embedding_model: str | None = None) -> list[str]:
    """strength / weakness / neutral for each sentence, from its text and its embedding (unit length).

    The model reads vectors of the embedding model it was trained on; vectors of another (a test's fake
    embedder) get the word-cue rule instead.
    """
    if not texts:
        return []
    model = load_model()
    if model is None or (embedding_model is not None and embedding_model != model[3]):
        return [rule_label(text) for text in texts]
    weights, bias, labels, _ = model
    scores = features(texts, vectors) @ weights.T + bias
    return [labels[int(best)] for best in scores.argmax(axis=1)]


def rule_label(text: str) -> str:
    """The cue words alone (the baseline the model is measured against): a shortfall or a negation next to
    praise reads as a weakness ("not consistently effective"), praise alone as a strength, neither as neutral."""
    negation, shortfall, praise = (len(_CUES[name].findall(text)) for name in ("negation", "shortfall", "praise"))
    if shortfall or (negation and praise):
        return "weakness"
    if praise:
        return "strength"
    return "weakness" if negation else "neutral"
