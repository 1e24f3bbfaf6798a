"""The Searcher: fusion, filters, what it understands from a question, copies folded, diversity, highlights."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from indexer.building import build_index
from indexer.embedding import HashingEmbedder
from indexer.errors import IndexerError
from indexer.glossary import Expansion, Glossary, mine_definitions
from indexer.search import Filters, Interpretation, RankingOptions, Searcher
from indexer.settings import Settings
from indexer.store import load_index

from .conftest import write_files

METADATA = (
    "file,title,authority,doc_type,date,source\n"
    "oldham-report.txt,Oldham inspection of children's services,Oldham,inspection report,2019-01-21,Ofsted\n"
    "oldham-plan.txt,Oldham improvement plan,Oldham,improvement plan,2019,Oldham Council\n"
    "tameside-report.txt,Tameside inspection of children's services,Tameside,inspection report,2019-05-13,Ofsted\n"
    "tameside-2023.txt,Tameside inspection of children's services,Tameside,inspection report,2023-12-04,Ofsted\n"
)
QUOTED = "The timeliness and effectiveness of pathway plans that lead to effective support into independence."
FILES = {
    "metadata.csv": METADATA,
    "oldham-report.txt": (
        "What needs to improve\n\n"
        f"- {QUOTED}\n\n"
        "Children in care\n\n"
        "1. Independent reviewing officers (IROs) visit children before reviews. IROs do not always challenge "
        "drift in care planning effectively.\n\n"
        "2. Personal education plans are completed for most children, and school attendance is monitored.\n\n"
        "3. Foster carers are well trained and supported by their supervising social workers.\n\n"
        "4. Care leavers live in suitable housing and stay in touch with their personal advisers.\n\n"
        "5. Adoption is timely, and children move to their adoptive families quickly.\n"
    ),
    "oldham-plan.txt": (
        "Our response to the inspection\n\n"
        f"- {QUOTED}\n\n"
        "Actions\n\n"
        "- Every care leaver will have a pathway plan reviewed every six months by the leaving care team.\n"
    ),
    "tameside-report.txt": (
        "Care leavers\n\n"
        "1. Pathway plans for care leavers in Tameside are not reviewed when circumstances change.\n\n"
        "2. Social workers in Tameside visit children regularly and see them alone.\n"
    ),
    "tameside-2023.txt": (
        "Care leavers\n\n"
        "1. In the latest visit, pathway plans for care leavers in Tameside were up to date and reviewed.\n"
    ),
}


@pytest.fixture
def index(tmp_path, settings, hashing_embedder):
    corpus = write_files(tmp_path / "corpus", FILES)
    build_index([corpus], settings.index, hashing_embedder, settings, progress=False, log=lambda *_: None)
    return load_index(settings.index, settings)


@pytest.fixture
def searcher(index, hashing_embedder, settings):
    return Searcher(index, hashing_embedder, settings)


def docs(hits) -> list[str]:
    return [hit.passage.doc_id for hit in hits]


def test_every_hit_has_ranks_scores_and_highlights_inside_its_text(searcher):
    hits = searcher.search("pathway plans for care leavers", k=5)
    assert [hit.rank for hit in hits] == list(range(1, len(hits) + 1))
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    for hit in hits:
        assert hit.highlights
        for start, end in hit.highlights:
            assert 0 <= start < end <= len(hit.passage.text)
            assert hit.passage.text[start:end].strip() == hit.passage.text[start:end]


def test_highlight_is_the_sentence_that_answers(searcher):
    hits = searcher.search("do IROs challenge drift?", k=1)
    start, end = hits[0].highlights[0]
    assert hits[0].passage.text[start:end] == "IROs do not always challenge drift in care planning effectively."


def test_an_acronym_is_expanded_and_the_expansion_is_shown(searcher):
    meaning = searcher.interpret("are PEPs any good?")
    assert meaning.expansions == (Expansion("PEPs", "personal education plan"),)
    assert meaning.search_text == "are PEPs any good? (personal education plan)"
    hits = searcher.search("are PEPs any good?", k=1)
    assert hits[0].passage.text.startswith("Personal education plans are completed")
    assert searcher.last_interpretation == meaning


def test_a_long_form_brings_in_its_acronym(searcher):
    assert searcher.interpret("what do independent reviewing officers do").expansions == (
        Expansion("independent reviewing officers", "IRO"),)


def test_an_authority_named_in_the_question_filters_the_search(searcher):
    meaning = searcher.interpret("in Tameside, are pathway plans reviewed?")
    assert meaning.authorities == ("Tameside",)
    assert meaning.filters == Filters(authorities=("Tameside",))
    hits = searcher.search("in Tameside, are pathway plans reviewed?", k=10)
    assert hits and {hit.passage.authority for hit in hits} == {"Tameside"}


def test_the_user_s_own_authority_filter_wins(searcher):
    meaning = searcher.interpret("in Tameside, are pathway plans reviewed?", Filters(authorities=("Oldham",)))
    assert meaning.filters.authorities == ("Oldham",)


def test_authority_boost_instead_of_filter_keeps_other_authorities(index, hashing_embedder, settings):
    searcher = Searcher(index, hashing_embedder, settings, RankingOptions(authority="boost"))
    hits = searcher.search("in Tameside, are pathway plans reviewed?", k=10)
    assert hits[0].passage.authority == "Tameside"
    assert "Oldham" in {hit.passage.authority for hit in hits}


@pytest.mark.parametrize("question, years, after, latest", [
    ("Tameside 2023: are pathway plans up to date?", ("2023",), None, False),
    ("have pathway plans improved since 2019?", (), "2019", False),
    ("what should be done by June 2020?", (), None, False),
    ("what did Tameside's latest inspection say?", (), None, True),
])
def test_years_and_recency_in_the_question(searcher, question, years, after, latest):
    meaning = searcher.interpret(question)
    assert (meaning.years, meaning.after, meaning.latest) == (years, after, latest)


def test_a_named_year_raises_that_year_s_document(searcher):
    hits = searcher.search("Tameside 2023 pathway plans for care leavers", k=2)
    assert docs(hits)[0] == "tameside-2023"
    hits = searcher.search("Tameside's latest inspection: pathway plans for care leavers", k=2)
    assert docs(hits)[0] == "tameside-2023"


def test_a_verbatim_quote_is_one_hit_that_says_where_else_it_appears(searcher, index):
    hits = searcher.search("timeliness and effectiveness of pathway plans into independence", k=10)
    quoted = [hit for hit in hits if hit.passage.text == QUOTED]
    assert len(quoted) == 1
    copy = next(p for p in index.passages if p.text == QUOTED and p.doc_id != quoted[0].passage.doc_id)
    assert quoted[0].also_in == (copy.citation,)


def test_copies_are_kept_apart_when_collapsing_is_off(index, hashing_embedder, settings):
    searcher = Searcher(index, hashing_embedder, settings, RankingOptions(collapse_copies=False))
    hits = searcher.search("timeliness and effectiveness of pathway plans into independence", k=10)
    assert sum(hit.passage.text == QUOTED for hit in hits) == 2
    assert all(hit.also_in == () for hit in hits)


def test_one_document_does_not_fill_the_results_while_others_can(index, hashing_embedder, settings):
    searcher = Searcher(index, hashing_embedder, settings, RankingOptions(per_document=2, authority="off"))
    hits = searcher.search("children care plans social workers", k=6)
    assert max(docs(hits).count(doc) for doc in set(docs(hits))) <= 2 or len(set(docs(hits))) == 4


def test_the_cap_gives_way_when_there_is_nothing_else(index, hashing_embedder, settings):
    searcher = Searcher(index, hashing_embedder, settings, RankingOptions(per_document=1))
    hits = searcher.search("children", k=5, filters=Filters(doc_ids=("oldham-report",)))
    assert len(hits) == 5 and set(docs(hits)) == {"oldham-report"}


def test_filters_still_apply(searcher):
    assert searcher.search("pathway plans", filters=Filters(authorities=("Nowhere",))) == []
    hits = searcher.search("pathway plans", filters=Filters(doc_types=("improvement plan",)))
    assert set(docs(hits)) == {"oldham-plan"}
    hits = searcher.search("pathway plans", filters=Filters(since="2023"))
    assert set(docs(hits)) == {"tameside-2023"}
    assert searcher.search("   ") == []


def test_rrf_fusion_still_works(index, hashing_embedder, settings):
    searcher = Searcher(index, hashing_embedder, settings, RankingOptions(fusion="rrf", rerank=0))
    hits = searcher.search("do IROs challenge drift?", k=1)
    assert "IROs do not always challenge" in hits[0].passage.text


def test_hits_found_without_highlighting_can_be_highlighted_afterwards(index, hashing_embedder, settings):
    plain = Searcher(index, hashing_embedder, settings, RankingOptions(highlight=False))
    hits = plain.search("do IROs challenge drift?", k=3)
    assert all(hit.highlights == () for hit in hits)
    main = Searcher(index, hashing_embedder, settings)
    assert main.highlight("do IROs challenge drift?", hits) == main.search("do IROs challenge drift?", k=3)
    assert main.highlighter is plain.highlighter  # one cache of sentence vectors per embedder


def test_highlighting_uses_the_sentence_vectors_stored_at_build_time(index, settings):
    counting = HashingEmbedder()  # a fresh one: no highlighter cache of its own yet
    stored = Searcher(index, counting, settings).search("do IROs challenge drift?", k=5)
    assert counting.calls == [1]  # the question only: no sentence was encoded at query time
    computed = Searcher(replace(index, sentences=None), HashingEmbedder(), settings).search(
        "do IROs challenge drift?", k=5)
    assert [(hit.passage.passage_id, hit.highlights) for hit in stored] == [
        (hit.passage.passage_id, hit.highlights) for hit in computed]
    assert any(hit.highlights for hit in stored)


@pytest.mark.model
def test_sentences_are_scored_by_the_model_that_made_the_stored_sentence_vectors(seed_index, real_embedder):
    settings = Settings.from_env(index=seed_index)
    index = load_index(seed_index, settings)
    searcher = Searcher(index, real_embedder, settings)
    assert searcher.sentence_embedder is real_embedder  # the whole model: one question vector for both
    assert searcher.sentence_embedder.name == index.manifest["sentence_model"] == settings.sentence_model
    question = "what was said about care leavers' pathway plans?"
    stored = searcher.search(question, k=5)
    assert any(hit.highlights for hit in stored)
    # the stored sentence vectors choose the same answering sentences as sentences embedded now
    computed = Searcher(replace(index, sentences=None), real_embedder, settings).highlight(question, stored)
    assert [hit.highlights[:1] for hit in computed] == [hit.highlights[:1] for hit in stored]
    # a question vector from another model than the stored sentences' would score them wrongly: not used
    other = Searcher(index, real_embedder, settings, sentence_embedder=HashingEmbedder())
    assert other._stored_sentences([0]) is None and other._best_sentences(np.array([0]), np.zeros(384)) is None


def test_unknown_ranking_options_are_refused_with_the_valid_ones():
    with pytest.raises(IndexerError, match="valid: score, rrf"):
        RankingOptions(fusion="max")


def test_similar_never_returns_its_own_document(searcher, index):
    passage = next(p for p in index.passages if p.text.startswith("Pathway plans for care leavers in Tameside"))
    hits = searcher.similar(passage.passage_id, k=3)
    assert hits and all(hit.passage.doc_id != passage.doc_id for hit in hits)


def test_interpretation_can_be_adjusted_and_searched(searcher):
    meaning = searcher.interpret("pathway plans")
    hits = searcher.search_interpreted(replace(meaning, filters=Filters(authorities=("Oldham",))), k=3)
    assert {hit.passage.authority for hit in hits} == {"Oldham"}
    assert isinstance(meaning, Interpretation)


# ---------------------------------------------------------------- the glossary


def test_glossary_reads_acronyms_only_in_capitals_where_they_are_words():
    glossary = Glossary()
    assert glossary.expand("is the MASH any good?") == [Expansion("MASH", "multi-agency safeguarding hub")]
    assert glossary.expand("what about the mash") == []
    assert glossary.expand("are ehcps on time?") == [Expansion("ehcps", "education, health and care plan")]
    assert glossary.expand("a pep talk") == []  # short acronyms only in capitals


def test_definitions_are_mined_from_the_documents():
    texts = [
        "Children have regularly updated personal education plans (PEPs) and see the Oldham Practice Hub (OPH).",
        "The children in care council (CICC) meets monthly. Signs of Safety (SoS) is used. In 2019 (May) ...",
    ]
    assert mine_definitions(texts) == {
        "PEP": ("personal education plans",),
        "OPH": ("Oldham Practice Hub",),
        "CICC": ("children in care council",),
        "SOS": ("Signs of Safety",),
    }


def test_mined_definitions_extend_the_glossary():
    glossary = Glossary({"IRO": ("independent reviewing officer",)}).merged({"OPH": ("Oldham Practice Hub",)})
    assert glossary.expand("what is the OPH?") == [Expansion("OPH", "Oldham Practice Hub")]


def test_lexical_ranking_is_bm25s_own_with_and_without_a_filter(searcher, index):
    import numpy as np

    words = searcher.query_words("pathway plans for care leavers")
    known = [w for w in words if w in index.lexical.vocab_dict]
    for filters in (Filters(), Filters(authorities=("Oldham",))):
        mask = searcher.allowed_rows(filters)
        ours = index.retriever.lexical(words, 5, filters)
        rows, scores = index.lexical.retrieve([known], k=5, show_progress=False,
                                              weight_mask=None if mask is None else mask.astype(np.float32))
        expected = [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if s > 0]
        assert [round(s, 5) for _, s in ours] == [round(s, 5) for _, s in expected]
        assert {r for r, _ in ours} == {r for r, _ in expected} and ours
        assert mask is None or all(mask[r] for r, _ in ours)
        candidates = np.array([row for row, _ in ours])
        assert np.allclose(index.retriever.lexical_scores(words, candidates), [s for _, s in ours])


@pytest.mark.parametrize("filters", [
    Filters(authorities=("Oldham",)), Filters(doc_types=("Improvement plan",)),
    Filters(doc_ids=("oldham-report",)), Filters(exclude_doc_ids=("oldham-report", "tameside-2023")),
    Filters(since="2023"), Filters(until="2022"), Filters(since="2020-01", until="2023"),
])
def test_filter_masks_agree_with_each_passage_s_own_fields(searcher, index, filters):
    def allowed(p) -> bool:
        return ((not filters.authorities or (p.authority or "").lower() in {a.lower() for a in filters.authorities})
                and (not filters.doc_types or p.doc_type.lower() in {t.lower() for t in filters.doc_types})
                and (not filters.doc_ids or p.doc_id in filters.doc_ids)
                and p.doc_id not in filters.exclude_doc_ids
                and (not filters.since or bool(p.date) and p.date >= filters.since)
                and (not filters.until or bool(p.date) and p.date[:len(filters.until)] <= filters.until))

    mask = searcher.allowed_rows(filters)
    assert list(mask) == [allowed(p) for p in index.passages]
    assert 0 < mask.sum() < len(index.passages)


def test_word_frequencies_for_idf_are_counted_at_build_time(index, hashing_embedder, settings, monkeypatch):
    from indexer import answers

    stem = answers.content_stems("pathway")[0]
    assert index.stem_frequency[stem] == sum(stem in answers.content_stems(p.text) for p in index.passages) > 0
    assert (index.folder / "stem_frequency.json").is_file()

    def recount(texts):
        raise AssertionError("the searcher counted words again")

    monkeypatch.setattr(answers, "stem_frequency", recount)
    assert Searcher(index, hashing_embedder, settings).search("pathway plans", k=3)
    index.stem_frequency = None  # an index built before counts were stored: counted on first use
    with pytest.raises(AssertionError, match="counted words again"):
        Searcher(index, hashing_embedder, settings).search("pathway plans", k=3)


def test_filters_apply_on_an_approximate_index_too(tmp_path, settings, hashing_embedder):
    settings = replace(settings, flat_max_passages=3)  # 11 passages: an HNSW graph
    corpus = write_files(tmp_path / "corpus", FILES)
    build_index([corpus], settings.index, hashing_embedder, settings, progress=False, log=lambda *_: None)
    index = load_index(settings.index, settings)
    assert index.manifest["dense"]["kind"] == "hnsw"
    searcher = Searcher(index, hashing_embedder, settings)
    narrow = searcher.search("pathway plans", k=5, filters=Filters(doc_ids=("tameside-2023",)))  # 1 row: scanned
    assert docs(narrow) == ["tameside-2023"]
    wide = searcher.search("children", k=5, filters=Filters(authorities=("Oldham",)))  # the graph, with a selector
    assert len(wide) == 5 and {hit.passage.authority for hit in wide} == {"Oldham"}


REPORT_2024 = (
    "Judgement Grade\n\n"
    "The experiences and progress of care leavers Good\n\n"
    "What needs to improve?\n\n"
    "- The quality of pathway plans for care leavers.\n\n"
    "The experiences and progress of care leavers: good\n\n"
    "1. Pathway plans for care leavers are written with young people and reviewed when their plans change.\n\n"
    "2. Personal advisers keep in touch with care leavers who live out of the area.\n"
)


@pytest.fixture
def kinds_searcher(tmp_path, hashing_embedder, settings):
    files = {
        "metadata.csv": "file,authority,doc_type,date,source\n"
                        "leeds.txt,Leeds,inspection report,2024-05-01,Ofsted\n"
                        "wakefield.txt,Wakefield,inspection report,2024-06-01,Ofsted\n",
        "leeds.txt": REPORT_2024,
        "wakefield.txt": REPORT_2024.replace("written with young people", "written late and rarely reviewed"),
    }
    build_index([write_files(tmp_path / "kinds", files)], settings.index, hashing_embedder, settings, progress=False,
                log=lambda *_: None)
    return Searcher(load_index(settings.index, settings), hashing_embedder, settings)


def test_findings_come_before_what_needs_to_improve_unless_that_is_asked(kinds_searcher):
    found = kinds_searcher.search("pathway plans for care leavers in Leeds", k=4)
    kinds = [hit.passage.kind for hit in found]
    assert kinds[0] == "finding" and found[0].passage.text.startswith("Pathway plans for care leavers are written")
    assert kinds.index("recommendation") > 0 and "boilerplate" not in kinds[:2]
    assert {hit.passage.authority for hit in found} == {"Leeds"}
    asked = kinds_searcher.search("what needs to improve about pathway plans for care leavers in Leeds?", k=3)
    assert asked[0].passage.kind == "recommendation"


def test_a_question_naming_two_authorities_gets_each_one_s_best_passage_first(kinds_searcher):
    hits = kinds_searcher.search("how do Leeds and Wakefield review pathway plans for care leavers?", k=4)
    assert {hit.passage.authority for hit in hits[:2]} == {"Leeds", "Wakefield"}
    meaning = kinds_searcher.last_interpretation
    assert meaning.filters.authorities == ("Leeds", "Wakefield")
    assert "Leeds" not in meaning.search_text and "pathway plans" in meaning.search_text


def test_a_buried_sentence_brings_its_passage_in(kinds_searcher):
    meaning = kinds_searcher.interpret("personal advisers keep in touch out of the area")
    rows = kinds_searcher._sentence_candidates(kinds_searcher.sentence_embedder.encode([meaning.search_text])[0], None)
    texts = [kinds_searcher.index.passages[row].text for row in rows]
    assert any(text.startswith("Personal advisers keep in touch") for text in texts[:2])


def test_what_needs_to_improve_on_the_theme_is_found_beside_the_findings(kinds_searcher):
    question = "pathway plans for care leavers in Leeds"
    hits = kinds_searcher.search(question, k=1)
    beside = kinds_searcher.recommendations(question, hits)
    assert [hit.passage.text for hit in beside] == ["The quality of pathway plans for care leavers."]
    assert kinds_searcher.recommendations("personal advisers keeping in touch in Leeds", hits) == []  # off theme
    asked = "what needs to improve about pathway plans in Leeds?"
    assert kinds_searcher.recommendations(asked, kinds_searcher.search(asked, k=1)) == []  # they are the results


def test_a_definition_in_the_possessive_is_learned_without_its_apostrophe():
    assert mine_definitions(["Independent reviewing officers’ (IROs) oversight of plans is strong."]) == {
        "IRO": ("Independent reviewing officers",)}
