"""`python -m indexer bench`: reading, embedding, building, index size, search latency and a million-passage test.

Every figure is measured in the same run beside the tutorial pipeline (RecursiveCharacterTextSplitter
1000/200, all-MiniLM-L6-v2 on PyTorch fp32, FAISS IndexFlatIP), because a shared two-core machine is noisy:
compare ratios, and read medians. Builds and searches run in fresh child processes so that their peak
memory and start-up are their own. Results print as a table and are saved as JSON (--out).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from .settings import BACKENDS, MODEL_LAYERS, PROJECT_ROOT, Settings

SHARED = PROJECT_ROOT.parent / "shared" / "corpus"
TUTORIAL_BACKEND = "torch"
TUTORIAL_BATCH = 32  # sentence-transformers' default batch size, which the tutorial's encode() uses
ONE_BATCH = "onnx-int8, one batch at a time"  # every operator split across the cores, as a question is encoded
# The PDFs built again without sentence vectors (INDEXER_SENTENCE_VECTORS=0), and with sentence vectors from the
# whole model (INDEXER_SENTENCE_LAYERS=6): what the sentence vectors cost a build and a search
BUILD_VARIANTS = {"without_sentence_vectors": ("without sentence vectors", {"sentence_vectors": False}),
                  "whole_model_sentence_vectors": ("with whole-model sentence vectors",
                                                   {"sentence_layers": MODEL_LAYERS})}


def variant_index(work: Path, key: str) -> Path:
    """The index folder of one of BUILD_VARIANTS."""
    return work / f"build-pdfs-{key.replace('_', '-')}"


def parser() -> argparse.ArgumentParser:
    """Options of the benchmark (after `python -m indexer bench`)."""
    options = argparse.ArgumentParser(prog="python -m indexer bench", description=__doc__)
    options.add_argument("--quick", action="store_true",
                         help="a few minutes: 30 PDFs, small samples, 100,000 passages for the scale test")
    options.add_argument("--pdfs", type=Path, default=SHARED / "ofsted-ilacs", help="folder of PDFs (ILACS reports)")
    options.add_argument("--seeds", type=Path, default=SHARED / "seeds", help="folder of the seed text files")
    options.add_argument("--questions", type=Path, default=PROJECT_ROOT / "eval" / "questions.jsonl",
                         help="queries for latency, and questions for the quality check")
    options.add_argument("--backends", default=",".join(BACKENDS), help="embedding backends to compare")
    options.add_argument("--scale", type=int, help="passages in the synthetic scale test (default 1,000,000; "
                                                   "quick 100,000; 0 skips it)")
    options.add_argument("--work", type=Path, help="folder for the indexes built (default: a temporary folder)")
    options.add_argument("--out", type=Path, help="write every figure as JSON here")
    options.add_argument("--only", help="comma-separated sections: reading,embedding,quality,build,search,scale")
    return options


def run(args) -> int:
    """The `bench` command."""
    options = parser().parse_args([option for option in (args.options or []) if option != "--"])
    if os.environ.pop("INDEXER_MILVUS_URI", None):  # these sections build and measure indexes of their own
        say("INDEXER_MILVUS_URI is set: these sections build and measure files indexes in the work folder; "
            "benchmarks/backends.py measures Milvus beside them")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("INDEXER_FOLLOW_LINKS", "1")  # the benchmark builds from folders of links to the reports
    warnings.filterwarnings("ignore")
    sections = set((options.only or "reading,embedding,quality,build,search,scale").split(","))
    backends = [name.strip() for name in options.backends.split(",") if name.strip()]
    work = options.work or Path(tempfile.mkdtemp(prefix="indexer-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    pdfs = sorted(options.pdfs.glob("*.pdf"))
    if options.quick:
        pdfs = pdfs[::max(1, len(pdfs) // 30)][:30]
    scale = options.scale if options.scale is not None else (100_000 if options.quick else 1_000_000)
    results: dict = {"machine": machine(), "quick": options.quick, "pdfs": len(pdfs), "work": str(work)}
    say(f"Benchmark on {results['machine']['cores']} cores, load average {results['machine']['load']}; "
        f"{len(pdfs)} PDFs; work folder {work}")
    models = prepare_exports(work, backends)
    texts = None
    if sections & {"reading", "embedding", "quality"}:
        results["reading"], texts = bench_reading(pdfs, options.seeds, models)
    if "embedding" in sections:
        results["embedding"] = bench_embedding(texts, backends, models, samples=300 if options.quick else 1500)
    if "quality" in sections:
        results["quality"] = bench_quality(texts, backends, models, options, work,
                                           samples=500 if options.quick else 3000)
    if sections & {"build", "search"}:
        results["build"] = bench_builds(options.seeds, pdfs, work, models)
    if "search" in sections:
        results["search"] = bench_search(work, models, options.questions)
    if "scale" in sections and scale:
        results["scale"] = bench_scale(work, models, options.questions, scale, pdfs)
    if options.out:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
        say(f"Wrote {options.out}")
    return 0


# ---------------------------------------------------------------- helpers


def say(message: str) -> None:
    print(message, flush=True)


def machine() -> dict:
    return {"cores": os.cpu_count(), "load": [round(value, 1) for value in os.getloadavg()],
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far.

    VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over an exec, so a spawned child would
    report its parent's peak.
    """
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentiles(seconds: list[float]) -> dict:
    values = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(values, 50)), 2), "p95_ms": round(float(np.percentile(values, 95)), 2),
            "n": len(values)}


def in_child(function, *arguments):
    """Run `function(*arguments)` in a fresh process: its own start-up, its own peak memory.

    A plain process rather than a pool worker, because the build reads PDFs with a process pool of its
    own, and pool workers may not have children.
    """
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_child, args=(results, function, arguments))
    process.start()
    while True:
        try:
            result = results.get(timeout=5)
            break
        except Exception:  # queue.Empty: still working, unless it died
            if not process.is_alive():
                raise RuntimeError(f"benchmark child {function.__name__} died (exit code {process.exitcode})")
    process.join()
    if isinstance(result, BaseException):
        raise result
    return result


def _child(results, function, arguments) -> None:
    try:
        results.put(function(*arguments))
    except Exception as error:  # handed back to the parent, which raises it
        results.put(error)


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}×" if theirs else "-"


def prepare_exports(work: Path, backends: list[str]) -> Path:
    """Export the ONNX models once into work/models (timed), so that builds and searches reuse them."""
    from .embedding import exported_model

    models = work / "models"
    for backend in backends:
        if backend.startswith("onnx"):
            settings = Settings.from_env(index=work, backend=backend)
            started = time.perf_counter()
            folder = exported_model(settings)
            say(f"export {backend}: {time.perf_counter() - started:.1f} s (once; reused from {folder})")
            if settings.sentence_model != settings.embedding_model:  # the sentence model: the first layers
                started = time.perf_counter()
                folder = exported_model(settings, settings.sentence_layers)
                say(f"export {backend}, first {settings.sentence_layers} layers: "
                    f"{time.perf_counter() - started:.1f} s (once; reused from {folder})")
    return models


def settings_for(work: Path, models: Path, backend: str, index: Path) -> Settings:
    """Settings for an index folder whose models/ links to the shared exports."""
    index.mkdir(parents=True, exist_ok=True)
    link = index / "models"
    if not link.exists() and index != work:
        link.symlink_to(models.resolve(), target_is_directory=True)
    return Settings.from_env(index=index, backend=backend)


# ---------------------------------------------------------------- reading


def read_with_project(path: Path):
    """The project's reader: PDFium with layout repair."""
    from .metadata import describe_document
    from .reading import read_document

    return describe_document(read_document(path, doc_id=path.stem))


def pages_pymupdf(path: Path) -> list[str]:
    """PyMuPDF's raw page text: only to compare with, when PyMuPDF happens to be installed (not a dependency)."""
    import pymupdf

    with pymupdf.open(path) as pdf:
        return [page.get_text() for page in pdf]


def pages_pdfium(path: Path) -> list[str]:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        texts = []
        for page in pdf:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        pdf.close()


def word_agreement(left: str, right: str) -> float:
    """Shared words over all words (multisets): 1.0 when two extractions hold the same words."""
    from collections import Counter

    a, b = Counter(left.split()), Counter(right.split())
    union = sum((a | b).values())
    return sum((a & b).values()) / union if union else 1.0


def bench_reading(pdfs: list[Path], seeds: Path, models: Path) -> tuple[dict, dict]:
    """Pages/s and passages/s from the PDFs: the project's reader and raw pypdfium2 (and raw PyMuPDF, when
    installed, to compare); one and two processes."""
    from concurrent.futures import ProcessPoolExecutor

    from .passages import embedding_text
    from .splitting import split_passages

    say("\n== reading ==")
    out: dict = {}
    for path in pdfs:  # into the file cache first, so the first reader timed does not pay for the disk
        path.read_bytes()
    readers = [("pypdfium2 (raw text)", pages_pdfium)]
    try:
        import pymupdf  # noqa: F401
        readers.insert(0, ("pymupdf (raw text)", pages_pymupdf))
    except ImportError:
        say("(PyMuPDF is not installed: PDFium's raw text is timed alone)")
    for name, function in readers:
        started = time.perf_counter()
        pages = [function(path) for path in pdfs]
        seconds = time.perf_counter() - started
        out[name] = {"seconds": round(seconds, 2), "pages": sum(map(len, pages)),
                     "pages_per_s": round(sum(map(len, pages)) / seconds, 1)}
        out[name]["_text"] = ["\n".join(page) for page in pages]
    if "pymupdf (raw text)" in out:
        agreement = [word_agreement(a, b) for a, b in zip(out["pymupdf (raw text)"].pop("_text"),
                                                           out["pypdfium2 (raw text)"]["_text"])]
        out["word_agreement_pymupdf_pdfium"] = {"median": round(statistics.median(agreement), 4),
                                                "min": round(min(agreement), 4)}
    out["pypdfium2 (raw text)"].pop("_text")
    pages_total = out["pypdfium2 (raw text)"]["pages"]
    started = time.perf_counter()
    documents = [read_with_project(path) for path in pdfs]
    seconds = time.perf_counter() - started
    counter = load_backend(models, Settings.from_env().backend).token_count
    started = time.perf_counter()
    passages = [passage for document in documents for passage in split_passages(document, 200, counter)]
    split_seconds = time.perf_counter() - started
    out["project reader (pdfium + repair), 1 process"] = {
        "seconds": round(seconds, 2), "pages_per_s": round(pages_total / seconds, 1),
        "split_seconds": round(split_seconds, 2), "passages": len(passages),
        "passages_per_s": round(len(passages) / (seconds + split_seconds), 1)}
    started = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(read_with_project, pdfs, chunksize=4))
    seconds2 = time.perf_counter() - started
    out["project reader, 2 processes"] = {"seconds": round(seconds2, 2), "pages_per_s": round(pages_total / seconds2, 1),
                                          "speed-up": round(seconds / seconds2, 2)}
    for name, row in out.items():
        say(f"{name:<48} {json.dumps(row)}")
    seed_documents = [read_with_project(path) for path in sorted(seeds.glob("*.txt"))]
    texts = {
        "seeds": [embedding_text(p) for d in seed_documents for p in split_passages(d, 200, counter)],
        "pdfs": [embedding_text(passage) for passage in passages],
    }
    return out, texts


# ---------------------------------------------------------------- embedding


def tutorial_chunks(paths: list[Path]) -> list[str]:
    """The tutorial's chunks: raw PDF text (PDFium), RecursiveCharacterTextSplitter(1000, 200)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from .evaluation import raw_text

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    return [chunk for path in paths for chunk in splitter.split_text(raw_text(path))]


def load_backend(models: Path, backend: str, **overrides):
    from .embedding import load_embedder

    if backend == TUTORIAL_BACKEND:
        overrides.setdefault("batch_size", TUTORIAL_BATCH)
    return load_embedder(Settings.from_env(index=models.parent, backend=backend, **overrides))


def interleaved_rates(embedders: dict, texts: list[str], rounds: int) -> dict[str, list[float]]:
    """Texts/s of each embedder on the same texts, round by round, the embedders taking turns in each round."""
    speeds: dict[str, list[float]] = {name: [] for name in embedders}
    for _ in range(rounds):
        for name, embedder in embedders.items():
            started = time.perf_counter()
            embedder.encode(texts)
            speeds[name].append(len(texts) / (time.perf_counter() - started))
    return speeds


def bench_embedding(texts: dict, backends: list[str], models: Path, samples: int, rounds: int = 5) -> dict:
    """Passages/s per backend on the same passages, rounds interleaved; batch size, length sorting, threads."""
    say("\n== embedding ==")
    random.seed(7)
    sample = random.sample(texts["pdfs"], min(samples, len(texts["pdfs"])))
    embedders = {backend: load_backend(models, backend) for backend in backends}
    if "onnx-int8" in embedders:  # a build's encode() runs one batch per core; this one, one batch at a time
        embedders[ONE_BATCH] = load_backend(models, "onnx-int8")
        embedders[ONE_BATCH].workers = 1
    speeds = interleaved_rates(embedders, sample, rounds)
    baseline = statistics.median(speeds[TUTORIAL_BACKEND]) if TUTORIAL_BACKEND in speeds else None
    out: dict = {"passages": len(sample), "rounds": rounds, "backends": {}}
    for backend, values in speeds.items():
        median = statistics.median(values)
        out["backends"][backend] = {"passages_per_s": round(median, 1),
                                    "vs_torch_fp32": round(median / baseline, 2) if baseline else None,
                                    "rounds": [round(value, 1) for value in values]}
        say(f"{backend:<10} {median:7.1f} passages/s  {ratio(median, baseline) if baseline else ''} vs torch fp32")
    out["sentences"] = bench_sentences(sample, embedders, models)
    fastest = max(backends, key=lambda name: out["backends"][name]["passages_per_s"])
    embedder = embedders[fastest]
    variants: dict = {}
    smaller = sample[: max(64, len(sample) // 3)]

    def rate(name: str, run) -> None:
        started = time.perf_counter()
        run()
        variants[name] = round(len(smaller) / (time.perf_counter() - started), 1)

    default = embedder.batch_size
    for batch in (4, 8, 32):
        embedder.batch_size = batch
        rate(f"batch {batch}, sorted by length", lambda: embedder.encode(smaller))
    embedder.batch_size = default
    if fastest.startswith("onnx"):
        workers, embedder.workers = embedder.workers, 1
        rate(f"batch {default}, one batch at a time", lambda: embedder.encode(smaller))
        # batches in corpus order: each padded to its longest passage
        rate(f"batch {default}, one batch at a time, corpus order",
             lambda: [embedder.encode(smaller[start:start + default]) for start in range(0, len(smaller), default)])
        embedder.workers = workers
        one = load_backend(models, fastest, threads=1)
        rate(f"batch {default}, 1 thread", lambda: one.encode(smaller))
    out["variants"] = {"backend": fastest, "passages": len(smaller), "passages_per_s": variants}
    for name, value in variants.items():
        say(f"{fastest} {name:<45} {value:7.1f} passages/s")
    return out


def bench_sentences(sample: list[str], embedders: dict, models: Path, rounds: int = 2) -> dict:
    """Sentences/s for sentence vectors: the whole model against its first layers (what a build uses)."""
    from .answers import sentence_spans
    from .embedding import sentence_embedder

    sentences = list(dict.fromkeys(text[start:end] for text in sample[:500] for start, end in sentence_spans(text)))
    runs = {}
    for backend in [name for name in (TUTORIAL_BACKEND, "onnx-int8") if name in embedders]:
        settings = Settings.from_env(index=models.parent, backend=backend)
        runs[f"{backend}, whole model"] = embedders[backend]
        first = sentence_embedder(embedders[backend], settings)
        if first is not embedders[backend]:
            runs[f"{backend}, first {settings.sentence_layers} layers"] = first
    speeds = interleaved_rates(runs, sentences, rounds)
    baseline = statistics.median(speeds[f"{TUTORIAL_BACKEND}, whole model"]) \
        if f"{TUTORIAL_BACKEND}, whole model" in speeds else None
    out: dict = {"sentences": len(sentences), "rounds": rounds, "sentences_per_s": {}}
    for name, values in speeds.items():
        median = statistics.median(values)
        out["sentences_per_s"][name] = {"median": round(median, 1), "vs_torch_fp32": round(median / baseline, 2)
                                        if baseline else None, "rounds": [round(value, 1) for value in values]}
        say(f"sentences {name:<28} {median:7.1f} sentences/s  {ratio(median, baseline) if baseline else ''}")
    return out


# ---------------------------------------------------------------- quality


def bench_quality(texts: dict, backends: list[str], models: Path, options, work: Path, samples: int) -> dict:
    """Cosine agreement with torch fp32 vectors, top-10 overlap of dense retrieval, and the eval harness per backend."""
    from .evaluation import load_questions

    say("\n== quality ==")
    random.seed(11)
    pool = texts["seeds"] + random.sample(texts["pdfs"], min(samples, len(texts["pdfs"])))
    questions = [question.q for question in load_questions(options.questions)]
    vectors, queries, counts = {}, {}, {}
    for backend in backends:
        embedder = load_backend(models, backend)
        vectors[backend] = embedder.encode(pool)
        queries[backend] = embedder.encode(questions)
        counts[backend] = [embedder.token_count(text) for text in pool[:500]]
    out: dict = {"passages": len(pool), "queries": len(questions), "backends": {}}
    reference = vectors[TUTORIAL_BACKEND]
    exact = np.argsort(-(queries[TUTORIAL_BACKEND] @ reference.T), axis=1)[:, :10]
    for backend in backends:
        cosine = (vectors[backend] * reference).sum(axis=1)
        top = np.argsort(-(queries[backend] @ vectors[backend].T), axis=1)[:, :10]
        overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top, exact)])
        out["backends"][backend] = {
            "cosine_mean": round(float(cosine.mean()), 5), "cosine_min": round(float(cosine.min()), 5),
            "top10_overlap": round(float(overlap), 3),
            "same_token_counts": counts[backend] == counts[TUTORIAL_BACKEND],
        }
        say(f"{backend:<10} {json.dumps(out['backends'][backend])}")
    out["eval"] = eval_per_backend(backends, models, options, work)
    return out


def eval_corpus(folder: Path, questions: list, seeds: Path, pdfs: Path) -> tuple[Path, list]:
    """The evaluation corpus (the seeds and the PDFs the questions cite, linked into `folder` once) and the
    questions it can answer."""
    from .evaluation import answerable, corpus_files_of, raw_text

    if not folder.exists():
        folder.mkdir(parents=True)
        cited = {question.doc for question in questions if question.corpus == "ilacs"}
        for path in [*sorted(seeds.glob("*.txt")), *(pdfs / name for name in sorted(cited))]:
            if path.is_file():
                (folder / path.name).symlink_to(path.resolve())
    return folder, answerable(questions, [raw_text(path) for path in corpus_files_of([folder])])[0]


def eval_index(corpus: Path, settings: Settings, embedder, questions: list):
    """Build (or update) the index of `corpus` in `settings.index`, and score the project's search on it:
    the scores, rounded, and the build report."""
    from .building import build_index
    from .evaluation import ProjectSystem, evaluate, score
    from .search import Searcher
    from .store import load_index

    report = build_index([corpus], settings.index, embedder, settings, progress=False, log=lambda *_: None)
    scores = score(evaluate(ProjectSystem(Searcher(load_index(settings.index, settings), embedder, settings)),
                            questions))
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in scores.items()}, report


def eval_per_backend(backends: list[str], models: Path, options, work: Path) -> dict:
    """hit@5 and MRR@10 of the project's search with each backend, on the seeds and the PDFs the questions cite."""
    from .embedding import load_embedder
    from .evaluation import load_questions

    corpus, questions = eval_corpus(work / "eval-corpus", load_questions(options.questions), options.seeds,
                                    options.pdfs)
    out = {}
    for backend in backends:
        settings = settings_for(work, models, backend, work / f"eval-{backend}")
        embedder = load_embedder(settings)
        out[backend], _ = eval_index(corpus, settings, embedder, questions)
        say(f"eval {backend:<10} {json.dumps(out[backend])}")
        if backend == Settings().backend and settings.sentence_model != settings.embedding_model:
            # the same, with sentence vectors from the whole model instead of its first layers
            whole = replace(settings, index=work / f"eval-{backend}-whole-sentences", sentence_layers=MODEL_LAYERS)
            settings_for(work, models, backend, whole.index)
            name = f"{backend}, sentences by the whole model"
            out[name], _ = eval_index(corpus, whole, embedder, questions)
            say(f"eval {name} {json.dumps(out[name])}")
    return out


# ---------------------------------------------------------------- building


def build_project(folders: list[str], index: str, backend: str, overrides: dict | None = None) -> dict:
    """Child process: `python -m indexer build` on the folders (with settings `overrides`), timed, with its peak
    memory."""
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    from .building import build_index
    from .embedding import load_embedder

    settings = Settings.from_env(index=Path(index), backend=backend, **(overrides or {}))
    embedder = load_embedder(settings)
    report = build_index([Path(folder) for folder in folders], Path(index), embedder, settings, progress=False,
                         log=lambda *_: None)
    return {"seconds": round(time.perf_counter() - started, 1), "peak_mib": round(peak_rss_mib()),
            "passages": report.passages, "documents": len(report.documents)}


def build_tutorial(files: list[str], target: str) -> dict:
    """Child process: the tutorial pipeline, timed, with its peak memory."""
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    import faiss

    chunks = tutorial_chunks([Path(path) for path in files])
    embedder = load_backend(Path(target).parent / "models", TUTORIAL_BACKEND)
    vectors = embedder.encode(chunks)
    dense = faiss.IndexFlatIP(vectors.shape[1])
    dense.add(vectors)
    Path(target).mkdir(parents=True, exist_ok=True)
    faiss.write_index(dense, str(Path(target) / "dense.faiss"))
    (Path(target) / "chunks.json").write_text(json.dumps(chunks), encoding="utf-8")
    return {"seconds": round(time.perf_counter() - started, 1), "peak_mib": round(peak_rss_mib()),
            "passages": len(chunks)}


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def bench_builds(seeds: Path, pdfs: list[Path], work: Path, models: Path) -> dict:
    """Build wall time, peak memory and bytes on disk: the project against the tutorial pipeline."""
    from .store import current_build

    say("\n== build ==")
    pdf_folder = work / "pdf-corpus"
    if not pdf_folder.exists():
        pdf_folder.mkdir(parents=True)
        for path in pdfs:
            (pdf_folder / path.name).symlink_to(path.resolve())
    out = {}
    backend = Settings.from_env().backend
    for name, folder in (("seeds", seeds), ("pdfs", pdf_folder)):
        index = work / f"build-{name}"
        shutil.rmtree(index, ignore_errors=True)
        settings_for(work, models, backend, index)
        ours = in_child(build_project, [str(folder)], str(index), backend)
        ours["disk_bytes_per_passage"] = round(folder_bytes(current_build(index)) / ours["passages"])
        files = sorted(str(path) for path in folder.iterdir() if path.suffix in (".txt", ".pdf"))
        target = work / f"tutorial-{name}"
        shutil.rmtree(target, ignore_errors=True)
        theirs = in_child(build_tutorial, files, str(target))
        theirs["disk_bytes_per_passage"] = round(folder_bytes(target) / theirs["passages"])
        out[name] = {"project": ours, "tutorial": theirs,
                     "time_ratio": round(ours["seconds"] / theirs["seconds"], 3),
                     "memory_ratio": round(ours["peak_mib"] / theirs["peak_mib"], 2)}
        say(f"{name:<6} project  {json.dumps(ours)}")
        say(f"{name:<6} tutorial {json.dumps(theirs)}")
        say(f"{name:<6} build time {ratio(ours['seconds'], theirs['seconds'])} the tutorial's")
    for key, (label, overrides) in BUILD_VARIANTS.items():
        index = variant_index(work, key)
        shutil.rmtree(index, ignore_errors=True)
        settings_for(work, models, backend, index)
        run = in_child(build_project, [str(pdf_folder)], str(index), backend, overrides)
        run["disk_bytes_per_passage"] = round(folder_bytes(current_build(index)) / run["passages"])
        run["time_ratio"] = round(run["seconds"] / out["pdfs"]["tutorial"]["seconds"], 3)
        out["pdfs"][f"project_{key}"] = run
        say(f"pdfs   project {label} {json.dumps(run)}: "
            f"{ratio(run['seconds'], out['pdfs']['tutorial']['seconds'])} the tutorial's")
    return out


# ---------------------------------------------------------------- searching


def search_session(index: str, backend: str, queries: list[str], overrides: dict | None = None,
                   filter_every: int = 4) -> dict:
    """Child process: start up, answer a first query, then time warm queries (a quarter of them filtered)."""
    started = time.perf_counter()
    warnings.filterwarnings("ignore")
    from .embedding import load_embedder
    from .search import Filters, Searcher
    from .store import faiss_threads, load_index

    settings = Settings.from_env(index=Path(index), backend=backend, **(overrides or {}))
    before = rss_mib()
    loaded = load_index(settings.index, settings)
    index_mib = rss_mib() - before
    embedder = load_embedder(settings)
    searcher = Searcher(loaded, embedder, settings)
    ready = time.perf_counter() - started
    first_started = time.perf_counter()
    searcher.search(queries[0], 10)
    first = time.perf_counter() - first_started
    authorities = sorted({p.authority for p in loaded.passages if p.authority})
    for query in queries[1:6]:  # warm-up
        searcher.search(query, 10)
    timings: dict[str, list[float]] = {"encode": [], "dense": [], "lexical": [], "search": [], "filtered search": []}
    for number, query in enumerate(queries[6:]):
        clock = time.perf_counter()
        vector = embedder.encode([query])
        timings["encode"].append(time.perf_counter() - clock)
        clock = time.perf_counter()
        loaded.search_dense(vector, settings.candidates)
        timings["dense"].append(time.perf_counter() - clock)
        clock = time.perf_counter()
        searcher._lexical_scores(query, None)  # noqa: SLF001 - the lexical stage alone
        timings["lexical"].append(time.perf_counter() - clock)
        filters = Filters(authorities=(authorities[number % len(authorities)],)) if (
            authorities and number % filter_every == 0) else Filters()
        clock = time.perf_counter()
        searcher.search(query, 10, filters)
        timings["filtered search" if filters.authorities else "search"].append(time.perf_counter() - clock)
    # The thread trap: FAISS's OpenMP threads on every core, right after ONNX Runtime has used them.
    timings["dense, FAISS on every core"] = []
    with faiss_threads(os.cpu_count() or 1):
        for query in queries[6:]:
            vector = embedder.encode([query])
            clock = time.perf_counter()
            loaded.search_dense(vector, settings.candidates)
            timings["dense, FAISS on every core"].append(time.perf_counter() - clock)
    return {"start_up_s": round(ready, 2), "first_query_s": round(first, 3),
            "index_mib": round(index_mib), "passages": len(loaded.passages), "peak_mib": round(peak_rss_mib()),
            **{name: percentiles(values) for name, values in timings.items() if values}}


def tutorial_session(target: str, queries: list[str]) -> dict:
    """Child process: the tutorial pipeline's search: encode the question, flat search, top 10."""
    started = time.perf_counter()
    warnings.filterwarnings("ignore")
    import faiss

    dense = faiss.read_index(str(Path(target) / "dense.faiss"))
    chunks = json.loads((Path(target) / "chunks.json").read_text(encoding="utf-8"))
    embedder = load_backend(Path(target).parent / "models", TUTORIAL_BACKEND)
    ready = time.perf_counter() - started
    clock = time.perf_counter()
    dense.search(embedder.encode([queries[0]]), 10)
    first = time.perf_counter() - clock
    for query in queries[1:6]:
        dense.search(embedder.encode([query]), 10)
    timings = []
    for query in queries[6:]:
        clock = time.perf_counter()
        scores, rows = dense.search(embedder.encode([query]), 10)
        [chunks[row] for row in rows[0]]
        timings.append(time.perf_counter() - clock)
    return {"start_up_s": round(ready, 2), "first_query_s": round(first, 3), "search": percentiles(timings)}


def bench_search(work: Path, models: Path, questions: Path) -> dict:
    """Warm hybrid search p50/p95 and the first query after start-up, at the PDF corpus' scale."""
    from .evaluation import load_questions

    say("\n== search ==")
    queries = [question.q for question in load_questions(questions)]
    ours = in_child(search_session, str(work / "build-pdfs"), Settings.from_env().backend, queries)
    theirs = in_child(tutorial_session, str(work / "tutorial-pdfs"), queries)
    say(f"project  {json.dumps(ours)}")
    say(f"tutorial {json.dumps(theirs)}")
    out = {"project": ours, "tutorial": theirs}
    for key, (label, overrides) in BUILD_VARIANTS.items():
        index = variant_index(work, key)
        if (index / "current").exists():
            out[f"project_{key}"] = in_child(search_session, str(index), Settings.from_env().backend, queries,
                                             overrides)
            say(f"project {label} {json.dumps(out[f'project_{key}'])}")
    return out


# ---------------------------------------------------------------- a million passages


def synthetic_corpus(work: Path, models: Path, count: int, seed: int = 3):
    """`count` passages made from the real PDF passages (copied, with new ids) and vectors between real ones.

    Real vectors of a corpus lie on a low-dimensional, clustered surface; uniformly random vectors
    would be a much harder (and unrealistic) case for an approximate index. Each synthetic vector is a
    blend of two real passage vectors (a * one + (1 - a) * another, a between 0.5 and 1) plus a little
    Gaussian noise, normalised: new points on the corpus' own surface. (Noisy copies of one real vector
    would instead make fifty near-identical vectors per passage at a million, a tie no approximate
    index breaks: recall@10 was 0.85 at 200,000 that way, with efSearch 128.) The passage text, its
    metadata and its sentences are those of the first real passage.
    """
    from .store import SentenceVectors, load_index

    source = load_index(work / "build-pdfs", Settings.from_env(index=work / "build-pdfs"))
    rng = np.random.default_rng(seed)
    base = np.asarray(source.vectors)
    picks = rng.integers(0, len(base), count)
    others = rng.integers(0, len(base), count)
    vectors = np.empty((count, base.shape[1]), dtype=np.float32)
    for start in range(0, count, 100_000):
        end = min(count, start + 100_000)
        share = rng.uniform(0.5, 1.0, (end - start, 1)).astype(np.float32)
        block = share * base[picks[start:end]] + (1 - share) * base[others[start:end]] + rng.standard_normal(
            (end - start, base.shape[1])).astype(np.float32) * 0.01
        vectors[start:end] = block / np.linalg.norm(block, axis=1, keepdims=True)
    passages = []
    for row, pick in enumerate(picks):
        passage = source.passages[pick]
        copy = row // len(base)
        doc_id = f"{passage.doc_id}-{copy}"
        passages.append(replace(passage, passage_id=f"{doc_id}/{row:07d}", doc_id=doc_id))
    stored = source.sentences  # each synthetic passage keeps its source's sentences, so highlighting costs the same
    counts = np.diff(np.asarray(stored.offsets))[picks]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    rows = np.repeat(np.asarray(stored.offsets)[picks] - offsets[:-1], counts) + np.arange(offsets[-1])
    sentences = SentenceVectors(offsets, np.asarray(stored.spans)[rows], np.asarray(stored.vectors)[rows])
    documents = {}
    for passage in passages:
        record = documents.setdefault(passage.doc_id, {**source.documents[passage.doc_id.rsplit("-", 1)[0]],
                                                       "doc_id": passage.doc_id, "passages": 0})
        record["passages"] += 1
    return source.manifest, list(documents.values()), passages, vectors, sentences


def scale_build(work: str, models: str, count: int) -> dict:
    """Child process: write a synthetic index of `count` passages; time and memory of each part."""
    warnings.filterwarnings("ignore")
    from . import store
    from .passages import lexical_text

    work = Path(work)
    started = time.perf_counter()
    manifest, documents, passages, vectors, sentences = synthetic_corpus(work, Path(models), count)
    timings = {"make_corpus_s": round(time.perf_counter() - started, 1)}
    for name in ("build_dense", "build_lexical"):  # time the parts write_index calls, without building twice
        original = getattr(store, name)

        def timed(*arguments, _original=original, _name=name, **keywords):
            clock = time.perf_counter()
            result = _original(*arguments, **keywords)
            timings[f"{_name}_s"] = round(time.perf_counter() - clock, 1)
            return result

        setattr(store, name, timed)
    texts = [lexical_text(passage) for passage in passages]
    clock = time.perf_counter()
    build = store.write_index(work / "scale", {**manifest, "synthetic": True}, documents, passages, vectors, texts,
                              [str(row) for row in range(count)], Settings.from_env(index=work / "scale"),
                              sentences)
    timings["write_index_s"] = round(time.perf_counter() - clock, 1)
    return {"passages": count, **timings, "peak_mib": round(peak_rss_mib()),
            "disk_bytes_per_passage": round(folder_bytes(build) / count)}


def scale_search(work: str, backend: str, queries: list[str]) -> dict:
    """Child process: load the synthetic index, measure recall@10 against exact search and latency."""
    warnings.filterwarnings("ignore")
    from .embedding import load_embedder
    from .search import Filters, Searcher
    from .store import is_approximate, load_index

    settings = Settings.from_env(index=Path(work) / "scale", backend=backend)
    started = time.perf_counter()
    before = rss_mib()
    index = load_index(settings.index, settings)
    load_seconds = time.perf_counter() - started
    index_mib = rss_mib() - before
    embedder = load_embedder(settings)
    vectors = embedder.encode(queries)
    exact_rows = exact_top(np.asarray(index.vectors), vectors, 10)
    scores, rows = index.search_dense(vectors, 10)
    recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(rows, exact_rows)]))
    # filtered: one authority (about 1% of rows: scanned exactly), and half the rows (HNSW with a selector)
    authority = index.passages[0].authority
    narrow = np.array([p.authority == authority for p in index.passages])
    half = np.zeros(len(index.passages), dtype=bool)
    half[::2] = True
    filtered = {}
    for name, mask in (("one authority", narrow), ("half the rows", half)):
        exact_masked = exact_top(np.asarray(index.vectors), vectors, 10, mask)
        _, found = index.search_dense(vectors, 10, mask)
        filtered[name] = {"allowed": int(mask.sum()),
                          "recall@10": round(float(np.mean([len(set(a) & set(b)) / 10
                                                            for a, b in zip(found, exact_masked)])), 4)}
    timings: dict[str, list[float]] = {"dense": [], "dense, one authority": [], "search": []}
    for vector in vectors:
        clock = time.perf_counter()
        index.search_dense(vector[None, :], settings.candidates)
        timings["dense"].append(time.perf_counter() - clock)
        clock = time.perf_counter()
        index.search_dense(vector[None, :], settings.candidates, narrow)
        timings["dense, one authority"].append(time.perf_counter() - clock)
    clock = time.perf_counter()
    searcher = Searcher(index, embedder, settings)
    searcher_seconds = time.perf_counter() - clock
    clock = time.perf_counter()
    searcher.search(queries[0], 10)
    first_seconds = time.perf_counter() - clock
    for query in queries[1:5]:
        searcher.search(query, 10)
    for query in queries[5:]:
        clock = time.perf_counter()
        searcher.search(query, 10)
        timings["search"].append(time.perf_counter() - clock)
    return {"approximate": is_approximate(index.dense), "load_s": round(load_seconds, 1),
            "searcher_start_s": round(searcher_seconds, 1), "first_query_s": round(first_seconds, 2),
            "index_mib": round(index_mib), "peak_mib": round(peak_rss_mib()), "recall@10": round(recall, 4),
            "filtered": filtered,
            **{name: percentiles(values) for name, values in timings.items()}}


def dense_by_size(work: str, backend: str, queries: list[str], sizes: list[int]) -> dict:
    """Child process: exact (flat) against HNSW search by index size, to choose where one gives way to the other.

    Vectors are the synthetic ones of the scale test (blends of real passage vectors), queries the
    questions. Both searches ask for `candidates` (100) rows on one thread, as the searcher does.
    """
    warnings.filterwarnings("ignore")
    import faiss

    from .embedding import load_embedder
    from .store import build_dense, faiss_threads

    settings = Settings.from_env(index=Path(work) / "scale", backend=backend)
    queries_vectors = load_embedder(settings).encode(queries)
    _, _, _, vectors, _ = synthetic_corpus(Path(work), Path(work) / "models", max(sizes))
    out = {}
    for size in sizes:
        part = np.ascontiguousarray(vectors[:size])
        flat = faiss.IndexFlatIP(part.shape[1])
        flat.add(part)
        clock = time.perf_counter()
        hnsw = build_dense(part, replace(settings, flat_max_passages=0))
        build_seconds = time.perf_counter() - clock
        row = {"hnsw_build_s": round(build_seconds, 1)}
        with faiss_threads(1):
            for name, dense in (("flat", flat), ("hnsw", hnsw)):
                seconds = []
                for vector in queries_vectors:
                    clock = time.perf_counter()
                    dense.search(vector[None, :], settings.candidates)
                    seconds.append(time.perf_counter() - clock)
                row[name] = percentiles(seconds)
            _, exact = flat.search(queries_vectors, 10)
            _, found = hnsw.search(queries_vectors, 10)
        row["hnsw_recall@10"] = round(float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, found)])), 4)
        out[str(size)] = row
        say(f"dense {size:>9,}: flat p95 {row['flat']['p95_ms']:6.2f} ms, HNSW p95 {row['hnsw']['p95_ms']:5.2f} ms, "
            f"recall@10 {row['hnsw_recall@10']:.3f}, HNSW build {row['hnsw_build_s']} s")
    return out


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Exact top-k rows by inner product, in blocks so a million vectors need little extra memory."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(vectors), 200_000):
        scores = queries @ vectors[start:start + 200_000].T
        if mask is not None:
            scores[:, ~mask[start:start + 200_000]] = -np.inf
        rows = np.arange(start, start + scores.shape[1])
        scores = np.concatenate([best_scores, scores], axis=1)
        rows = np.concatenate([best_rows, np.broadcast_to(rows, (len(queries), len(rows)))], axis=1)
        keep = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        best_scores, best_rows = np.take_along_axis(scores, keep, 1), np.take_along_axis(rows, keep, 1)
    return best_rows


def bench_scale(work: Path, models: Path, questions: Path, count: int, pdfs: list[Path]) -> dict:
    """Build and search a synthetic index of `count` passages."""
    from .evaluation import load_questions

    say(f"\n== scale: {count:,} passages ==")
    queries = [question.q for question in load_questions(questions)]
    if not (work / "build-pdfs" / "current").exists():  # the real passages and vectors the synthetic ones copy
        settings_for(work, models, Settings.from_env().backend, work / "build-pdfs")
        pdf_folder = work / "pdf-corpus"
        if not pdf_folder.exists():
            pdf_folder.mkdir(parents=True)
            for path in pdfs:
                (pdf_folder / path.name).symlink_to(path.resolve())
        built = in_child(build_project, [str(pdf_folder)], str(work / "build-pdfs"), Settings.from_env().backend)
        say(f"source index {json.dumps(built)}")
    shutil.rmtree(work / "scale", ignore_errors=True)
    settings_for(work, models, Settings.from_env().backend, work / "scale")
    sizes = [size for size in (10_000, 25_000, 50_000, 100_000, 200_000) if size <= count]
    by_size = in_child(dense_by_size, str(work), Settings.from_env().backend, queries, sizes)
    built = in_child(scale_build, str(work), str(models), count)
    say(f"build  {json.dumps(built)}")
    searched = in_child(scale_search, str(work), Settings.from_env().backend, queries)
    say(f"search {json.dumps(searched)}")
    return {"dense_by_size": by_size, "build": built, "search": searched}
