"""follow(searcher, authority) -> each inspection's recommendations, traced to the plan and the next inspection.

Ofsted told a council to improve X: what did the council promise (its improvement plan's actions and council
papers after the report), and what did the next inspection say about X? Each recommendation ("What needs
to improve" item) is compared, by meaning, with every passage of the same authority's later documents:
- plan actions and council narrative dated from the report's year on;
- findings, summaries and recommendations of Ofsted's letters after the report (focused and monitoring visits),
  linked by the same model and bar though it was trained on reports only (unmeasured on letters), and of the
  next Ofsted inspection.
A later passage is linked only when a relevance model (trained on hand-labelled pairs, eval/FOLLOW.md) gives it
a probability above a bar chosen on those pairs for precision; otherwise the chain says "not found in the
later report". The model reads the passage's similarity, its words, and the practice areas it shares with the
recommendation (practice_areas.py). The outcome (improved / still weak / not mentioned) is read by a second
small model from the evidence around the recommendation in the next report: how close its own "What needs to
improve" items come, the tone of the best candidates weighted by their relevance (tone.py), and the later
grade for the area. Each outcome carries its probability and, in words, the evidence it was read from.
Without the trained models (another embedding model, a test's fake embedder) links need SIMILARITY_BAR and the
outcome follows the linked passages' tone. A 2013-2017 report's recommendations to the Local Safeguarding
Children Board are followed only to what the next report says of the board or the partnership that replaced it.
No model call: recommendations, passages and sentences are compared by the vectors the build stored.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import tone
from .authorities import predecessors, successors as register_successors
from .passages import Passage, content_text
from .practice_areas import areas, judgement_counts

SIMILARITY_BAR = 0.55  # without the relevance model: the similarity a later passage must reach to be linked
SAME_AGAIN = 0.75  # a later recommendation this close is the same recommendation made again
ACTION_BAR = 0.50  # the bar for plan actions and council papers, which restate more loosely
LATER_KINDS = ("finding", "summary", "recommendation")
PLAN_KINDS = ("plan action", "council narrative", "text")
PLAN_TYPES = ("improvement plan", "council report")
OFSTED_TYPES = ("inspection report", "focused visit letter", "monitoring visit letter", "inspection letter",
                "joint targeted area inspection")
VISIT_TYPES = OFSTED_TYPES[1:]  # Ofsted's letters between inspections: focused and monitoring visits, and the rest
MAX_VISIT_LINKS = 3  # passages shown per visit letter
MAX_LINKS = 6  # later passages shown per recommendation (all the model weighs, when relevant)
MAX_ACTIONS = 3  # plan actions and council papers shown per recommendation
MAX_CANDIDATES = 6  # only the best few by similarity are weighed by the relevance model
BOARD = "local safeguarding children board"  # a 2013-2017 report's review of the board has recommendations of its own
# what a later report says of the board, or of the multi-agency safeguarding partnership that replaced it in 2019
BOARD_WORDS = re.compile(r"safeguarding (?:children(?:'s)? )?(?:board|partnership)s?|\b(?:lscb|scb)s?\b|"
                         r"safeguarding partners\b|safeguarding arrangements", re.I)


@dataclass(frozen=True)
class Link:
    """A later passage on the recommendation's theme, with its closest sentence."""

    passage: Passage
    score: float  # the better of the passage's and its closest sentence's cosine with the recommendation
    start: int  # the closest sentence's span in passage.text
    end: int
    tone: str | None  # strength | weakness | neutral for findings and summaries; None otherwise
    relevance: float = 0.0  # how likely the passage is about what was recommended (relevance model), 0..1;
    # 0 beyond the best MAX_CANDIDATES by similarity, which are all the model weighs
    passage_score: float = 0.0  # the passage vector's cosine with the recommendation
    sentence_score: float = 0.0  # its closest sentence's

    @property
    def sentence(self) -> str:
        return self.passage.text[self.start:self.end]


FEATURES = ("score", "passage", "sentence", "first", "rank", "gap", "words", "same area", "recommendation",
            "rare words", "word pairs", "area share", "area share (sentence)", "other areas (sentence)",
            "no shared area", "standing out", "report closeness", "recommendation areas", "recommendation length",
            "recommendation parts", "rare area share", "rare area share (sentence)")
OUTCOME_FEATURES = ("recommended again", "again (model)", "strengths", "weaknesses", "later grade", "best link",
                    "weakness share", "judgement grade", "again (areas)")
OUTCOMES = ("improved", "not mentioned", "still weak")
GRADES = {"outstanding": 1.0, "good": 0.67, "requires improvement": 0.33, "inadequate": 0.0}
RELEVANCE_MODEL = Path(__file__).resolve().parent / "data" / "follow.npz"


@lru_cache(maxsize=65536)
def _stems(text: str) -> tuple[str, ...]:
    from .answers import content_stems

    return tuple(content_stems(text))


def link_features(recommendation: Passage, links: list[list], frequency: dict[str, int] | None = None,
                  passages: int = 1, weighed: int | None = None, area_rarity: dict[str, float] | None = None
                  ) -> np.ndarray:
    """What the relevance model reads of each candidate (links: every passage of the later report that is a
    candidate, best first: passage, score, start, end, tone, passage cosine, sentence cosine):
    - its similarity, rank, gap to the best and how far it stands out from the report's other passages;
    - the share of the recommendation's content words it holds (plain, weighted by rarity, in pairs);
    - the practice areas (practice_areas.py) it shares with the recommendation, and those its closest sentence
      adds, plain and weighted by how rare each area is (area_rarity, practice_areas.rarity; all 1 when None);
    - whether it sits under the same judgement (always 0 today: recommendations sit under no judgement heading,
      so the trained weight is 0), whether it is a later recommendation;
    - how broad the recommendation is (its areas, words and parts): a broad one is answered by more passages.
    Rows for the first `weighed` links only (all when None); every link's score counts in how far one stands out."""
    asked = content_text(recommendation)
    stems = _stems(asked)
    wanted, pairs = set(stems), set(zip(stems, stems[1:]))
    frequency = frequency or {}

    def idf(stem: str) -> float:
        return float(np.log((passages + 1) / (frequency.get(stem, 0) + 1)))

    total = sum(idf(stem) for stem in wanted) or 1.0
    scores = np.array([link[1] for link in links], dtype=np.float32)
    best = float(scores[0]) if len(scores) else 0.0
    mean, spread = (float(scores.mean()), float(scores.std()) + 1e-6) if len(scores) else (0.0, 1.0)
    closeness = float(scores[:10].mean()) if len(scores) else 0.0
    topics = areas(asked)
    breadth = [min(len(topics), 5) / 5, min(len(wanted), 20) / 20,
               min(asked.count(",") + asked.count(" and ") + asked.count(";"), 4) / 4]
    rows = []
    for rank, link in enumerate(links[:weighed], start=1):
        passage = link[0]
        found = _stems(passage.text)
        held = set(found)
        said, near = areas(passage.text), areas(passage.text[link[2]:link[3]])
        rows.append([link[1], link[5], link[6], float(rank == 1), min(rank, 10) / 10, best - link[1],
                     len(wanted & held) / max(1, len(wanted)),
                     float(bool(recommendation.judgement_area) and passage.judgement_area == recommendation.judgement_area),
                     float(passage.kind == "recommendation"),
                     sum(idf(stem) for stem in wanted & held) / total,
                     len(pairs & set(zip(found, found[1:]))) / max(1, len(pairs)),
                     rare_share(topics, said, None), rare_share(topics, near, None),
                     len(near - topics) / max(1, len(near)),
                     float(bool(topics) and not topics & said),
                     (link[1] - mean) / spread / 4, closeness, *breadth,
                     rare_share(topics, said, area_rarity), rare_share(topics, near, area_rarity)])
    return np.array(rows, dtype=np.float32).reshape(len(rows), len(FEATURES))


def rare_share(asked: frozenset[str], said: frozenset[str], area_rarity: dict[str, float] | None) -> float:
    """The share of the recommendation's practice areas (`asked`) a passage names (`said`), each area weighted by
    how rare it is in the corpus (practice_areas.rarity; 1 each when None); 0.5 when the recommendation names none."""
    if not asked:
        return 0.5
    weight = (area_rarity or {}).get
    return sum(weight(name, 1.0) for name in asked & said) / (sum(weight(name, 1.0) for name in asked) or 1.0)


@dataclass(frozen=True)
class Models:
    """The link relevance model and the outcome model scripts/train_follow.py trains (indexer/data/follow.npz)."""

    weights: np.ndarray  # (len(FEATURES),)
    bias: float
    bar: float  # the relevance a later passage needs to be linked, chosen on the dev pairs
    outcome_weights: np.ndarray  # (len(OUTCOMES), len(OUTCOME_FEATURES))
    outcome_bias: np.ndarray
    embedding_model: str  # the vectors both were trained on
    area_rarity: dict[str, float] = field(default_factory=dict)  # practice_areas.rarity of the training corpus


@lru_cache(maxsize=2)
def relevance_model(path: Path = RELEVANCE_MODEL) -> Models | None:
    """The trained models, or None when there are none (or they were trained on other features)."""
    if not Path(path).is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        if (tuple(str(name) for name in data["features"]) != FEATURES or "outcome_weights" not in data
                or tuple(str(name) for name in data["outcome_features"]) != OUTCOME_FEATURES
                or tuple(str(name) for name in data["outcomes"]) != OUTCOMES
                or "area_rarity" not in data or data["weights"].shape != (len(FEATURES),)
                or data["outcome_weights"].shape != (len(OUTCOMES), len(OUTCOME_FEATURES))):
            return None  # trained on other features: run scripts/train_follow.py
        return Models(data["weights"].astype(np.float32), float(data["bias"]), float(data["bar"]),
                      data["outcome_weights"].astype(np.float32), data["outcome_bias"].astype(np.float32),
                      str(data["model"]),
                      dict(zip((str(name) for name in data["areas"]), data["area_rarity"].astype(float).tolist())))


def models_for(embedding_model: str | None) -> Models | None:
    """The trained models if they read vectors of this embedding model, on any backend ("all-MiniLM-L6-v2" and
    its int8 form "all-MiniLM-L6-v2+int8" give the same cosines to about 0.01); a test's fake embedder and any
    other model get none (similarity and the tone rule)."""
    models = relevance_model()
    if models is None or (embedding_model is not None
                          and embedding_model.split("+")[0] != models.embedding_model.split("+")[0]):
        return None
    return models


def link_bar(embedding_model: str | None = None) -> float:
    """The relevance a later passage needs to be linked: the trained model's bar, else SIMILARITY_BAR."""
    models = models_for(embedding_model)
    return models.bar if models else SIMILARITY_BAR


def relevance(features: np.ndarray, embedding_model: str | None = None) -> np.ndarray:
    """The probability that each candidate is about what was recommended (its similarity alone, untrained)."""
    models = models_for(embedding_model)
    if models is None or not len(features):
        return features[:, 0] if len(features) else np.zeros(0, np.float32)
    return 1 / (1 + np.exp(-(features @ models.weights + models.bias)))


@dataclass(frozen=True)
class Chain:
    """One recommendation and what followed it."""

    recommendation: Passage
    actions: tuple[Link, ...]  # plan actions and council papers that answer it
    later: tuple[Link, ...]  # the next inspection's passages on the same theme
    outcome: str  # improved | still weak | not mentioned | no later inspection
    later_report: dict | None  # the next inspection's document record
    later_grade: str | None  # its grade for the recommendation's judgement (judgement_of; else overall)
    confidence: float | None = None  # the outcome model's probability for the outcome it gives (None: no model)
    basis: str = ""  # what the outcome was read from, in words
    visits: tuple[Link, ...] = ()  # what Ofsted's letters after the report (and before the next one) said on it


@dataclass(frozen=True)
class Inspection:
    """One Ofsted report of the authority (one per inspection: a copy of the same report is left out)."""

    record: dict
    chains: tuple[Chain, ...] = ()
    letters: tuple[dict, ...] = ()  # Ofsted's letters after it and before the next inspection (visit_letters)


@dataclass(frozen=True)
class Follow:
    authority: str
    timeline: tuple[dict, ...]  # every document of the authority, oldest first
    inspections: tuple[Inspection, ...] = ()
    outcomes: dict[str, int] = field(default_factory=dict)


def lineage(index, authority: str) -> set[str]:
    """The authority and, as the index spells them, the authorities it replaced (the register's predecessors, e.g.
    Cumbria for Cumberland): their last inspection is the one before its first."""
    return {authority} | _as_indexed(index, predecessors(authority))


def _as_indexed(index, names) -> set[str]:
    """The authority names the index's documents carry that mean one of `names` (compared folded)."""
    from .authorities import fold

    wanted = {fold(name) for name in names}
    return {name for name in {r.get("authority") for r in index.documents.values()} - {None} if fold(name) in wanted}


def reports(index, authority: str) -> list[dict]:
    """The authority's Ofsted inspection reports, oldest first, one per inspection (the copy with pages kept),
    after those of the authorities it replaced (lineage)."""
    names = lineage(index, authority)
    return _one_each(index, (record for record in index.documents.values() if record.get("authority") in names
                             and record.get("doc_type") == "inspection report"),
                     lambda record: record.get("inspection_start") or record.get("date") or record["doc_id"])


def _one_each(index, records, key) -> list[dict]:
    """One document per key (copies of one report or letter: the copy with pages kept), oldest first."""
    chosen: dict = {}
    for record in records:
        old = chosen.get(key(record))
        if old is None or (_has_pages(index, record) and not _has_pages(index, old)):
            chosen[key(record)] = record
    return sorted(chosen.values(), key=lambda record: (record.get("date") or "", record["doc_id"]))


def _has_pages(index, record: dict) -> bool:
    return any(p.page is not None for p in index.document_passages(record["doc_id"]))


def follow(searcher, authority: str, bar: float | None = None, action_bar: float = ACTION_BAR) -> Follow:
    """Every inspection of `authority` with its recommendations' chains."""
    index = searcher.index
    names = lineage(index, authority)
    timeline = sorted((r for r in index.documents.values() if r.get("authority") in names),
                      key=lambda record: (record.get("date") or "", record["doc_id"]))
    inspections = reports(index, authority)
    out, outcomes = [], Counter()
    for number, report in enumerate(inspections):
        later = inspections[number + 1] if number + 1 < len(inspections) else None
        recommendations = [p for p in index.document_passages(report["doc_id"]) if p.kind == "recommendation"]
        letters = tuple(visit_letters(index, report, later))
        chains = []
        for recommendation in recommendations:
            chain = trace(searcher, recommendation, report, later, bar, action_bar, letters)
            outcomes[chain.outcome] += 1
            chains.append(chain)
        out.append(Inspection(report, tuple(chains), letters))
    return Follow(authority, tuple(timeline), tuple(out), dict(outcomes))


def candidates(searcher, recommendation: Passage, doc_ids: set[str], kinds: tuple[str, ...]
               ) -> list[Link]:
    """Passages of the given documents and kinds, scored against the recommendation, best first (no bar)."""
    index = searcher.index
    rows = np.sort(np.array([row for doc_id in doc_ids for row in index.rows_of_document.get(doc_id, ())
                             if index.passages[row].kind in kinds], dtype=np.int64))
    if not len(rows):
        return []
    retriever = searcher.retriever
    query = retriever.passage_vectors(np.array([index.row_of[recommendation.passage_id]]))[0]
    passage_scores = retriever.passage_vectors(rows) @ query
    links = []
    stored = retriever.sentence_vectors(rows.tolist()) if retriever.has_sentences else None
    texts, vectors, places = [], [], []
    for number, (row, passage_score) in enumerate(zip(rows, passage_scores)):
        passage = index.passages[row]
        spans, found = stored[number] if stored is not None else ([], np.zeros((0, len(query))))
        if len(spans):
            scores = found @ query
            best = int(np.argmax(scores))
            start, end, sentence_score = spans[best][0], spans[best][1], float(scores[best])
        else:
            start, end, sentence_score = 0, len(passage.text), float(passage_score)
        links.append([passage, max(float(passage_score), sentence_score), start, end, None, float(passage_score),
                      sentence_score])
        if passage.kind in tone.KINDS and len(spans):
            texts.append(passage.text[start:end])
            vectors.append(found[best])
            places.append(len(links) - 1)
    if texts:
        for place, said in zip(places, tone.label(texts, np.stack(vectors), index.manifest.get("sentence_model"))):
            links[place][4] = said
    links.sort(key=lambda link: -link[1])
    models = models_for(index.manifest.get("model"))
    chances = relevance(link_features(recommendation, links, index.stem_frequency, len(index.passages),
                                      MAX_CANDIDATES, models.area_rarity if models else None),
                        index.manifest.get("model"))
    return [Link(*link[:5], relevance=float(chances[number]) if number < len(chances) else 0.0,
                 passage_score=link[5], sentence_score=link[6]) for number, link in enumerate(links)]


def trace(searcher, recommendation: Passage, report: dict, later: dict | None, bar: float | None = None,
          action_bar: float = ACTION_BAR, letters: tuple[dict, ...] | None = None) -> Chain:
    """The plan actions that answer one recommendation, what Ofsted's letters since said on it (visit_links; the
    letters are visit_letters' when not given), and what the next inspection said on its theme."""
    index = searcher.index
    bar = link_bar(index.manifest.get("model")) if bar is None else bar
    letters = visit_letters(index, report, later) if letters is None else letters
    visits = visit_links(searcher, recommendation, letters, bar)
    actions = tuple(link for link in candidates(searcher, recommendation, plan_documents(index, report, later),
                                                PLAN_KINDS)
                    if link.score >= action_bar)[:MAX_ACTIONS]  # (plans: no labelled pairs yet, so similarity alone)
    if later is None:
        return Chain(recommendation, actions, (), "no later inspection", None, None, visits=visits)
    found = candidates(searcher, recommendation, {later["doc_id"]}, LATER_KINDS)
    grades = later.get("grades") or {}
    # only what the later report says of the board or its successor. The relevance was read among all the report's
    # passages, so one of these beyond the best MAX_CANDIDATES has none and is not linked. Weighing the board's
    # passages alone instead was tried: Tameside 2016 -> 2019 lost a relevant link (eval/FOLLOW.md)
    if recommendation.judgement_area == BOARD:
        found = [link for link in found if link.passage.judgement_area == BOARD or BOARD_WORDS.search(link.passage.text)]
        if not found:
            return Chain(recommendation, actions, (), "not mentioned", later, grades.get(BOARD), None,
                         "a recommendation to the Local Safeguarding Children Board: the later report says nothing "
                         "of the board, or of the safeguarding partnership that replaced it", visits)
    models = models_for(index.manifest.get("model"))
    weighed = found[:MAX_CANDIDATES]
    linked = tuple(sorted((link for link in weighed if link.relevance >= bar), key=lambda link: -link.relevance)
                   )[:MAX_LINKS]
    area = judgement_of(recommendation, grades)
    grade = grades.get(area)
    if models is None:
        return Chain(recommendation, actions, linked, outcome(linked), later, grade, None,
                     "the linked passages' tone (no trained outcome model)", visits)
    values = outcome_features(found, weighed, grades.get("overall effectiveness"), grade,
                              areas(content_text(recommendation)), models.area_rarity)
    scores = models.outcome_weights @ values + models.outcome_bias
    chances = np.exp(scores - scores.max())
    chances /= chances.sum()
    said = OUTCOMES[int(np.argmax(chances))]
    return Chain(recommendation, actions, linked, said, later, grade, float(chances.max()),
                 outcome_basis(linked, weighed, area, grade, said), visits)


def judgement_of(recommendation: Passage, grades: dict) -> str:
    """The later report's judgement that grades what a recommendation asks for: the one it sits under, else the
    judgement most of its practice areas belong to (practice_areas.JUDGEMENTS) among those the report grades
    (a tie goes to the lower grade); else overall effectiveness."""
    if recommendation.judgement_area in grades:
        return recommendation.judgement_area
    counts: Counter[str] = Counter()
    for judgement, count in judgement_counts(content_text(recommendation)).items():
        if judgement == "care leavers" and not grades.get(judgement):
            judgement = "children in care"  # before 2023 care leavers were judged with children in care
        if grades.get(judgement):
            counts[judgement] += count
    if not counts:
        return "overall effectiveness"
    return min(counts, key=lambda judgement: (-counts[judgement], grade_value(grades[judgement])))


def visit_links(searcher, recommendation: Passage, letters, bar: float) -> tuple[Link, ...]:
    """What each of the authority's Ofsted letters after the report and before the next inspection (`letters`,
    visit_letters') said on the recommendation: the passages the relevance model links, as in the next report (at most
    MAX_VISIT_LINKS a letter, letters oldest first). The model was trained on reports' passages only: on letters it
    is unmeasured (eval/FOLLOW.md). A recommendation to the safeguarding board is answered only by what a letter
    says of the board or the partnership, as in trace."""
    out: list[Link] = []
    for letter in letters:
        weighed = candidates(searcher, recommendation, {letter["doc_id"]}, LATER_KINDS)[:MAX_CANDIDATES]
        if recommendation.judgement_area == BOARD:
            weighed = [link for link in weighed
                       if link.passage.judgement_area == BOARD or BOARD_WORDS.search(link.passage.text)]
        out += sorted((link for link in weighed if link.relevance >= bar), key=lambda link: -link.relevance
                      )[:MAX_VISIT_LINKS]
    return tuple(out)


def letters_since(count: int) -> str:
    """'the letter since', 'the 3 letters since'."""
    return "the letter since" if count == 1 else f"the {count} letters since"


def visit_letters(index, report: dict, later: dict | None) -> list[dict]:
    """The authority's Ofsted letters (VISIT_TYPES) sent after `report` and before the next inspection report
    (`later`; any time after when None), oldest first, one per letter (the copy with pages kept, as in reports).
    Dates are compared at the coarser precision of the two: a letter dated only "2020" is after a report of July
    2019; one dated "2019", or sent the day the report is dated, is not (which side it falls is not known). A
    report without a date, and a copy of either report that was read as a letter, have none."""
    start = report.get("date") or ""
    if not start:
        return []
    until = (later or {}).get("date") or "9999"
    reports_started = {record.get("inspection_start") for record in (report, later or {})} - {None, ""}

    def between(date: str) -> bool:
        size = min(len(date), len(start))
        return bool(date) and date[:size] > start[:size] and date < until[:len(date)]

    return _one_each(index, (record for record in index.documents.values()
                             if record.get("authority") in _authorities(report, later)
                             and record.get("doc_type") in VISIT_TYPES and between(record.get("date") or "")
                             and record.get("inspection_start") not in reports_started),
                     lambda record: (record.get("doc_type"), record.get("date")))


def plan_documents(index, report: dict, later: dict | None) -> set[str]:
    """The authority's improvement plans and council papers that answer `report` (see answers)."""
    return {doc_id for doc_id, r in index.documents.items() if r.get("authority") in _authorities(report, later)
            and r.get("doc_type") in PLAN_TYPES and answers(r.get("date") or "", report, later)}


def _authorities(report: dict, later: dict | None) -> set[str]:
    """Whose papers can answer a report: its authority's, and the next report's when that is a successor's."""
    return {report.get("authority"), (later or {}).get("authority", report.get("authority"))} - {None}


def answers(date: str, report: dict, later: dict | None) -> bool:
    """Whether a plan or council paper dated `date` ("2019", "2019-06", "2019-06-30") can answer `report`: from
    the report's year until the next inspection, compared at the paper's own precision. A paper dated only
    "2019" answers an inspection of January 2019, not the one before it: a plan answers the latest report."""
    if not date:
        return False
    until = ((later or {}).get("date") or "9999")[:len(date)]
    return (report.get("date") or "")[:4] <= date < until


def outcome_features(found: list[Link], weighed: list[Link], overall: str | None, grade: str | None,
                     asked: frozenset[str] = frozenset(), area_rarity: dict[str, float] | None = None) -> np.ndarray:
    """What the outcome model reads (OUTCOME_FEATURES): how close the later report's own recommendations come
    (cosine; the relevance of any among the best candidates; and cosine times the share of the recommendation's
    practice areas, `asked`, they name, weighted by rarity), the relevance-weighted strengths and weaknesses among
    the best candidates, the later overall grade and the grade for the recommendation's judgement, and the best
    candidate's relevance."""
    later = [link for link in found if link.passage.kind == "recommendation"]
    again = max((link.passage_score for link in later), default=0.0)
    again_areas = max((link.passage_score * rare_share(asked, areas(link.passage.text), area_rarity)
                       for link in later), default=0.0) if asked else 0.0
    again_model = max((link.relevance for link in weighed if link.passage.kind == "recommendation"), default=0.0)
    strengths = sum(link.relevance for link in weighed if link.tone == "strength")
    weaknesses = sum(link.relevance for link in weighed if link.tone == "weakness")
    best = max((link.relevance for link in weighed), default=0.0)
    return np.array([again, again_model, strengths, weaknesses, grade_value(overall), best,
                     weaknesses / (strengths + weaknesses + 1e-6), grade_value(grade), again_areas], dtype=np.float32)


def grade_value(grade: str | None) -> float:
    """A grade on a 0..1 scale (outstanding 1, inadequate 0; unknown 0.5)."""
    for name, value in GRADES.items():
        if grade and grade.lower().startswith(name):
            return value
    return 0.5


def outcome_basis(linked: tuple[Link, ...], weighed: list[Link], area: str, grade: str | None,
                  said: str = "") -> str:
    """The evidence the outcome (`said`) was read from, in words (shown beside it)."""
    again = [link for link in linked if link.passage.kind == "recommendation"]
    tones = Counter(link.tone for link in linked if link.tone in ("strength", "weakness"))
    parts = []
    if again:
        parts.append("the later report recommends it again" if said == "still weak" else
                     "a later recommendation on a close theme is linked")
    if linked:
        parts.append(f"{len(linked)} linked passage{'s' * (len(linked) != 1)}"
                     + (f": {_count(tones['strength'], 'strength')}, {_count(tones['weakness'], 'weakness')}"
                        if tones else ""))
    else:
        near = Counter(link.tone for link in weighed if link.tone in ("strength", "weakness"))
        parts.append("no later passage close enough to link; the nearest read as "
                     + (f"{_count(near['strength'], 'strength')}, {_count(near['weakness'], 'weakness')}" if near else
                        "no judgement"))
    if grade:
        parts.append(f"the later grade for {area} is {grade}")
    return "; ".join(parts)


def _count(number: int, what: str) -> str:
    """'1 strength', '2 weaknesses'."""
    return f"{number} {what}" + ("" if number == 1 else "es" if what.endswith("ss") else "s")


def outcome(linked: tuple[Link, ...]) -> str:
    """improved, still weak or not mentioned, from the later passages linked to a recommendation (the rule used
    when there is no trained outcome model)."""
    if not linked:
        return "not mentioned"
    if any(link.passage.kind == "recommendation" and link.score >= SAME_AGAIN for link in linked):
        return "still weak"
    tones = Counter(link.tone for link in linked if link.tone in ("strength", "weakness"))
    if not tones:
        return "still weak" if any(link.passage.kind == "recommendation" for link in linked) else "not mentioned"
    return "still weak" if tones["weakness"] >= tones["strength"] else "improved"


def recommendation_text(passage: Passage) -> str:
    """What the recommendation asks for, without its National Framework reference."""
    return " ".join(content_text(passage).split())


def on_theme(searcher, theme: str, filters=None, minimum: float = 0.45) -> list[Chain]:
    """Across authorities: every recommendation on a theme (cosine with it at least `minimum`) that has a next
    inspection, traced. For "of the recommendations about T, how many were still weak next time?"."""
    from .query import Filters

    index = searcher.index
    filters = filters or Filters()
    meaning = searcher.interpret(theme, filters)
    mask = searcher.allowed_rows(replace_kinds(meaning.filters, ("recommendation",)))
    rows = np.flatnonzero(mask) if mask is not None else np.arange(len(index.passages))
    if not len(rows):
        return []
    query = searcher.embedder.encode([meaning.search_text])[0]
    close = searcher.retriever.passage_vectors(rows) @ query
    chosen = rows[close >= minimum]
    by_report: dict[str, list[dict]] = {}

    def inspections_of(authority: str) -> list[dict]:
        if authority not in by_report:
            by_report[authority] = reports(index, authority)
        return by_report[authority]

    out = []
    for row in chosen[np.argsort(-close[close >= minimum], kind="stable")]:
        passage = index.passages[row]
        inspections = inspections_of(passage.authority or "")
        ids = [record["doc_id"] for record in inspections]
        if passage.doc_id not in ids:  # a copy of a report the authority's list leaves out
            continue
        number = ids.index(passage.doc_id)
        if number + 1 < len(inspections):
            out.append(trace(searcher, passage, inspections[number], inspections[number + 1]))
            continue
        for successor in successors(index, passage.authority or ""):  # a reorganised authority's last report
            theirs = [record["doc_id"] for record in inspections_of(successor)]
            if passage.doc_id in theirs and theirs.index(passage.doc_id) + 1 < len(theirs):
                later = inspections_of(successor)[theirs.index(passage.doc_id) + 1]
                out.append(trace(searcher, passage, inspections[number], later))
    return out


def successors(index, authority: str) -> list[str]:
    """The authorities that replaced `authority` (the register's successors), as the index spells them."""
    return sorted(_as_indexed(index, register_successors(authority)))


def replace_kinds(filters, kinds: tuple[str, ...]):
    from dataclasses import replace

    return replace(filters, kinds=kinds)
