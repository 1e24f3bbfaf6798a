"""Compare the facts indexer.ofsted reads from each Ofsted PDF with the third-party reports.csv, field by field."""

from __future__ import annotations

import argparse
import csv
import re
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.ofsted import OfstedFacts, read_ofsted_facts  # noqa: E402

# The shared corpus sits beside the repository (CI clones the repo with ../shared next to it).
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ofsted-ilacs"
NO_GRADE = "no grade expected"
BLANK = "(blank)"

# CSV column -> key in OfstedFacts.grades
GRADE_COLUMNS = {
    "overall_effectiveness": "overall effectiveness",
    "impact_of_leaders": "leaders",
    "help_and_protection": "help and protection",
    "children_in_care": "children in care",
    "care_leavers": "care leavers",
}
# Our field -> CSV column, where the names differ.
CSV_COLUMNS = {"authority": "local_authority", "inspection_start": "inspection_start_date", "inspection_end": "inspection_end_date"}
FIELDS = ("authority", "inspection_start", "inspection_end", "lead_inspector", "framework", *GRADE_COLUMNS)

# Disagreements where the report text shows the CSV is wrong, each checked by reading the PDF text.
# Value: what the report says, in the form this script compares.
KNOWN_CSV_ERRORS: dict[tuple[str, str], str] = {
    # CSV blank, report page 1: "Inspection dates: 11 to 15 March 2024".
    ("brighton-and-hove-2024-05-16.pdf", "inspection_start"): "2024-03-11",
    ("brighton-and-hove-2024-05-16.pdf", "inspection_end"): "2024-03-15",
    # CSV blank, report page 1: "Inspection date: 11 – 22 July 2022".
    ("nottingham-2022-09-05.pdf", "inspection_start"): "2022-07-11",
    ("nottingham-2022-09-05.pdf", "inspection_end"): "2022-07-22",
    # CSV "inadequate"; the 2022 report has one combined judgement, "children in care and care
    # leavers: requires improvement to be good", and no separate care-leavers grade.
    ("nottingham-2022-09-05.pdf", "care_leavers"): NO_GRADE,
    # CSV keeps only the first block of "30 September to 11 October 2024 and 13 to 16 January 2025";
    # the report says inspectors "returned from 13 January until 16 January 2025".
    ("devon-2025-05-13.pdf", "inspection_end"): "2025-01-16",
    # Same truncation of "5 to 9 December 2022 and 14 to 15 February 2023".
    ("south-tyneside-2023-05-10.pdf", "inspection_end"): "2023-02-15",
    # CSV blank; page 1 names the lead inspector.
    ("knowsley-2021-12-03.pdf", "lead_inspector"): "Paula Thomson-Jones",
    ("tameside-2024-02-13.pdf", "lead_inspector"): "Andy Waugh",
    # CSV blank; page 1: "Lead inspectors: Rebecca Quested, His Majesty's Inspector, and Matthew Reed".
    ("stoke-on-trent-2022-11-25.pdf", "lead_inspector"): "Rebecca Quested and Matthew Reed",
    # CSV has a stray space before the hyphen; the PDF text has a plain "Thomson-Jones" / "Jenny-ellen".
    ("oldham-2019-03-04.pdf", "lead_inspector"): "Paula Thomson-Jones",
    ("rochdale-2018-03-12.pdf", "lead_inspector"): "Paula Thomson-Jones",
    ("wirral-2019-07-29.pdf", "lead_inspector"): "Paula Thomson-Jones",
    ("lambeth-2026-03-10.pdf", "lead_inspector"): "Jenny-ellen Scotland",
    ("southwark-2026-05-18.pdf", "lead_inspector"): "Jenny-ellen Scotland",
    # CSV uses its file slug "london corporation"; both reports name the authority "City of London"
    # and never "London Corporation".
    ("london-corporation-2020-04-06.pdf", "authority"): "city of london",
    ("london-corporation-2024-11-05.pdf", "authority"): "city of london",
    # CSV blank / "to requires improvement" (a cut-off cell); the table and the body headings both
    # say "Requires improvement to be good".
    ("nottingham-2019-01-07.pdf", "overall_effectiveness"): "requires improvement",
    ("nottingham-2019-01-07.pdf", "help_and_protection"): "requires improvement",
    ("southend-on-sea-2019-08-27.pdf", "overall_effectiveness"): "requires improvement",
    ("southend-on-sea-2019-08-27.pdf", "help_and_protection"): "requires improvement",
    # CSV "requires improvement"; table and body ("... children in care and care leavers is good") say good.
    ("oxfordshire-2018-05-22.pdf", "children_in_care"): "good",
    ("rochdale-2018-03-12.pdf", "children_in_care"): "good",
    # CSV has the grades shifted; table and body headings: help and protection "requires improvement
    # to be good", children in care "good", care leavers "outstanding".
    ("st-helens-2023-09-04.pdf", "help_and_protection"): "requires improvement",
    ("st-helens-2023-09-04.pdf", "children_in_care"): "good",
    ("st-helens-2023-09-04.pdf", "care_leavers"): "outstanding",
    # 2015-2017 SIF reports: the CSV has "data_unreadable" or blanks. Page 1 gives the overall judgement
    # ("Children's services in Oldham require improvement to be good"), then help and protection,
    # children looked after (-> children in care), care leavers (2.2) and "Leadership, management and
    # governance" (-> leaders) and the dates; the lead inspector is in "Information about this inspection".
    ("oldham-2015-08-03.pdf", "inspection_start"): "2015-05-22",
    ("oldham-2015-08-03.pdf", "inspection_end"): "2015-06-18",
    ("oldham-2015-08-03.pdf", "lead_inspector"): "Sheena Doyle",
    ("oldham-2015-08-03.pdf", "overall_effectiveness"): "requires improvement",
    ("oldham-2015-08-03.pdf", "impact_of_leaders"): "requires improvement",
    ("oldham-2015-08-03.pdf", "help_and_protection"): "requires improvement",
    ("oldham-2015-08-03.pdf", "children_in_care"): "requires improvement",
    ("oldham-2015-08-03.pdf", "care_leavers"): "requires improvement",
    ("tameside-2016-12-09.pdf", "inspection_start"): "2016-09-26",
    ("tameside-2016-12-09.pdf", "inspection_end"): "2016-10-20",
    ("tameside-2016-12-09.pdf", "lead_inspector"): "Paula Thomson-Jones",
    ("tameside-2016-12-09.pdf", "overall_effectiveness"): "inadequate",
    ("tameside-2016-12-09.pdf", "impact_of_leaders"): "inadequate",
    ("tameside-2016-12-09.pdf", "help_and_protection"): "inadequate",
    ("tameside-2016-12-09.pdf", "children_in_care"): "requires improvement",
    ("tameside-2016-12-09.pdf", "care_leavers"): "requires improvement",
}


def read_pdf_with_project_reader(path: Path) -> str:
    """The repaired text the indexer itself produces (running headers and footers removed)."""
    from indexer.reading import read_document

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_document(path).text


def read_pdf(path: Path) -> str:
    """The text of a PDF, page after page, as PDFium extracts it (raw, without the reader's repairs)."""
    from indexer.pdf_layout import page_texts

    return "\n\n".join(page_texts(path))


def normal_authority(name: str) -> str:
    """Lower case, '&' as 'and', no hyphens, no 'upon', no punctuation: 'Stoke-on-Trent' == 'stoke on trent'."""
    name = name.lower().replace("&", " and ").replace("-", " ")
    name = re.sub(r"\bupon\b|[^\w\s]", " ", name)
    return " ".join(name.split())


def normal_grade(grade: str) -> str:
    """CSV grade -> our vocabulary; the CSV's placeholders for 'no such judgement' -> NO_GRADE."""
    grade = " ".join(grade.lower().split())
    if grade in ("inspection_pre_dates_judgement", "not_reported_post_reform"):
        return NO_GRADE
    if not grade:
        return BLANK
    return re.sub(r"^requires improvement to be good$", "requires improvement", grade)


def csv_value(row: dict[str, str], field: str) -> str:
    """The CSV's claim for one field, in comparable form."""
    value = row.get(CSV_COLUMNS.get(field, field), "") or ""
    if field in GRADE_COLUMNS:
        return normal_grade(value)
    if field == "authority":
        return normal_authority(value) or BLANK
    if field == "lead_inspector":
        return " ".join(value.split()) or BLANK
    return value.strip() or BLANK


def our_value(facts: OfstedFacts, field: str) -> str:
    """Our reading of one field, in comparable form."""
    if field in GRADE_COLUMNS:
        return facts.grades.get(GRADE_COLUMNS[field], NO_GRADE)
    if field == "authority":
        return normal_authority(facts.authority or "") or BLANK
    value = getattr(facts, field)
    return " ".join(value.split()) if value else BLANK


def same(field: str, ours: str, theirs: str) -> bool:
    """Whether two comparable values agree (names compare without regard to case)."""
    if field == "lead_inspector":
        return ours.casefold() == theirs.casefold()
    return ours == theirs


def compared(row: dict[str, str], field: str) -> bool:
    """Framework is only compared where the CSV says standard or short."""
    return field != "framework" or row.get("framework") in ("standard", "short")


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the table; exit status 1 if adjudicated accuracy is under 98%."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder with the PDFs and reports.csv")
    parser.add_argument("--show-disagreements", action="store_true", help="list every disagreement")
    parser.add_argument(
        "--reader",
        choices=("raw", "project"),
        default="raw",
        help="raw PDFium text (default) or the indexer's own reader (indexer.reading)",
    )
    args = parser.parse_args(argv)
    read = read_pdf if args.reader == "raw" else read_pdf_with_project_reader

    rows = list(csv.DictReader((args.corpus / "reports.csv").open(encoding="utf-8")))
    counts = {field: {"agree": 0, "disagree": 0, "csv_error": 0} for field in FIELDS}
    disagreements = []
    used_errors = set()
    missing = []
    for row in rows:
        path = args.corpus / row["file"]
        if not path.exists():
            missing.append(row["file"])
            continue
        facts = read_ofsted_facts(read(path))
        for field in FIELDS:
            if not compared(row, field):
                continue
            ours, theirs = our_value(facts, field), csv_value(row, field)
            if same(field, ours, theirs):
                counts[field]["agree"] += 1
                continue
            counts[field]["disagree"] += 1
            verdict = KNOWN_CSV_ERRORS.get((row["file"], field))
            if verdict is not None:
                used_errors.add((row["file"], field))
                if same(field, ours, verdict):
                    counts[field]["csv_error"] += 1
            disagreements.append((row["file"], field, ours, theirs, verdict))

    print(f"{'field':24} {'agree':>6} {'disagree':>9} {'raw':>9} {'csv errors':>11} {'adjudicated':>12}")
    total = {"agree": 0, "disagree": 0, "csv_error": 0}
    for field in FIELDS:
        c = counts[field]
        for key in total:
            total[key] += c[key]
        print(_line(field, c))
    print(_line("overall", total))
    if missing:
        print(f"\n{len(missing)} files listed in reports.csv are missing from {args.corpus}")
    unlisted = sorted({p.name for p in args.corpus.glob("*.pdf")} - {row["file"] for row in rows})
    if unlisted:
        print(f"\n{len(unlisted)} PDFs have no row in reports.csv and were not compared: {unlisted}")
    stale = set(KNOWN_CSV_ERRORS) - used_errors
    if stale:
        print(f"\nKNOWN_CSV_ERRORS entries that no longer match a disagreement: {sorted(stale)}")
    if args.show_disagreements and disagreements:
        print("\nfile | field | ours | csv | adjudication")
        for file, field, ours, theirs, verdict in disagreements:
            if verdict is None:
                note = "UNRESOLVED"
            elif same(field, ours, verdict):
                note = "csv error"
            else:
                note = f"WE ARE WRONG: report says {verdict!r}"
            print(f"{file} | {field} | {ours} | {theirs} | {note}")
    n = total["agree"] + total["disagree"]
    return 0 if n and (total["agree"] + total["csv_error"]) / n >= 0.98 else 1


def _line(name: str, c: dict[str, int]) -> str:
    n = c["agree"] + c["disagree"]
    raw = c["agree"] / n if n else 0.0
    adjudicated = (c["agree"] + c["csv_error"]) / n if n else 0.0
    return f"{name:24} {c['agree']:>6} {c['disagree']:>9} {raw:>9.1%} {c['csv_error']:>11} {adjudicated:>12.1%}"


if __name__ == "__main__":
    sys.exit(main())
