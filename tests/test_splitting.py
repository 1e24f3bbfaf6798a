"""Splitting documents into paragraph-level, citable passages."""

from __future__ import annotations

import re

from hypothesis import given, settings as hypothesis_settings, strategies as st

from indexer.passages import Block, Document
from indexer.reading import read_document
from indexer.splitting import PARAGRAPH_NUMBER, split_passages, word_count

from .conftest import SEED_CORPUS, TEST_DATA


def make_document(units: list[tuple[str, str]], doc_id: str = "doc", doc_type: str = "inspection report") -> Document:
    """A document laid out as the reader lays it out: units separated by blank lines."""
    parts, blocks, offset = [], [], 0
    for kind, text in units:
        blocks.append(Block(offset, offset + len(text), kind))
        parts.append(text)
        offset += len(text) + 2
    return Document(doc_id=doc_id, path=f"{doc_id}.txt", title="A report", authority="Oldham",
                    doc_type=doc_type, date="2019-01-21", text="\n\n".join(parts), blocks=tuple(blocks))


def summary(passages):
    return [(p.layout, p.paragraph, p.section, p.text) for p in passages]


def test_numbered_paragraphs_are_passages_with_their_numbers():
    document = make_document([
        ("heading", "The experiences and progress of care leavers: good"),
        ("paragraph", "31. Some young people have pathway plans that are not good quality or reviewed often enough."),
        ("paragraph", "32. The rate of care leavers living in staying-put arrangements has increased over the year."),
        ("paragraph", "It remains lower than statistical neighbours and the England average, as it was last year."),
    ])
    section = "The experiences and progress of care leavers: good"
    assert summary(split_passages(document)) == [
        ("paragraph", "31", section,
         "Some young people have pathway plans that are not good quality or reviewed often enough."),
        ("paragraph", "32", section,
         "The rate of care leavers living in staying-put arrangements has increased over the year."),
        ("paragraph", "32", section,
         "It remains lower than statistical neighbours and the England average, as it was last year."),
    ]
    assert [p.judgement_area for p in split_passages(document)] == ["care leavers"] * 3


def test_each_bullet_under_what_needs_to_improve_is_a_passage():
    document = make_document([
        ("heading", "What needs to improve"),
        ("bullet", "Care planning with clear outcomes."),
        ("bullet", "The timeliness and effectiveness of pathway plans."),
    ])
    assert summary(split_passages(document)) == [
        ("bullet", None, "What needs to improve", "Care planning with clear outcomes."),
        ("bullet", None, "What needs to improve", "The timeliness and effectiveness of pathway plans."),
    ]


def test_table_rows_say_what_their_columns_are_and_inherit_an_empty_first_cell():
    document = make_document([
        ("heading", "Ofsted Improvement Plan: Practice Improvement"),
        ("row", "Objective\tActions\tLead officer\tTimescale"),
        ("row", "Pathway Planning\tImprove the timeliness of pathway plans\tDirector of Children's Social Care\tApril 2019"),
        ("row", "\tRe-launch the Local Offer\tHead of Service\tJune 2019"),
    ], doc_type="improvement plan")
    assert {p.kind for p in split_passages(document)} == {"plan action"}
    assert summary(split_passages(document)) == [
        ("table row", None, "Ofsted Improvement Plan: Practice Improvement",
         "Objective: Pathway Planning\nActions: Improve the timeliness of pathway plans\n"
         "Lead officer: Director of Children's Social Care\nTimescale: April 2019"),
        ("table row", None, "Ofsted Improvement Plan: Practice Improvement — Pathway Planning",
         "Actions: Re-launch the Local Offer\nLead officer: Head of Service\nTimescale: June 2019"),
    ]


def test_tiny_fragments_are_merged_with_their_neighbour():
    document = make_document([
        ("paragraph", "Inspection dates: 21 January 2019"),
        ("paragraph", "Lead inspector: Paula Thomson-Jones"),
        ("paragraph", "Since the last inspection in 2015, strategic leadership has not delivered continuous improvement."),
    ])
    passages = split_passages(document)
    assert len(passages) == 1
    assert passages[0].text.startswith("Inspection dates: 21 January 2019\n\nLead inspector")
    assert passages[0].text.endswith("continuous improvement.")


def test_long_paragraphs_are_split_under_the_token_limit_keeping_their_number():
    sentence = "Managers review written work but their oversight does not always challenge poor practice. "
    document = make_document([("paragraph", "9. " + sentence * 30)])
    passages = split_passages(document, max_tokens=50)
    assert len(passages) > 1
    assert all(word_count(p.text) <= 50 for p in passages)
    assert {p.paragraph for p in passages} == {"9"}
    assert " ".join(p.text for p in passages) == (sentence * 30).strip()


def test_passage_ids_are_stable_and_citations_ready_to_paste():
    document = read_document(SEED_CORPUS / "oldham-2019-01-ofsted-inspection-report.txt", doc_id="oldham-2019")
    from indexer.metadata import describe_document

    passages = split_passages(describe_document(document))
    para_31 = next(p for p in passages if p.paragraph == "31")
    assert para_31.passage_id.startswith("oldham-2019/")
    assert para_31.citation == (
        "Ofsted, Oldham inspection of children's social care services (Jan 2019), para 31, pp. 8–9")
    assert [p.passage_id for p in passages] == [p.passage_id for p in split_passages(describe_document(document))]


def test_real_pdf_paragraphs_have_numbers_pages_and_judgement_areas():
    passages = split_passages(read_document(TEST_DATA / "oldham-2024-07-12.pdf"))
    numbered = [p for p in passages if p.paragraph]
    assert [p.paragraph for p in numbered if p.paragraph.isdigit()][:5] == ["1", "2", "3", "4", "5"]
    first = numbered[0]
    assert (first.page, first.judgement_area) == (2, "help and protection")
    assert {p.judgement_area for p in numbered} >= {"help and protection", "children in care", "care leavers",
                                                    "leaders"}


# --- property: no text lost, duplicated or reordered ---------------------------------------

words = st.text(alphabet="abcdefghij", min_size=1, max_size=8)
sentences = st.lists(words, min_size=1, max_size=40).map(lambda ws: " ".join(ws).capitalize() + ".")
prose = st.lists(sentences, min_size=1, max_size=12).map(" ".join)
units = st.one_of(
    st.tuples(st.just("heading"), st.lists(words, min_size=1, max_size=6).map(lambda ws: " ".join(ws).title())),
    st.tuples(st.just("paragraph"), prose),
    st.tuples(st.just("paragraph"), st.tuples(st.integers(1, 99), prose).map(lambda t: f"{t[0]}. {t[1]}")),
    st.tuples(st.just("bullet"), prose),
    st.tuples(st.just("row"), st.lists(st.one_of(st.just(""), prose), min_size=2, max_size=4).map("\t".join)),
)


def uncovered_is_structure(document: Document, passages) -> list[str]:
    """Non-space text outside every passage that is not a heading, a table header or a paragraph number."""
    covered = [False] * len(document.text)
    for passage in passages:
        for i in range(passage.start, passage.end):
            covered[i] = True
    problems = []
    for block in document.blocks:
        body = document.text[block.start:block.end]
        missing = "".join(ch for i, ch in enumerate(body) if not covered[block.start + i]).replace("\t", "")
        missing = missing.strip()
        if not missing or block.kind == "heading":
            continue
        number = PARAGRAPH_NUMBER.match(body)
        if number and missing == number.group(0).strip():
            continue
        if block.kind == "row" and not any(passage.start < block.end and passage.end > block.start
                                           for passage in passages):
            continue  # a header row: its cells label the rows below
        problems.append(missing)
    return problems


@hypothesis_settings(max_examples=150, deadline=None)
@given(st.lists(units, min_size=1, max_size=25), st.integers(min_value=8, max_value=60))
def test_splitting_never_drops_duplicates_or_reorders_text(units_, max_tokens):
    document = make_document(units_)
    passages = split_passages(document, max_tokens=max_tokens)
    spans = [(p.start, p.end) for p in passages]
    assert spans == sorted(spans)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))  # disjoint
    assert uncovered_is_structure(document, passages) == []
    for passage in passages:
        if passage.layout != "table row":
            assert passage.text == document.text[passage.start:passage.end]
        else:  # a row's shown text is its cells, verbatim, each after its column label
            for cell in re.split(r"\n[^:\n]*: ", "\n" + passage.text)[1:]:
                assert cell in document.text[passage.start:passage.end]
        assert word_count(passage.text) <= max_tokens or passage.layout == "table row"


def test_every_seed_document_is_covered_once():
    for path in sorted(SEED_CORPUS.glob("*.txt")):
        document = read_document(path)
        passages = split_passages(document)
        assert uncovered_is_structure(document, passages) == [], path.name
