"""all-MiniLM-L6-v2 tuned on the labelled dev pairs of eval/follow_pairs.jsonl, for following.py's relevance model.

The stock model's cosine says two texts share a topic; the labels say whether a later passage is about what was
recommended (eval/FOLLOW.md, "Relevance rules"). A low-rank adapter (LoRA, via peft) on every linear layer of
the model, trained with the CoSENT loss on the dev pairs, learns that difference; its cosine between a
recommendation and a candidate passage is one more feature of the relevance model ("tuned"), beside the stock
cosines and the word and area features. The adapter is small (about 0.34 M parameters) and ships in
indexer/data/follow_tuned/; scripts/train_follow.py makes it. It runs in PyTorch fp32 on the CPU whatever the
index's backend, only on the few texts a chain weighs (a recommendation and its best MAX_CANDIDATES passages).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

TUNED_MODEL = Path(__file__).resolve().parent / "data" / "follow_tuned"
MAX_TOKENS = 128  # texts are cut to this many word pieces, in training and in use alike
RANK = 8  # the adapter's rank; its alpha is twice that
LEARNING_RATE = 2e-4
EPOCHS = 2
BATCH = 16
SEED = 0
_CACHE_SIZE = 65536


def _base_model():
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    from .embedding import model_path

    transformers.logging.set_verbosity_error()
    torch.set_num_threads(os.cpu_count() or 1)
    model = SentenceTransformer(model_path(), device="cpu", local_files_only=True)
    model.max_seq_length = MAX_TOKENS
    return model


def available(path: Path = TUNED_MODEL) -> bool:
    return (Path(path) / "adapter_config.json").is_file()


@lru_cache(maxsize=2)
def tuned_model(path: Path = TUNED_MODEL):
    """The packaged model with the adapter merged into its weights, or None when there is no adapter."""
    if not available(path):
        return None
    from peft import PeftModel

    model = _base_model()
    # peft puts the adapter's layers into the model itself, and merging folds them into its weights
    PeftModel.from_pretrained(model[0].auto_model, str(path)).merge_and_unload()
    model.eval()
    return model


def _encode(model, texts: list[str]) -> np.ndarray:
    return np.asarray(model.encode(texts, batch_size=BATCH, normalize_embeddings=True, show_progress_bar=False,
                                   convert_to_numpy=True), dtype=np.float32)


class Vectors:
    """The tuned vectors of texts, each made once (the latest `size` kept); safe across the app's threads."""

    def __init__(self, model, size: int = _CACHE_SIZE):
        self.model, self.size, self.known = model, size, {}
        self.lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self.lock:
            return self._vectors(texts)

    def _vectors(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(text for text in texts if text not in self.known))
        if missing:
            for text, vector in zip(missing, _encode(self.model, missing)):
                self.known[text] = vector
            while len(self.known) > self.size:
                self.known.pop(next(iter(self.known)))
        return np.stack([self.known[text] for text in texts]) if texts else np.zeros((0, 384), np.float32)


@lru_cache(maxsize=2)
def _vectors(path: Path = TUNED_MODEL) -> Vectors | None:
    model = tuned_model(path)
    return Vectors(model) if model is not None else None


def cosines(recommendation: str, texts: list[str], path: Path = TUNED_MODEL) -> np.ndarray | None:
    """The tuned cosine of each text with the recommendation, or None when there is no adapter."""
    vectors = _vectors(path)
    if vectors is None:
        return None
    if not texts:
        return np.zeros(0, np.float32)
    found = vectors([recommendation, *texts])
    return found[1:] @ found[0]


def train(pairs: list[tuple[str, str, float]], out: Path | None = None, epochs: int = EPOCHS,
          progress=None):
    """A model tuned on (recommendation, passage, 1 relevant / 0 not) pairs: the packaged model with a LoRA
    adapter, trained with the CoSENT loss in batches of BATCH pairs (seeded: the same pairs give the same adapter
    on one machine). Saved to `out` (the adapter alone) when given; returned merged, ready to encode."""
    import torch
    from peft import LoraConfig, get_peft_model
    from sentence_transformers.sentence_transformer.losses import CoSENTLoss

    torch.manual_seed(SEED)
    model = _base_model()
    config = LoraConfig(r=RANK, lora_alpha=2 * RANK, lora_dropout=0.1,
                        target_modules=["query", "key", "value", "dense"])
    adapted = get_peft_model(model[0].auto_model, config)  # the adapter's layers go into the model itself
    loss = CoSENTLoss(model)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=LEARNING_RATE)
    prepare = getattr(model, "preprocess", None) or model.tokenize
    order_of = np.random.default_rng(SEED)
    model.train()
    steps = 0
    for _ in range(epochs):
        order = order_of.permutation(len(pairs))
        for low in range(0, len(order), BATCH):
            batch = [pairs[k] for k in order[low:low + BATCH]]
            value = loss([prepare([a for a, _, _ in batch]), prepare([b for _, b, _ in batch])],
                         torch.tensor([label for _, _, label in batch], dtype=torch.float32))
            optimiser.zero_grad()
            value.backward()
            optimiser.step()
            steps += 1
            if progress:
                progress(steps, epochs * ((len(pairs) + BATCH - 1) // BATCH))
    model.eval()
    if out is not None:
        adapted.save_pretrained(str(out))  # the adapter alone
    adapted.merge_and_unload()
    return model


def pair_cosines(model, recommendation: str, texts: list[str]) -> np.ndarray:
    """cosines() with a model in hand (train()'s), for the out-of-fold features of training."""
    found = _encode(model, [recommendation, *texts])
    return found[1:] @ found[0]
