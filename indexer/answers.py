"""Answers, not just passages: the sentences of each hit that answer the question, and the answer block."""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from .embedding import Embedder
from .passages import Hit
from .query import RECOMMENDATIONS

# A sentence ends at . ! or ? (perhaps followed by a closing quote or bracket) before white space and
# a capital, digit, opening quote or bracket; a line break always ends one (table cells, bullets).
SENTENCE_END = re.compile(r"[.!?][\"'’”)\]]*\s+(?=[A-Z0-9\"'‘“(£•])|\n+")
# Abbreviations that end in a full stop without ending the sentence.
ABBREVIATIONS = {"e.g.", "i.e.", "mr.", "mrs.", "ms.", "dr.", "no.", "nos.", "para.", "paras.", "st.", "vs.",
                 "approx.", "p.", "pp.", "cllr.", "ref.", "fig."}
NUMBER_QUESTION = re.compile(
    r"\b(how many|how much|how long|how fast|how often|how quickly|what (?:percentage|proportion|number|share)|"
    r"which year|what year|when)\b", re.IGNORECASE)
NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|half|"
                    r"third|quarter|dozen|majority|minority|most|few)\b", re.IGNORECASE)
MIN_SENTENCE_WORDS = 3  # shorter pieces ("1.", "Yes.") join the sentence after them on their line
# A sentence's score: DENSE_WEIGHT x its similarity to the question + LEXICAL_WEIGHT x the (rarity-weighted)
# share of the question's words it holds; scored down when shorter than SHORT_WORDS words, and NUMBER_BONUS
# added when the question asks for a number and the sentence has one. Tuned on dev questions (eval/TUNING.md).
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 0.5
SHORT_WORDS = 8
NUMBER_BONUS = 0.2
SECOND_HIGHLIGHT_MARGIN = 0.08  # a second sentence is highlighted when it scores within this of the best
CACHE_PASSAGES = 4096  # sentence vectors kept for this many passages
ANSWER_MIN_SUPPORT = 0.6  # hits scoring under this share of the first hit's score give no answer sentence
ANSWER_COPY_BONUS = 0.05  # support added for each other document a hit's passage appears in (up to two)
ANSWER_MIN_RATIO = 0.75  # a further answer sentence must score at least this share of the best one


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of the answer block: a verbatim quote and the hit it is cited from."""

    text: str  # a verbatim sentence from a passage — never anything not in a document
    passage_id: str
    citation: str
    hit_rank: int  # 1-based rank of the hit it came from: the citation number shown beside it
    score: float


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`, white space trimmed, covering every word once."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in SENTENCE_END.finditer(text):
        end = match.end()
        piece = text[start:end]
        if "\n" not in match.group() and _ends_with_abbreviation(piece):
            continue
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    trimmed = []
    for start, end in spans:
        piece = text[start:end]
        left = len(piece) - len(piece.lstrip())
        right = len(piece.rstrip())
        if right > left:
            trimmed.append((start + left, start + right))
    return _join_short(text, trimmed)


def _ends_with_abbreviation(piece: str) -> bool:
    words = piece.rstrip().split()
    return bool(words) and words[-1].lower().strip("\"'’”)(") in ABBREVIATIONS


def _join_short(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join fragments too short to stand alone ("1.", "Yes.") to the next sentence on their line, or to the
    one before when they end it; a line of their own stays as it is."""
    lines: list[list[tuple[int, int]]] = []
    for span in spans:
        if lines and "\n" not in text[lines[-1][-1][1]:span[0]]:
            lines[-1].append(span)
        else:
            lines.append([span])
    joined: list[tuple[int, int]] = []
    for line in lines:
        merged: list[tuple[int, int]] = []
        carry: int | None = None
        for start, end in line:
            if carry is not None:
                start, carry = carry, None
            if len(text[start:end].split()) < MIN_SENTENCE_WORDS:
                carry = start
                continue
            merged.append((start, end))
        if carry is not None:
            if merged:
                merged[-1] = (merged[-1][0], line[-1][1])
            else:
                merged.append((carry, line[-1][1]))
        joined.extend(merged)
    return joined


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


# Words that carry no topic: question words, auxiliaries and the commonest function words.
STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before being below
between both but by can could did do does doing done down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most my
no nor not now of off on once only or other our ours out over own same she should so some such than that
the their theirs them themselves then there these they this those through to too under until up very was
we were what when where which while who whom why will with would you your yours is are being said say
tell told there's what's how's much many any anything something does did get got going well
""".split())


def content_stems(text: str) -> list[str]:
    """Stemmed content words of `text`, in order, stop words removed."""
    words = re.findall(r"[a-z0-9£%]+(?:[-'][a-z0-9]+)*", text.lower().replace("’", "'"))
    words = [word for word in words if word not in STOPWORDS and len(word) > 1]
    return _stemmer().stemWords(words)


def stem_frequency(texts) -> dict[str, int]:
    """In how many of `texts` each content stem occurs (its document frequency, for idf weights).

    A text that recurs (a plan quoting its report) is read once and counted as often as it occurs.
    """
    frequency: dict[str, int] = {}
    for text, times in Counter(texts).items():
        for stem in set(content_stems(text)):
            frequency[stem] = frequency.get(stem, 0) + times
    return frequency


@dataclass(frozen=True)
class Concept:
    """One thing the question asks about: a word, or an acronym with its long forms (any one will do)."""

    alternatives: tuple[frozenset[str], ...]  # stem sets; the concept is present when one set is
    weight: float = 1.0

    def present(self, stems: set[str]) -> bool:
        return any(alternative <= stems for alternative in self.alternatives)


def question_concepts(query: str, expansions=(), weight_of=None) -> list[Concept]:
    """The question's content words as concepts; an acronym and its expansion count as one concept.

    `expansions` are (term, expansion) pairs as the glossary gives them; `weight_of(stem)` gives a
    word's weight (e.g. its inverse document frequency), 1 for every word when None.
    """
    weight_of = weight_of or (lambda stem: 1.0)
    grouped: list[tuple[set[str], list[frozenset[str]]]] = []
    for term, expansion in expansions:
        term_stems = frozenset(content_stems(term))
        long_stems = frozenset(content_stems(expansion))
        if not term_stems or not long_stems:
            continue
        for covered, alternatives in grouped:
            if term_stems & covered:
                alternatives.append(long_stems)
                covered |= long_stems
                break
        else:
            grouped.append((set(term_stems | long_stems), [term_stems, long_stems]))
    concepts = [
        Concept(tuple(alternatives), max(weight_of(stem) for alternative in alternatives for stem in alternative))
        for _, alternatives in grouped
    ]
    covered_all = set().union(*(covered for covered, _ in grouped)) if grouped else set()
    for stem in dict.fromkeys(content_stems(query)):
        if stem not in covered_all:
            concepts.append(Concept((frozenset([stem]),), weight_of(stem)))
    return concepts


def concept_overlap(concepts: list[Concept], text: str) -> float:
    """Weighted share of the question's concepts present in `text` (0 to 1)."""
    total = sum(concept.weight for concept in concepts)
    if not total:
        return 0.0
    stems = set(content_stems(text))
    return sum(concept.weight for concept in concepts if concept.present(stems)) / total


class Highlighter:
    """Scores the sentences of passages against a question: the same model's similarity plus shared words.

    Sentence vectors are computed once per passage and kept (bounded), so repeated passages cost nothing.
    """

    def __init__(self, embedder: Embedder, cache_size: int = CACHE_PASSAGES,
                 dense_weight: float = DENSE_WEIGHT, lexical_weight: float = LEXICAL_WEIGHT,
                 short_words: int = SHORT_WORDS, number_bonus: float = NUMBER_BONUS):
        self.embedder = embedder
        self.cache_size = cache_size
        self.dense_weight = dense_weight
        self.lexical_weight = lexical_weight
        self.short_words = short_words  # sentences shorter than this many words are scored down
        self.number_bonus = number_bonus  # added to sentences with a number when the question asks for one
        self._cache: OrderedDict[str, tuple[list[tuple[int, int]], np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()  # the app's sessions share one highlighter

    def sentences(self, texts: list[str]) -> list[tuple[list[tuple[int, int]], np.ndarray]]:
        """Spans and unit vectors of the sentences of each text, encoding only what is not cached."""
        out: list = [None] * len(texts)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for row, text in enumerate(texts):
                cached = self._cache.get(text)
                if cached is not None:
                    self._cache.move_to_end(text)
                    out[row] = cached
                else:
                    missing.setdefault(text, []).append(row)
        if missing:
            spans = {text: sentence_spans(text) for text in missing}
            flat = [text[start:end] for text in missing for start, end in spans[text]]
            vectors = self.embedder.encode(flat) if flat else np.zeros((0, self.embedder.dimensions), np.float32)
            at = 0
            with self._lock:
                for text, rows in missing.items():
                    count = len(spans[text])
                    entry = (spans[text], vectors[at:at + count])
                    at += count
                    self._cache[text] = entry
                    for row in rows:
                        out[row] = entry
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return out

    def score(self, query: str, texts: list[str], query_vector: np.ndarray | None = None,
              concepts: list[Concept] | None = None, sentences: list | None = None
              ) -> list[list[tuple[int, int, float]]]:
        """For each text, its sentences as (start, end, score), best first.

        `query_vector` saves encoding the question again; `concepts` (from `question_concepts`) say which
        words count and how much, acronyms and their long forms as one. `sentences` gives each text's
        (spans, vectors) when they are known already (an index stores them); a None entry is computed.
        """
        if not texts:
            return []
        if query_vector is None:
            query_vector = self.embedder.encode([query])[0]
        query_vector = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        if concepts is None:
            concepts = question_concepts(query)
        wants_number = bool(self.number_bonus) and bool(NUMBER_QUESTION.search(query))
        scored = []
        sentences = list(sentences) if sentences is not None else [None] * len(texts)
        unknown = [row for row, entry in enumerate(sentences) if entry is None]
        for row, entry in zip(unknown, self.sentences([texts[row] for row in unknown])):
            sentences[row] = entry
        for text, (spans, vectors) in zip(texts, sentences):
            dense = vectors @ query_vector if len(spans) else np.zeros(0)
            rows = []
            for i, (start, end) in enumerate(spans):
                sentence = text[start:end]
                value = self.dense_weight * dense[i] + self.lexical_weight * concept_overlap(concepts, sentence)
                if self.short_words:
                    words = len(sentence.split())
                    if words < self.short_words:
                        value *= (words / self.short_words) ** 0.5
                if wants_number and NUMBER.search(sentence):
                    value += self.number_bonus
                rows.append((start, end, float(value)))
            rows.sort(key=lambda row: (-row[2], row[0]))
            scored.append(rows)
        return scored

    def highlight(self, query: str, hits: list[Hit], query_vector: np.ndarray | None = None,
                  concepts: list[Concept] | None = None) -> list[Hit]:
        """The hits with `highlights` set: the best sentence, and a second one when it scores nearly as well."""
        scored = self.score(query, [hit.passage.text for hit in hits], query_vector, concepts)
        return [replace(hit, highlights=choose_highlights(rows)) for hit, rows in zip(hits, scored)]


def choose_highlights(rows: list[tuple[int, int, float]]) -> tuple[tuple[int, int], ...]:
    """The spans to highlight from scored sentences (best first)."""
    if not rows:
        return ()
    best = rows[0][2]
    chosen = [rows[0]]
    if len(rows) > 2 and rows[1][2] >= best - SECOND_HIGHLIGHT_MARGIN:
        chosen.append(rows[1])
    return tuple((start, end) for start, end, _ in chosen)


# Passages the answer block never quotes as what was found: boilerplate always, and "What needs to improve"
# items unless the question asks what needs to improve (they are shown as such: see needs_to_improve).
NOT_ANSWERS = ("boilerplate",)
NOT_FINDINGS = ("boilerplate", "recommendation")


def asks_for_recommendations(query: str) -> bool:
    """True when a question asks what needs to improve rather than what was found."""
    return bool(RECOMMENDATIONS.search(query))


def needs_to_improve(found: list[Hit], hits: list[Hit], max_items: int = 3) -> list[AnswerSentence]:
    """Recommendations ("What needs to improve" items) found for the question, as what Ofsted said needs to
    improve, to show beside the answer rather than in it: verbatim, cited, with the number of the hit they
    are among the results (0 when they are not)."""
    ranks = {hit.passage.passage_id: hit.rank or position for position, hit in enumerate(hits, start=1)}
    items: list[AnswerSentence] = []
    seen: set[str] = set()
    for hit in found:
        text = " ".join(hit.passage.text.split())
        if hit.passage.kind != "recommendation" or text.lower() in seen:
            continue
        seen.add(text.lower())
        items.append(AnswerSentence(text, hit.passage.passage_id, hit.passage.citation,
                                    ranks.get(hit.passage.passage_id, 0), round(hit.score, 6)))
        if len(items) == max_items:
            break
    return items


def compose_answer(query: str, hits: list[Hit], max_sentences: int = 3) -> list[AnswerSentence]:
    """The best-supported sentences across the top hits, each verbatim, with the rank of its hit to cite.

    The answer says what was found: boilerplate is never quoted, nor are recommendations ("What needs to
    improve" items) unless the question asks what needs to improve.

    Works from what the hits carry: each hit's highlighted sentences (already chosen against the question
    by meaning and words), weighted by the hit's score relative to the first hit's, by their place among
    the hit's highlights, and by the question's words they contain. A hit folded together with copies in
    other documents counts as better supported. A sentence quoted in several hits is given once, from the
    best hit. Sentences from hits scoring under ANSWER_MIN_SUPPORT of the first hit, and sentences scoring
    under ANSWER_MIN_RATIO of the best sentence, are left out: one sure sentence beats three loose ones.
    """
    excluded = NOT_ANSWERS if asks_for_recommendations(query) else NOT_FINDINGS
    ranked = [(position, hit) for position, hit in enumerate(hits, start=1) if hit.passage.kind not in excluded]
    if not ranked:
        return []
    concepts = question_concepts(query)
    top = max(ranked[0][1].score, 1e-9)
    candidates: list[AnswerSentence] = []
    for position_of_hit, hit in ranked:
        support = hit.score / top if hit.score > 0 else 0.0
        if support < ANSWER_MIN_SUPPORT:
            continue
        support += ANSWER_COPY_BONUS * min(len(hit.also_in), 2)
        for position, (start, end) in enumerate(hit.highlights):
            text = hit.passage.text[start:end].strip()
            if not text:
                continue
            value = support * (1.0 - 0.3 * position) + 0.5 * concept_overlap(concepts, text)
            rank = hit.rank or position_of_hit
            candidates.append(AnswerSentence(text, hit.passage.passage_id, hit.passage.citation, rank, round(value, 6)))
    candidates.sort(key=lambda sentence: (-sentence.score, sentence.hit_rank))
    chosen: list[AnswerSentence] = []
    seen: set[str] = set()
    for sentence in candidates:
        key = " ".join(content_stems(sentence.text))
        if key in seen or sentence.score < ANSWER_MIN_RATIO * candidates[0].score:
            continue
        seen.add(key)
        chosen.append(sentence)
        if len(chosen) == max_sentences:
            break
    return chosen
