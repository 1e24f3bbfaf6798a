"""Ofsted's published children's services reports: the shipped register, provider pages, choosing and naming.

The register (indexer/data/reports.csv) lists every published inspection of a local authority's
children's services with its PDF's address on Ofsted's file service. It is made by
scripts/make_report_register.py from Data to Insight's ilacs_history.csv (MIT licence), which compiles
public Ofsted data. An authority's provider page on Ofsted's report site lists every report and letter
published for it: `read_provider_page` finds them there, for what is newer than the register and for
letters (focused and monitoring visits, joint targeted area inspections), which the register lacks.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from .authorities import Authority, fold
from .errors import IndexerError
from .settings import OFSTED_FILES_URL

REPORTS = Path(__file__).resolve().parent / "data" / "reports.csv"
KINDS = ("inspection", "letters", "all")  # what `fetch --kind` chooses among
FILE_PATH = re.compile(r"/v1/file/(\d+)/?$")
DATE = re.compile(r"\b(\d{1,2}) (january|february|march|april|may|june|july|august|september|october|november|"
                  r"december) (\d{4})\b", re.I)
TRAILER = re.compile(r"(?:[\s,\u2013-]|\bpdf\b)+$", re.I)  # ", pdf - " between a listed title and its date
# (words in a listed title, document type, the name's last part), first match wins; anything else is a letter
# whose type the text decides.
TITLES = (
    ("focused visit", "focused visit letter", "focused-visit"),
    ("monitoring visit", "monitoring visit letter", "monitoring-visit"),
    ("joint targeted area inspection", "joint targeted area inspection", "jtai"),
    ("children's services inspection", "inspection report", "inspection"),
    ("inspection of local authority children's services", "inspection report", "inspection"),
    ("single inspection", "inspection report", "inspection"),
)


@dataclass(frozen=True)
class Report:
    """One published report or letter of one authority."""

    authority: str  # as the authority register names it
    ofsted_urn: str
    published: str  # ISO date Ofsted published it
    kind: str  # "inspection" (a full inspection report) or "letter"
    doc_type: str  # one of passages.DOC_TYPES; "" when only the text can tell
    title: str  # as Ofsted lists it, e.g. "Children's services inspection"
    url: str  # its address on Ofsted's file service

    @property
    def file_id(self) -> str:
        """The file service's number for it."""
        match = FILE_PATH.search(urlsplit(self.url).path)
        return match.group(1) if match else re.sub(r"[^0-9A-Za-z]+", "-", self.url).strip("-")[-24:]

    @property
    def label(self) -> str:
        """What the file name says it is: inspection, focused-visit, monitoring-visit, jtai or letter."""
        return next((label for _, doc_type, label in TITLES if doc_type == self.doc_type), "letter")

    @property
    def base_name(self) -> str:
        """oldham-2024-07-12-inspection.pdf"""
        return f"{slug(self.authority)}-{self.published}-{self.label}.pdf"


def slug(name: str) -> str:
    """'Bournemouth, Christchurch and Poole' -> 'bournemouth-christchurch-and-poole'."""
    return re.sub(r"[^a-z0-9]+", "-", fold(name).replace("'", "")).strip("-")


@lru_cache(maxsize=1)
def load_reports(path: Path = REPORTS) -> tuple[Report, ...]:
    """Every report in the shipped register."""
    with open(path, encoding="utf-8", newline="") as handle:
        return tuple(Report(**row) for row in csv.DictReader(handle))


def classify(title: str) -> tuple[str, str]:
    """(kind, doc_type) of a report from the title Ofsted lists it under."""
    lowered = title.lower().replace("’", "'")
    for words, doc_type, label in TITLES:
        if words in lowered:
            return ("inspection" if label == "inspection" else "letter"), doc_type
    return "letter", ""


def read_provider_page(html: str, authority: Authority, page_url: str) -> list[Report]:
    """The reports and letters an authority's provider page links to, with the dates and titles it lists.

    Each publication is a link to the file service (`a.publication-link`), its accessible text
    (`span.nonvisual`) saying what and when: "Children's services inspection - 12 July 2024, pdf". A
    link without a date in its text takes the first date shown beside it (a `time` element or the text).
    """
    soup = BeautifulSoup(html, "html.parser")
    found: dict[str, Report] = {}
    for link in soup.find_all("a", href=True):
        url = urljoin(page_url, link["href"])
        if not FILE_PATH.search(urlsplit(url).path):
            continue
        described = link.select_one(".nonvisual") or link
        text = " ".join(described.get_text(" ").split())
        in_text = DATE.search(text)
        when = in_text or _date_beside(link)
        if when is None:
            continue  # not a dated publication (a guide, a logo): nothing to file it under
        published = datetime.strptime(" ".join(when.groups()), "%d %B %Y").date().isoformat()
        title = TRAILER.sub("", text[:in_text.start()] if in_text else text) or "Report"
        kind, doc_type = classify(title)
        report = Report(authority.name, authority.ofsted_urn, published, kind, doc_type, title, url)
        found.setdefault(report.file_id, report)
    return list(found.values())


def _date_beside(link) -> re.Match | None:
    """The first date in the smallest element around a link that has one (its list item, its row), so long
    as that element holds no other publication's link (a date there belongs to another)."""
    for parent in link.parents:
        links = [a for a in parent.find_all("a", href=True) if FILE_PATH.search(urlsplit(a["href"]).path)]
        if parent.name in ("body", "html", "[document]") or len(links) > 1:
            return None
        dated = parent.find("time")
        match = DATE.search(" ".join((dated or parent).get_text(" ").split()))
        if match:
            return match
    return None


def merge(register: list[Report], listed: list[Report]) -> list[Report]:
    """The register's reports and those the provider pages list, once each (the register's entry wins)."""
    seen = {report.file_id for report in register}
    return list(register) + [report for report in listed if report.file_id not in seen]


def choose(reports: list[Report], authorities: list[Authority] | None, since: str | None,
           kind: str) -> list[Report]:
    """The reports of these authorities (all when None), published in or after `since`, of a kind."""
    if kind not in KINDS:
        raise IndexerError(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if since and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", since):
        raise IndexerError(f"--since takes a year (YYYY) or a date (YYYY-MM-DD), not {since!r}")
    names = {authority.name for authority in authorities} if authorities is not None else None
    return sorted((report for report in reports
                   if (names is None or report.authority in names)
                   and (not since or report.published[:len(since)] >= since)
                   and (kind == "all" or (kind == "inspection") == (report.kind == "inspection"))),
                  key=lambda report: (report.authority, report.published, report.base_name, int_id(report)))


def int_id(report: Report) -> int:
    """The file id as a number (0 when it is not one), for stable ordering."""
    return int(report.file_id) if report.file_id.isdigit() else 0


def file_names(reports: list[Report]) -> dict[str, str]:
    """File id -> file name: readable, and unique: where two share a name, the later file gets its id too."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for report in sorted(reports, key=int_id):
        name = report.base_name
        if name in taken:
            name = f"{name[:-len('.pdf')]}-{report.file_id}.pdf"
        taken.add(name)
        names[report.file_id] = name
    return names


def on_server(url: str, base: str, public: str = OFSTED_FILES_URL) -> str:
    """A public Ofsted address moved onto the server the settings name (the same one, except in tests)."""
    if base.rstrip("/") != public and url.startswith(public + "/"):
        return base.rstrip("/") + url[len(public):]
    return url
