"""compare(searcher, theme) -> one row per authority: its best verbatim sentence on the theme, the grade, the tone.

A researcher asks how a theme is described across many authorities ("how is IRO challenge described
across authorities judged inadequate vs good?"). Running the whole search once per authority costs about
20 ms each, several seconds over 153 authorities; instead every finding and summary passage in scope is
scored against the theme at once (a matrix product over the stored vectors), the relevant ones keep
their best sentence, and each sentence is labelled a strength, weakness or neutral (tone.py). A passage is
relevant as Compare has always decided: its meaning is close to the theme (cosine at least `minimum`), or
it holds every key word of the theme.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from . import tone
from .passages import JUDGEMENT_AREAS, Passage
from .query import Filters

EVIDENCE_KINDS = tone.KINDS
GRADE_WORDS = r"outstanding|good|requires improvement(?: to be good)?|inadequate"
# "across authorities judged inadequate vs good", "in authorities rated good or outstanding"
GRADE_PHRASE = re.compile(rf"\b(?:(?:across|in|for|among|between)\s+)?(?:(?:the\s+)?(?:local\s+)?(?:authorities|councils|"
                          rf"las)\s+)?(?:that\s+(?:were|are)\s+)?(?:judged|rated|graded)\s+(?P<grades>(?:(?:{GRADE_WORDS})"
                          rf"(?:\s*(?:,|vs\.?|versus|or|and|against|compared with)\s*)?)+)", re.I)
WRAPPER = re.compile(r"^(?:how\s+(?:is|are|was|were)\s+|what\s+(?:is|was|do|does)\s+(?:said|written)\s+(?:about|of)\s+|"
                     r"what\s+do\s+inspectors\s+say\s+about\s+)|\s+(?:described|said|written\s+about|reported)\b|"
                     r"\s+across\s+(?:all\s+|the\s+)?(?:local\s+)?(?:authorities|councils|las)\b", re.I)


@dataclass(frozen=True)
class Evidence:
    """One relevant passage's best sentence on the theme."""

    passage: Passage
    start: int  # the sentence's span in passage.text
    end: int
    score: float  # how close it is to the theme (mean of the passage's and the sentence's cosine)
    tone: str  # strength | weakness | neutral
    grade: str | None  # the document's grade for the judgement the passage sits under (else overall)
    area: str  # that judgement

    @property
    def sentence(self) -> str:
        return self.passage.text[self.start:self.end]

    @property
    def year(self) -> str | None:
        return (self.passage.date or "")[:4] or None


@dataclass(frozen=True)
class Row:
    """One authority: its best evidence (None when nothing in scope is relevant) and its tally of tones."""

    authority: str
    region: str | None
    best: Evidence | None
    tally: dict[str, int] = field(default_factory=dict)  # tone -> relevant sentences
    documents: int = 0  # its documents in scope


@dataclass(frozen=True)
class Comparison:
    theme: str  # what was searched for
    grades: tuple[str, ...]  # grades the question named ("judged inadequate vs good"), to group or filter by
    rows: tuple[Row, ...]
    evidence: tuple[Evidence, ...]

    def counts(self, by: str) -> list[dict]:
        """Evidence counted by `by` (grade, year or region) and tone: rows for a stacked bar chart."""
        regions = {row.authority: row.region for row in self.rows}
        keyed: Counter[tuple[str, str]] = Counter()
        for item in self.evidence:
            value = {"grade": item.grade, "year": item.year,
                     "region": regions.get(item.passage.authority or "")}[by] or "unknown"
            keyed[(value, item.tone)] += 1
        return [{by: value, "tone": kind, "sentences": n} for (value, kind), n in sorted(keyed.items())]


def read_theme(question: str) -> tuple[str, tuple[str, ...]]:
    """(the theme, the grades named) of a researcher's question: "how is IRO challenge described across
    authorities judged inadequate vs good?" -> ("IRO challenge", ("inadequate", "good"))."""
    grades: list[str] = []
    match = GRADE_PHRASE.search(question)
    if match:
        grades = [g.lower() for g in re.findall(GRADE_WORDS, match.group("grades"), re.I)]
        question = question[:match.start()] + question[match.end():]
    theme = WRAPPER.sub(" ", question)
    theme = re.sub(r"\s+", " ", theme).strip(" ?.!,;:")
    return (theme or question.strip()), tuple(dict.fromkeys(grades))


def compare(searcher, question: str, filters: Filters = Filters(), minimum: float = 0.40) -> Comparison:
    """Every authority in scope with its best sentence on the theme; the evidence behind the charts."""
    theme, grades = read_theme(question)
    index = searcher.index
    meaning = searcher.interpret(theme, filters)
    scope = replace(meaning.filters, kinds=meaning.filters.kinds or EVIDENCE_KINDS)
    mask = searcher.allowed_rows(scope)
    rows = np.flatnonzero(mask) if mask is not None else np.arange(len(index.passages))
    authorities = _authorities_in(searcher, filters)
    if not len(rows) or not searcher.retriever.has_sentences:
        return Comparison(theme, grades, tuple(Row(a, r, None, {}, n) for a, (r, n) in authorities.items()), ())
    text = meaning.search_text
    query = searcher.embedder.encode([text])[0]
    sentence_query = searcher._sentence_vector(text, query.reshape(1, -1)).reshape(-1)
    close = searcher.retriever.passage_vectors(rows) @ query
    relevant = (close >= minimum) | _all_key_words(searcher, meaning.topic or theme, rows)  # (not the expansions)
    rows, close = rows[relevant], close[relevant]
    evidence = _best_sentences(searcher, rows, close, sentence_query)
    by_authority: dict[str, list[Evidence]] = {}
    for item in evidence:
        by_authority.setdefault(item.passage.authority or "", []).append(item)
    table = []
    for authority, (region, documents) in authorities.items():
        found = sorted(by_authority.get(authority, []), key=lambda item: -item.score)
        table.append(Row(authority, region, found[0] if found else None, dict(Counter(item.tone for item in found)),
                         documents))
    return Comparison(theme, grades, tuple(table), tuple(evidence))


def _authorities_in(searcher, filters: Filters) -> dict[str, tuple[str | None, int]]:
    """authority -> (region, documents in scope), for every authority with a document the filters allow."""
    mask = searcher.allowed_rows(filters)
    allowed = None if mask is None else {p.doc_id for p, ok in zip(searcher.index.passages, mask) if ok}
    found: dict[str, tuple[str | None, int]] = {}
    for doc_id, record in searcher.index.documents.items():
        name = record.get("authority")
        if name and (allowed is None or doc_id in allowed):
            region, count = found.get(name, (record.get("region"), 0))
            found[name] = (region or record.get("region"), count + 1)
    return dict(sorted(found.items()))


def _all_key_words(searcher, text: str, rows: np.ndarray) -> np.ndarray:
    """Which of `rows` hold every key word of the theme (stemmed, stop words out), from the BM25 index."""
    words = searcher.query_words(text) if text.strip() else []
    present = np.full(len(rows), bool(words))
    for word in dict.fromkeys(words):
        present &= searcher.retriever.lexical_scores([word], rows) > 0
    return present


def _best_sentences(searcher, rows: np.ndarray, close: np.ndarray, sentence_query: np.ndarray) -> list[Evidence]:
    """Each relevant passage's sentence closest to the theme, labelled by tone."""
    index = searcher.index
    sentences = searcher.retriever.sentence_arrays(rows)  # row i of rows: offsets[i]:offsets[i + 1]
    positions = np.arange(len(rows))
    low, high = sentences.offsets[positions], sentences.offsets[positions + 1]
    keep = high > low
    rows, close, low, high = rows[keep], close[keep], low[keep], high[keep]
    if not len(rows):
        return []
    counts = (high - low).astype(np.int64)
    flat = np.repeat(low - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(counts.sum())
    scores = np.asarray(sentences.vectors[flat], dtype=np.float32) @ sentence_query
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    best = np.array([start + int(np.argmax(scores[start:start + n])) for start, n in zip(starts, counts)])
    chosen = flat[best]
    vectors = np.asarray(sentences.vectors[chosen], dtype=np.float32)
    spans = sentences.spans[chosen]
    passages = [index.passages[row] for row in rows]
    texts = [passage.text[int(s):int(e)] for passage, (s, e) in zip(passages, spans)]
    tones = tone.label(texts, vectors, index.manifest.get("sentence_model"))
    out = []
    for passage, (start, end), passage_score, sentence_score, kind in zip(passages, spans, close, scores[best], tones):
        record = index.documents.get(passage.doc_id, {})
        grades = record.get("grades") or {}
        area = passage.judgement_area if passage.judgement_area in grades else "overall effectiveness"
        out.append(Evidence(passage, int(start), int(end), float((passage_score + sentence_score) / 2), kind,
                            grades.get(area), area if area in JUDGEMENT_AREAS else "overall effectiveness"))
    return out
