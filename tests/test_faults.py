"""Fault injection: bad files, concurrent writers, full disks, corrupt indexes and hostile input never lose work.

Each test here is one case of a sweep of bad input, concurrency and faults (issue 14). A build must skip
what it cannot read with a reason, never lose what another writer indexed, leave no partial folder, and
every command must say what is wrong in a line instead of a traceback.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from indexer import building, cli, embedding, reading, store
from indexer.building import build_index, stale_reasons
from indexer.embedding import HashingEmbedder
from indexer.errors import IndexerError
from indexer.settings import PROJECT_ROOT

from .conftest import write_files

GOOD = ("Inspection of Exampleton children's social care services\n\n"
        "31. Some young people have pathway plans that lack ambition and are not reviewed often enough.\n\n"
        "32. Independent reviewing officers do not challenge drift in children's plans.\n")
OTHER = ("Exampleton improvement plan\n\n"
         "1.1 Every care leaver will have a pathway plan reviewed at least every six months by a personal adviser.\n")


def fake_cli(monkeypatch, index) -> None:
    """CLI commands run with the fake embedder against `index`."""
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    monkeypatch.setenv("INDEXER_INDEX", str(index))
    monkeypatch.setattr(embedding, "load_embedder", lambda settings=None: HashingEmbedder())


def build(folder: Path, settings, embedder=None, **kwargs):
    return build_index([folder], settings.index, embedder or HashingEmbedder(), settings, progress=False,
                       log=lambda *_: None, **kwargs)


def texts_of(settings) -> str:
    return "\n".join(passage.text for passage in store.load_index(settings.index, settings).passages)


def docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def with_document_xml(good: bytes, xml: bytes) -> bytes:
    """A copy of a .docx whose word/document.xml is replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, xml if item.filename == "word/document.xml" else source.read(item.filename))
    return out.getvalue()


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'.encode()
                     for n in range(1, 10))
          + f']><w:document {W}><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'.encode())


# --- 1 and 6: Word files that are broken or expand without limit ------------------------------------


@pytest.mark.parametrize("case", ["malformed", "deeply nested", "billion laughs", "huge text node"])
def test_a_broken_docx_is_skipped_with_a_reason_and_the_rest_is_indexed(tmp_path, settings, case):
    good = docx_bytes(["A paragraph of a Word document about pathway plans."])
    xml = {
        "malformed": f"<w:document {W}><w:body><w:p><w:r><w:t>cut off".encode(),
        "deeply nested": f"<w:document {W}><w:body>".encode() + b"<w:p>" * 300_000 + b"</w:p>" * 300_000
                         + b"</w:body></w:document>",
        "billion laughs": LAUGHS,
        "huge text node": f"<w:document {W}><w:body><w:p><w:r><w:t>".encode() + b"a" * 12_000_000
                          + b"</w:t></w:r></w:p></w:body></w:document>",
    }[case]
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD, "broken.docx": with_document_xml(good, xml)})
    report = build(corpus, settings)
    assert [Path(path).name for path, _, _ in report.documents] == ["good.txt"]
    assert [Path(path).name for path, _ in report.skipped] == ["broken.docx"]
    assert "lol" * 1000 not in texts_of(settings)


def test_a_docx_that_expands_past_the_limit_is_refused_before_it_is_parsed(tmp_path, settings, monkeypatch):
    monkeypatch.setattr(reading, "MAX_EXPANDED_BYTES", 1_000_000)
    many = docx_bytes([f"Paragraph {n} of a very long Word file." for n in range(40_000)])
    assert len(many) < 1_000_000
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD, "bomb.docx": many})
    report = build(corpus, settings)
    (path, reason), = report.skipped
    assert path.endswith("bomb.docx") and "expands to" in reason and "limit" in reason


def test_a_file_that_reads_for_too_long_is_skipped(tmp_path, settings, monkeypatch):
    calls = iter(range(10**6))  # a clock on which each look takes a second: 3 for the text file, 200 for the .docx
    monkeypatch.setattr(reading._Clock, "now", staticmethod(lambda: next(calls)))
    monkeypatch.setattr(reading, "MAX_READ_SECONDS", 50.0)
    corpus = write_files(tmp_path / "corpus", {"slow.docx": docx_bytes(["One.", "Two."] * 100), "good.txt": GOOD})
    report = build(corpus, settings)
    (path, reason), = report.skipped
    assert path.endswith("slow.docx") and "seconds" in reason


def test_an_unexpected_reader_failure_skips_that_file_only(tmp_path, settings, monkeypatch):
    def explode(path, data, clock):
        raise RuntimeError("the library fell over")

    monkeypatch.setitem(reading.READERS, ".html", explode)
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD, "page.html": "<p>Some text.</p>"})
    report = build(corpus, settings)
    (path, reason), = report.skipped
    assert path.endswith("page.html") and "the library fell over" in reason


# --- 2: two writers at once ------------------------------------------------------------------------


def _hold_lock(index: str, ready, release) -> None:
    with building.build_lock(Path(index)):
        ready.set()
        release.wait(30)


def test_a_second_writer_is_refused_while_a_build_holds_the_lock(tmp_path, monkeypatch, capsys):
    import multiprocessing

    index = tmp_path / "index"
    fake_cli(monkeypatch, index)
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD})
    extra = write_files(tmp_path / "extra", {"plan.txt": OTHER})
    assert cli.main(["build", "--corpus", str(corpus), "--quiet"]) == 0
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(index), ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        capsys.readouterr()
        assert cli.main(["add", str(extra / "plan.txt"), "--quiet"]) == 2
        message = capsys.readouterr().err
        assert f"another build is running (pid {holder.pid}, since " in message and "--wait" in message
        threading.Timer(1.0, release.set).start()
        assert cli.main(["add", str(extra / "plan.txt"), "--quiet", "--wait"]) == 0
    finally:
        release.set()
        holder.join(30)
    assert cli.main(["build", "--corpus", str(corpus), "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["documents", "--json"]) == 0
    assert sorted(json.loads(line)["doc_id"] for line in capsys.readouterr().out.splitlines()) == ["good", "plan"]


def test_a_writer_that_waited_plans_from_the_index_the_other_writer_left(tmp_path, monkeypatch, capsys):
    """`add` during a long build: when the build ends, the add is planned again from its manifest."""
    index = tmp_path / "index"
    fake_cli(monkeypatch, index)
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD})
    extra = write_files(tmp_path / "extra", {"plan.txt": OTHER, "letter.txt": GOOD.replace("31.", "41.")})
    assert cli.main(["build", "--corpus", str(corpus), "--quiet"]) == 0
    started, finished = threading.Event(), []
    real = building.build_index

    def slow_build(*args, **kwargs):
        started.set()
        time.sleep(1.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(building, "build_index", slow_build)
    first = threading.Thread(target=lambda: finished.append(
        cli.main(["add", str(extra / "letter.txt"), "--quiet"])))
    first.start()
    assert started.wait(30)
    monkeypatch.setattr(building, "build_index", real)
    assert cli.main(["add", str(extra / "plan.txt"), "--quiet", "--wait"]) == 0
    first.join(30)
    assert finished == [0]
    capsys.readouterr()
    cli.main(["documents", "--json"])
    assert sorted(json.loads(line)["doc_id"] for line in capsys.readouterr().out.splitlines()) == [
        "good", "letter", "plan"]


# --- 3: file names that are not UTF-8, or hold newlines -----------------------------------------------


def test_a_file_name_that_is_not_utf8_is_skipped_by_name_and_the_build_completes(tmp_path, settings, capsys,
                                                                                 monkeypatch):
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD})
    with open(os.path.join(os.fsencode(corpus), b"caf\xe9.txt"), "wb") as handle:
        handle.write(OTHER.encode())
    report = build(corpus, settings)
    assert [Path(path).name for path, _, _ in report.documents] == ["good.txt"]
    (path, reason), = report.skipped
    assert "caf\\xe9.txt" in path and "not valid UTF-8" in reason
    assert not [p for p in (settings.index / "builds").iterdir() if p.name.startswith(".incomplete")]
    assert stale_reasons([corpus], settings.index, settings) == []
    fake_cli(monkeypatch, settings.index)
    assert cli.main(["build", "--corpus", str(corpus), "--quiet"]) == 0
    out = capsys.readouterr().out
    out.encode("utf-8")  # printable
    assert "caf\\xe9.txt" in out


def test_a_newline_in_a_file_name_is_printed_escaped(tmp_path, monkeypatch, capsys):
    fake_cli(monkeypatch, tmp_path / "index")
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD, "bad\nname.xyz": "x"})
    assert cli.main(["build", "--corpus", str(corpus), "--quiet"]) == 0
    skipped = [line for line in capsys.readouterr().out.splitlines() if line.startswith("skipped")]
    assert len(skipped) == 1 and "bad\\nname.xyz" in skipped[0]


# --- 4: a full disk -------------------------------------------------------------------------------------


def test_a_full_disk_says_so_and_leaves_no_partial_build(tmp_path, settings, monkeypatch):
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD})
    first = build(corpus, settings).build
    write_files(corpus, {"plan.txt": OTHER})
    real_save = np.save

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.np, "save", full)
    with pytest.raises(IndexerError, match=r"disk full at .*: need about \d+ MB"):
        build(corpus, settings)
    assert [path.name for path in (settings.index / "builds").iterdir()] == [first.name]
    assert store.current_build(settings.index) == first
    monkeypatch.setattr(store.np, "save", real_save)
    assert len(build(corpus, settings).documents) == 2  # the retry does not trip over what was left


# --- 5: a corrupt index ------------------------------------------------------------------------------


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


CORRUPTIONS = {
    "truncated vectors": lambda build: _truncate(build / "vectors.npy"),
    "fewer vector rows": lambda build: np.save(build / "vectors.npy", np.load(build / "vectors.npy")[:-1]),
    "truncated passages": lambda build: _truncate(build / "passages.jsonl", 0.7),
    "a passage line missing": lambda build: (build / "passages.jsonl").write_text(
        "".join((build / "passages.jsonl").read_text(encoding="utf-8").splitlines(True)[:-1]), encoding="utf-8"),
    "broken manifest": lambda build: (build / "manifest.json").write_text("{ not json", encoding="utf-8"),
    "truncated sentences": lambda build: _truncate(build / "sentences" / "vectors.npy"),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_a_corrupt_index_is_reported_and_rebuilt(tmp_path, monkeypatch, capsys, case):
    index = tmp_path / "index"
    fake_cli(monkeypatch, index)
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD, "plan.txt": OTHER})
    assert cli.main(["build", "--corpus", str(corpus), "--quiet"]) == 0
    CORRUPTIONS[case](store.current_build(index))
    capsys.readouterr()
    assert cli.main(["search", "pathway plans"]) == 2
    err = capsys.readouterr().err
    assert "cannot be used" in err and "python -m indexer build" in err and "Traceback" not in err
    assert cli.main(["build", "--corpus", str(corpus), "--if-stale", "--quiet"]) == 0
    assert "up to date" not in capsys.readouterr().out
    assert cli.main(["search", "pathway plans", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"]


def test_a_build_over_a_corrupt_index_does_not_reuse_its_vectors(tmp_path, settings):
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD, "plan.txt": OTHER})
    built = build(corpus, settings).build
    vectors = np.load(built / "vectors.npy")
    np.save(built / "vectors.npy", vectors[::-1].copy())  # rows swapped: right shape, wrong passages
    (built / "embed_keys.json").write_text(json.dumps(json.loads((built / "embed_keys.json").read_text())[:-1]))
    write_files(corpus, {"letter.txt": GOOD.replace("31.", "41.")})
    report = build(corpus, settings)
    assert report.reused == 0  # keys and vectors disagree in number: nothing is trusted


def test_the_app_says_a_corrupt_index_cannot_be_used(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD})
    settings = building.Settings.from_env(index=tmp_path / "index", model=HashingEmbedder.name)
    build(corpus, settings)
    CORRUPTIONS["fewer vector rows"](store.current_build(settings.index))
    monkeypatch.setenv("INDEXER_INDEX", str(settings.index))
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("cannot be used" in error.value for error in at.error)


# --- 7: hash what was read ---------------------------------------------------------------------------


def test_the_checksum_is_of_the_bytes_that_were_read(tmp_path, monkeypatch):
    path = tmp_path / "report.txt"
    path.write_text(GOOD, encoding="utf-8")
    real = reading.decode_text

    def rewritten_meanwhile(where, data):
        Path(where).write_text(OTHER, encoding="utf-8")  # another program saves a new version mid-read
        return real(where, data)

    monkeypatch.setattr(reading, "decode_text", rewritten_meanwhile)
    document = reading.read_document(path)
    assert "pathway plans that lack ambition" in document.text
    assert document.checksum == hashlib.sha256(GOOD.encode()).hexdigest()


def test_a_file_rewritten_during_a_build_is_read_again_next_time(tmp_path, settings, monkeypatch):
    corpus = write_files(tmp_path / "corpus", {"report.txt": GOOD})
    real = reading.decode_text

    def rewritten_meanwhile(where, data):
        Path(where).write_text(OTHER, encoding="utf-8")
        return real(where, data)

    monkeypatch.setattr(reading, "decode_text", rewritten_meanwhile)
    build(corpus, settings)
    monkeypatch.setattr(reading, "decode_text", real)
    assert stale_reasons([corpus], settings.index, settings)  # the file on disk is not what was indexed
    build(corpus, settings)
    assert "personal adviser" in texts_of(settings)


# --- 8: files the build does not read ------------------------------------------------------------------


def test_unsupported_and_unreadable_files_do_not_make_the_index_stale(tmp_path, settings):
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD, "reports.csv": "a,b\n1,2\n",
                                               "broken.docx": b"not a zip"})
    report = build(corpus, settings)
    assert len(report.skipped) == 2
    assert stale_reasons([corpus], settings.index, settings) == []
    (corpus / "broken.docx").write_bytes(docx_bytes(["Now a real Word file about pathway plans."]))
    assert any("broken.docx" in reason for reason in stale_reasons([corpus], settings.index, settings))


# --- 9: no text lost ------------------------------------------------------------------------------------


def test_short_numbered_and_unpunctuated_points_in_a_text_file_are_kept_as_text(tmp_path, settings):
    corpus = write_files(tmp_path / "corpus", {"plan.txt": (
        "Recommendations\n\n"
        "1. Improve the quality of pathway plans for care leavers.\n\n"
        "2. Social workers should visit children in care more often\n\n"
        "3. Managers must record their oversight on every child's file\n")})
    build(corpus, settings)
    text = texts_of(settings)
    assert "Social workers should visit children in care more often" in text
    assert "Managers must record their oversight on every child's file" in text


# --- 10: the Documents table --------------------------------------------------------------------------


def test_the_documents_table_holds_no_cell_a_spreadsheet_would_run(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    corpus = write_files(tmp_path / "corpus", {
        "good.txt": GOOD,
        "metadata.csv": 'file,title,authority,doc_type\ngood.txt,"=HYPERLINK(""http://evil.example"",""x"")",'
                        '@Exampleton,inspection report\n'})
    settings = building.Settings.from_env(index=tmp_path / "index", model=HashingEmbedder.name)
    build(corpus, settings)
    monkeypatch.setenv("INDEXER_INDEX", str(settings.index))
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
    at.switch_page("ui/documents.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    cells = [str(value) for column in table.columns for value in table[column]]
    assert any("HYPERLINK" in cell for cell in cells)
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]


# --- 11: a killed build's workers ------------------------------------------------------------------------


KILLED_BUILD = """
import sys, time
from pathlib import Path
from indexer import building
from indexer.building import build_index
from indexer.embedding import HashingEmbedder
from indexer.settings import Settings
real = building._read
building.PARALLEL_READING_FROM = 2
settings = Settings.from_env(index=Path(sys.argv[2]), model=HashingEmbedder.name)
build_index([Path(sys.argv[1])], settings.index, HashingEmbedder(), settings, progress=False)
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find the reader processes")
def test_a_build_killed_with_sigkill_leaves_no_reader_processes(tmp_path):
    corpus = write_files(tmp_path / "corpus", {f"doc-{n}.txt": GOOD.replace("31.", f"{n}.") * 2000
                                               for n in range(40)})
    process = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(corpus), str(tmp_path / "index")],
                               cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        workers = [pid for pid in _children(process.pid)
                   if "multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]
        time.sleep(0.05)
    assert workers, "the build never started its reader processes"
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() and
                                              "Z" not in (Path(f"/proc/{pid}/stat").read_text().split()[2:3] or [""])
                                              for pid in workers):
        time.sleep(0.1)
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()
             and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive


# --- the low ones ----------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    fake_cli(monkeypatch, tmp_path / "index")
    corpus = write_files(tmp_path / "corpus", {
        "exampleton.txt": GOOD, "metadata.csv": "file,authority,doc_type,date\n"
                                                "exampleton.txt,Exampleton,inspection report,2023-05-12\n"})
    assert cli.main(["build", "--corpus", str(corpus), "--quiet"]) == 0
    return corpus


def test_batch_search_keeps_one_output_line_per_input_line_whatever_the_bytes(cli_env, tmp_path, capsys):
    questions = tmp_path / "questions.txt"
    questions.write_bytes(b"pathway plans\n\n\xff\xfe broken bytes\nreviewing officers\n")
    capsys.readouterr()
    assert cli.main(["search", "--batch", str(questions), "--json", "-k", "1"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 4
    assert lines[1] == {"query": "", "hits": []} or (lines[1]["query"] == "" and lines[1]["hits"] == [])
    assert lines[0]["hits"] and lines[3]["hits"]


@pytest.mark.parametrize("options, expected", [
    (["-k", "-1"], "-k"),
    (["-k", "0"], "-k"),
    (["--since", "abc"], "YYYY"),
    (["--until", "2023-13-40"], "YYYY"),
    (["--grade", "nonsense=xyz"], "care leavers"),
    (["--grade", "inadequat"], "inadequate"),
    (["--doc-type", "nonsense"], "inspection report"),
    (["--authority", "Exampletn"], "Exampleton"),
    (["--authority", "Narnia"], "Exampleton"),
])
def test_invalid_search_options_say_what_is_valid(cli_env, capsys, options, expected):
    capsys.readouterr()
    with pytest.raises(SystemExit) if options[0] == "-k" else _no_exit():
        code = cli.main(["search", "pathway plans", *options])
        assert code == 2
    err = capsys.readouterr().err
    assert expected in err


class _no_exit:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_file_added_that_cannot_be_indexed_is_not_kept(cli_env, tmp_path, capsys):
    bad = write_files(tmp_path / "extra", {"broken.docx": b"not a zip"}) / "broken.docx"
    capsys.readouterr()
    assert cli.main(["add", str(bad), "--quiet"]) == 2
    assert "broken.docx" in capsys.readouterr().err
    assert cli.main(["build", "--strict", "--quiet"]) == 0


def test_links_out_of_the_corpus_folder_loops_and_dangling_links_are_reported_not_followed(tmp_path, settings):
    outside = write_files(tmp_path / "outside", {"secret.txt": "The secret: personal data that must not be indexed."})
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD})
    (corpus / "passwd.txt").symlink_to(outside / "secret.txt")
    (corpus / "loop").symlink_to(corpus)
    (corpus / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    write_files(corpus / "inside", {"plan.txt": OTHER})
    (corpus / "alias.txt").symlink_to(corpus / "inside" / "plan.txt")
    report = build(corpus, settings)
    assert "personal data" not in texts_of(settings)
    reasons = {Path(path).name: reason for path, reason in report.skipped}
    assert "outside" in reasons["passwd.txt"]
    assert "dangling" in reasons["dangling.txt"] or "no such" in reasons["dangling.txt"]
    assert "loop" in reasons
    assert sorted(Path(path).name for path, _, _ in report.documents) == ["good.txt", "plan.txt"]


def test_nul_bytes_anywhere_in_a_text_file_are_not_indexed(tmp_path, settings):
    text = GOOD + ("Further paragraphs about assessments and plans for children in care. " * 20 + "\n\n") * 60
    corpus = write_files(tmp_path / "corpus", {"long.txt": text.encode() + b"\x00\x00 trailing words\n"})
    assert len(text) > 65536
    build(corpus, settings)
    assert "\x00" not in texts_of(settings)
    assert "trailing words" in texts_of(settings)


def test_a_long_run_without_spaces_is_split_into_passages_under_the_limit(tmp_path, settings):
    corpus = write_files(tmp_path / "corpus", {"blob.txt": GOOD + "\n\n" + "x" * 300_000 + "\n"})
    build(corpus, settings)
    passages = store.load_index(settings.index, settings).passages
    assert len(passages) > 10
    assert max(len(passage.text) for passage in passages) <= 5_000
    assert sum(passage.text.count("x") for passage in passages) >= 300_000


def test_right_to_left_overrides_in_text_and_titles_are_not_kept(tmp_path, settings):
    corpus = write_files(tmp_path / "corpus", {
        "good.txt": GOOD.replace("pathway plans", "pathway \u202eplans\u202c"),
        "metadata.csv": "file,title\ngood.txt,Report \u202eevil\u2066\n"})
    build(corpus, settings)
    index = store.load_index(settings.index, settings)
    controls = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert not controls & set("".join(p.text + p.title for p in index.passages))
    assert not controls & set("".join(record["title"] for record in index.documents.values()))


def test_an_added_file_whose_name_is_not_utf8_is_refused_without_a_partial_build(tmp_path, settings):
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD})
    build(corpus, settings)
    odd = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"r\xffport.txt")))
    odd.write_text(OTHER, encoding="utf-8")
    report = build(corpus, settings, plan=building.Plan((corpus,), (odd,)))
    assert [reason for _, reason in report.skipped] == [building.BAD_NAME]
    assert not [p for p in (settings.index / "builds").iterdir() if p.name.startswith(".incomplete")]


def test_a_file_unreadable_at_build_time_makes_the_index_stale_once_it_can_be_read(tmp_path, settings, monkeypatch):
    corpus = write_files(tmp_path / "corpus", {"good.txt": GOOD, "locked.txt": OTHER})
    real = building.file_checksum

    def locked(path):
        if Path(path).name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(building, "file_checksum", locked)
    build(corpus, settings)
    assert stale_reasons([corpus], settings.index, settings) == []  # still locked: a build would skip it again
    monkeypatch.setattr(building, "file_checksum", real)
    assert any("can be read now" in reason for reason in stale_reasons([corpus], settings.index, settings))


def test_dates_are_compared_as_the_index_writes_them(cli_env, capsys):
    def dates(*options):
        capsys.readouterr()
        assert cli.main(["search", "pathway plans", "--json", *options]) == 0
        return len(json.loads(capsys.readouterr().out)["hits"])

    assert dates("--since", "2023-5") == dates("--since", "2023-05") > 0
    assert dates("--until", "2023-4") == dates("--until", "2023-04") == 0


def test_a_damaged_document_list_is_reported_not_a_traceback(cli_env, capsys):
    documents = store.current_build(Path(os.environ["INDEXER_INDEX"])) / "documents.jsonl"
    _truncate(documents, 0.5)
    capsys.readouterr()
    assert cli.main(["documents"]) == 2
    assert "cannot be used" in capsys.readouterr().err
