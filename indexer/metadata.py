"""Authority, document type, title, dates and grades: read from the text, corrected by the corpus metadata file."""

from __future__ import annotations

import csv
import dataclasses
import re
from datetime import date
from pathlib import Path

from .authorities import resolve
from .errors import IndexerError
from .ofsted import is_ofsted_report, read_ofsted_facts
from .passages import DOC_TYPES, JUDGEMENT_AREAS, Document, strip_invisible

METADATA_FILE = "metadata.csv"
# Columns of the metadata file, in order; a blank cell means "read it from the text".
COLUMNS = (
    "file", "title", "authority", "doc_type", "date", "source", "url",
    "inspection_start", "inspection_end", "lead_inspector", "framework",
    *(f"grade_{area.replace(' ', '_')}" for area in JUDGEMENT_AREAS),
)
MONTHS = {name: number for number, name in enumerate(
    "january february march april may june july august september october november december".split(), start=1)}
DATE_WORDS = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + "|".join(MONTHS) + r")\s+(\d{4})\b", re.I)
COUNCIL = re.compile(
    r"\b((?:[A-Z][a-z]+)(?:[ -](?:and|upon|on|of|[A-Z][a-z]+)){0,4}?)\s+"
    r"(?:Metropolitan Borough |Borough |City |County |District )?Council\b"
)


def parse_date(text: str) -> str | None:
    """The first '21 January 2019'-style date in `text`, as ISO yyyy-mm-dd."""
    match = DATE_WORDS.search(text)
    if not match:
        return None
    day, month, year = int(match.group(1)), MONTHS[match.group(2).lower()], int(match.group(3))
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def read_metadata_file(folder: Path) -> dict[str, dict[str, str]]:
    """Rows of `folder/metadata.csv` by file name, blank cells dropped; {} when there is no file."""
    path = folder / METADATA_FILE
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        unknown = set(reader.fieldnames or ()) - set(COLUMNS)
        if "file" not in (reader.fieldnames or ()) or unknown:
            raise IndexerError(
                f"{path}: the header must have a 'file' column and only these columns: {', '.join(COLUMNS)}"
                + (f" (unknown: {', '.join(sorted(unknown))})" if unknown else "")
            )
        rows = {}
        for number, row in enumerate(reader, start=2):
            cleaned = {key: strip_invisible(value or "").strip() for key, value in row.items()
                       if key and strip_invisible(value or "").strip()}
            if cleaned.get("doc_type") and cleaned["doc_type"] not in DOC_TYPES:
                raise IndexerError(
                    f"{path}, line {number}: doc_type '{cleaned['doc_type']}' is not one of: {', '.join(DOC_TYPES)}")
            if "file" in cleaned:
                rows[cleaned["file"]] = cleaned
    return rows


def describe_document(document: Document, overrides: dict[str, str] | None = None) -> Document:
    """Fill in a document's metadata from its text, then apply the user's corrections (which win)."""
    fields = read_from_text(document.text)
    for key, value in (overrides or {}).items():
        if key.startswith("grade_"):
            fields.setdefault("grades", {})[key[len("grade_"):].replace("_", " ")] = value.lower()
        elif key != "file":
            fields[key] = value
    if not fields.get("title"):
        fields["title"] = strip_invisible(Path(document.path).stem.replace("-", " ").replace("_", " "))
    entry = resolve(fields.get("authority", document.authority))
    if entry:  # one name per council, whichever way the document spells it
        fields.update(authority=entry.name, authority_code=entry.ons_code, region=entry.region or None)
    return dataclasses.replace(document, **fields)


def read_from_text(text: str) -> dict:
    """What can be read reliably from a document's own words."""
    head = text[:3000]
    if is_ofsted_report(text):
        facts = read_ofsted_facts(text)
        found = {
            "title": facts.title, "authority": facts.authority, "doc_type": facts.doc_type or "inspection letter",
            "source": "Ofsted", "inspection_start": facts.inspection_start, "inspection_end": facts.inspection_end,
            "lead_inspector": facts.lead_inspector, "framework": facts.framework, "grades": dict(facts.grades),
            "date": facts.inspection_start or parse_date(head),
        }
        if found["doc_type"].endswith("letter"):
            found["date"] = parse_date(head) or found["date"]  # a letter is cited by the date it was sent
        return {key: value for key, value in found.items() if value}
    found = {"date": parse_date(head)}
    council = COUNCIL.search(head)
    if council:
        found["authority"] = council.group(1)
        found["source"] = f"{council.group(1)} Council"
    lowered = head.lower()
    if re.search(r"report to (?:the )?(?:full )?(?:council|cabinet|committee)", lowered[:600]):
        found["doc_type"] = "council report"
    elif "improvement plan" in lowered[:600]:
        found["doc_type"] = "improvement plan"
        year = re.search(r"improvement plan\s+(\d{4})", lowered)
        if year and not found["date"]:
            found["date"] = year.group(1)
    return {key: value for key, value in found.items() if value}
