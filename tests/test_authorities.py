"""The authority register: one entry per council whatever the spelling, regions, types and statistical neighbours."""

from __future__ import annotations

import json

import pytest

from indexer import cli, embedding
from indexer.authorities import in_scope, load_register, neighbours_of, resolve
from indexer.building import build_index
from indexer.embedding import HashingEmbedder
from indexer.errors import IndexerError
from indexer.query import Interpreter

from .conftest import write_files


@pytest.mark.parametrize("spelling, name", [
    ("Hull", "Kingston upon Hull"), ("Kingston upon Hull City Council", "Kingston upon Hull"),
    ("BCP", "Bournemouth, Christchurch and Poole"), ("Bristol, City of", "Bristol"),
    ("Cheshire East Unitary Authority", "Cheshire East"), ("Council of the Isles of Scilly", "Isles of Scilly"),
    ("London corporation", "City of London"), ("London Borough of Hackney", "Hackney"),
    ("Royal Borough of Kensington and Chelsea", "Kensington and Chelsea"), ("Durham County Council", "Durham"),
    ("Oldham Council", "Oldham"), ("Stoke on Trent", "Stoke-on-Trent"),
])
def test_every_spelling_resolves_to_one_register_entry(spelling, name):
    assert resolve(spelling).name == name


def test_an_unknown_name_resolves_to_nothing():
    assert resolve("Narnia") is None and resolve(None) is None


def test_the_register_has_every_authority_once_with_codes_regions_and_ten_neighbours():
    register = load_register()
    assert len({a.ons_code for a in register}) == len(register) == 156
    current = [a for a in register if not a.successors]
    assert all(a.region for a in current)
    assert all(len(a.statistical_neighbours) == 10 for a in current)
    assert [a.name for a in neighbours_of("Oldham")][:3] == ["Blackburn with Darwen", "Bolton", "Rochdale"]
    assert {a.name for a in register if a.name in ("Cumbria", "Northamptonshire")} == {"Cumbria", "Northamptonshire"}
    assert set(next(a for a in register if a.name == "Cumbria").successors) == {"Cumberland", "Westmorland and Furness"}


def test_scope_is_what_every_group_allows():
    north_west = in_scope(regions_named=["North West"])
    assert "Oldham" in north_west and "Kent" not in north_west
    assert set(in_scope(regions_named=["North West"], neighbours_of_named=["Oldham"])) == {
        "Oldham", "Blackburn with Darwen", "Bolton", "Rochdale"}
    assert in_scope() is None
    with pytest.raises(IndexerError, match="did you mean London Borough"):
        in_scope(types=["London Boro"])


@pytest.mark.parametrize("question, includes, excludes, topic", [
    ("How is IRO challenge described in the North West?", {"Oldham", "Tameside"}, {"Kent"}, "How is IRO challenge described?"),
    ("Oldham and its statistical neighbours on care leavers", {"Oldham", "Bolton", "Rochdale"}, {"Tameside"},
     "on care leavers"),
    ("What do Oldham's statistical neighbours say about neglect?", {"Bolton"}, {"Kent"}, None),
    ("care leavers in London", {"Hackney", "Barnet"}, {"Oldham"}, "care leavers"),
    ("London Borough of Hackney care leavers", {"Hackney"}, {"Barnet"}, "care leavers"),
])
def test_questions_naming_a_region_or_neighbours_are_filtered_to_them(question, includes, excludes, topic):
    interpreter = Interpreter({a.name for a in load_register()})
    meaning = interpreter.interpret(question)
    assert includes <= set(meaning.filters.authorities)
    assert not excludes & set(meaning.filters.authorities)
    if topic:
        assert meaning.topic == topic


def test_a_lower_case_compass_phrase_is_not_a_region():
    interpreter = Interpreter({a.name for a in load_register()})
    assert interpreter.interpret("children placed in the north east of the county").filters.authorities == ()


REPORT = ("{name} inspection of children's social care services\n\n"
          "31. Some young people in {name} have pathway plans that lack ambition and are not reviewed often enough.\n")


@pytest.fixture
def spelled_corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    monkeypatch.setenv("INDEXER_INDEX", str(tmp_path / "index"))
    monkeypatch.setattr(embedding, "load_embedder", lambda settings=None: HashingEmbedder())
    return write_files(tmp_path / "corpus", {
        "a.txt": REPORT.format(name="Oldham"), "b.txt": REPORT.format(name="Bolton"),
        "c.txt": REPORT.format(name="Hull"), "d.txt": REPORT.format(name="Kent"), "e.txt": REPORT.format(name="Narnia"),
        "metadata.csv": "file,authority\na.txt,Oldham Council\nb.txt,Bolton Metropolitan Borough Council\n"
                        "c.txt,Kingston upon Hull City Council\nd.txt,Kent County Council\ne.txt,Narnia\n"})


def test_documents_and_hits_carry_the_canonical_name_code_and_region(spelled_corpus, capsys):
    assert cli.main(["build", "--corpus", str(spelled_corpus), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "e.txt: authority 'Narnia' is not in the register" in out and "metadata.csv" in out
    assert cli.main(["documents", "--json"]) == 0
    records = {r["doc_id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert (records["c"]["authority"], records["c"]["authority_code"], records["c"]["region"]) == (
        "Kingston upon Hull", "E06000010", "Yorkshire and the Humber")
    assert records["a"]["authority_code"] == "E08000004" and records["e"]["authority_code"] is None
    assert cli.main(["search", "pathway plans", "--json", "--authority", "Hull"]) == 0
    hit, = json.loads(capsys.readouterr().out)["hits"]
    assert (hit["authority"], hit["authority_code"], hit["region"]) == (
        "Kingston upon Hull", "E06000010", "Yorkshire and the Humber")


def test_region_type_and_neighbour_filters_on_the_command_line(spelled_corpus, capsys):
    assert cli.main(["build", "--corpus", str(spelled_corpus), "--quiet"]) == 0

    def authorities(*options):
        capsys.readouterr()
        assert cli.main(["search", "pathway plans", "--json", "-k", "10", *options]) == 0
        return {hit["authority"] for hit in json.loads(capsys.readouterr().out)["hits"]}

    assert authorities("--region", "North West") == {"Oldham", "Bolton"}
    assert authorities("--neighbours-of", "Oldham") == {"Oldham", "Bolton"}
    assert authorities("--authority-type", "County") == {"Kent"}
    assert authorities("--region", "North West", "--authority", "Bolton") == {"Bolton"}
    assert cli.main(["search", "pathway plans", "--region", "North Wst"]) == 2
    assert "did you mean North West" in capsys.readouterr().err
    assert cli.main(["search", "pathway plans", "--region", "London"]) == 2
    assert "no document in the index belongs to the authorities these options name" in capsys.readouterr().err


def test_the_sidebar_region_and_neighbour_filters_come_from_the_url(spelled_corpus, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from indexer.settings import PROJECT_ROOT, Settings

    settings = Settings.from_env(index=tmp_path / "index", model=HashingEmbedder.name)
    build_index([spelled_corpus], settings.index, HashingEmbedder(), settings, progress=False, log=lambda *_: None)
    for params, expected in (({"region": "North West"}, {"Oldham", "Bolton"}), ({"near": "Oldham"}, {"Oldham", "Bolton"}),
                             ({"atype": "County"}, {"Kent"})):
        at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
        for key, value in params.items():
            at.query_params[key] = value
        at.query_params["q"] = "pathway plans"
        at.run()
        assert not at.exception
        shown = " ".join(element.value for element in at.markdown) + " ".join(
            str(getattr(element, "body", "")) for element in at.get("html"))
        for name in {"Oldham", "Bolton", "Kent", "Kingston upon Hull"}:
            assert (name in shown) == (name in expected), (params, name)
