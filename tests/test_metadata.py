"""Document metadata: read from the text, corrected by the corpus metadata file."""

from __future__ import annotations

import pytest

from indexer.errors import IndexerError
from indexer.metadata import describe_document, parse_date, read_metadata_file
from indexer.reading import read_document

from .conftest import SEED_CORPUS, write_files


def described(name: str, overrides=None) -> dict:
    record = describe_document(read_document(SEED_CORPUS / name), overrides).describe()
    return {key: record[key] for key in ("title", "authority", "doc_type", "date", "source", "grades")}


def test_seed_reports_and_letter_are_described_from_their_text():
    assert described("oldham-2019-01-ofsted-inspection-report.txt") == {
        "title": "Oldham inspection of children's social care services", "authority": "Oldham",
        "doc_type": "inspection report", "date": "2019-01-21", "source": "Ofsted",
        "grades": {"leaders": "requires improvement", "help and protection": "requires improvement",
                   "children in care": "requires improvement", "overall effectiveness": "requires improvement"},
    }
    letter = described("oldham-2010-06-11-ofsted-letter-contact-referral-assessment.txt")
    assert (letter["doc_type"], letter["date"], letter["source"], letter["authority"]) == (
        "inspection letter", "2010-06-11", "Ofsted", "Oldham")


def test_council_papers_are_described_as_far_as_the_text_allows():
    assert described("oldham-2019-improvement-plan-2019-2021.txt")["doc_type"] == "improvement plan"
    assert described("oldham-2020-12-16-council-report-childrens-services-update.txt")["doc_type"] == "council report"


def test_the_metadata_file_wins_over_the_text():
    rows = read_metadata_file(SEED_CORPUS)
    plan = described("oldham-2019-improvement-plan-2019-2021.txt", rows["oldham-2019-improvement-plan-2019-2021.txt"])
    assert (plan["title"], plan["source"], plan["date"]) == (
        "Oldham Children's Services Improvement Plan 2019–2021", "Oldham Council", "2019")
    report = described("oldham-2019-01-ofsted-inspection-report.txt",
                       {"authority": "Oldham MBC", "grade_care_leavers": "Good"})
    assert report["authority"] == "Oldham MBC" and report["grades"]["care leavers"] == "good"


def test_parse_date():
    assert parse_date("Inspection dates: 21 January 2019 to 1 February 2019") == "2019-01-21"
    assert parse_date("on the 3rd March 2020") == "2020-03-03"
    assert parse_date("31 February 2020, then nothing") is None


@pytest.mark.parametrize(("csv", "message"), [
    ("name,title\nx.txt,X\n", "must have a 'file' column"),
    ("file,colour\nx.txt,red\n", "unknown: colour"),
    ("file,doc_type\nx.txt,memo\n", "line 2: doc_type 'memo' is not one of"),
])
def test_a_bad_metadata_file_says_what_is_wrong(tmp_path, csv, message):
    write_files(tmp_path, {"metadata.csv": csv})
    with pytest.raises(IndexerError, match=message):
        read_metadata_file(tmp_path)
