"""Searcher: passage, sentence and lexical retrieval over the same passages, fused, filtered, folded -> [Hit].

Candidates and the vectors stored for them come from the index's retriever (retrieval.py: FAISS and bm25s here,
or Milvus); everything after that — fusion, boosts, re-ranking, copy folding, the per-document cap — is the same
code whichever backend answered.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace

import numpy as np

from . import answers, ranking, tone
from .embedding import Embedder, sentence_embedder as sentence_embedder_for
from .errors import IndexerError
from .glossary import Glossary, mine_definitions
from .passages import Hit
from .query import Filters, Interpretation, Interpreter
from .settings import Settings
from .store import Index, lexical_tokens
from .retrieval import Retriever

__all__ = ["Filters", "Interpretation", "RankingOptions", "Searcher"]


@dataclass(frozen=True)
class RankingOptions:
    """How the searcher ranks. The defaults are what the dev questions supported: see eval/TUNING.md."""

    fusion: str = "score"  # score (weighted min-max normalised scores) | rrf (reciprocal rank, settings.rrf_k)
    score_dense_weight: float = 0.75  # share of the dense scores (passage and sentence) in fusion, the rest BM25's
    sentence_share: float = 0.3  # of the dense share: the best sentence's similarity, the rest the passage's
    sentence_candidates: int = 200  # sentences the sentence retriever proposes (each brings its passage)
    expand_acronyms: bool = True  # add long forms of acronyms in the question (and acronyms of long forms)
    topic_only: bool = True  # search for the question without the authorities and times it is filtered by
    mine_acronyms: bool = True  # also learn acronyms the indexed documents define, "… officers (IROs)"
    authority: str = "filter"  # an authority named in the question: filter | boost | off
    authority_boost: float = 0.5  # for authority="boost": share of the top fused score added
    year_boost: float = 0.5  # share of the top fused score added to documents of the time the question names
    boilerplate_weight: float = 0.3  # fused score multiplier for boilerplate (contents, local facts, small print)
    recommendation_weight: float = 0.3  # multiplier for "What needs to improve" items, unless the question asks
    collapse_copies: bool = True  # one hit for a passage quoted verbatim in several documents, with "also in"
    copy_threshold: float = 0.8  # share of the shorter passage's word 4-grams found in the longer one
    per_document: int = 4  # at most this many hits from one document while others have hits to give (0: no cap)
    diversify_authorities: bool = True  # a question naming several authorities gets each one's best in turn
    rerank: int = 10  # re-score this many leading passages by their best sentence (0: off)
    rerank_weight: float = 1.0  # weight of the best sentence's score, relative to the top fused score
    highlight: bool = True  # mark the answering sentences of each hit
    sentence_word_weight: float = answers.LEXICAL_WEIGHT  # in a sentence's score: weight of the question's words
    sentence_short_words: int = answers.SHORT_WORDS  # shorter sentences are scored down ("Objective: Pathways")
    sentence_number_bonus: float = answers.NUMBER_BONUS  # for a sentence with a number, when one is asked for

    def __post_init__(self):
        for name, valid in (("fusion", ("score", "rrf")), ("authority", ("filter", "boost", "off"))):
            if getattr(self, name) not in valid:
                raise IndexerError(f"ranking option {name} is {getattr(self, name)!r}; valid: {', '.join(valid)}")


_HIGHLIGHTERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # embedder -> {sentence options: Highlighter}
# A recommendation is shown beside the answer when its similarity to the question (passage or best sentence) is
# at least this share of the first hit's. On trial questions the on-theme items scored 0.84-1.05 of it, the
# unrelated ones 0.37-0.63.
RECOMMENDATION_BAR = 0.75


class Searcher:
    """Answers questions from a loaded index with one embedder, loaded once."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings | None = None,
                 options: RankingOptions | None = None, glossary: Glossary | None = None,
                 sentence_embedder: Embedder | None = None):
        self.index = index
        self.embedder = embedder
        self.settings = settings or Settings.from_env()
        # Sentences are scored with the model the index's sentence vectors were made by (its first layers)
        self.sentence_embedder = sentence_embedder or sentence_embedder_for(embedder, self.settings)
        # stored sentence vectors from another model than the one scoring questions would be silently wrong
        self._stored_sentences_usable = index.manifest.get("sentence_model") == self.sentence_embedder.name
        self.options = options or RankingOptions()
        self.retriever: Retriever = index.retriever
        passages = index.passages
        glossary = glossary or Glossary()
        if self.options.mine_acronyms:
            glossary = glossary.merged(mine_definitions(passage.text for passage in passages))
        self.glossary = glossary
        self.interpreter = Interpreter({p.authority for p in passages if p.authority}, glossary)
        self._doc_years = _document_years(index)
        self._shingles: dict[int, frozenset] = {}
        self._highlighter = None
        self._document_frequency: dict[str, int] | None = None
        self.last_interpretation: Interpretation | None = None  # of the latest search, for a single-user CLI

    # ------------------------------------------------------------ public API

    def interpret(self, query: str, filters: Filters = Filters()) -> Interpretation:
        """Acronyms to expand, and the authority and time named in `query`; the filters to search with."""
        return self.interpreter.interpret(query, filters, expand_acronyms=self.options.expand_acronyms,
                                          filter_authorities=self.options.authority == "filter")

    def search(self, query: str, k: int = 10, filters: Filters = Filters()) -> list[Hit]:
        """The k best passages for `query`, best first, with their answering sentences highlighted."""
        if not query.strip() or not self.index.passages:
            return []
        meaning = self.interpret(query, filters)
        self.last_interpretation = meaning
        return self.search_interpreted(meaning, k)

    def search_interpreted(self, meaning: Interpretation, k: int = 10) -> list[Hit]:
        """Search with an interpretation from `interpret` (which the app may show, or the user adjust)."""
        mask = self.allowed_rows(meaning.filters)
        if mask is not None and not mask.any():
            return []
        pool = max(self.settings.candidates, k)
        text = meaning.search_text if self.options.topic_only else replace(meaning, topic="").search_text
        query_vector = self.embedder.encode([text])
        sentence_vector = self._sentence_vector(text, query_vector)
        rows, features = self._candidates(query_vector, sentence_vector, text, pool, meaning.filters)
        if not len(rows):
            return []
        fused = self._fuse(features)
        fused *= ranking.kind_weights([self.index.passages[row].kind for row in rows], meaning.recommendations,
                                      self.options.boilerplate_weight, self.options.recommendation_weight)
        scores = self._boost(dict(zip(rows.tolist(), fused.tolist())), meaning)
        order = sorted(scores, key=lambda row: (-scores[row], row))
        concepts = self.concepts(meaning)
        sentences: dict[int, list[tuple[int, int, float]]] = {}  # row -> its scored sentences, best first
        if self.options.rerank:
            order = self._rerank(order, scores, meaning.query, sentence_vector, concepts, sentences)
        if self.options.diversify_authorities and len(meaning.authorities) > 1:
            order = ranking.diversify(order, lambda row: self.index.passages[row].authority or "",
                                      meaning.authorities, k)
        lookup = {name: dict(zip(rows.tolist(), values.tolist())) for name, values in features.items()}
        hits = self._select(order, scores, lookup, k)
        if self.options.highlight and hits:
            rows_shown = [self.index.row_of[hit.passage.passage_id] for hit in hits]
            self._score_sentences([row for row in rows_shown if row not in sentences], meaning.query,
                                  sentence_vector, concepts, sentences)
            hits = [replace(hit, highlights=answers.choose_highlights(sentences[row]))
                    for hit, row in zip(hits, rows_shown)]
            hits = self.with_tones(hits)
        return hits

    def with_tones(self, hits: list[Hit]) -> list[Hit]:
        """Hits with the tone of each highlighted sentence of a finding or summary: strength, weakness or neutral.

        The sentence's stored vector is read when its span is one the build embedded, so labelling costs a
        dot product; otherwise the word-cue rule decides (tone.label)."""
        texts, vectors, places = [], [], []
        rows = [self.index.row_of.get(hit.passage.passage_id) if hit.passage.kind in tone.KINDS else None
                for hit in hits]
        known = [row for row in rows if row is not None] if self.retriever.has_sentences else []
        stored = dict(zip(known, self.retriever.sentence_vectors(known))) if known else {}
        for number, (hit, row) in enumerate(zip(hits, rows)):
            if hit.passage.kind not in tone.KINDS:
                continue
            spans, found = stored.get(row, ([], None))
            by_span = dict(zip(spans, range(len(spans))))
            for position, span in enumerate(hit.highlights):
                at = by_span.get(tuple(span))
                texts.append(hit.passage.text[span[0]:span[1]])
                vectors.append(found[at] if at is not None else None)
                places.append((number, position))
        if not texts:
            return hits
        known = [i for i, vector in enumerate(vectors) if vector is not None]
        said: list[str | None] = [None] * len(texts)
        if known:
            labelled = tone.label([texts[i] for i in known], np.stack([vectors[i] for i in known]),
                                  self.index.manifest.get("sentence_model"))
            for i, value in zip(known, labelled):
                said[i] = value
        for i in range(len(texts)):
            said[i] = said[i] or tone.rule_label(texts[i])
        tones = [list((None,) * len(hit.highlights)) for hit in hits]
        for (number, position), value in zip(places, said):
            tones[number][position] = value
        return [replace(hit, tones=tuple(values)) if any(values) else hit for hit, values in zip(hits, tones)]

    # ------------------------------------------------------------ retrieval

    def _candidates(self, query_vector: np.ndarray, sentence_vector: np.ndarray, text: str, pool: int,
                    filters: Filters) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The passages any retriever proposes, and every feature of each: whatever proposed it, a candidate
        is scored by all three (its passage vector, its best sentence, BM25), so none counts as zero for
        having been just outside one retriever's list."""
        retriever = self.retriever
        dense = retriever.dense(query_vector, pool, filters)
        words = self.query_words(text)
        lexical = retriever.lexical(words, pool, filters) if words else []
        sentence_rows = self._sentence_candidates(sentence_vector, filters)
        rows = np.array(list(dict.fromkeys([row for row, _ in dense] + [row for row, _ in lexical]
                                           + sentence_rows)), dtype=np.int64)
        if not len(rows):
            return rows, {}
        features = {"passage": retriever.passage_vectors(rows) @ query_vector[0]}
        best = self._best_sentences(rows, sentence_vector)
        features["sentence"] = best if best is not None else features["passage"]
        features["lexical"] = self._lexical_features(words, rows, dict(lexical), len(lexical) < pool)
        return rows, features

    def _lexical_features(self, words: list[str], rows: np.ndarray, found: dict[int, float], complete: bool
                          ) -> np.ndarray:
        """BM25's score of every candidate: those the lexical retriever found have theirs; when it found fewer than
        it was asked for, it found every passage with a score, and the rest score 0; else the rest are asked for
        (one more search on Milvus)."""
        scores = np.array([found.get(row, 0.0) for row in rows.tolist()])
        missing = [position for position, row in enumerate(rows.tolist()) if row not in found]
        if words and missing and not complete:
            scores[missing] = self.retriever.lexical_scores(words, rows[missing])
        return scores

    @staticmethod
    def query_words(text: str) -> list[str]:
        """The question's words as the lexical index reads them: stemmed, English stop words out."""
        tokens = lexical_tokens([text], return_ids=False)
        return list(tokens[0]) if tokens and tokens[0] else []

    def _sentence_candidates(self, sentence_vector: np.ndarray, filters: Filters | None = None) -> list[int]:
        """Passages whose sentences are nearest the question: a buried sentence brings its paragraph in."""
        if not self.options.sentence_candidates or not self._stored_sentences_usable:
            return []
        return self.retriever.sentences(sentence_vector, self.options.sentence_candidates, filters or Filters())

    def _best_sentences(self, rows: np.ndarray, sentence_vector: np.ndarray) -> np.ndarray | None:
        """Each row's best sentence similarity to the question, from the stored sentence vectors."""
        if not self.retriever.has_sentences or not self._stored_sentences_usable:
            return None
        return self.retriever.best_sentences(rows, sentence_vector)

    def _fuse(self, features: dict[str, np.ndarray]) -> np.ndarray:
        """One score per candidate: the weighted dense (passage and best sentence) and lexical scores."""
        options, settings = self.options, self.settings
        dense = options.score_dense_weight * settings.dense_weight
        weights = {"passage": dense * (1.0 - options.sentence_share), "sentence": dense * options.sentence_share,
                   "lexical": (1.0 - options.score_dense_weight) * settings.lexical_weight}
        if options.fusion == "rrf":
            return _reciprocal_rank(features, weights, self.settings.rrf_k)
        return ranking.fuse(features, weights)

    def recommendations(self, query: str, hits: list[Hit], filters: Filters = Filters(), k: int = 3) -> list[Hit]:
        """What Ofsted said needs to improve on the question's theme: the best "What needs to improve" items,
        searched among recommendations alone, that are about as close to the question as the best hit is.

        Findings come first in the results, so recommendations rarely make the top places; these are
        shown beside the answer. None when the question asks what needs to improve: then they are the results.
        """
        meaning = self.interpret(query, filters)
        if meaning.recommendations or not hits:
            return []
        found = self.search_interpreted(replace(meaning, filters=replace(meaning.filters, kinds=("recommendation",))),
                                        k + 2)
        bar = RECOMMENDATION_BAR * max(hits[0].dense_score or 0.0, hits[0].sentence_score or 0.0)
        return [hit for hit in found if max(hit.dense_score or 0.0, hit.sentence_score or 0.0) >= bar][:k]

    def _sentence_vector(self, text: str, query_vector: np.ndarray) -> np.ndarray:
        """The question's vector for scoring sentences: the passage one, unless sentences have a model of their own."""
        return query_vector[0] if self.sentence_embedder is self.embedder else self.sentence_embedder.encode([text])[0]

    def _rerank(self, order: list[int], fused: dict[int, float], query: str, query_vector: np.ndarray,
                concepts, sentences: dict) -> list[int]:
        """Add each leading passage's best sentence score to its fused score, and re-order them.

        A question is usually answered by one sentence, which a whole paragraph's vector blurs.
        """
        head = order[:self.options.rerank]
        self._score_sentences(head, query, query_vector, concepts, sentences)
        best = {row: sentences[row][0][2] if sentences[row] else 0.0 for row in head}
        return ranking.rerank(order, fused, best, self.options.rerank_weight)

    def _score_sentences(self, rows: list[int], query: str, query_vector: np.ndarray, concepts,
                         sentences: dict) -> None:
        if rows:
            scored = self.highlighter.score(query, [self.index.passages[row].text for row in rows], query_vector,
                                            concepts, self._stored_sentences(rows))
            sentences.update(zip(rows, scored))

    def _stored_sentences(self, rows: list[int | None]) -> list | None:
        """The (spans, vectors) the index stores for these rows' sentences; None for what it lacks."""
        if not self.retriever.has_sentences or not self._stored_sentences_usable:
            return None
        known = [row for row in rows if row is not None]
        stored = dict(zip(known, self.retriever.sentence_vectors(known))) if known else {}
        return [None if row is None else stored[row] for row in rows]

    def concepts(self, meaning: Interpretation):
        """What the question asks about, word by word, weighted by how rare each word is in the index."""
        pairs = [(expansion.term, expansion.expansion) for expansion in meaning.expansions]
        return answers.question_concepts(meaning.topic or meaning.query, pairs, self._idf)

    def _idf(self, stem: str) -> float:
        if self._document_frequency is None:  # counted at build time; an index built before then is counted now
            self._document_frequency = self.index.stem_frequency
            if self._document_frequency is None:
                self._document_frequency = answers.stem_frequency(passage.text for passage in self.index.passages)
        n = len(self.index.passages)
        df = self._document_frequency.get(stem, 0)
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))

    def similar(self, passage_id: str, k: int = 10, filters: Filters = Filters()) -> list[Hit]:
        """Passages closest in meaning to a given one ("more like this"), never from its own document."""
        row = self.index.row_of[passage_id]
        own = self.index.passages[row].doc_id
        filters = Filters(**{**filters.__dict__, "exclude_doc_ids": (*filters.exclude_doc_ids, own)})
        mask = self.allowed_rows(filters)
        if not mask.any():
            return []
        found = self.retriever.dense(self.retriever.passage_vectors(np.array([row])), k, filters)
        return [
            Hit(passage=self.index.passages[r], score=score, rank=rank, dense_score=score)
            for rank, (r, score) in enumerate(found, start=1)
        ]

    def highlight(self, query: str, hits: list[Hit], filters: Filters = Filters()) -> list[Hit]:
        """`hits` (found by any searcher, e.g. one with highlight=False) with their answering sentences marked."""
        if not hits:
            return []
        meaning = self.interpret(query, filters)
        query_vector = self.sentence_embedder.encode([meaning.search_text])[0]
        texts = [hit.passage.text for hit in hits]
        rows = [self.index.row_of.get(hit.passage.passage_id) for hit in hits]
        rows = [row if row is not None and self.index.passages[row].text == text else None
                for row, text in zip(rows, texts)]
        scored = self.highlighter.score(meaning.query, texts, query_vector, self.concepts(meaning),
                                        self._stored_sentences(rows))
        return self.with_tones([replace(hit, highlights=answers.choose_highlights(rows))
                                for hit, rows in zip(hits, scored)])

    @property
    def highlighter(self) -> answers.Highlighter:
        """The sentence scorer, made on first use. Searchers with the same embedder and sentence options share
        one, and so its cache of sentence vectors."""
        if self._highlighter is None:
            options = self.options
            key = (options.sentence_word_weight, options.sentence_short_words, options.sentence_number_bonus)
            try:
                shared = _HIGHLIGHTERS.setdefault(self.sentence_embedder, {})
            except TypeError:  # an embedder that cannot be weakly referenced gets its own
                shared = {}
            if key not in shared:
                shared[key] = answers.Highlighter(self.sentence_embedder, lexical_weight=key[0], short_words=key[1],
                                                  number_bonus=key[2])
            self._highlighter = shared[key]
        return self._highlighter

    def allowed_rows(self, filters: Filters) -> np.ndarray | None:
        """A boolean mask of rows the filters allow, or None when they allow everything."""
        return self.index.columns.mask(filters)

    # ------------------------------------------------------------ ranking

    def _boost(self, fused: dict[int, float], meaning: Interpretation) -> dict[int, float]:
        """Raise passages of an authority or time the question names (when not filtering by them)."""
        options = self.options
        if not fused:
            return fused
        authorities = {a.lower() for a in meaning.authorities} if options.authority == "boost" else set()
        candidates = {self.index.passages[row].doc_id for row in fused}
        timely = self._timely_documents(meaning, candidates) if options.year_boost else set()
        if not authorities and not timely:
            return fused

        def shares(row: int) -> tuple[float, ...]:
            passage = self.index.passages[row]
            named = bool(authorities) and (passage.authority or "").lower() in authorities
            return (options.authority_boost,) * named + (options.year_boost,) * (passage.doc_id in timely)

        return ranking.boost(fused, shares)

    def _timely_documents(self, meaning: Interpretation, doc_ids: set[str]) -> set[str]:
        """Of `doc_ids`, those of the time the question names: its years, after its "since" year, or the
        latest (or an earlier) report of each authority it names."""
        found = set()
        years = set(meaning.years)
        for doc_id in doc_ids:
            doc_years = self._doc_years.get(doc_id, set())
            if years & doc_years or (meaning.after and doc_years and max(doc_years) > meaning.after):
                found.add(doc_id)
        if (meaning.latest or meaning.earlier) and meaning.authorities:
            for reports in self._ofsted_reports(meaning.authorities).values():
                chosen = reports[-1] if meaning.latest else (reports[-2] if len(reports) > 1 else reports[0])
                found |= {chosen} & doc_ids
        return found

    def _ofsted_reports(self, authorities) -> dict[str, list[str]]:
        """Each named authority's Ofsted documents, oldest first."""
        wanted = {a.lower() for a in authorities}
        reports: dict[str, list[tuple[str, str]]] = {}
        for doc_id, record in self.index.documents.items():
            authority = (record.get("authority") or "").lower()
            if authority in wanted and record.get("source") == "Ofsted":
                reports.setdefault(authority, []).append((str(record.get("date") or ""), doc_id))
        return {authority: [doc_id for _, doc_id in sorted(found)] for authority, found in reports.items()}

    def _select(self, order: list[int], fused: dict[int, float], features: dict[str, dict[int, float]],
                k: int) -> list[Hit]:
        """The top k rows as hits: verbatim copies folded into the first, at most `per_document` per document."""
        options = self.options
        originals: list[int] = []
        copies: dict[int, list[int]] = {}
        per_document: dict[str, int] = {}
        placed = 0  # originals that the per-document cap lets in: enough of them, and the rest can wait
        for row in order:
            if options.collapse_copies:
                original = self._copy_of(row, originals)
                if original is not None:
                    copies.setdefault(original, []).append(row)
                    continue
            originals.append(row)
            document = self.index.passages[row].doc_id
            per_document[document] = per_document.get(document, 0) + 1
            placed += not options.per_document or per_document[document] <= options.per_document
            # two spare, for a copy found later whose original moves it to another document; and no further
            # than three times k when few documents share the places (a question about one authority's reports)
            if placed >= k + 2 or len(originals) >= 3 * k:
                break
        # Of a passage and its copies, show the original: a plan quoting a report cites the report.
        shown_of = {row: min([row, *copies.get(row, ())], key=self._originality) for row in originals}
        kept = ranking.cap_per_document(originals, lambda row: self.index.passages[shown_of[row]].doc_id,
                                        options.per_document, k)
        hits = []
        for rank, row in enumerate(kept, start=1):
            group = [row, *copies.get(row, ())]
            shown = shown_of[row]
            also = tuple(dict.fromkeys(self.index.passages[r].citation for r in group if r != shown))
            hits.append(Hit(
                passage=self.index.passages[shown], score=fused[row], rank=rank, also_in=also,
                dense_score=features["passage"].get(shown), lexical_score=features["lexical"].get(shown),
                sentence_score=features["sentence"].get(shown),
            ))
        return hits

    def _originality(self, row: int) -> tuple:
        """Sort key: Ofsted's own documents first, then the earliest dated, then the best ranked."""
        passage = self.index.passages[row]
        return (passage.source != "Ofsted", passage.date or "9999", row)

    def _copy_of(self, row: int, kept: list[int]) -> int | None:
        """The kept row (from another document) that `row` is a verbatim or near-verbatim copy of."""
        mine = self._shingles_of(row)
        if not mine:
            return None
        doc_id = self.index.passages[row].doc_id
        for other in kept:
            if self.index.passages[other].doc_id != doc_id and ranking.is_copy(
                    mine, self._shingles_of(other), self.options.copy_threshold):
                return other
        return None

    def _shingles_of(self, row: int) -> frozenset:
        cached = self._shingles.get(row)
        if cached is None:
            cached = self._shingles[row] = ranking.shingles(self.index.passages[row].text)
        return cached


def _reciprocal_rank(features: dict[str, np.ndarray], weights: dict[str, float], k: int) -> np.ndarray:
    """Reciprocal rank fusion of the features: each adds weight / (k + its rank of the candidate)."""
    total = np.zeros(len(next(iter(features.values()))))
    for name, weight in weights.items():
        if weight and name in features:
            ranks = np.empty(len(total))
            ranks[np.argsort(-features[name], kind="stable")] = np.arange(1, len(total) + 1)
            total += weight / (k + ranks)
    return total


def _document_years(index: Index) -> dict[str, set[str]]:
    """The years each document is about: its date and its inspection dates."""
    years: dict[str, set[str]] = {}
    for doc_id, record in index.documents.items():
        found = {str(record.get(key) or "")[:4] for key in ("date", "inspection_start", "inspection_end")}
        years[doc_id] = {year for year in found if year}
    return years
