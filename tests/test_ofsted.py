"""Tests for indexer.ofsted: facts read from Ofsted report text, across the framework eras."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.ofsted import OfstedFacts, is_ofsted_report, judgement_area, normalise_authority, read_ofsted_facts
from indexer.pdf_layout import page_texts

SHARED = Path(__file__).resolve().parents[2] / "shared"  # CI clones the repo with ../shared beside it
SEEDS = SHARED / "corpus" / "seeds"
CORPUS = SHARED / "corpus" / "ofsted-ilacs"
DATA = Path(__file__).parent / "data"

RI = "requires improvement"


# The five seed texts: committed under corpus/ with descriptive names, and in the shared corpus.
REPO_CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SEED_NAMES = {
    "000_1378da9c15379b57.txt": "oldham-2019-01-ofsted-inspection-report.txt",
    "001_51e35323c8623ba8.txt": "oldham-2019-improvement-plan-2019-2021.txt",
    "002_ea8309c7479aeb8a.txt": "tameside-2019-05-ofsted-inspection-report.txt",
    "003_e9c7249a6aa8578d.txt": "oldham-2020-12-16-council-report-childrens-services-update.txt",
    "004_c380731b15322ec7.txt": "oldham-2010-06-11-ofsted-letter-contact-referral-assessment.txt",
}


def seed(name: str) -> str:
    for path in (REPO_CORPUS / SEED_NAMES[name], SEEDS / name):
        if path.exists():
            return path.read_text(encoding="utf-8")
    pytest.skip(f"seed {name} not present in corpus/ or the shared corpus")


def pdf_text(name: str) -> str:
    """Text of one of the two small corpus PDFs, as PDFium extracts it (page headers and all)."""
    for folder in (DATA, CORPUS):
        if (folder / name).exists():
            return "\n\n".join(page_texts(folder / name))
    pytest.skip(f"{name} not present in tests/data or the shared corpus")


# ---------------------------------------------------------------- the seeds


def test_oldham_2019_seed():
    assert read_ofsted_facts(seed("000_1378da9c15379b57.txt")) == OfstedFacts(
        authority="Oldham",
        doc_type="inspection report",
        framework="standard",
        inspection_start="2019-01-21",
        inspection_end="2019-02-01",
        lead_inspector="Paula Thomson-Jones",
        grades={"leaders": RI, "help and protection": RI, "children in care": RI, "overall effectiveness": RI},
        title="Oldham inspection of children's social care services",
    )


def test_tameside_2019_seed():
    assert read_ofsted_facts(seed("002_ea8309c7479aeb8a.txt")) == OfstedFacts(
        authority="Tameside",
        doc_type="inspection report",
        framework="standard",
        inspection_start="2019-05-13",
        inspection_end="2019-05-24",
        lead_inspector="Dominic Stevens",
        grades={"leaders": RI, "help and protection": RI, "children in care": RI, "overall effectiveness": RI},
        title="Tameside inspection of local authority children's social care services",
    )


def test_2010_letter_seed():
    assert read_ofsted_facts(seed("004_c380731b15322ec7.txt")) == OfstedFacts(
        authority="Oldham",
        doc_type="inspection letter",
        framework="letter",
        inspection_start="2010-05-12",
        inspection_end="2010-05-13",
        lead_inspector="Robert Hackeson",
        grades={},
        title="Annual unannounced inspection of contact, referral and assessment arrangements "
        "within Oldham Metropolitan Borough Council children's services",
    )


def test_which_seeds_are_ofsted_reports():
    # The improvement plan (001) and the council report about a focused visit (003) mention Ofsted
    # throughout but are not Ofsted's own documents.
    verdicts = {
        name: is_ofsted_report(seed(name))
        for name in (
            "000_1378da9c15379b57.txt",
            "001_51e35323c8623ba8.txt",
            "002_ea8309c7479aeb8a.txt",
            "003_e9c7249a6aa8578d.txt",
            "004_c380731b15322ec7.txt",
        )
    }
    assert verdicts == {
        "000_1378da9c15379b57.txt": True,
        "001_51e35323c8623ba8.txt": False,
        "002_ea8309c7479aeb8a.txt": True,
        "003_e9c7249a6aa8578d.txt": False,
        "004_c380731b15322ec7.txt": True,
    }


# ---------------------------------------------------------------- one snippet per era
# Report openings below are excerpts of real reports in the shared corpus (Crown copyright, OGL v3),
# laid out as PDF text extraction (PyMuPDF, PDFium) gives them: one table cell per line, page number first.

SIF_2016 = """\
1
Tameside Borough Council
Inspection of services for children in need of help and protection, children
looked after and care leavers
and
Review of the effectiveness of the Local Safeguarding Children Board1
Inspection date: 26 September 2016 to 20 October 2016
Report published: 9 December 2016
Children's services in Tameside are inadequate
1. Children who need help and protection
Inadequate
2. Children looked after and achieving
permanence
Requires improvement
2.1 Adoption performance
Good
2.2 Experiences and progress of care leavers
Requires improvement
3. Leadership, management and governance
Inadequate
1 Ofsted produces this report under its power to combine reports in accordance with section 152 of
the Education and Inspections Act 2006.

The Local Safeguarding Children Board requires improvement

Lead inspector: Paula Thomson-Jones HMI
Deputy lead inspector: Shirley Bailey HMI
"""


def test_sif_2016_maps_what_fits_and_keeps_the_rest():
    assert read_ofsted_facts(SIF_2016) == OfstedFacts(
        authority="Tameside",
        doc_type="inspection report",
        framework=None,  # neither a standard nor a short ILACS inspection
        inspection_start="2016-09-26",
        inspection_end="2016-10-20",
        lead_inspector="Paula Thomson-Jones",
        grades={
            "overall effectiveness": "inadequate",
            "help and protection": "inadequate",
            "children in care": RI,
            "adoption performance": "good",
            "care leavers": RI,
            "leaders": "inadequate",
            "local safeguarding children board": RI,
        },
        title="Tameside inspection of services for children in need of help and protection, "
        "children looked after and care leavers",
    )


COMBINED_2018 = """\
1
London Borough of Bexley
Inspection of children's social care services
Inspection dates: 9 July 2018 to 20 July 2018
Lead inspector:
Marcie Taylor
Her Majesty's Inspector
Judgement\tGrade
The impact of leaders on social work practice with children and families\tOutstanding
The experiences and progress of children who need help and protection\tOutstanding
The experiences and progress of children in care and care leavers\tGood
Overall effectiveness\tOutstanding
"""


def test_pre_2023_combined_children_in_care_and_care_leavers():
    assert read_ofsted_facts(COMBINED_2018) == OfstedFacts(
        authority="Bexley",
        doc_type="inspection report",
        framework="standard",
        inspection_start="2018-07-09",
        inspection_end="2018-07-20",
        lead_inspector="Marcie Taylor",
        grades={
            "leaders": "outstanding",
            "help and protection": "outstanding",
            "children in care": "good",
            "overall effectiveness": "outstanding",
        },
        title="Bexley inspection of children's social care services",
    )


SHORT_2024 = """\
Inspection of Barnet local authority
children's services
Inspection dates: 10 to 14 June 2024
Lead inspector: Naintara Khosla, His Majesty's Inspector
Judgement
Grade
The impact of leaders on social work
practice with children and families
Good
The experiences and progress of
children who need help and protection
Good
The experiences and progress of
children in care
Outstanding
The experiences and progress of care
leavers
Good
Overall effectiveness
Good
Children in the London Borough of Barnet receive strong and effective services.
"""


def test_2023_onwards_short_inspection_with_separate_care_leavers():
    assert read_ofsted_facts(SHORT_2024) == OfstedFacts(
        authority="Barnet",
        doc_type="inspection report",
        framework="short",
        inspection_start="2024-06-10",
        inspection_end="2024-06-14",
        lead_inspector="Naintara Khosla",
        grades={
            "leaders": "good",
            "help and protection": "good",
            "children in care": "outstanding",
            "care leavers": "good",
            "overall effectiveness": "good",
        },
        title="Barnet inspection of local authority children's services",
    )


POST_REFORM_2026 = """\
Inspection of Blackpool local authority children's services
Inspection dates: 8 to 19 June 2026
Lead inspector: Margaret Burke, His Majesty's Inspector
Judgement Grade The impact of leaders on social work practice with children and families Outstanding \
The experiences and progress of children who need help and protection Good \
The experiences and progress of children in care Outstanding \
The experiences and progress of care leavers Outstanding
Since the last inspection, leaders have continued to deliver sustained improvements for children, young \
people and families in Blackpool. Services are good for most children.
"""


def test_after_april_2026_there_is_no_overall_effectiveness():
    assert read_ofsted_facts(POST_REFORM_2026) == OfstedFacts(
        authority="Blackpool",
        doc_type="inspection report",
        framework="standard",
        inspection_start="2026-06-08",
        inspection_end="2026-06-19",
        lead_inspector="Margaret Burke",
        grades={
            "leaders": "outstanding",
            "help and protection": "good",
            "children in care": "outstanding",
            "care leavers": "outstanding",
        },
        title="Blackpool inspection of local authority children's services",
    )


def test_table_whose_grades_come_before_wrapped_labels():
    # A layout-aware reader puts a row's grade first when the label cell wraps onto two lines.
    text = (
        "Inspection of City of Wolverhampton local authority children's services\n\n"
        "Inspection dates: 28 March to 1 April 2022\n\n"
        "Lead inspector: Andy Waugh, Her Majesty's Inspector\n\n"
        "Judgement Grade\n\nOutstanding\n\n"
        "The impact of leaders on social work practice with children and families\n\nGood\n\n"
        "The experiences and progress of children who need help and protection\n\nGood\n\n"
        "The experiences and progress of children in care and care leavers\n\n"
        "Overall effectiveness Good\n\n"
        "Services for children and families in the City of Wolverhampton needing help and protection "
        "have improved and are now good.\n"
    )
    facts = read_ofsted_facts(text)
    assert (facts.authority, facts.framework, facts.grades) == (
        "Wolverhampton",
        "short",
        {
            "leaders": "outstanding",
            "help and protection": "good",
            "children in care": "good",
            "overall effectiveness": "good",
        },
    )


def test_return_visit_extends_the_dates_but_not_the_framework():
    text = """\
Inspection of Devon local authority
children's services
Inspection dates: 30 September to 11 October 2024 and 13 to 16 January 2025
Judgement
Grade
Overall effectiveness
Inadequate
"""
    facts = read_ofsted_facts(text)
    assert (facts.inspection_start, facts.inspection_end, facts.framework, facts.lead_inspector) == (
        "2024-09-30",
        "2025-01-16",
        "standard",
        None,
    )


def test_grades_from_body_headings_when_the_table_is_missing():
    text = """\
Inspection of Oldham local authority children's services
Inspection dates: 13 to 24 May 2024
Lead inspector: Rebekah Tucker, His Majesty's Inspector

The experiences and progress of children who need help and
protection: good

The experiences and progress of children in care: good

The experiences and progress of care leavers: requires
improvement to be good

The impact of leaders on social work practice with children and families is good
"""
    assert read_ofsted_facts(text).grades == {
        "help and protection": "good",
        "children in care": "good",
        "care leavers": RI,
        "leaders": "good",
    }


def test_two_lead_inspectors():
    text = """\
Inspection of Stoke-on-Trent local
authority children's services
Inspection dates: 3 to 14 October 2022
Lead inspectors: Rebecca Quested, His Majesty's Inspector, and Matthew Reed,
His Majesty's Inspector
Judgement
"""
    assert read_ofsted_facts(text).lead_inspector == "Rebecca Quested and Matthew Reed"


# Letters below are synthetic, modelled on Ofsted's letter templates; names and dates are illustrative.

FOCUSED_VISIT = """\
Piccadilly Gate
Store Street
Manchester
M1 2WD
T 0300 123 1231
enquiries@ofsted.gov.uk
www.gov.uk/ofsted

15 March 2024

Jane Smith
Director of Children's Services
Stockport Metropolitan Borough Council
Fred Perry House
Stockport
SK1 3XE

Dear Jane

Focused visit to Stockport local authority children's services

This letter summarises the findings of the focused visit to Stockport local authority
children's services on 31 January and 1 February 2024. His Majesty's Inspectors for this
visit were Lisa Summers and Anna Gravelle.

Inspectors looked at the local authority's arrangements for children in need, including
those children who are subject to a child protection plan.

Yours sincerely

Lisa Summers
His Majesty's Inspector
"""


def test_focused_visit_letter():
    assert read_ofsted_facts(FOCUSED_VISIT) == OfstedFacts(
        authority="Stockport",
        doc_type="focused visit letter",
        framework="focused visit",
        inspection_start="2024-01-31",
        inspection_end="2024-02-01",
        lead_inspector="Lisa Summers",
        grades={},
        title="Focused visit to Stockport local authority children's services",
    )
    assert is_ofsted_report(FOCUSED_VISIT)


MONITORING_VISIT = """\
6 March 2019

Dear Mr Brown

Monitoring visit to Tameside children's services

This letter summarises the findings of the monitoring visit to Tameside children's services on
12 and 13 February 2019. This visit was the sixth monitoring visit since the local authority was
judged inadequate in December 2016. The inspectors were Paula Thomson-Jones, Her Majesty's
Inspector, and Lorna Schlechte, Her Majesty's Inspector.

Yours sincerely

Paula Thomson-Jones
Her Majesty's Inspector
"""


def test_monitoring_visit_letter():
    assert read_ofsted_facts(MONITORING_VISIT) == OfstedFacts(
        authority="Tameside",
        doc_type="monitoring visit letter",
        framework="monitoring visit",
        inspection_start="2019-02-12",
        inspection_end="2019-02-13",
        lead_inspector="Paula Thomson-Jones",
        grades={},
        title="Monitoring visit to Tameside children's services",
    )


JTAI = """\
4 April 2019

Dear local partners

Joint targeted area inspection of the multi-agency response to child exploitation in Oldham

Between 4 and 8 March 2019, Ofsted, the Care Quality Commission (CQC), HMICFRS and HMI Probation
carried out a joint inspection of the multi-agency response to child exploitation in Oldham.

Yours sincerely

Yvette Stanley
National Director, Social Care, Ofsted
"""


def test_joint_targeted_area_inspection():
    assert read_ofsted_facts(JTAI) == OfstedFacts(
        authority="Oldham",
        doc_type="joint targeted area inspection",
        framework="jtai",
        inspection_start="2019-03-04",
        inspection_end="2019-03-08",
        lead_inspector=None,
        grades={},
        title="Joint targeted area inspection of the multi-agency response to child exploitation in Oldham",
    )


# ---------------------------------------------------------------- real PDFs (the two smallest)


def test_staffordshire_2019_pdf_short_inspection():
    assert read_ofsted_facts(pdf_text("staffordshire-2019-03-11.pdf")) == OfstedFacts(
        authority="Staffordshire",
        doc_type="inspection report",
        framework="short",
        inspection_start="2019-02-04",
        inspection_end="2019-02-08",
        lead_inspector="Alison Smale",
        grades={"leaders": "good", "help and protection": RI, "children in care": "good", "overall effectiveness": "good"},
        title="Staffordshire inspection of children's social care services",
    )


def test_knowsley_2021_pdf_standard_inspection():
    assert read_ofsted_facts(pdf_text("knowsley-2021-12-03.pdf")) == OfstedFacts(
        authority="Knowsley",
        doc_type="inspection report",
        framework="standard",
        inspection_start="2021-10-11",
        inspection_end="2021-10-22",
        lead_inspector="Paula Thomson-Jones",
        grades={"leaders": RI, "help and protection": RI, "children in care": RI, "overall effectiveness": RI},
        title="Knowsley inspection of local authority children's services",
    )


# ---------------------------------------------------------------- judgement_area and authority names


def test_judgement_area_headings():
    headings = {
        "The experiences and progress of children who need help and protection: requires improvement to be good": "help and protection",
        "The experiences and progress of children who need help and\nprotection": "help and protection",
        "The experiences and progress of children in care": "children in care",
        "The experiences and progress of children in care: outstanding": "children in care",
        "The experiences and progress of care leavers": "care leavers",
        "The experiences and progress of children care leavers": "care leavers",
        "The experience and progress of children in care and care leavers": "children in care",
        "The experiences and progress of children in care and care leavers is good": "children in care",
        "The impact of leaders on social work practice with children and families: good": "leaders",
        "The impact of leaders on practice with children and families": "leaders",
        "Overall effectiveness": "overall effectiveness",
        "What needs to improve": None,
        "What needs to improve?": None,
        "Information about this inspection": None,
        "The experiences of children, young people and families in North Northamptonshire": None,
        "The impact of domestic abuse on children is well understood": None,
        "1. Children who need help and protection": "help and protection",
        "2. Children looked after and achieving permanence": "children in care",
        "2.1 Adoption performance": "adoption performance",
        "2.2 Experiences and progress of care leavers": "care leavers",
        "3. Leadership, management and governance": "leaders",
        "The Local Safeguarding Children Board": "local safeguarding children board",
        "Children in care benefit from stable homes": None,
        "Care leavers are supported into work": None,
    }
    assert {heading: judgement_area(heading) for heading in headings} == headings


def test_authority_names():
    names = {
        "Oldham Metropolitan Borough Council": "Oldham",
        "London Borough of Barking and Dagenham": "Barking and Dagenham",
        "Royal Borough of Kensington and Chelsea": "Kensington and Chelsea",
        "The Royal Borough of Windsor and\nMaidenhead": "Windsor and Maidenhead",
        "City of York Council": "York",
        "Kingston upon Hull City Council": "Kingston upon Hull",
        "Hull": "Kingston upon Hull",
        "Cornwall Council": "Cornwall",
        "stockton-on-tees": "Stockton-on-Tees",
        "Southend-on-Sea city council": "Southend-on-Sea",
        "BATH AND NORTH EAST SOMERSET": "Bath and North East Somerset",
        "Tameside metropolitan borough": "Tameside",
        "Bristol City of": "Bristol",
        "London Borough of Hammersmith & Fulham": "Hammersmith and Fulham",
        "City of Bradford Metropolitan Borough Council": "Bradford",
        "Bradford Children and Families Trust": "Bradford",
        "Medway Children's Services": "Medway",
        "City of London": "City of London",
        "St Helens Metropolitan Borough Council": "St Helens",
        "Blackburn with Darwen": "Blackburn with Darwen",
        "Bournemouth, Christchurch and Poole": "Bournemouth, Christchurch and Poole",
    }
    assert {name: normalise_authority(name) for name in names} == names


def test_text_that_is_not_an_ofsted_report():
    text = "Report to COUNCIL\n\nChildren's Services update\n\nThis report updates Council on the Ofsted focused visit."
    assert is_ofsted_report(text) is False
    assert read_ofsted_facts(text) == OfstedFacts(grades={})


def test_committed_pdf_read_by_the_project_reader():
    from indexer.reading import read_document

    text = read_document(DATA / "oldham-2024-07-12.pdf").text
    assert read_ofsted_facts(text) == OfstedFacts(
        authority="Oldham",
        doc_type="inspection report",
        framework="standard",
        inspection_start="2024-05-13",
        inspection_end="2024-05-24",
        lead_inspector="Rebekah Tucker",
        grades={"leaders": "good", "help and protection": "good", "children in care": "good",
                "care leavers": "good", "overall effectiveness": "good"},
        title="Oldham inspection of local authority children's services",
    )
