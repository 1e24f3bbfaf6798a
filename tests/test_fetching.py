"""`fetch`: Ofsted's reports downloaded from a local server that behaves like Ofsted's, faults and all."""

from __future__ import annotations

import csv
import json
import socket

import pytest

from indexer import cli, embedding
from indexer.authorities import authorities_in_region, find_authority
from indexer.embedding import HashingEmbedder
from indexer.errors import IndexerError
from indexer.fetching import USER_AGENT, Client, Fault, check_pdf, write_metadata
from indexer.metadata import read_metadata_file
from indexer.publications import choose, file_names, load_reports, read_provider_page
from indexer.settings import Settings

from .conftest import TEST_DATA, write_files
from .ofsted_server import OfstedServer, html_as_pdf, oldham_routes, page, pdf, status

OLDHAM = ["oldham-2015-08-03-inspection.pdf", "oldham-2019-03-04-inspection.pdf", "oldham-2024-07-12-inspection.pdf"]
PDF_2024 = (TEST_DATA / "oldham-2024-07-12.pdf").read_bytes()
PDF_2019 = (TEST_DATA / "oldham-2019-03-04.pdf").read_bytes()
# Oldham's provider page, shaped like reports.ofsted.gov.uk/provider/44/80535: a timeline of publications,
# each a link to the file service whose hidden text says what and when.
PROVIDER_PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>Oldham Metropolitan Borough Council - Find an Inspection Report - Ofsted</title></head>
<body><main id="main-content">
<h1 class="heading--title">Oldham Metropolitan Borough Council</h1>
<p>URN: 80535</p><p>Local authority children's services</p>
<a href="https://www.gov.uk/government/organisations/ofsted">Ofsted</a>
<a href="https://files.ofsted.gov.uk/v1/file/50000001">Guide to the inspection framework</a>
<h2>Reports</h2>
<ul class="timeline">
 <li class="timeline__day"><p class="timeline__date"><time datetime="2026-01-20">20 January 2026</time></p>
  <a class="publication-link" href="https://files.ofsted.gov.uk/v1/file/50300001" target="_blank">
   Children's services inspection <span class="nonvisual">Children's services inspection - 20 January 2026, pdf</span></a></li>
 <li class="timeline__day"><p class="timeline__date"><time datetime="2024-07-12">12 July 2024</time></p>
  <a class="publication-link" href="https://files.ofsted.gov.uk/v1/file/50252252" target="_blank">
   Children's services inspection <span class="nonvisual">Children's services inspection - 12 July 2024, pdf</span></a></li>
 <li class="timeline__day"><p class="timeline__date"><time datetime="2022-06-10">10 June 2022</time></p>
  <a class="publication-link" href="https://files.ofsted.gov.uk/v1/file/50190001" target="_blank">
   Focused visit <span class="nonvisual">Focused visit - 10 June 2022, pdf</span></a></li>
 <li class="timeline__day"><p class="timeline__date">Published: 3 March 2021</p>
  <a class="publication-link" href="/v1/file/50160001">Monitoring visit letter</a></li>
 <li class="timeline__day"><p class="timeline__date"><time datetime="2013-08-16">16 August 2013</time></p>
  <a class="publication-link" href="https://files.ofsted.gov.uk/v1/file/2200001" target="_blank">
   Children's services inspection <span class="nonvisual">Children's services inspection,  PDF - 16 August 2013</span></a></li>
</ul></main></body></html>
"""


@pytest.fixture
def fetch_env(tmp_path, monkeypatch):
    """Run `fetch` against a server: yields a function that starts one with these routes."""
    servers = []

    def start(routes):
        server = OfstedServer(routes).__enter__()
        servers.append(server)
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        return server

    yield start
    for server in servers:
        server.__exit__()


def run(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(["fetch", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_oldham_is_fetched_named_and_recorded_surviving_every_fault_and_a_second_run_fetches_nothing(
        fetch_env, tmp_path, capsys):
    server = fetch_env(oldham_routes())
    folder = tmp_path / "reports" / "oldham"
    code, out, err = run(capsys, "--authority", "Oldham", "--into", str(folder))
    assert (code, err) == (0, "")
    assert sorted(path.name for path in folder.iterdir()) == [".fetched.csv", "metadata.csv", *OLDHAM]
    assert (folder / "oldham-2024-07-12-inspection.pdf").read_bytes() == PDF_2024
    assert (folder / "oldham-2019-03-04-inspection.pdf").read_bytes() == PDF_2019
    lines = out.splitlines()
    assert lines[0] == ("fetched  oldham-2015-08-03-inspection.pdf (508 kB; after truncated: 253829 of 507659 bytes; "
                        "after an HTML page, not a PDF (served as application/pdf))")
    assert lines[1] == (f"fetched  oldham-2019-03-04-inspection.pdf (269 kB; after HTTP 500 Internal Server Error; "
                        f"redirected to {server.url}/storage/50059651/oldham-2019-03-04.pdf)")
    assert lines[2] == "fetched  oldham-2024-07-12-inspection.pdf (208 kB; after HTTP 429 Too Many Requests)"
    assert lines[3] == ("Fetched 3, skipped 0 already there, failed 0; survived by retrying: HTML page ×1, "
                        f"HTTP 429 ×1, HTTP 500 ×1, truncated ×1; 1 redirect followed. Folder: {folder}")
    assert len(server.requests) == 8 and {agent for _, agent in server.requests} == {USER_AGENT}

    rows = read_metadata_file(folder)  # the build's own reader
    assert rows["oldham-2024-07-12-inspection.pdf"] == {
        "file": "oldham-2024-07-12-inspection.pdf", "authority": "Oldham", "doc_type": "inspection report",
        "date": "2024-07-12", "source": "Ofsted", "url": "https://files.ofsted.gov.uk/v1/file/50252252"}
    assert [rows[name]["date"] for name in OLDHAM] == ["2015-08-03", "2019-03-04", "2024-07-12"]

    before = len(server.requests)
    metadata = (folder / "metadata.csv").read_bytes()
    code, out, _ = run(capsys, "--authority", "Oldham", "--into", str(folder))
    assert code == 0 and len(server.requests) == before  # not one request
    assert out.splitlines()[0] == f"Fetched 0, skipped 3 already there, failed 0. Folder: {folder}"
    assert (folder / "metadata.csv").read_bytes() == metadata


def test_the_fetched_folder_is_built_with_the_metadata_it_was_given(fetch_env, tmp_path, monkeypatch, capsys):
    fetch_env(oldham_routes())
    folder = tmp_path / "oldham"
    assert cli.main(["fetch", "--authority", "Oldham", "--into", str(folder), "--since", "2019"]) == 0
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    monkeypatch.setattr(embedding, "load_embedder", lambda settings=None: HashingEmbedder())
    index = str(tmp_path / "index")
    assert cli.main(["build", "--corpus", str(folder), "--index", index, "--if-stale", "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["documents", "--json", "--index", index]) == 0
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(d["authority"], d["doc_type"], d["date"], d["source"], d["url"], d["inspection_start"])
            for d in documents] == [
        ("Oldham", "inspection report", "2019-03-04", "Ofsted", "https://files.ofsted.gov.uk/v1/file/50059651",
         "2019-01-21"),
        ("Oldham", "inspection report", "2024-07-12", "Ofsted", "https://files.ofsted.gov.uk/v1/file/50252252",
         "2024-05-13")]
    assert cli.main(["build", "--corpus", str(folder), "--index", index, "--if-stale"]) == 0
    assert "is up to date" in capsys.readouterr().out


def test_what_keeps_failing_is_named_and_never_replaces_a_good_file(fetch_env, tmp_path, capsys):
    server = fetch_env({"/v1/file/50252252": [html_as_pdf()], "/v1/file/50059651": [status(503)],
                        "/v1/file/50004301": [status(404)]})
    folder = write_files(tmp_path / "oldham", {"oldham-2024-07-12-inspection.pdf": b"%PDF-1.7 a file of mine\n%%EOF",
                                               ".fetched.csv": "file,url,bytes,sha256,fetched_at\n"
                                               "oldham-2024-07-12-inspection.pdf,x,1,0,\n"})
    code, out, _ = run(capsys, "--authority", "Oldham", "--into", str(folder))
    assert code == 1
    assert (folder / "oldham-2024-07-12-inspection.pdf").read_bytes() == b"%PDF-1.7 a file of mine\n%%EOF"
    assert not (folder / "oldham-2019-03-04-inspection.pdf").exists()
    assert [path.name for path in folder.iterdir() if path.name.endswith(".part")] == []
    assert "failed   oldham-2015-08-03-inspection.pdf: HTTP 404 Not Found" in out.splitlines()
    assert "failed   oldham-2019-03-04-inspection.pdf: HTTP 503 Service Unavailable (4 tries)" in out.splitlines()
    assert ("failed   oldham-2024-07-12-inspection.pdf: an HTML page, not a PDF (served as application/pdf) "
            "(4 tries); the file already there is kept") in out.splitlines()
    assert f"Fetched 0, skipped 0 already there, failed 3. Folder: {folder}" in out.splitlines()
    assert "Failed (run the same command again to retry them; what is there is kept):" in out
    assert server.paths().count("/v1/file/50004301") == 1  # a 404 is not asked again


def test_offline_is_one_clear_line_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    with socket.socket() as probe:  # a port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("INDEXER_OFSTED_FILES_URL", f"http://127.0.0.1:{port}")
    code, out, err = run(capsys, "--authority", "Oldham", "--into", str(tmp_path / "new" / "oldham"))
    assert (code, out) == (2, "")
    assert err.startswith(f"error: cannot reach 127.0.0.1:{port} (") and err.count("\n") == 1
    assert "offline? Nothing was fetched" in err
    assert not (tmp_path / "new").exists()


def test_an_interrupted_run_resumes_with_what_is_missing(fetch_env, tmp_path, capsys):
    server = fetch_env(oldham_routes())
    folder = tmp_path / "oldham"
    assert cli.main(["fetch", "--authority", "Oldham", "--into", str(folder), "--since", "2024"]) == 0
    write_files(folder, {".oldham-2019-03-04-inspection.pdf.part": PDF_2019[:1000],  # left by a killed run
                         "oldham-2015-08-03-inspection.pdf": PDF_2019[:5000]})  # cut short, unrecorded
    capsys.readouterr()
    before = len(server.requests)
    code, out, _ = run(capsys, "--authority", "Oldham", "--into", str(folder), "--verbose")
    assert code == 0
    assert "skipped  oldham-2024-07-12-inspection.pdf: already there (size and checksum as fetched)" in out
    assert "/v1/file/50252252" not in server.paths()[before:]
    assert (folder / OLDHAM[0]).read_bytes() == (TEST_DATA / "oldham-2015-08-03.pdf").read_bytes()
    assert (folder / "oldham-2019-03-04-inspection.pdf").read_bytes() == PDF_2019
    assert sorted(read_metadata_file(folder)) == OLDHAM


def test_dry_run_lists_what_it_would_fetch_and_asks_for_nothing(fetch_env, tmp_path, capsys):
    server = fetch_env(oldham_routes())
    code, out, _ = run(capsys, "--authority", "oldham", "--since", "2019", "--dry-run", "--into", str(tmp_path / "o"))
    assert code == 0 and server.requests == [] and not (tmp_path / "o").exists()
    assert out.splitlines() == [
        "would get oldham-2019-03-04-inspection.pdf  Children's services inspection, published 2019-03-04  "
        "https://files.ofsted.gov.uk/v1/file/50059651",
        "would get oldham-2024-07-12-inspection.pdf  Children's services inspection, published 2024-07-12  "
        "https://files.ofsted.gov.uk/v1/file/50252252",
        "2 reports; nothing was downloaded (--dry-run).",
    ]


def test_refresh_reads_the_provider_page_for_newer_reports_and_letters(fetch_env, tmp_path, capsys):
    server = fetch_env({"/provider/44/80535": [page(PROVIDER_PAGE)], "/v1/file/50300001": [pdf(PDF_2024)],
                        "/v1/file/50252252": [pdf(PDF_2024)], "/v1/file/50190001": [pdf(PDF_2019)]})
    folder = tmp_path / "oldham"
    code, out, _ = run(capsys, "--authority", "Oldham", "--refresh", "--kind", "all", "--since", "2022",
                       "--into", str(folder))
    assert code == 0, out
    assert out.splitlines()[:2] == ["read     provider page of Oldham: 5 reports and letters",
                                    "Provider pages list 4 reports and letters the register does not."]
    assert server.paths()[0] == "/provider/44/80535"
    rows = read_metadata_file(folder)
    assert {name: (row["doc_type"], row["date"], row["url"]) for name, row in rows.items()} == {
        "oldham-2022-06-10-focused-visit.pdf": ("focused visit letter", "2022-06-10",
                                                "https://files.ofsted.gov.uk/v1/file/50190001"),
        "oldham-2024-07-12-inspection.pdf": ("inspection report", "2024-07-12",
                                             "https://files.ofsted.gov.uk/v1/file/50252252"),
        "oldham-2026-01-20-inspection.pdf": ("inspection report", "2026-01-20",
                                             "https://files.ofsted.gov.uk/v1/file/50300001"),
    }


def test_a_provider_page_gives_each_publication_its_title_date_and_kind():
    found = read_provider_page(PROVIDER_PAGE, find_authority("Oldham"),
                               "https://reports.ofsted.gov.uk/provider/44/80535")
    assert [(r.file_id, r.title, r.published, r.kind, r.doc_type, r.base_name) for r in found] == [
        ("50300001", "Children's services inspection", "2026-01-20", "inspection", "inspection report",
         "oldham-2026-01-20-inspection.pdf"),
        ("50252252", "Children's services inspection", "2024-07-12", "inspection", "inspection report",
         "oldham-2024-07-12-inspection.pdf"),
        ("50190001", "Focused visit", "2022-06-10", "letter", "focused visit letter",
         "oldham-2022-06-10-focused-visit.pdf"),
        ("50160001", "Monitoring visit letter", "2021-03-03", "letter", "monitoring visit letter",
         "oldham-2021-03-03-monitoring-visit.pdf"),
        ("2200001", "Children's services inspection", "2013-08-16", "inspection", "inspection report",
         "oldham-2013-08-16-inspection.pdf"),
    ]
    assert found[3].url == "https://reports.ofsted.gov.uk/v1/file/50160001"  # a relative link, made whole


def test_the_client_pauses_between_requests_backs_off_and_obeys_retry_after(tmp_path):
    waits = []
    with OfstedServer({"/v1/file/1": [status(429, {"Retry-After": "7"}), status(500), pdf(PDF_2024)]}) as server:
        settings = Settings(fetch_pause=0.5, fetch_backoff=2.0, fetch_tries=3)
        size, _, _, survived = Client(settings, sleep=waits.append).download(server.url + "/v1/file/1",
                                                                             tmp_path / "x.pdf")
    assert waits == [7.0, 0.5, 4.0, 0.5]  # Retry-After; pause; back-off doubled; pause
    assert size == len(PDF_2024) and [fault.name for fault in survived] == ["HTTP 429", "HTTP 500"]


@pytest.mark.parametrize(("size", "expected", "served_as", "head", "tail", "named"), [
    (10, "20", "application/pdf", b"%PDF-1.4", b"%%EOF", "truncated"),
    (0, None, "application/pdf", b"", b"", "empty"),
    (90, "90", "application/pdf", b"<!DOCTYPE html><html>", b"</html>", "HTML page"),
    (90, None, "text/html", b"Sorry", b"", "HTML page"),
    (90, None, "application/octet-stream", b"PK\x03\x04", b"", "not a PDF"),
    (90, None, "application/pdf", b"%PDF-1.4", b"endobj\n", "incomplete PDF"),
])
def test_what_is_not_a_whole_pdf_is_named(size, expected, served_as, head, tail, named):
    with pytest.raises(Fault) as fault:
        check_pdf(size, expected, served_as, head, tail)
    assert fault.value.name == named and fault.value.retry
    check_pdf(90, "90", "application/pdf", b"%PDF-1.7\n", b"startxref\n123\n%%EOF\n")  # a whole one passes


def test_the_register_lists_every_published_inspection_with_unique_readable_names():
    reports = load_reports()
    assert len(reports) == 497 and len({report.authority for report in reports}) == 153
    names = file_names(list(reports))
    assert len(set(names.values())) == 497
    oldham = choose(list(reports), [find_authority("Oldham")], None, "inspection")
    assert [names[report.file_id] for report in oldham] == OLDHAM
    assert choose(list(reports), [find_authority("Oldham")], "2019", "letters") == []
    assert {report.authority for report in choose(list(reports), list(authorities_in_region("london")), "2025",
                                                  "all")} <= {a.name for a in authorities_in_region("London")}


def test_a_misspelt_authority_or_region_is_answered_with_the_nearest_names(capsys):
    code, out, err = run(capsys, "--authority", "Oldam", "--dry-run")
    assert (code, out, err) == (2, "", "error: no English local authority is called 'Oldam'; did you mean Oldham?\n")
    with pytest.raises(IndexerError, match="did you mean Oldham"):
        find_authority("Oldam")
    with pytest.raises(IndexerError, match="did you mean North West"):
        authorities_in_region("Nort West")


def test_rows_of_the_metadata_file_that_fetch_does_not_own_are_kept(tmp_path):
    folder = write_files(tmp_path, {"metadata.csv": "file,title,date\nplan.txt,Our plan,2020\n"
                                                    "oldham-2024-07-12-inspection.pdf,Oldham ILACS 2024,\n"})
    write_metadata(folder, {"oldham-2024-07-12-inspection.pdf": {"file": "oldham-2024-07-12-inspection.pdf",
                                                                 "authority": "Oldham", "doc_type": "",
                                                                 "date": "2024-07-12", "source": "Ofsted"}})
    with open(folder / "metadata.csv", encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["file", "title", "authority", "date", "source"], ["plan.txt", "Our plan", "", "2020", ""],
            ["oldham-2024-07-12-inspection.pdf", "Oldham ILACS 2024", "Oldham", "2024-07-12", "Ofsted"]]
    assert read_metadata_file(folder)["oldham-2024-07-12-inspection.pdf"]["title"] == "Oldham ILACS 2024"
