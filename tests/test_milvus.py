"""The index in Milvus, with the real engine: a Milvus Lite file, and a `milvus-lite server` each test starts on a
free port and stops. The same answers as the files index; builds swapped in by an alias, whole or not at all; the
manifest there, so staleness and incremental builds work the same; searchers in other processes sharing a server
through a build; and a server that stops answering said in words, in the CLI and in the app."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from indexer import cli, embedding, milvus_client  # noqa: E402
from indexer.building import build_index, stale_reasons  # noqa: E402
from indexer.embedding import HashingEmbedder  # noqa: E402
from indexer.errors import IndexStaleError, SearchUnavailableError  # noqa: E402
from indexer.milvus_retrieval import filter_expression  # noqa: E402
from indexer.search import Filters, Searcher  # noqa: E402
from indexer.settings import PROJECT_ROOT, Settings  # noqa: E402
from indexer.store import open_store  # noqa: E402

from .conftest import write_files  # noqa: E402
from .test_search import FILES  # noqa: E402

EXTRA = {"leeds-report.txt": "Care leavers\n\n1. In Leeds the council pays for sailing lessons for care leavers.\n"}
QUESTIONS = [
    ("pathway plans for care leavers", Filters()),
    ("IRO challenge", Filters(authorities=("Oldham",))),
    ("what needs to improve", Filters(since="2019-03")),
    ("foster carers", Filters(until="2019")),
    ("care leavers Tameside 2023", Filters()),
    ("adoption is timely", Filters(doc_types=("Inspection report",), kinds=("finding",))),
    ("pathway plan", Filters(exclude_doc_ids=("oldham-plan",))),
]
FILTERS = [
    Filters(authorities=("Oldham",)), Filters(authorities=("TAMESIDE", "Leeds")), Filters(doc_types=("Improvement plan",)),
    Filters(doc_ids=("oldham-report",)), Filters(exclude_doc_ids=("oldham-report", "tameside-2023")),
    Filters(since="2023"), Filters(until="2022"), Filters(since="2020-01", until="2023"), Filters(until="2019-01"),
    Filters(kinds=("recommendation", "plan action")), Filters(authorities=('O"Brien\\ \n',)),
]


def quiet(*_):
    pass


def milvus_settings(tmp_path: Path, uri: str) -> Settings:
    return Settings.from_env(index=tmp_path / "local", model=HashingEmbedder.name, milvus_uri=uri)


def build(corpus: Path, settings: Settings, embedder=None):
    return build_index([corpus], settings.index, embedder or HashingEmbedder(), settings, progress=False, log=quiet)


def answers(searcher: Searcher, question: str, filters: Filters) -> list:
    return [(hit.passage.passage_id, round(hit.score, 4), hit.highlights, hit.also_in)
            for hit in searcher.search(question, 5, filters)]


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_files(tmp_path / "corpus", FILES)


@pytest.fixture
def lite(tmp_path) -> Settings:
    return milvus_settings(tmp_path, str(tmp_path / "index.db"))


# ---------------------------------------------------------------- a Milvus Lite file


def test_a_milvus_lite_index_gives_the_files_index_answers(corpus, lite, settings):
    build(corpus, settings)
    report = build(corpus, lite)
    assert str(report.build).startswith(f"{lite.milvus_uri}#ofsted__")
    files, milvus = (Searcher(open_store(s).load(), HashingEmbedder(), s) for s in (settings, lite))
    assert [p.passage_id for p in milvus.index.passages] == [p.passage_id for p in files.index.passages]
    assert milvus.index.documents == files.index.documents and milvus.index.stem_frequency == files.index.stem_frequency
    for question, filters in QUESTIONS:
        assert answers(milvus, question, filters) == answers(files, question, filters), question
    for passage in files.index.passages[:4]:
        assert [(h.passage.passage_id, round(h.score, 5)) for h in milvus.similar(passage.passage_id, 3)] == \
               [(h.passage.passage_id, round(h.score, 5)) for h in files.similar(passage.passage_id, 3)]
    hits = files.search("pathway plans", 3)
    assert milvus.highlight("pathway plans", hits) == files.highlight("pathway plans", hits)


def test_compare_follow_and_tones_give_the_files_index_answers(corpus, lite, settings):
    from indexer import comparing, following

    write_files(corpus, {"tameside-report.txt": "What needs to improve\n\n- Pathway plans for care leavers in "
                                                "Tameside are up to date and reviewed.\n\n"
                                                + FILES["tameside-report.txt"]})
    build(corpus, settings)
    build(corpus, lite)
    files, milvus = (Searcher(open_store(s).load(), HashingEmbedder(), s) for s in (settings, lite))
    for question in ("pathway plans for care leavers", "IRO challenge across authorities judged good"):
        theirs = comparing.compare(files, question, minimum=0.1)
        assert theirs.evidence and comparing.compare(milvus, question, minimum=0.1) == theirs
    for authority in ("Oldham", "Tameside"):
        assert following.follow(milvus, authority) == following.follow(files, authority)
    chains = following.on_theme(files, "pathway plans", minimum=0.1)
    assert chains and chains[0].later and following.on_theme(milvus, "pathway plans", minimum=0.1) == chains
    tones = [hit.tones for hit in files.search("foster carers are well trained", 5)]
    assert any(tones) and [hit.tones for hit in milvus.search("foster carers are well trained", 5)] == tones


def test_each_channel_returns_what_faiss_and_bm25s_return(corpus, lite, settings):
    build(corpus, settings)
    build(corpus, lite)
    files, milvus = (open_store(s).load().retriever for s in (settings, lite))
    vector = HashingEmbedder().encode(["care leavers pathway plans reviewed"])[0]
    words = Searcher.query_words("care leavers pathway plans reviewed")
    rows = np.arange(11)
    for filters in (Filters(), Filters(authorities=("Tameside",))):
        for mine, theirs in ((milvus.dense(vector, 5, filters), files.dense(vector, 5, filters)),
                             (milvus.lexical(words, 5, filters), files.lexical(words, 5, filters))):
            assert [row for row, _ in mine] == [row for row, _ in theirs]
            assert np.allclose([s for _, s in mine], [s for _, s in theirs], atol=1e-4)
        mine, theirs = milvus.sentences(vector, 8, filters), files.sentences(vector, 8, filters)
        assert sorted(mine) == sorted(theirs) and mine[:4] == theirs[:4]  # (then the quote's two copies tie)
    assert np.allclose(milvus.lexical_scores(words, rows), files.lexical_scores(words, rows), atol=1e-4)
    assert np.allclose(milvus.passage_vectors(rows[::-1]), files.passage_vectors(rows[::-1]))
    assert np.allclose(milvus.best_sentences(rows, vector), files.best_sentences(rows, vector))
    for (spans, vectors), (their_spans, their_vectors) in zip(milvus.sentence_vectors([3, 0]),
                                                              files.sentence_vectors([3, 0])):
        assert spans == their_spans and np.array_equal(vectors, their_vectors)
    mine, theirs = milvus.sentence_arrays(np.array([3, 0, 7])), files.sentence_arrays(np.array([3, 0, 7]))
    assert np.array_equal(mine.offsets, theirs.offsets) and np.array_equal(mine.spans, theirs.spans)
    assert np.array_equal(np.asarray(mine.vectors, np.float32), theirs.vectors)


def test_filter_expressions_allow_the_rows_the_masks_allow(corpus, lite):
    build(corpus, lite)
    index = open_store(lite).load()
    client, name = milvus_client.connect(lite), index.retriever.passages
    for filters in FILTERS:
        found = client.query(name, filter=filter_expression(filters), output_fields=["row"], limit=100)
        mask = index.columns.mask(filters)
        assert sorted(row["row"] for row in found) == np.flatnonzero(mask).tolist(), filters
    assert filter_expression(Filters()) == ""
    assert filter_expression(Filters(authorities=('O"Brien',))) == 'authority in ["o\\"brien"]'


def test_an_unchanged_rebuild_embeds_nothing_and_an_added_file_only_itself(corpus, lite):
    embedder = HashingEmbedder()
    first = build(corpus, lite, embedder)
    assert first.embedded == 11 and stale_reasons([corpus], lite.index, lite) == []
    again = build(corpus, lite, embedder)
    assert (again.embedded, again.reused, again.sentences_embedded) == (0, 11, 0)
    write_files(corpus, EXTRA)
    assert stale_reasons([corpus], lite.index, lite) == [f"new file {(corpus / 'leeds-report.txt').resolve()}"]
    added = build(corpus, lite, embedder)
    assert (added.embedded, added.reused) == (1, 11) and stale_reasons([corpus], lite.index, lite) == []
    index = open_store(lite).load()
    assert "leeds-report" in index.documents and len(index.passages) == 12
    searcher = Searcher(index, embedder, lite)
    assert searcher.search("sailing lessons", 1)[0].passage.doc_id == "leeds-report"


def test_an_index_of_another_model_is_refused_and_the_manifest_says_why(corpus, lite):
    build(corpus, lite)
    with pytest.raises(IndexStaleError, match="index built with model hashing-test-embedder"):
        open_store(Settings.from_env(milvus_uri=lite.milvus_uri, backend="onnx-int8")).load()
    manifest = open_store(lite).read_manifest()
    assert manifest["model"] == HashingEmbedder.name and manifest["passages"] == 11
    assert manifest["files"] and all(len(checksum) == 64 for checksum in manifest["files"].values())
    assert stale_reasons([corpus], lite.index, Settings.from_env(milvus_uri=lite.milvus_uri))[0].startswith("model is")


def test_every_command_works_on_milvus(corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INDEXER_MILVUS_URI", str(tmp_path / "cli.db"))
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    monkeypatch.setenv("INDEXER_INDEX", str(tmp_path / "local"))
    monkeypatch.setattr(embedding, "load_embedder", lambda settings=None: HashingEmbedder())
    assert cli.main(["build", "--corpus", str(corpus), "--quiet"]) == 0
    assert cli.main(["build", "--if-stale"]) == 0
    assert f"Index in Milvus at {tmp_path / 'cli.db'} (collection ofsted) is up to date." in capsys.readouterr().out
    assert cli.main(["search", "IRO challenge", "--json", "--authority", "Oldham"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["hits"][0]["passage_id"] == "oldham-report/0002"
    assert cli.main(["stats"]) == 0 and "Passages:   11" in capsys.readouterr().out
    assert cli.main(["documents"]) == 0 and len(capsys.readouterr().out.splitlines()) == 4
    extra = write_files(tmp_path / "extra", EXTRA) / "leeds-report.txt"
    assert cli.main(["add", str(extra), "--quiet"]) == 0
    assert cli.main(["search", "sailing lessons", "--json", "-k", "1"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["hits"][0]["passage_id"].startswith("leeds-report")
    assert cli.main(["remove", "leeds-report", "--quiet"]) == 0
    assert "leeds-report" not in {d["doc_id"] for d in open_store(Settings.from_env()).documents()}


def test_a_second_process_on_a_lite_file_is_told_to_serve_it(corpus, lite):
    build(corpus, lite)  # this process now holds the file
    env = {**os.environ, "INDEXER_MILVUS_URI": lite.milvus_uri, "INDEXER_MODEL": HashingEmbedder.name}
    done = subprocess.run([sys.executable, "-m", "indexer", "search", "care leavers"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "a .db file serves one process at a time" in done.stderr and "milvus-lite server" in done.stderr


def test_the_app_answers_from_milvus(corpus, lite, monkeypatch):
    from streamlit.testing.v1 import AppTest

    build(corpus, lite)
    monkeypatch.setenv("INDEXER_MILVUS_URI", lite.milvus_uri)
    monkeypatch.setenv("INDEXER_INDEX", str(lite.index))
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
    at.query_params["q"] = "foster carers well trained"
    at.run()
    assert not at.exception and not at.error
    assert any("Foster carers are well trained" in element.value for element in at.get("html"))


# ---------------------------------------------------------------- a milvus-lite server


@pytest.fixture
def server(tmp_path):
    started = milvus_client.LiteServer(tmp_path / "milvus-data")
    yield started
    started.stop()


SEARCHER = """
import json, sys, time
from indexer.embedding import HashingEmbedder
from indexer.search import Searcher
from indexer.settings import Settings
from indexer.store import open_store

settings = Settings.from_env()
store, build, searcher = open_store(settings), None, None
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    try:
        current = store.build_id()  # what the app does on every page: a new build is a new searcher
        if current != build:
            build, searcher = current, Searcher(store.load(), HashingEmbedder(), settings)
        hits = searcher.search("sailing lessons for care leavers", 1)
        print(json.dumps({"build": build, "top": hits[0].passage.doc_id if hits else None, "at": time.time()}),
              flush=True)
    except Exception as error:
        print(json.dumps({"build": build, "error": f"{type(error).__name__}: {error}"}), flush=True)
    time.sleep(0.05)
"""


def server_env(server, tmp_path: Path) -> dict:
    return {**os.environ, "INDEXER_MILVUS_URI": server.uri, "INDEXER_MODEL": HashingEmbedder.name,
            "INDEXER_INDEX": str(tmp_path / "local"), "HF_HUB_OFFLINE": "1"}


def test_two_searcher_processes_keep_answering_through_a_build_then_see_it(corpus, tmp_path, server):
    settings = milvus_settings(tmp_path, server.uri)
    first = str(build(corpus, settings).build)
    searchers = [subprocess.Popen([sys.executable, "-c", SEARCHER, "40"], cwd=PROJECT_ROOT, text=True,
                                  env=server_env(server, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(2)]
    lines: list[list[dict]] = [[], []]

    def read(number: int) -> None:
        for line in searchers[number].stdout:
            lines[number].append(json.loads(line))

    readers = [threading.Thread(target=read, args=(number,), daemon=True) for number in range(2)]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + 30
    while not all(len(seen) >= 3 for seen in lines) and time.monotonic() < deadline:
        time.sleep(0.1)
    write_files(corpus, EXTRA)
    started = time.time()
    second = str(build(corpus, settings).build)  # while both search
    ended = time.time()
    while not all(seen and seen[-1].get("build") == second for seen in lines) and time.monotonic() < deadline + 20:
        time.sleep(0.1)
    for searcher in searchers:
        searcher.kill()
        searcher.wait()
    for reader in readers:
        reader.join(timeout=5)
    for seen in lines:
        assert not [line for line in seen if "error" in line]  # never a failed search, before, during or after
        builds = [line["build"] for line in seen]
        assert builds[0] == first and builds[-1] == second and builds == sorted(builds, key=[first, second].index)
        assert {line["top"] for line in seen if line["build"] == second} == {"leeds-report"}
        assert "leeds-report" not in {line["top"] for line in seen if line["build"] == first}
        assert [line for line in seen if started < line["at"] < ended]  # answered while the build ran


KILLED_BUILD = """
import sys, time
from pathlib import Path
from indexer import milvus_store
from indexer.building import build_index
from indexer.embedding import HashingEmbedder
from indexer.settings import Settings

where = sys.argv[1]
if where == "passages":  # half-way through inserting the passages
    real_row = milvus_store._passage_row
    def _passage_row(row, *rest):
        if row == 5:
            print("PAUSED", flush=True)
            time.sleep(600)
        return real_row(row, *rest)
    milvus_store._passage_row = _passage_row
else:  # everything written but the manifest, the alias not moved
    real_put = milvus_store.MilvusStore._put
    def _put(self, client, name, key, value, upsert=False):
        if key == "manifest":
            print("PAUSED", flush=True)
            time.sleep(600)
        return real_put(self, client, name, key, value, upsert)
    milvus_store.MilvusStore._put = _put
settings = Settings.from_env()
build_index([Path(sys.argv[2])], settings.index, HashingEmbedder(), settings, progress=False, log=lambda *_: None)
"""


@pytest.mark.parametrize("where", ["passages", "manifest"])
def test_a_build_killed_midway_leaves_the_alias_on_the_old_build(corpus, tmp_path, server, where):
    settings = milvus_settings(tmp_path, server.uri)
    first = build(corpus, settings).build
    write_files(corpus, EXTRA)
    killed = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, where, str(corpus)], cwd=PROJECT_ROOT, text=True,
                              env=server_env(server, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert killed.stdout.readline().strip() == "PAUSED", killed.stderr.read()
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    store = open_store(settings)
    client = milvus_client.connect(settings)
    assert store.build_id() == first  # the alias never moved
    abandoned = [name for name in client.list_collections() if not name.startswith(str(first).split("#")[1])]
    assert abandoned  # the killed build's collections are there, and no searcher sees them
    searcher = Searcher(store.load(), HashingEmbedder(), settings)
    assert "leeds-report" not in searcher.index.documents and searcher.search("sailing lessons", 1)
    assert stale_reasons([corpus], settings.index, settings) == [f"new file {(corpus / 'leeds-report.txt').resolve()}"]
    third = build(corpus, settings).build  # the next build drops what the killed one left
    assert store.build_id() == third != first
    assert not set(abandoned) & set(client.list_collections())


SEARCHING = """
import json, sys, time
from indexer.embedding import HashingEmbedder
from indexer.search import Searcher
from indexer.settings import Settings
from indexer.store import open_store

settings = Settings.from_env()
searcher = Searcher(open_store(settings).load(), HashingEmbedder(), settings)
print("READY", flush=True)
for _ in range(400):
    try:
        searcher.search("pathway plans for care leavers", 3)
        print(json.dumps({"ok": True}), flush=True)
    except Exception as error:
        print(json.dumps({"error": type(error).__name__, "message": str(error)}), flush=True)
        if type(error).__name__ == "SearchUnavailableError":
            break
    time.sleep(0.02)
"""


def test_a_server_stopped_mid_search_is_said_plainly_in_searches_the_cli_and_the_app(corpus, tmp_path, server,
                                                                                   monkeypatch, capsys):
    from streamlit.testing.v1 import AppTest

    settings = milvus_settings(tmp_path, server.uri)
    build(corpus, settings)
    searcher = Searcher(open_store(settings).load(), HashingEmbedder(), settings)
    assert searcher.search("pathway plans", 3)
    searching = subprocess.Popen([sys.executable, "-c", SEARCHING], cwd=PROJECT_ROOT, text=True,
                                 env=server_env(server, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert searching.stdout.readline().strip() == "READY", searching.stderr.read()
    assert json.loads(searching.stdout.readline()) == {"ok": True}
    server.stop()  # while that process searches
    out, err = searching.communicate(timeout=60)
    last = json.loads(out.splitlines()[-1])
    assert last["error"] == "SearchUnavailableError" and "Traceback" not in err
    assert last["message"].startswith(f"the search service is unavailable: Milvus at {server.uri} did not answer")
    assert all(json.loads(line) == {"ok": True} for line in out.splitlines()[:-1])
    with pytest.raises(SearchUnavailableError, match="the search service is unavailable"):
        searcher.search("pathway plans", 3)

    monkeypatch.setenv("INDEXER_MILVUS_URI", server.uri)
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    monkeypatch.setenv("INDEXER_INDEX", str(tmp_path / "local"))
    capsys.readouterr()
    assert cli.main(["search", "pathway plans"]) == 2
    assert capsys.readouterr().err.startswith("error: the search service is unavailable: Milvus at ")
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.error[0].value.startswith("The search service is unavailable, so nothing can be searched just now")

    again = milvus_client.LiteServer(tmp_path / "milvus-data", port=server.port)  # back: the same searcher answers
    try:
        deadline = time.monotonic() + 20
        while True:  # once pymilvus has reconnected (it backs off for a moment after a failure)
            try:
                assert searcher.search("pathway plans", 3) and open_store(settings).load().passages
                break
            except SearchUnavailableError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        again.stop()
