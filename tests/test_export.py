"""Tests for indexer.export: CSV cells that never start a formula, Markdown that renders document text literally."""

from __future__ import annotations

import csv
import io
import re

from indexer.export import (
    CSV_COLUMNS, Section, answering_sentences, documents_csv, escape_markdown, hits_csv, hits_markdown,
    merge_spans, passages_markdown, safe_cell,
)
from indexer.passages import Hit, Passage

HOSTILE = ('<script>alert(1)</script> [link](javascript:alert(2)) ![](http://tracker.example/p.png) '
           '**bold** $5m rose to $6m')


def passage(text: str, **fields) -> Passage:
    values = dict(passage_id="doc/0001", doc_id="doc", title="Oldham inspection of children's social care services",
                  authority="Oldham", doc_type="inspection report", date="2019-01-21", section="Care leavers",
                  paragraph="31", page=9, text=text, start=0, end=len(text), judgement_area="care leavers",
                  source="Ofsted")
    values.update(fields)
    return Passage(**values)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_safe_cell_quotes_every_formula_start():
    assert [safe_cell(value) for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain", None, 3)] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "plain", "", "3"]


def test_hits_csv_has_full_citations_and_no_formula_cells():
    hostile = passage('=HYPERLINK("http://evil.example","click") pathway plans', passage_id="doc/0002",
                      section="-section", title="+title")
    hits = (Hit(passage("Pathway plans are not good quality."), 0.5, rank=1, highlights=((0, 13),),
                also_in=("@Oldham plan (2019), p. 2",)),
            Hit(hostile, 0.25, rank=2))
    table = rows(hits_csv("=cmd|' /C calc'!A0", [Section("Oldham", hits)]))
    assert table[0] == list(CSV_COLUMNS)
    record = dict(zip(table[0], table[1]))
    assert record["citation"] == "Ofsted, Oldham inspection of children's social care services (Jan 2019), para 31, p. 9"
    assert (record["group"], record["rank"], record["paragraph"], record["page"]) == ("Oldham", "1", "31", "9")
    assert record["answering_sentences"] == "Pathway plans"
    assert record["also_in"] == "'@Oldham plan (2019), p. 2"
    second = dict(zip(table[0], table[2]))
    assert second["text"].startswith("'=HYPERLINK(")
    assert (second["section"], second["title"]) == ("'-section", "'+title")
    assert second["citation"] == "Ofsted, +title (Jan 2019), para 31, p. 9"
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in table for cell in row)


def test_hits_csv_writes_a_row_for_a_group_with_nothing_relevant():
    table = rows(hits_csv("staying put", [Section("Tameside", (), note="Nothing relevant in Tameside's 1 document")]))
    record = dict(zip(table[0], table[1]))
    assert (record["group"], record["note"], record["citation"]) == (
        "Tameside", "Nothing relevant in Tameside's 1 document", "")


def test_escape_markdown_leaves_nothing_to_interpret():
    assert escape_markdown(HOSTILE) == (
        r"\<script\>alert(1)\</script\> \[link\](javascript:alert(2)) !\[\](http://tracker.example/p.png) "
        r"\*\*bold\*\* \$5m rose to \$6m")
    assert escape_markdown("# heading\n- item\n12. numbered\n> quote\nA & B") == (
        "\\# heading\n\\- item\n12\\. numbered\n\\> quote\nA \\& B")


def test_hits_markdown_quotes_passages_with_citations_and_escapes_them():
    hits = (Hit(passage(HOSTILE + "\n- a bullet"), 0.5, rank=1, also_in=("Oldham plan (2019), p. 2",)),)
    text = hits_markdown("Ask", "pathway plans", [Section(None, hits)], ["Filters: none"])
    assert "1. **Ofsted, Oldham inspection of children's social care services (Jan 2019), para 31, p. 9**" in text
    assert r"   > \<script\>alert(1)\</script\> \[link\](javascript:alert(2))" in text
    assert "   > \\- a bullet" in text
    assert "Also in: Oldham plan (2019), p. 2" in text
    quoted = "\n".join(line[4:] for line in text.splitlines() if line.startswith("   >"))
    assert re.search(r"(?<!\\)[][<>$*&]", quoted) is None  # every bracket, tag, dollar and star is escaped


def test_answering_sentences_and_merge_spans():
    hit = Hit(passage("One. Two three. Four."), 1.0, rank=1, highlights=((5, 15), (0, 4), (16, 21)))
    assert answering_sentences(hit) == "One. … Two three. … Four."
    assert merge_spans([(5, 9), (0, 3), (2, 4), (8, 12), (20, 30), (7, 7)], 25) == [(0, 4), (5, 12), (20, 25)]


def test_documents_csv_one_row_per_document_with_grades():
    records = [{"doc_id": "oldham", "authority": "Oldham", "doc_type": "inspection report", "date": "2019-01-21",
                "title": "=Oldham", "grades": {"overall effectiveness": "requires improvement"}, "passages": 69}]
    table = rows(documents_csv(records))
    record = dict(zip(table[0], table[1]))
    assert (record["title"], record["grade: overall effectiveness"], record["grade: care leavers"],
            record["passages"]) == ("'=Oldham", "requires improvement", "", "69")


def test_passages_markdown_cites_every_passage():
    text = passages_markdown("Oldham report", [passage("**Not bold**"), passage("Next.", paragraph="32")])
    assert text.splitlines() == [
        "# Oldham report", "", "## Care leavers", "", r"\*\*Not bold\*\*", "",
        "*Ofsted, Oldham inspection of children's social care services (Jan 2019), para 31, p. 9*", "",
        "Next.", "", "*Ofsted, Oldham inspection of children's social care services (Jan 2019), para 32, p. 9*", ""]
