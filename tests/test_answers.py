"""Highlighting and the answer block: verbatim sentences, chosen by meaning and words, cited by hit rank."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from indexer.answers import (
    AnswerSentence,
    Concept,
    Highlighter,
    choose_highlights,
    compose_answer,
    needs_to_improve,
    concept_overlap,
    question_concepts,
    sentence_spans,
)
from indexer.passages import Hit, Passage


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


def test_sentences_end_at_full_stops_before_capitals():
    assert sentences("Plans are weak. Managers know this! Do they act? Yes, in 2019.") == [
        "Plans are weak.", "Managers know this!", "Do they act?", "Yes, in 2019."]


def test_abbreviations_and_lower_case_do_not_end_a_sentence():
    assert sentences("Partners, e.g. Schools and GPs, refer children. See para. 4 for more, i.e. the MASH.") == [
        "Partners, e.g. Schools and GPs, refer children.", "See para. 4 for more, i.e. the MASH."]


def test_line_breaks_end_sentences_so_table_cells_stand_alone():
    text = "Action: Review every pathway plan\nLead officer: Head of Service\nTimescale: March 2024"
    assert sentences(text) == ["Action: Review every pathway plan", "Lead officer: Head of Service",
                               "Timescale: March 2024"]


def test_fragments_too_short_to_stand_alone_join_a_sentence_on_their_line():
    assert sentences("1. Yes. Children are seen alone by their social workers.") == [
        "1. Yes. Children are seen alone by their social workers."]
    assert sentences("Children are seen alone. Mostly.\nProgress: done.") == [
        "Children are seen alone. Mostly.", "Progress: done."]


@given(st.text(alphabet=st.sampled_from("ab C.!?\n e.g."), max_size=120))
def test_sentences_are_verbatim_ordered_and_keep_every_word(text):
    spans = sentence_spans(text)
    assert all(0 <= start < end <= len(text) for start, end in spans)
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    assert " ".join(text[start:end] for start, end in spans).split() == text.split()


def test_an_acronym_and_its_long_form_are_one_concept():
    concepts = question_concepts("do IROs challenge?", [("IROs", "independent reviewing officer")])
    assert concepts == [
        Concept((frozenset({"iro"}), frozenset({"independ", "review", "offic"}))),
        Concept((frozenset({"challeng"}),)),
    ]
    assert concept_overlap(concepts, "Independent reviewing officers visit.") == 0.5
    assert concept_overlap(concepts, "IROs challenge plans.") == 1.0


def test_rare_words_weigh_more():
    concepts = question_concepts("pathway plans", weight_of=lambda stem: {"pathway": 3.0}.get(stem, 1.0))
    assert concept_overlap(concepts, "their pathway was clear") == 0.75


def test_highlighter_picks_the_sentence_that_shares_meaning_and_words(hashing_embedder):
    text = ("Children in care have their situations reviewed by independent reviewing officers. "
            "IROs do not always challenge drift in care planning. Foster carers are well supported.")
    rows = Highlighter(hashing_embedder).score("do IROs challenge drift?", [text])[0]
    assert text[rows[0][0]:rows[0][1]] == "IROs do not always challenge drift in care planning."
    assert len(rows) == 3


def test_sentence_vectors_are_encoded_once_per_passage(hashing_embedder):
    highlighter = Highlighter(hashing_embedder)
    text = "Plans are weak. Managers know this well enough to act on it."
    highlighter.score("plans", [text, text])
    highlighter.score("managers", [text])
    assert hashing_embedder.calls == [1, 2, 1]  # question, the two sentences once, question


def test_number_questions_prefer_sentences_with_numbers(hashing_embedder):
    text = "The team helps children across the region. Over a year the team helped 33 children."
    question = "how many children does the team help?"
    rows = Highlighter(hashing_embedder, number_bonus=0.0).score(question, [text])[0]
    assert text[rows[0][0]:rows[0][1]] == "The team helps children across the region."
    rows = Highlighter(hashing_embedder).score(question, [text])[0]
    assert text[rows[0][0]:rows[0][1]] == "Over a year the team helped 33 children."


def test_a_second_highlight_only_when_nearly_as_good():
    assert choose_highlights([(0, 10, 0.9), (11, 20, 0.85), (21, 30, 0.1)]) == ((0, 10), (11, 20))
    assert choose_highlights([(0, 10, 0.9), (11, 20, 0.5), (21, 30, 0.1)]) == ((0, 10),)
    assert choose_highlights([]) == ()


def passage(number: int, text: str, doc: str = "report") -> Passage:
    return Passage(passage_id=f"{doc}/{number:04d}", doc_id=doc, title=f"{doc.title()} of Oldham", authority="Oldham",
                   doc_type="inspection report", date="2019-01-21", section=None, paragraph=str(number), page=None,
                   text=text, start=0, end=len(text))


def hit(rank: int, text: str, score: float, highlights, doc: str = "report", also_in=()) -> Hit:
    return Hit(passage=passage(rank, text, doc), score=score, rank=rank, highlights=tuple(highlights),
               also_in=tuple(also_in))


ONE = "Pathway plans are not good quality. Young people help write them."
TWO = "Care leavers live in suitable housing. Pathway plans are reviewed late."
THREE = "Foster carers are trained."


def test_answer_block_quotes_highlighted_sentences_with_their_hit_numbers():
    hits = [hit(1, ONE, 1.0, [(0, 35)]), hit(2, TWO, 0.9, [(38, 71)]), hit(3, THREE, 0.2, [(0, 26)])]
    answer = compose_answer("pathway plans", hits)
    assert [(a.text, a.hit_rank, a.citation) for a in answer] == [
        ("Pathway plans are not good quality.", 1, hits[0].passage.citation),
        ("Pathway plans are reviewed late.", 2, hits[1].passage.citation),
    ]  # the third hit scores too far below the first to be quoted
    assert all(isinstance(a, AnswerSentence) and a.text in h.passage.text for a, h in zip(answer, hits))


def test_answer_block_gives_a_quoted_sentence_once_and_stops_at_max():
    copy = hit(2, ONE, 0.95, [(0, 35)], doc="plan")
    hits = [hit(1, ONE, 1.0, [(0, 35), (36, 66)]), copy, hit(3, TWO, 0.9, [(38, 71)])]
    answer = compose_answer("pathway plans", hits, max_sentences=2)
    assert [(a.text, a.hit_rank) for a in answer] == [
        ("Pathway plans are not good quality.", 1), ("Pathway plans are reviewed late.", 3)]


def test_answer_block_of_nothing_is_empty():
    assert compose_answer("anything", []) == []
    assert compose_answer("anything", [replace(hit(1, ONE, 1.0, []))]) == []


def test_answer_block_leaves_out_a_sentence_far_weaker_than_the_best():
    hits = [hit(1, ONE, 1.0, [(0, 35)]), hit(2, THREE, 0.9, [(0, 26)])]
    assert [a.text for a in compose_answer("pathway plans", hits)] == ["Pathway plans are not good quality."]


RECOMMENDATION = "The quality of pathway plans for care leavers."


def test_the_answer_says_what_was_found_and_lists_what_needs_to_improve_beside_it():
    bullet = replace(hit(1, RECOMMENDATION, 1.0, [(0, len(RECOMMENDATION))]),
                     passage=replace(passage(1, RECOMMENDATION), kind="recommendation"))
    boilerplate = replace(hit(3, "The previous inspection of pathway plans was in 2014.", 0.95, [(0, 52)]),
                          passage=replace(passage(3, "The previous inspection of pathway plans was in 2014."),
                                          kind="boilerplate"))
    finding = replace(hit(2, ONE, 0.9, [(0, 35)]), passage=replace(passage(2, ONE), kind="finding"))
    hits = [bullet, finding, boilerplate]
    assert [(a.text, a.hit_rank) for a in compose_answer("pathway plans", hits)] == [
        ("Pathway plans are not good quality.", 2)]
    # recommendations found beside the hits are listed with the number of their hit, or none
    elsewhere = replace(bullet, passage=replace(bullet.passage, passage_id="other/0001"))
    assert [(a.text, a.hit_rank) for a in needs_to_improve([bullet, elsewhere, finding], hits)] == [
        (RECOMMENDATION, 1)]  # the same words once, and never a finding
    assert [(a.text, a.hit_rank) for a in needs_to_improve([elsewhere], hits)] == [(RECOMMENDATION, 0)]
    # asked what needs to improve, the recommendation is the answer
    assert compose_answer("what needs to improve about pathway plans?", hits)[0].text == RECOMMENDATION
