"""Compare over many authorities: one row each, its best sentence, grade and tone; the counts behind the chart."""

from __future__ import annotations

import csv
import io

import pytest

from indexer.building import build_index
from indexer.comparing import compare, read_theme
from indexer.embedding import HashingEmbedder
from indexer.export import comparison_csv, comparison_markdown
from indexer.search import Filters, Searcher
from indexer.store import load_index

from .conftest import write_files


@pytest.mark.parametrize("question, theme, grades", [
    ("how is IRO challenge described across authorities judged inadequate vs good?", "IRO challenge",
     ("inadequate", "good")),
    ("IRO challenge", "IRO challenge", ()),
    ("What is said about pathway plans in councils rated outstanding or good", "pathway plans", ("outstanding", "good")),
    ("how are care leavers' pathway plans described?", "care leavers' pathway plans", ()),
])
def test_a_researchers_question_gives_its_theme_and_the_grades_it_names(question, theme, grades):
    assert read_theme(question) == (theme, grades)


REPORT = """{name} inspection of children's social care services

The experiences and progress of children in care

20. {sentence}

21. The local authority has appointed a new director of children's services in {name}.
"""


@pytest.fixture
def searcher(tmp_path, settings):
    corpus = write_files(tmp_path / "corpus", {
        "oldham.txt": REPORT.format(name="Oldham", sentence="IROs do not challenge plans for children in care."),
        "bolton.txt": REPORT.format(name="Bolton", sentence="IROs challenge plans for children in care effectively."),
        "kent.txt": REPORT.format(name="Kent", sentence="Foster carers in Kent receive training and support."),
        "metadata.csv": "file,authority,doc_type,date,grade_children_in_care\noldham.txt,Oldham,inspection report,"
                        "2019-01-01,inadequate\nbolton.txt,Bolton,inspection report,2023-01-01,good\n"
                        "kent.txt,Kent,inspection report,2022-01-01,good\n"})
    embedder = HashingEmbedder()
    build_index([corpus], settings.index, embedder, settings, progress=False, log=lambda *_: None)
    return Searcher(load_index(settings.index, settings), embedder, settings)


def test_every_authority_in_scope_gets_a_row_with_its_best_sentence_grade_and_tone(searcher):
    result = compare(searcher, "IRO challenge plans", minimum=0.3)
    rows = {row.authority: row for row in result.rows}
    assert set(rows) == {"Oldham", "Bolton", "Kent"}
    assert rows["Oldham"].best.sentence == "IROs do not challenge plans for children in care."
    assert (rows["Oldham"].best.grade, rows["Oldham"].best.area) == ("inadequate", "children in care")
    assert rows["Oldham"].best.tone == "weakness" and rows["Bolton"].best.tone == "strength"
    assert rows["Kent"].best is None and rows["Kent"].documents == 1
    assert rows["Oldham"].region == "North West"
    counts = {(c["grade"], c["tone"]): c["sentences"] for c in result.counts("grade")}
    assert counts == {("inadequate", "weakness"): 1, ("good", "strength"): 1}
    assert {c["region"] for c in result.counts("region")} == {"North West"}


def test_the_sidebar_scope_limits_the_rows(searcher):
    result = compare(searcher, "IRO challenge plans", Filters(authorities=("Bolton", "Kent")), minimum=0.3)
    assert [row.authority for row in result.rows] == ["Bolton", "Kent"]


def test_the_table_exports_with_citations_and_spreadsheet_safe_cells(searcher):
    result = compare(searcher, "IRO challenge plans", minimum=0.3)
    rows = list(csv.DictReader(io.StringIO(comparison_csv("=IRO challenge", result.rows))))
    assert [row["authority"] for row in rows] == ["Bolton", "Kent", "Oldham"]
    assert rows[0]["theme"] == "'=IRO challenge"
    assert rows[2]["citation"].endswith("para 20") and rows[2]["tone"] == "weakness"
    assert rows[1]["best_sentence"] == ""
    markdown = comparison_markdown("Compare", "IRO challenge", result.rows)
    assert "> IROs do not challenge plans for children in care." in markdown
    assert "Nothing relevant in its documents in scope." in markdown
