"""`python -m indexer eval`: score the searcher and two baselines on questions with verbatim gold snippets."""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import IndexerError

K = 10  # results scored per question (MRR@10)
TUTORIAL_CHUNK_SIZE = 1000
TUTORIAL_CHUNK_OVERLAP = 200
METRICS = ("hit@1", "hit@5", "hit@10", "mrr@10", "answer@1")
KINDS = ("lexical", "paraphrase", "acronym", "table", "numeric", "authority", "authority-time", "precedent", "compare")
CACHE = Path(tempfile.gettempdir()) / "indexer-eval-cache"  # tutorial-pipeline vectors, by content hash
DEFAULT_QUESTIONS = Path(__file__).resolve().parent.parent / "eval" / "questions.jsonl"


# ---------------------------------------------------------------- questions and matching


@dataclass(frozen=True)
class Question:
    """One line of the question file."""

    id: str
    q: str
    gold: tuple[str, ...]
    kind: str = ""
    split: str = ""
    corpus: str = ""
    doc: str = ""
    note: str = ""
    # compare questions: each named authority's snippets; the question is scored per authority
    gold_by_authority: tuple[tuple[str, tuple[str, ...]], ...] = ()
    docs: tuple[str, ...] = ()  # the files the gold may come from (national questions)


def load_questions(path: str | Path, split: str | None = None) -> list[Question]:
    """The questions of a JSONL file, optionally only one split."""
    path = Path(path)
    if not path.is_file():
        raise IndexerError(f"question file {path} does not exist")
    questions = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                question = Question(
                    id=record["id"], q=record["q"], gold=tuple(record["gold"]),
                    **{key: record.get(key) or "" for key in ("kind", "split", "corpus", "doc", "note")},
                    gold_by_authority=tuple((name, tuple(snippets)) for name, snippets in
                                            (record.get("gold_by_authority") or {}).items()),
                    docs=tuple(record.get("docs") or ()),
                )
            except (ValueError, KeyError, TypeError) as error:
                raise IndexerError(f"{path}, line {number}: not a question with id, q and gold ({error})") from None
            questions.append(question)
    if split:
        splits = sorted({question.split for question in questions})
        questions = [question for question in questions if question.split == split]
        if not questions:
            raise IndexerError(f"no questions with split '{split}' in {path}; splits there: {', '.join(splits)}")
    return questions


QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'",
                        "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"'})
DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00ad]")


def normalise(text: str) -> str:
    """Text as compared with gold snippets: case, quotes, dashes, line-end hyphenation and white space folded.

    Hyphens inside words are dropped on both sides, so "well-coordinated", "wellcoordinated" and a word
    hyphenated across a line end all compare equal.
    """
    text = unicodedata.normalize("NFKC", text).translate(QUOTES)
    text = DASHES.sub("-", text).lower()
    text = re.sub(r"(?<=\w)-[ \t]*\n\s*(?=\w)", "", text)
    text = re.sub(r"(?<=\w)-(?=\w)", "", text)
    return re.sub(r"\s+", " ", text).strip()


def matches(text: str, gold: Iterable[str]) -> bool:
    """True when any gold snippet (already normalised) occurs in `text` (normalised here)."""
    folded = normalise(text)
    return any(snippet in folded for snippet in gold)


def first_relevant(texts: list[str], gold: Iterable[str]) -> int | None:
    """1-based rank of the first text holding a gold snippet, or None."""
    gold = [normalise(snippet) for snippet in gold]
    for rank, text in enumerate(texts, start=1):
        if matches(text, gold):
            return rank
    return None


@dataclass(frozen=True)
class Outcome:
    """How one system did on one question."""

    question: Question
    rank: int | None  # 1-based rank of the first relevant result within the top K
    answered: bool  # the first result's top highlighted sentence holds a gold snippet
    texts: tuple[str, ...] = ()  # what was returned, for inspection
    answer: str | None = None
    authority_ranks: tuple[int | None, ...] = ()  # compare questions: the first relevant rank for each authority

    def metrics(self, k: int = K) -> dict[str, float]:
        """This question's hit@1, hit@5, hit@10, MRR@k and answer@1.

        A compare question is scored by how many of its authorities have a relevant passage: hit@5 and
        hit@10 are the share of them with one in the top 5 and top 10. Its MRR is the mean over them of
        1 / the round their first relevant passage comes in, n places to a round for n authorities: a
        list that gives each authority's best passage in the first n places scores 1, as one that gives
        one authority's best passage first scores 1 for a single-authority question.
        """
        ranks = self.authority_ranks or (self.rank,)
        per_round = len(ranks)

        def share(test) -> float:
            return sum(1 for rank in ranks if rank is not None and test(rank)) / len(ranks)

        return {
            "hit@1": float(self.rank is not None and self.rank <= 1),
            "hit@5": share(lambda rank: rank <= 5),
            "hit@10": share(lambda rank: rank <= 10),
            "mrr@10": sum(1 / -(-rank // per_round) for rank in ranks if rank is not None and rank <= k) / len(ranks),
            "answer@1": float(self.answered),
        }


def score(outcomes: list[Outcome], k: int = K) -> dict[str, float]:
    """hit@1, hit@5, hit@10, MRR@k and answer@1 averaged over the outcomes, with their count as `n`."""
    n = len(outcomes)
    if not n:
        return {"n": 0, **{metric: float("nan") for metric in METRICS}}
    per_question = [outcome.metrics(k) for outcome in outcomes]
    return {"n": n, **{metric: sum(values[metric] for values in per_question) / n for metric in METRICS}}


# ---------------------------------------------------------------- systems under test


@dataclass(frozen=True)
class Result:
    """One retrieved piece of text and, for the first, the sentence shown as its answer."""

    text: str
    answer: str | None = None


class System:
    """Something that answers a question with ranked texts."""

    name = "system"

    def retrieve(self, question: str, k: int = K) -> list[Result]:
        raise NotImplementedError


class ProjectSystem(System):
    """The project's Searcher, exactly as the CLI and app use it."""

    name = "project"

    def __init__(self, searcher):
        self.searcher = searcher

    def retrieve(self, question: str, k: int = K) -> list[Result]:
        hits = self.searcher.search(question, k)
        results = []
        for hit in hits:
            answer = None
            if hit.highlights:
                start, end = hit.highlights[0]
                answer = hit.passage.text[start:end]
            results.append(Result(hit.passage.text, answer))
        return results


class _HighlightedBaseline(System):
    """A baseline whose first result gets its answer sentence from the project's highlighter."""

    join_lines = False  # raw text breaks lines for layout, not between sentences: read it as running text

    def __init__(self, highlighter=None):
        self.highlighter = highlighter

    def _with_answer(self, question: str, texts: list[str]) -> list[Result]:
        answer = None
        if texts and self.highlighter is not None:
            first = " ".join(texts[0].split()) if self.join_lines else texts[0]
            rows = self.highlighter.score(question, [first])[0]
            if rows:
                answer = first[rows[0][0]:rows[0][1]]
        return [Result(text, answer if rank == 0 else None) for rank, text in enumerate(texts)]


class BM25System(_HighlightedBaseline):
    """BM25 alone over the project's passages (their shown text), stemmed, English stop words out."""

    name = "bm25"

    def __init__(self, passages, highlighter=None):
        from .store import build_lexical

        super().__init__(highlighter)
        self.texts = [passage.text for passage in passages]
        self.retriever = build_lexical(self.texts)

    def retrieve(self, question: str, k: int = K) -> list[Result]:
        from .store import lexical_tokens

        tokens = lexical_tokens([question], return_ids=False)[0]
        words = [[word for word in tokens if word in self.retriever.vocab_dict]]
        if not words[0]:
            return []
        rows, scores = self.retriever.retrieve(words, k=min(k, len(self.texts)), show_progress=False)
        texts = [self.texts[int(row)] for row, value in zip(rows[0], scores[0]) if value > 0]
        return self._with_answer(question, texts)


def raw_text(path: Path) -> str:
    """A file's text as a tutorial would load it: the file, or for PDFs PDFium's page text joined."""
    if path.suffix.lower() == ".pdf":
        from .pdf_layout import page_texts

        return "\n\n".join(page_texts(path))
    return path.read_text(encoding="utf-8", errors="replace")


class TutorialSystem(_HighlightedBaseline):
    """The tutorial pipeline: 1000-character chunks with 200 overlap, all-MiniLM-L6-v2, FAISS IndexFlatIP."""

    name = "tutorial"
    join_lines = True

    def __init__(self, raw_texts: list[str], embedder, highlighter=None, cache: Path | None = CACHE):
        import faiss
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        super().__init__(highlighter)
        splitter = RecursiveCharacterTextSplitter(chunk_size=TUTORIAL_CHUNK_SIZE, chunk_overlap=TUTORIAL_CHUNK_OVERLAP)
        self.chunks = [chunk for text in raw_texts for chunk in splitter.split_text(text)]
        self.embedder = embedder
        vectors = _cached_vectors(embedder, self.chunks, cache)
        self.dense = faiss.IndexFlatIP(vectors.shape[1])
        self.dense.add(vectors)

    def retrieve(self, question: str, k: int = K) -> list[Result]:
        scores, rows = self.dense.search(self.embedder.encode([question]), min(k, len(self.chunks)))
        texts = [self.chunks[int(row)] for row in rows[0] if row >= 0]
        return self._with_answer(question, texts)


def _cached_vectors(embedder, texts: list[str], cache: Path | None) -> np.ndarray:
    """Embed `texts`, reusing vectors saved by an earlier run for exactly the same model and texts."""
    digest = hashlib.sha256("\x00".join([embedder.name, *texts]).encode()).hexdigest()[:24]
    path = cache / f"tutorial-{digest}.npy" if cache else None
    if path is not None and path.is_file():
        vectors = np.load(path)
        if vectors.shape[0] == len(texts):
            return vectors
    vectors = embedder.encode(texts)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, vectors)
        except OSError:
            pass  # a cache that cannot be written only costs time
    return vectors


# ---------------------------------------------------------------- running


def answerable(questions: list[Question], raw_texts: list[str]) -> tuple[list[Question], list[Question]]:
    """Split questions into those with a gold snippet in the corpus and those without (skipped)."""
    corpus = [normalise(text) for text in raw_texts]
    kept, skipped = [], []
    for question in questions:
        gold = [normalise(snippet) for snippet in question.gold]
        if any(snippet in text for snippet in gold for text in corpus):
            kept.append(question)
        else:
            skipped.append(question)
    return kept, skipped


def evaluate(system: System, questions: list[Question], k: int = K) -> list[Outcome]:
    """Ask `system` every question and record where the first relevant result came."""
    outcomes = []
    for question in questions:
        results = system.retrieve(question.q, k)
        texts = [result.text for result in results]
        rank = first_relevant(texts, question.gold)
        answer = results[0].answer if results else None
        gold = [normalise(snippet) for snippet in question.gold]
        by_authority = tuple(first_relevant(texts, snippets) for _, snippets in question.gold_by_authority)
        outcomes.append(Outcome(question, rank, bool(answer) and matches(answer, gold), tuple(texts), answer,
                                by_authority))
    return outcomes


def groups(outcomes: list[Outcome]) -> dict[str, list[Outcome]]:
    """Outcomes overall, by split, by corpus and by kind, in a stable order of rows."""
    found: dict[str, list[Outcome]] = {"all": list(outcomes)}
    for attribute, label in (("split", "split"), ("corpus", "corpus")):
        for value in sorted({getattr(o.question, attribute) for o in outcomes}):
            if value:
                found[f"{label}={value}"] = [o for o in outcomes if getattr(o.question, attribute) == value]
    splits = sorted({o.question.split for o in outcomes} - {""})
    corpora = sorted({o.question.corpus for o in outcomes} - {""})
    if len(splits) > 1 and len(corpora) > 1:
        for corpus in corpora:
            for split in splits:
                found[f"{corpus}/{split}"] = [o for o in outcomes
                                              if o.question.corpus == corpus and o.question.split == split]
    kinds = [kind for kind in KINDS if any(o.question.kind == kind for o in outcomes)]
    kinds += sorted({o.question.kind for o in outcomes} - set(KINDS) - {""})
    for kind in kinds:
        found[f"kind={kind}"] = [o for o in outcomes if o.question.kind == kind]
    if len(splits) > 1:
        for split in splits:
            for kind in kinds:
                chosen = [o for o in outcomes if o.question.kind == kind and o.question.split == split]
                if chosen:
                    found[f"{split}/{kind}"] = chosen
    return found


def table(results: dict[str, list[Outcome]]) -> dict[str, dict[str, dict[str, float]]]:
    """{row: {system: scores}} for every group of questions."""
    first = next(iter(results.values()))
    rows = list(groups(first))
    by_system = {name: groups(outcomes) for name, outcomes in results.items()}
    return {row: {name: score(by_system[name][row]) for name in results} for row in rows}


def format_table(scores: dict[str, dict[str, dict[str, float]]]) -> str:
    """A plain-text table: one row per group, the metrics of each system side by side."""
    systems = list(next(iter(scores.values())))
    short = {"hit@1": "h@1", "hit@5": "h@5", "hit@10": "h@10", "mrr@10": "MRR", "answer@1": "ans@1"}
    head = f"{'questions':<24}{'n':>4}  " + "  ".join(
        f"{name:^{6 * len(METRICS) - 1}}" for name in systems)
    sub = f"{'':<24}{'':>4}  " + "  ".join(
        " ".join(f"{short[metric]:>5}" for metric in METRICS) for _ in systems)
    lines = [head, sub, "-" * len(sub)]
    for row, by_system in scores.items():
        n = next(iter(by_system.values()))["n"]
        cells = "  ".join(" ".join(f"{by_system[name][metric]:>5.3f}" for metric in METRICS) for name in systems)
        lines.append(f"{row:<24}{n:>4}  {cells}")
    return "\n".join(lines)


def corpus_files_of(folders: list[Path]) -> list[Path]:
    """The files the index was (or would be) built from."""
    from .building import corpus_files
    from .reading import SUPPORTED_SUFFIXES

    return [path for path in corpus_files(folders) if path.suffix.lower() in SUPPORTED_SUFFIXES]


def run_all(questions: list[Question], searcher, folders: list[Path], baselines: bool = True,
            log: Callable[[str], None] = print) -> tuple[dict[str, list[Outcome]], list[Question]]:
    """Score the project (and the baselines) on the questions answerable from `folders`."""
    raw = [raw_text(path) for path in corpus_files_of(folders)]
    kept, skipped = answerable(questions, raw)
    if not kept:
        raise IndexerError(
            f"none of the {len(questions)} questions has a gold snippet in {', '.join(map(str, folders))}: "
            "build an index over the documents they were written from (see eval/README.md)")
    results: dict[str, list[Outcome]] = {}
    systems: list[System] = [ProjectSystem(searcher)]
    if baselines:
        highlighter = searcher.highlighter  # the same sentence choice for every system
        systems.append(BM25System(searcher.index.passages, highlighter))
        started = time.perf_counter()
        systems.append(TutorialSystem(raw, searcher.embedder, highlighter))
        log(f"tutorial pipeline: {len(systems[-1].chunks)} chunks ready in {time.perf_counter() - started:.1f} s")
    for system in systems:
        started = time.perf_counter()
        results[system.name] = evaluate(system, kept)
        log(f"{system.name}: {len(kept)} questions in {time.perf_counter() - started:.1f} s")
    return results, skipped


def run(args) -> int:
    """The `eval` command: load the index, score every system, print the table (or JSON)."""
    from .embedding import load_embedder
    from .search import Searcher
    from .settings import Settings
    from .store import open_store

    settings = Settings.from_env(index=Path(args.index) if args.index else None)
    questions = load_questions(args.questions, args.split)
    index = open_store(settings).load()
    folders = [Path(folder) for folder in args.corpus] if args.corpus else [
        Path(folder) for folder in index.manifest.get("corpus", [settings.corpus])]
    searcher = Searcher(index, load_embedder(settings), settings)
    log = (lambda message: None) if args.json else (lambda message: print(message))
    results, skipped = run_all(questions, searcher, folders, log=log)
    scores = table(results)
    if args.json:
        print(json.dumps({
            "questions": len(questions), "scored": len(questions) - len(skipped),
            "skipped": [question.id for question in skipped], "scores": scores,
            "misses": {name: [o.question.id for o in outcomes if o.rank is None or o.rank > 5]
                       for name, outcomes in results.items()},
        }, indent=2))
        return 0
    print(f"Scored {len(questions) - len(skipped)} of {len(questions)} questions; skipped {len(skipped)} "
          f"whose gold is in no document of {', '.join(map(str, folders))}.")
    print(format_table(scores))
    return 0
