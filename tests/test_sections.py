"""Sections and passage kinds of every Ofsted template, 2010-2026, and of council documents."""

from __future__ import annotations

import pytest

from indexer.metadata import describe_document
from indexer.reading import read_document
from indexer.sections import Sectioner, clean_heading, national_framework
from indexer.splitting import split_passages

from .conftest import SEED_CORPUS, TEST_DATA


def passages_of(path):
    return split_passages(describe_document(read_document(path)), 10_000)


def one(passages, words: str):
    """The single passage holding `words`."""
    found = [p for p in passages if words in " ".join(p.text.split())]
    assert len(found) == 1, (words, [p.text[:80] for p in found])
    return found[0]


def walk(doc_type: str, blocks: list[tuple[str, str]], framework: str | None = "standard"):
    sectioner = Sectioner(doc_type, "Ofsted" if doc_type != "improvement plan" else None, framework)
    return [(text, *sectioner.place(layout, text)) for layout, text in blocks]


def test_headings_lose_their_footnote_markers():
    assert clean_heading("What needs to improve?1") == "What needs to improve?"
    assert clean_heading("Information about this local authority area2") == "Information about this local authority area"
    assert clean_heading("The local authority 5") == "The local authority 5"  # a contents line keeps its page


@pytest.mark.parametrize("text, reference", [
    ("The quality of pathway plans for care leavers (National Framework outcome four).", "outcome 4"),
    ("The consistency of plans. (outcome 2, national framework)", "outcome 2"),
    ("Oversight of escalations (enabler 3, national framework)", "enabler 3"),
    ("The needs of young carers. (Enabler: the workforce is equipped and effective, National Framework)",
     "enabler: the workforce is equipped and effective"),
    ("The quality of pathway plans.", None),
])
def test_a_recommendation_s_national_framework_reference_is_read(text, reference):
    assert national_framework(text) == reference


def test_template_headings_set_in_plain_text_open_their_sections():
    placed = walk("inspection report", [
        ("paragraph", "Inspection of Doncaster children's services"),
        ("heading", "Judgement Grade"),
        ("paragraph", "Inadequate\n\nThe impact of leaders on social work practice with children and families"),
        ("paragraph", "Overall effectiveness Requires improvement to be good"),
        ("paragraph", "Senior leaders have overseen a decline in the quality and impact of services for children and "
                      "their families since the last inspection."),
        ("paragraph", "What needs to improve?"),
        ("bullet", "The quality of placement matching."),
        ("paragraph", "The experiences and progress of children who need help and protection: requires improvement "
                      "to be good"),
        ("paragraph", "1. When children are referred, decision-making within the MASH is effective."),
        ("paragraph", "This report is available at https://reports.ofsted.gov.uk/."),
    ])
    assert [(is_heading, place.kind, place.area) for _, is_heading, place in placed] == [
        (False, "boilerplate", None),
        (True, "boilerplate", None),
        (False, "boilerplate", None),
        (False, "boilerplate", None),
        (False, "summary", "overall effectiveness"),
        (True, "recommendation", None),
        (False, "recommendation", None),
        (True, "finding", "help and protection"),
        (False, "finding", "help and protection"),
        (False, "boilerplate", "help and protection"),
    ]
    assert placed[6][2].section == "What needs to improve?"


def test_a_sentence_naming_a_judgement_is_not_taken_for_its_heading():
    placed = walk("inspection report", [
        ("heading", "The experiences and progress of care leavers: good"),
        ("paragraph", "The experiences and progress of children in care and care leavers are good."),
    ])
    assert placed[1][1] is False and placed[1][2].kind == "finding" and placed[1][2].area == "care leavers"


def test_a_sentence_starting_like_a_template_heading_stays_text():
    placed = walk("inspection report", [
        ("heading", "The experiences and progress of care leavers: good"),
        ("paragraph", "What needs to improve is the consistency of pathway plans."),
    ])
    assert placed[1][1] is False and placed[1][2].kind == "finding"


def test_council_documents_are_plan_actions_and_narrative():
    placed = walk("improvement plan", [
        ("heading", "What needs to improve"),
        ("row", "Pathway Planning\tImprove the timeliness of pathway plans"),
        ("paragraph", "The plan responds to each recommendation of the inspection."),
    ])
    assert [place.kind for _, _, place in placed[1:]] == ["plan action", "council narrative"]


# --- one real report of each template ---------------------------------------------------------


def test_single_inspection_framework_2015():
    passages = passages_of(TEST_DATA / "oldham-2015-08-03.pdf")
    # a wrapped list item is one passage, and the list of previous inspections is boilerplate
    previous = one(passages, "The previous inspection of Oldham’s services for looked after children was in February "
                             "2012. The local authority was judged to be good.")
    assert (previous.kind, previous.section) == ("boilerplate", "Previous Ofsted inspections")
    assert one(passages, "Information about this local authority area").kind == "boilerplate"  # contents
    recommendation = one(passages, "Ensure that strategy meetings include staff who are responsible")
    assert (recommendation.kind, recommendation.section, recommendation.judgement_area) == (
        "recommendation", "Recommendations", None)
    # the review of the Local Safeguarding Children Board: its executive summary and recommendations are the board's
    board = one(passages, "The board should ensure it has mechanisms in place to robustly evaluate")
    assert (board.kind, board.judgement_area) == ("recommendation", "local safeguarding children board")
    assert {p.judgement_area for p in passages if p.kind == "recommendation"} == {
        None, "local safeguarding children board"}
    summary = one(passages, "The local authority designated officer’s (LADO) records are poor")
    assert (summary.kind, summary.section, summary.judgement_area) == ("summary", "Summary", "help and protection")
    finding = one(passages, "Early help and preventative services are increasingly effective")
    assert (finding.kind, finding.section, finding.judgement_area, finding.paragraph) == (
        "finding", "Inspection findings", "help and protection", "16")
    assert {p.judgement_area for p in passages if p.kind == "finding"} >= {
        "help and protection", "children in care", "adoption performance", "care leavers", "leaders",
        "local safeguarding children board"}
    assert not any(p.text.rstrip().endswith("area.3") for p in passages)  # superscript markers are gone


def test_first_ilacs_template_2018():
    passages = passages_of(TEST_DATA / "oxfordshire-2018-05-22.pdf")
    bullets = [p for p in passages if p.section == "What needs to improve"]
    assert len(bullets) == 4 and {p.kind for p in bullets} == {"recommendation"}
    assert one(passages, "Overall effectiveness Good").kind == "boilerplate"
    assert one(passages, "Children in care and care leavers receive a good service").kind == "summary"
    first = next(p for p in passages if p.paragraph == "1")
    assert (first.kind, first.judgement_area) == ("finding", "help and protection")


def test_judgement_headings_in_plain_text_2022():
    passages = passages_of(TEST_DATA / "doncaster-2022-04-08.pdf")
    wrapped = one(passages, "The scrutiny arrangements between senior leaders of the council and the Children’s "
                            "Services Trust.")
    assert wrapped.kind == "recommendation"
    numbered = [p for p in passages if p.paragraph and p.kind == "finding"]
    assert numbered[0].judgement_area == "help and protection"
    assert {p.judgement_area for p in numbered} == {"help and protection", "children in care", "leaders"}
    assert not [p for p in passages if p.section == "What needs to improve?" and p.kind == "finding"]


def test_national_framework_recommendations_2025():
    passages = passages_of(TEST_DATA / "buckinghamshire-2025-05-14.pdf")
    wrapped = one(passages, "The quality and effectiveness of pathway plans for care leavers (National Framework "
                            "outcome four).")
    assert (wrapped.kind, wrapped.section, wrapped.national_framework) == (
        "recommendation", "What needs to improve?", "outcome 4")
    assert not any(p.text.strip() == "Framework outcome four)." for p in passages)
    footnote = one(passages, "The areas for improvement have been cross-referenced")
    assert (footnote.kind, footnote.layout) == ("boilerplate", "footnote")
    assert sum(1 for p in passages if p.kind == "recommendation") == 7


def test_post_reform_report_2026():
    document = describe_document(read_document(TEST_DATA / "lancashire-2026-08-20.pdf"))
    assert "overall effectiveness" not in document.grades
    passages = split_passages(document, 10_000)
    # the footnote at the foot of page 2 no longer cuts paragraph 4 in two
    four = one(passages, "Workers demonstrate a good level of professional curiosity")
    assert "not consistently explicit about what parents need to do" in " ".join(four.text.split())
    assert (four.paragraph, four.page, four.page_end) == ("4", 2, 3)
    assert one(passages, "(outcome 2, national framework)").national_framework == "outcome 2"
    assert [p.kind for p in passages[:6]].count("summary") == 1
    assert sum(1 for p in passages if p.kind == "summary") == 3


def test_letter_2010():
    passages = passages_of(SEED_CORPUS / "oldham-2010-06-11-ofsted-letter-contact-referral-assessment.txt")
    assert one(passages, "Workloads are manageable").kind == "finding"
    development = one(passages, "Some initial assessments contain too much narrative")
    assert (development.kind, development.section) == ("finding", "Areas for development")
    assert one(passages, "Copy: Charlie Parker").kind == "boilerplate"


def test_improvement_plan_and_council_report():
    plan = passages_of(SEED_CORPUS / "oldham-2019-improvement-plan-2019-2021.txt")
    assert {p.kind for p in plan if p.layout == "table row"} == {"plan action"}
    assert {p.kind for p in plan if p.layout != "table row"} == {"council narrative"}
    report = passages_of(SEED_CORPUS / "oldham-2020-12-16-council-report-childrens-services-update.txt")
    assert {p.kind for p in report} == {"council narrative"}
