"""Search latency and throughput of the index's backends: FAISS files, a Milvus Lite file and a Milvus server.

    .venv/bin/python benchmarks/backends.py                          # the seed corpus and questions
    .venv/bin/python benchmarks/backends.py --index DIR              # a files index already built (the national one)
    .venv/bin/python benchmarks/backends.py --server http://host:19530   # a running Milvus instead of milvus-lite
    ... --clients 1,4,16 --seconds 20 --out backends.json

One build is searched everywhere: the files index is built from --corpus (or --index is given), and its rows and
vectors are copied into a Milvus Lite file and into a server (`milvus-lite server` on a free port, unless --server
names one). Question vectors are embedded once beforehand and handed to every searcher, so the figures are
retrieval and ranking (the same Searcher code on every backend), not the model, which costs every backend alike.

Latency: in a fresh process per backend, every question searched once to warm up, then once more timed: p50, p95.
Throughput: 1, 4 and 16 client processes, each its own searcher (as app replicas are), searching the questions in
turn for --seconds after all have loaded: searches a second, all clients together. A Milvus Lite file serves one
process, so it is measured with one client only. BENCHMARKS.md ("Milvus") has the results.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.benchmark import in_child, machine, peak_rss_mib, percentiles, say  # noqa: E402
from indexer.settings import PROJECT_ROOT, Settings  # noqa: E402

K = 10


class GivenVectors:
    """An embedder that knows the vectors of the benchmark's questions already (recorded by `record_vectors`)."""

    def __init__(self, name: str, texts: list[str], vectors: np.ndarray):
        self.name, self.dimensions = name, vectors.shape[1]
        self.vectors = dict(zip(texts, vectors))

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return np.stack([self.vectors[text] for text in texts])

    def token_count(self, text: str) -> int:
        return len(text.split())


class Recording:
    """The real embedder, remembering every text it was asked to embed."""

    def __init__(self, embedder):
        self.embedder, self.name, self.dimensions = embedder, embedder.name, embedder.dimensions
        self.seen: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        vectors = self.embedder.encode(texts, progress)
        self.seen.update(zip(texts, vectors))
        return vectors

    def token_count(self, text: str) -> int:
        return self.embedder.token_count(text)


def backend_settings(name: str, places: dict) -> Settings:
    """Settings for one backend: files in the index folder, or a Milvus URI; one thread, as the app runs."""
    settings = Settings.from_env(index=Path(places["files"]), threads=1, milvus_uri="")
    return settings if name == "files" else replace(settings, milvus_uri=places[name])


def searcher_for(name: str, places: dict, vectors: str):
    from indexer.search import Searcher
    from indexer.store import open_store

    settings = backend_settings(name, places)
    index = open_store(settings).load()
    with np.load(vectors) as stored:
        embedder = GivenVectors(index.manifest["model"], json.loads(str(stored["texts"])), stored["vectors"])
    return Searcher(index, embedder, settings)


def build_files(corpus: list[Path], folder: Path) -> dict:
    """The files index of the corpus, built with the real model."""
    from indexer.building import build_index
    from indexer.embedding import load_embedder

    settings = Settings.from_env(index=folder, milvus_uri="")
    report = build_index(corpus, folder, load_embedder(settings), settings, progress=False, log=say)
    return {"passages": report.passages, "seconds": round(report.seconds, 1)}


def copy_into(places: dict, name: str) -> dict:
    """The files index's rows and vectors written into Milvus as a build of its own (no embedding)."""
    from indexer.passages import lexical_text
    from indexer.store import FileStore, open_store

    source = FileStore(Path(places["files"]), backend_settings("files", places)).contents()
    started = time.perf_counter()
    open_store(backend_settings(name, places)).write(
        source.manifest, source.documents, source.passages, source.vectors,
        [lexical_text(passage) for passage in source.passages], source.embed_keys, source.sentences)
    return {"write_s": round(time.perf_counter() - started, 1), "passages": len(source.passages)}


def record_vectors(places: dict, queries: list[str], target: str) -> None:
    """Every text the searcher embeds for these questions, embedded once with the real model, saved to `target`."""
    from indexer.embedding import load_embedder
    from indexer.search import Searcher
    from indexer.store import open_store

    settings = backend_settings("files", places)
    recording = Recording(load_embedder(settings))
    searcher = Searcher(open_store(settings).load(), recording, settings)
    for query in queries:
        searcher.search(query, K)
    np.savez(target, texts=json.dumps(list(recording.seen)), vectors=np.stack(list(recording.seen.values())))


def latency(name: str, places: dict, vectors: str, queries: list[str]) -> dict:
    """p50 and p95 of a whole search (retrieval and ranking), each question once after a warm-up pass."""
    started = time.perf_counter()
    searcher = searcher_for(name, places, vectors)
    loaded = time.perf_counter() - started
    for query in queries:
        searcher.search(query, K)
    seconds = []
    for query in queries:
        began = time.perf_counter()
        searcher.search(query, K)
        seconds.append(time.perf_counter() - began)
    return {**percentiles(seconds), "load_s": round(loaded, 2), "peak_rss_mib": round(peak_rss_mib())}


def client(name: str, places: dict, vectors: str, queries: list[str], ready, go, seconds: float, counts) -> None:
    """One client process: load, wait for the others, then search the questions in turn for `seconds`."""
    searcher = searcher_for(name, places, vectors)
    searcher.search(queries[0], K)
    ready.release()
    go.wait()
    done, deadline, position = 0, time.perf_counter() + seconds, 0
    while time.perf_counter() < deadline:
        searcher.search(queries[position % len(queries)], K)
        position += 1
        done += 1
    counts.put(done)


def throughput(name: str, places: dict, vectors: str, queries: list[str], clients: int, seconds: float) -> dict:
    """Searches a second over `clients` processes searching at once."""
    context = multiprocessing.get_context("spawn")
    ready, go, counts = context.Semaphore(0), context.Event(), context.Queue()
    turn = max(1, len(queries) // clients)  # every client asks every question, each starting at its own
    processes = [context.Process(target=client, args=(name, places, vectors,
                                                      queries[number * turn:] + queries[:number * turn],
                                                      ready, go, seconds, counts))
                 for number in range(clients)]
    for process in processes:
        process.start()
    for _ in processes:
        if not ready.acquire(timeout=600):
            raise RuntimeError(f"a {name} client did not start")
    go.set()
    total = sum(counts.get(timeout=seconds + 600) for _ in processes)
    for process in processes:
        process.join()
    return {"clients": clients, "searches_per_s": round(total / seconds, 1)}


def table(results: dict) -> str:
    lines = ["| backend | load (s) | p50 (ms) | p95 (ms) | peak RSS (MiB) | " +
             " | ".join(f"{n} client{'s' if n > 1 else ''} (searches/s)" for n in results["clients"]) + " |",
             "| --- | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in results["clients"]) + " |"]
    for name, label in (("files", "FAISS + bm25s files"), ("lite", "Milvus Lite file"),
                        ("server", f"Milvus server ({results['server_kind']})")):
        one = results["latency"][name]
        rates = {row["clients"]: row["searches_per_s"] for row in results["throughput"].get(name, [])}
        lines.append(f"| {label} | {one['load_s']} | {one['p50_ms']} | {one['p95_ms']} | {one['peak_rss_mib']} | "
                     + " | ".join(str(rates.get(n, "—")) for n in results["clients"]) + " |")
    return "\n".join(lines)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--corpus", type=Path, action="append", help="corpus folder(s) to build (default corpus/)")
    options.add_argument("--index", type=Path, help="a files index already built (then --corpus is not read)")
    options.add_argument("--server", help="a running Milvus to measure (default: a milvus-lite server started here)")
    options.add_argument("--questions", type=Path, default=PROJECT_ROOT / "eval" / "questions.jsonl")
    options.add_argument("--clients", default="1,4,16", help="client processes for throughput, comma-separated")
    options.add_argument("--seconds", type=float, default=20.0, help="length of each throughput run")
    options.add_argument("--work", type=Path, help="folder for the indexes (default: a temporary folder)")
    options.add_argument("--out", type=Path, help="write every figure as JSON here")
    args = options.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    warnings.filterwarnings("ignore")
    from indexer.milvus_client import LiteServer

    work = args.work or Path(tempfile.mkdtemp(prefix="indexer-backends-"))
    work.mkdir(parents=True, exist_ok=True)
    files = args.index or work / "faiss"
    results: dict = {"machine": machine(), "clients": [int(n) for n in args.clients.split(",")], "work": str(work)}
    say(f"Backends on {results['machine']['cores']} cores, load average {results['machine']['load']}; work {work}")
    if args.index is None:
        results["build"] = in_child(build_files, args.corpus or [PROJECT_ROOT / "corpus"], files)
    server = None if args.server else LiteServer(work / "server-data", open(work / "server.log", "w"))
    results["server_kind"] = "given" if args.server else "milvus-lite server"
    places = {"files": str(files), "lite": str(work / "lite.db"), "server": args.server or server.uri}
    try:
        for name in ("lite", "server"):
            results[f"copy_{name}"] = in_child(copy_into, places, name)
            say(f"copied into {name}: {results[f'copy_{name}']}")
        queries = [json.loads(line)["q"] for line in args.questions.read_text(encoding="utf-8").splitlines()
                   if line.strip()]
        vectors = str(work / "vectors.npz")
        in_child(record_vectors, places, queries, vectors)
        results["latency"] = {name: in_child(latency, name, places, vectors, queries)
                              for name in ("files", "lite", "server")}
        say(f"latency: {results['latency']}")
        results["throughput"] = {}
        for name in ("files", "lite", "server"):
            for clients in results["clients"]:
                if name == "lite" and clients > 1:
                    continue  # a .db file serves one process
                row = throughput(name, places, vectors, queries, clients, args.seconds)
                results["throughput"].setdefault(name, []).append(row)
                say(f"throughput {name}: {row}")
    finally:
        if server is not None:
            server.stop()
    print(table(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
        say(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
