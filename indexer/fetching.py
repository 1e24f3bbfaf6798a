"""Download Ofsted's report PDFs into a corpus folder, as a public service should be asked: one at a time.

Requests go one after another with a pause between them and a user agent that says what is asking. A
429 or 5xx answer, a dropped connection or a broken download is tried again after a back-off that
doubles (a server's Retry-After wins when longer); anything else fails at once. Each download goes to a
hidden `.<name>.part` file beside its target and replaces it only once it is a whole PDF: it begins
`%PDF-`, ends with `%%EOF` and has the bytes its Content-Length promised, so an HTML error page served
as a PDF, a truncated body or an interrupted run never overwrites a good file.

The folder keeps two records: `metadata.csv`, a row per report (authority, document type, publication
date, source, address) in the format metadata.read_metadata_file reads, so that the build files each
document correctly; and `.fetched.csv`, each file's address, size and sha256, so that a second run skips
what it already has.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Callable
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from .authorities import Authority
from .errors import IndexerError
from .metadata import COLUMNS, METADATA_FILE
from .publications import Report, on_server, read_provider_page
from .reading import file_checksum
from .settings import OFSTED_REPORTS_URL, Settings

RECORD_FILE = ".fetched.csv"
RECORD_COLUMNS = ("file", "url", "bytes", "sha256", "fetched_at")
MAX_WAIT = 300.0  # seconds: the longest a Retry-After is obeyed before trying again
CHUNK = 1 << 16
PROVIDER_PAGE = "/provider/44/{urn}"  # an authority's page on Ofsted's report site (44: children's services)


def _version() -> str:
    try:
        return package_metadata.version("ofsted-search")
    except package_metadata.PackageNotFoundError:
        return "dev"


USER_AGENT = (f"ofsted-search/{_version()} (children's social care inspection search; fetches published "
              f"reports one at a time; Python-urllib)")


class Fault(Exception):
    """One try that went wrong, named: 'HTTP 429 Too Many Requests', 'truncated: 1000 of 2000 bytes'."""

    def __init__(self, name: str, reason: str, retry: bool, wait: float = 0.0, connection: bool = False):
        self.name, self.reason, self.retry, self.wait, self.connection = name, reason, retry, wait, connection
        self.survived: list[Fault] = []  # the faults of earlier tries, when this is the last
        super().__init__(reason)


class OfflineError(IndexerError):
    """Ofsted's servers cannot be reached at all: no network, or a wrong address in the settings."""


@dataclass
class Outcome:
    """What became of one report."""

    report: Report
    file: str
    status: str  # fetched | skipped | failed | not tried
    detail: str = ""
    size: int = 0
    survived: list[Fault] = field(default_factory=list)  # faults a retry got past
    fault: Fault | None = None  # why it failed


class Client:
    """HTTP to Ofsted with the standard library: one request at a time, paused, retried, checked."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.sleep = sleep
        self.requests = 0
        self.reached = False  # some server answered: a connection failure after that is not "offline"

    def page(self, url: str) -> str:
        """An HTML page's text."""
        body, _ = self._retrying(url, self._page_once)
        return body

    def download(self, url: str, target: Path) -> tuple[int, str, str, list[Fault]]:
        """Fetch a PDF to `target`: (bytes, sha256, the address it came from, faults survived)."""
        (size, digest, final), survived = self._retrying(url, lambda address: self._download_once(address, target))
        return size, digest, final, survived

    def _retrying(self, url: str, once):
        survived: list[Fault] = []
        tries = max(1, self.settings.fetch_tries)
        for attempt in range(1, tries + 1):
            try:
                return once(url), survived
            except Fault as fault:
                if fault.connection and not self.reached:
                    host = urlsplit(url).netloc or url
                    raise OfflineError(f"cannot reach {host} ({fault.reason.removeprefix('cannot connect: ')}): "
                                       f"offline? Nothing was fetched; --dry-run lists what would be") from None
                if not fault.retry or attempt == tries:
                    if attempt > 1:
                        fault.reason += f" ({attempt} tries)"
                    fault.survived = survived
                    raise fault
                survived.append(fault)
                backoff = self.settings.fetch_backoff * 2 ** (attempt - 1)
                self.sleep(min(MAX_WAIT, max(backoff, fault.wait)))
        raise AssertionError("unreachable")

    def _open(self, url: str, accept: str):
        if self.requests:
            self.sleep(self.settings.fetch_pause)
        self.requests += 1
        request = Request(url, headers={"User-Agent": USER_AGENT, "Accept": accept})
        try:
            response = urlopen(request, timeout=self.settings.fetch_timeout)
        except HTTPError as error:
            self.reached = True
            wait = retry_after(error.headers.get("Retry-After"))
            error.close()
            raise Fault(f"HTTP {error.code}", f"HTTP {error.code} {error.reason}",
                        retry=error.code == 429 or error.code >= 500, wait=wait) from None
        except (URLError, OSError) as error:  # refused, no such host, timed out, reset
            reason = getattr(error, "reason", None) or error
            raise Fault("connection", f"cannot connect: {reason}", retry=True, connection=True) from None
        self.reached = True
        return response

    def _page_once(self, url: str) -> str:
        with self._open(url, "text/html") as response:
            try:
                body = response.read()
            except OSError as error:
                raise Fault("connection", f"connection broke off: {error}", retry=True, connection=True) from None
            return body.decode(response.headers.get_content_charset() or "utf-8", errors="replace")

    def _download_once(self, url: str, target: Path) -> tuple[int, str, str]:
        part = target.with_name(f".{target.name}.part")
        try:
            with self._open(url, "application/pdf") as response:
                expected = response.headers.get("Content-Length")
                served_as = response.headers.get_content_type()
                digest, size, head, tail = hashlib.sha256(), 0, b"", b""
                with open(part, "wb") as out:
                    while True:
                        try:
                            chunk = response.read(CHUNK)
                        except OSError as error:
                            raise Fault("connection", f"connection broke off after {size} bytes: {error}",
                                        retry=True, connection=True) from None
                        if not chunk:
                            break
                        out.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                        head = (head + chunk)[:1024] if len(head) < 1024 else head
                        tail = (tail + chunk)[-1024:]
                final = response.geturl()
            check_pdf(size, expected, served_as, head, tail)
            os.replace(part, target)
            return size, digest.hexdigest(), final
        finally:
            part.unlink(missing_ok=True)


def check_pdf(size: int, expected: str | None, served_as: str, head: bytes, tail: bytes) -> None:
    """Raise a named Fault unless the bytes are a whole PDF."""
    if expected is not None and expected.strip().isdigit() and size != int(expected):
        raise Fault("truncated", f"truncated: {size} of {int(expected)} bytes", retry=True)
    if not size:
        raise Fault("empty", "empty response", retry=True)
    if not head.startswith(b"%PDF-"):
        if served_as in ("text/html", "application/xhtml+xml") or head.lstrip()[:1] == b"<":
            raise Fault("HTML page", f"an HTML page, not a PDF (served as {served_as})", retry=True)
        raise Fault("not a PDF", f"not a PDF (it begins {head[:12]!r}, served as {served_as})", retry=True)
    if b"%%EOF" not in tail:
        raise Fault("incomplete PDF", "incomplete PDF: no %%EOF at the end", retry=True)


def retry_after(value: str | None) -> float:
    """Seconds a Retry-After header asks for (delay or HTTP date); 0 when there is none."""
    if not value:
        return 0.0
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return 0.0


def read_provider_pages(client: Client, authorities: list[Authority],
                        log: Callable[[str], None] = print) -> tuple[list[Report], list[str]]:
    """Every report the authorities' provider pages list, and a line per page that could not be read."""
    base = client.settings.ofsted_reports_url.rstrip("/")
    found, problems = [], []
    for authority in authorities:
        if not authority.ofsted_urn:
            continue
        url = base + PROVIDER_PAGE.format(urn=authority.ofsted_urn)
        try:
            html = client.page(url)
        except Fault as fault:
            problems.append(f"provider page of {authority.name} ({url}): {fault.reason}")
            if fault.connection:
                break
            continue
        public = OFSTED_REPORTS_URL + PROVIDER_PAGE.format(urn=authority.ofsted_urn)  # links are resolved as there
        listed = read_provider_page(html, authority, public)
        found += listed
        log(f"read     provider page of {authority.name}: {len(listed)} reports and letters")
    return found, problems


def fetch_all(reports: list[Report], names: dict[str, str], folder: Path, client: Client, *,
              progress: bool = True, log: Callable[[str], None] | None = None,
              verbose: bool = False) -> list[Outcome]:
    """Fetch what is not already in `folder`, record each file, and say what became of every report.

    Offline (no server answers the first request) it raises OfflineError having written nothing. A
    connection lost later ends the run: the reports after it are "not tried".
    """
    from tqdm import tqdm

    record = read_record(folder)
    outcomes: list[Outcome] = []
    new_folders = [path for path in (folder, *folder.parents) if not path.exists()]
    try:
        with tqdm(total=len(reports), unit="file", desc="Fetching", disable=None if progress else True) as bar:
            for at, report in enumerate(reports):
                outcome = _fetch_one(report, names[report.file_id], folder, client, record)
                outcomes.append(outcome)
                if outcome.status != "skipped" or verbose:
                    (log or bar.write)(describe(outcome))
                bar.update()
                if outcome.fault is not None and outcome.fault.connection:
                    outcomes += [Outcome(later, names[later.file_id], "not tried", "the connection was lost")
                                 for later in reports[at + 1:]]  # the rest would only fail slowly
                    break
    except OfflineError:
        for path in new_folders:  # offline is a no-op: not even an empty folder is left behind
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        raise
    return outcomes


def _fetch_one(report: Report, name: str, folder: Path, client: Client, record: dict[str, dict]) -> Outcome:
    """Skip, fetch or fail one report; a file fetched or kept gets its rows in the folder's records."""
    target = folder / name
    kept = already_there(target, record.get(name))
    if kept:
        outcome = Outcome(report, name, "skipped", kept, target.stat().st_size)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        address = on_server(report.url, client.settings.ofsted_files_url)
        try:
            size, digest, final, survived = client.download(address, target)
        except Fault as fault:
            detail = fault.reason + ("; the file already there is kept" if target.is_file() else "")
            return Outcome(report, name, "failed", detail, survived=fault.survived, fault=fault)
        record[name] = {"file": name, "url": report.url, "bytes": str(size), "sha256": digest,
                        "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        write_record(folder, record)
        notes = [f"after {fault.reason}" for fault in survived]
        if final != address:
            notes.append(f"redirected to {final}")
        outcome = Outcome(report, name, "fetched", "; ".join(notes), size, survived)
    write_metadata(folder, {name: metadata_row(report, name)})
    return outcome


def describe(outcome: Outcome) -> str:
    """One line for a report: 'fetched  oldham-2024-07-12-inspection.pdf (208 kB; after HTTP 429 …)'."""
    if outcome.status == "fetched":
        notes = f"; {outcome.detail}" if outcome.detail else ""
        return f"fetched  {outcome.file} ({outcome.size / 1000:.0f} kB{notes})"
    return f"{outcome.status:<8} {outcome.file}: {outcome.detail}"


def already_there(path: Path, entry: dict | None) -> str | None:
    """Why the file at `path` needs no download, or None: its recorded size and sha256, or a whole PDF."""
    if not path.is_file():
        return None
    if entry:
        same = entry.get("bytes") == str(path.stat().st_size) and entry.get("sha256") == file_checksum(path)
        return "already there (size and checksum as fetched)" if same else None
    with open(path, "rb") as handle:
        head = handle.read(8)
        handle.seek(max(0, path.stat().st_size - 1024))
        tail = handle.read()
    return "already there (a whole PDF not fetched by this tool: kept)" if head.startswith(b"%PDF-") \
        and b"%%EOF" in tail else None


def metadata_row(report: Report, name: str) -> dict[str, str]:
    """The metadata.csv row that files a fetched report: what the text cannot say for sure, or says otherwise."""
    return {"file": name, "authority": report.authority, "doc_type": report.doc_type, "date": report.published,
            "source": "Ofsted", "url": report.url}


def read_record(folder: Path) -> dict[str, dict[str, str]]:
    """The folder's .fetched.csv rows by file name ({} when there is none)."""
    path = folder / RECORD_FILE
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle) if row.get("file")}


def write_record(folder: Path, record: dict[str, dict[str, str]]) -> None:
    """Write .fetched.csv, sorted by file name."""
    _write_csv(folder / RECORD_FILE, list(RECORD_COLUMNS), [record[name] for name in sorted(record)])


def write_metadata(folder: Path, rows: dict[str, dict[str, str]]) -> None:
    """Put `rows` into the folder's metadata.csv: a fetched report's cells replace its old ones (a blank
    one keeps what is there); other rows and columns stay as they were."""
    path = folder / METADATA_FILE
    existing: list[dict[str, str]] = []
    header: list[str] = ["file"]
    if path.is_file():
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or header)
            existing = [dict(row) for row in reader]
    by_file = {row.get("file"): row for row in existing}
    for name, row in rows.items():
        if name not in by_file:
            by_file[name] = {"file": name}
            existing.append(by_file[name])
        by_file[name].update({key: value for key, value in row.items() if value})
    used = set(header) | {key for row in existing for key in row if key}
    header = [column for column in COLUMNS if column in used] + [column for column in header if column not in COLUMNS]
    _write_csv(path, header, existing)


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    """Write a CSV atomically, and only when its content changes (a build then sees nothing new)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows({key: value or "" for key, value in row.items()} for row in rows)
    text = buffer.getvalue()
    if path.is_file() and path.read_text(encoding="utf-8-sig") == text:
        return
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
