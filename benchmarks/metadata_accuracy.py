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

DEFAULT_CORPUS = Path("/work/shared/corpus/ofsted-ilacs")
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
KNOWN_CSV_ERRORS: dict[tuple[str, str], str] = {}


def read_pdf(path: Path) -> str:
    """The text of a PDF, page after page, as PyMuPDF extracts it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fitz warns that its name is deprecated
        import fitz

    with fitz.open(path) as document:
        return "\n\n".join(page.get_text() for page in document)


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
    args = parser.parse_args(argv)

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
        facts = read_ofsted_facts(read_pdf(path))
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

    print(f"{'field':24} {'agree':>6} {'disagree':>9} {'accuracy':>9} {'csv errors':>11} {'adjudicated':>12}")
    total = {"agree": 0, "disagree": 0, "csv_error": 0}
    for field in FIELDS:
        c = counts[field]
        for key in total:
            total[key] += c[key]
        print(_line(field, c))
    print(_line("overall", total))
    if missing:
        print(f"\n{len(missing)} files listed in reports.csv are missing from {args.corpus}")
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
