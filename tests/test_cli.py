"""The command line: build, search (text, JSON, batch), stats, documents, add and remove."""

from __future__ import annotations

import json

import pytest

from indexer import cli, embedding
from indexer.embedding import HashingEmbedder

from .conftest import write_files

REPORT = (
    "Inspection of Exampleton children's social care services\n\n"
    "Inspection dates: 1 to 12 May 2023\n\n"
    "Lead inspector: Jo Example, His Majesty's Inspector\n\n"
    "The experiences and progress of care leavers: inadequate\n\n"
    "31. Some young people have pathway plans that lack ambition and are not reviewed often enough.\n\n"
    "32. Independent reviewing officers do not challenge drift in children's plans.\n"
)


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """CLI commands run with the fake embedder against a temporary index."""
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    monkeypatch.setenv("INDEXER_INDEX", str(tmp_path / "index"))
    monkeypatch.setattr(embedding, "load_embedder", lambda settings=None: HashingEmbedder())
    corpus = write_files(tmp_path / "corpus", {"exampleton-2023.txt": REPORT})
    assert cli.main(["build", "--corpus", str(corpus), "--quiet"]) == 0
    return corpus


def test_search_prints_rank_citation_and_passage(cli_env, capsys):
    capsys.readouterr()
    assert cli.main(["search", "pathway plans lack ambition", "-k", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Answer (verbatim; [n] is the passage it comes from):"
    assert lines[1] == ("  “Some young people have pathway plans that lack ambition and are not reviewed often "
                        "enough.” [1]")
    hit = next(n for n, line in enumerate(lines) if line.startswith(" 1. "))
    assert lines[hit].startswith(" 1. Ofsted, Exampleton inspection of children's social care services (May 2023), "
                                 "para 31  [finding, reads as a weakness, score ")
    assert "»Some young people have pathway plans that lack ambition" in lines[hit + 2]


def test_search_json_has_every_field_a_script_needs(cli_env, capsys):
    capsys.readouterr()
    assert cli.main(["search", "pathway plans", "--json", "-k", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    hit = result["hits"][0]
    assert result["query"] == "pathway plans"
    assert result["answer"][0]["hit"] == 1 and result["answer"][0]["text"] in hit["text"]
    assert {"text", "score", "doc_id", "title", "authority", "doc_type", "date", "section", "paragraph", "page",
            "citation", "highlights", "passage_id"} <= set(hit)
    assert (hit["doc_id"], hit["authority"], hit["doc_type"], hit["date"], hit["paragraph"], hit["page"]) == (
        "exampleton-2023", "Exampleton", "inspection report", "2023-05-01", "31", None)


def test_batch_search_prints_one_json_line_per_question(cli_env, tmp_path, capsys):
    questions = tmp_path / "questions.txt"
    questions.write_text("pathway plans\n\nreviewing officers challenge\n")
    capsys.readouterr()
    assert cli.main(["search", "--batch", str(questions), "--json", "-k", "2"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["query"] for line in lines] == ["pathway plans", "", "reviewing officers challenge"]
    assert lines[1]["hits"] == [] and lines[2]["hits"][0]["paragraph"] == "32"


def test_filters_and_grades(cli_env, capsys):
    capsys.readouterr()
    assert cli.main(["search", "pathway plans", "--json", "--authority", "Nowhere"]) == 2
    assert "no document in the index belongs to 'Nowhere'" in capsys.readouterr().err
    cli.main(["search", "pathway plans", "--json", "--since", "2024"])
    assert json.loads(capsys.readouterr().out)["hits"] == []
    cli.main(["search", "pathway plans", "--json", "--grade", "care leavers=inadequate", "--doc-type",
              "inspection report", "--until", "2023"])
    assert len(json.loads(capsys.readouterr().out)["hits"]) == 3  # front matter, para 31, para 32
    cli.main(["search", "pathway plans", "--json", "--grade", "care leavers=good"])
    assert json.loads(capsys.readouterr().out)["hits"] == []


def test_stats_and_documents(cli_env, capsys):
    capsys.readouterr()
    assert cli.main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "Documents:  1" in out and "Passages:   3" in out and HashingEmbedder.name in out
    assert cli.main(["documents", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert (record["doc_id"], record["authority"], record["grades"], record["passages"]) == (
        "exampleton-2023", "Exampleton", {"care leavers": "inadequate"}, 3)


def test_add_then_remove_a_document(cli_env, tmp_path, capsys):
    extra = write_files(tmp_path / "new", {"letter.txt": "Dear Director\n\nA focused visit found strong MASH work."})
    assert cli.main(["add", str(extra / "letter.txt"), "--quiet"]) == 0
    assert "Indexed 2 documents (1 read, 1 unchanged)" in capsys.readouterr().out
    assert cli.main(["remove", "letter", "--quiet"]) == 0
    assert "Indexed 1 documents (0 read, 1 unchanged)" in capsys.readouterr().out


def test_errors_are_one_line_messages_with_the_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INDEXER_INDEX", str(tmp_path / "nothing-here"))
    assert cli.main(["search", "anything"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: no index in {tmp_path / 'nothing-here'}: run `python -m indexer build` (or `make run`)")
    assert cli.main(["build", "--corpus", str(tmp_path / "missing")]) == 2
    assert "corpus folder" in capsys.readouterr().err
