"""Question understanding: authorities by any name, time in any phrasing, the topic left to search for."""

from __future__ import annotations

import pytest

from indexer.authorities import fold, load_register, names_for
from indexer.query import Filters, Interpreter, read_years

INDEXED = {"Kent", "Kingston upon Hull", "Kingston upon Thames", "Reading", "Bournemouth, Christchurch and Poole",
           "Milton Keynes", "Cumberland", "Westmorland and Furness", "Leeds", "Wakefield", "Calderdale",
           "Hackney", "Durham", "Bristol", "Windsor and Maidenhead", "City of London", "Manchester"}


@pytest.fixture(scope="module")
def interpreter():
    return Interpreter(INDEXED)


def test_the_register_covers_every_english_authority_with_its_codes():
    register = {authority.name: authority for authority in load_register()}
    assert len(register) == 156
    oldham = register["Oldham"]
    assert (oldham.ons_code, oldham.dfe_code, oldham.region, oldham.type) == (
        "E08000004", "353", "North West", "Metropolitan District")
    assert len(oldham.statistical_neighbours) == 10
    assert register["Cumbria"].successors == ("Cumberland", "Westmorland and Furness")
    assert "Hull" in register["Kingston upon Hull"].aliases


def test_names_map_to_the_authorities_the_index_spells():
    names = names_for({"Kingston upon Hull", "Stoke-on-Trent"})
    assert names[fold("Hull")] == ("Kingston upon Hull",)
    assert names[fold("stoke on trent")] == ("Stoke-on-Trent",)


@pytest.mark.parametrize("question, authorities", [
    ("is early help good in kent?", ("Kent",)),
    ("Hull care leavers", ("Kingston upon Hull",)),
    ("Kingston's front door", ("Kingston upon Thames",)),
    ("BCP pathway plans", ("Bournemouth, Christchurch and Poole",)),
    ("bcp pathway plans", ()),  # an acronym counts only as written
    ("what about reading at school", ()),  # a name that is an ordinary word counts only capitalised
    ("Reading front door", ("Reading",)),
    ("RBWM's latest inspection", ("Windsor and Maidenhead",)),
    ("Cumbria 2019", ("Cumberland", "Westmorland and Furness")),  # the former county means its successors
    ("how do Leeds, Wakefield and Calderdale describe supervision?", ("Leeds", "Wakefield", "Calderdale")),
    ("London Corporation report", ("City of London",)),
])
def test_authorities_are_recognised_by_any_name(interpreter, question, authorities):
    assert interpreter.named_authorities(question) == authorities


@pytest.mark.parametrize("question, latest, earlier", [
    ("the most recent Manchester inspection of care leavers", True, False),
    ("Kent's latest inspection", True, False),
    ("last time Ofsted inspected Leeds", True, False),
    ("Leeds's previous inspection", False, True),
    ("in Hackney's first ILACS report", False, True),
    ("care leavers in the last 12 months", False, False),
])
def test_which_report_the_question_means(interpreter, question, latest, earlier):
    meaning = interpreter.interpret(question)
    assert (meaning.latest, meaning.earlier) == (latest, earlier)


def test_years_and_since():
    assert read_years("has Leeds improved since the 2019 inspection?") == ((), "2019")
    assert read_years("Tameside 2023 and in June 2024") == (("2023", "2024"), None)
    assert read_years("actions due by June 2020") == ((), None)


def test_the_topic_leaves_out_what_the_search_is_filtered_by(interpreter):
    meaning = interpreter.interpret("In Durham County Council's latest inspection, what was said about the LADO?")
    assert meaning.filters.authorities == ("Durham",)
    assert meaning.topic == "what was said about the LADO?"
    assert interpreter.interpret("how do Leeds, Wakefield and Calderdale describe supervision?").topic == (
        "how do describe supervision?")
    # a name the user's own filter overrides stays in the text: it is not what the search is filtered by
    kept = interpreter.interpret("is early help in Kent quick?", Filters(authorities=("Leeds",)))
    assert kept.filters.authorities == ("Leeds",) and "Kent" in kept.topic


def test_questions_asking_what_needs_to_improve(interpreter):
    assert interpreter.interpret("what did Ofsted say needs to improve in Leeds?").recommendations
    assert interpreter.interpret("Kent's areas for improvement").recommendations
    assert not interpreter.interpret("has Kent improved since 2019?").recommendations


def test_an_authority_the_index_lacks_is_reported_not_silently_dropped():
    interpreter = Interpreter({"Kent", "West Northamptonshire"})
    assert interpreter.interpret("Kent and Surrey care leavers").absent == ("Surrey",)
    assert interpreter.interpret("West Northamptonshire care leavers").absent == ()
    assert interpreter.interpret("Northamptonshire 2019").authorities == ("West Northamptonshire",)
