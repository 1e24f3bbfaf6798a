"""Write indexer/data/reports.csv, the register of published Ofsted children's services reports, from ilacs_history.csv.

    python scripts/make_report_register.py [../shared/reference/ilacs_history.csv]

Source: the Data to Insight (D2I) Ofsted ILACS scrape tool's ilacs_history.csv (MIT licence), which lists
every published inspection of a local authority's children's services that Ofsted's report site showed,
with the PDF's address on Ofsted's file service (https://files.ofsted.gov.uk/v1/file/<id>). Authorities
are named as the project's authority register names them (matched by Ofsted URN); publication dates are
read from the report's listed name ("children's services inspection - 12 july 2024.pdf") and checked
against the publication_date column. Run it again when the source changes; the output is committed.
`python -m indexer fetch --refresh` finds reports published since, on the authorities' provider pages.
"""

from __future__ import annotations

import csv
import re
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "reference" / "ilacs_history.csv"
AUTHORITIES = ROOT / "indexer" / "data" / "authorities.csv"
TARGET = ROOT / "indexer" / "data" / "reports.csv"
COLUMNS = ("authority", "ofsted_urn", "published", "kind", "doc_type", "title", "url")
LISTED = re.compile(r"^(?P<title>.+?)(?:,?\s+(?:as )?pdf)?\s+-\s+(?P<date>\d{1,2} [a-z]+ \d{4})\.pdf$", re.I)
FILE_URL = re.compile(r"^https://files\.ofsted\.gov\.uk/v1/file/\d+$")


def main() -> int:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    with open(AUTHORITIES, encoding="utf-8", newline="") as handle:
        names = {row["ofsted_urn"]: row["name"] for row in csv.DictReader(handle)}
    with open(source, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    records = []
    for number, row in enumerate(rows, start=2):
        listed = LISTED.match(row["pdf_filename"].strip())
        if row["urn"] not in names or not listed or not FILE_URL.match(row["inspection_link"].strip()):
            raise SystemExit(f"{source}, line {number}: unknown URN, listed name or address: {row}")
        published = datetime.strptime(listed["date"], "%d %B %Y").date()
        if published != datetime.strptime(row["publication_date"], "%d/%m/%y").date():
            raise SystemExit(f"{source}, line {number}: {row['pdf_filename']} but published {row['publication_date']}")
        title = re.sub(r"\bla\b", "LA", listed["title"].strip(" ,"))
        records.append({
            "authority": names[row["urn"]], "ofsted_urn": row["urn"], "published": published.isoformat(),
            "kind": "inspection", "doc_type": "inspection report", "title": title[0].upper() + title[1:],
            "url": row["inspection_link"].strip(),
        })
    records.sort(key=lambda record: (record["authority"], record["published"], record["url"]))
    with open(TARGET, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(records)
    print(f"wrote {len(records)} reports of {len(set(names[row['urn']] for row in rows))} authorities to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
