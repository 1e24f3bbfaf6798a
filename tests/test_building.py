"""Building the index: incremental re-embedding, staleness, bad input, and surviving a killed build."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from indexer import reading
from indexer.answers import sentence_spans
from indexer.building import Plan, build_index, stale_reasons
from indexer.errors import IndexerError
from indexer.embedding import HashingEmbedder
from indexer.search import Filters, Searcher
from indexer.settings import PROJECT_ROOT, Settings
from indexer.store import current_build, load_index, read_manifest

from .conftest import SEED_CORPUS, TEST_DATA, write_files

REPORT = (
    "Inspection of Exampleton children's social care services\n\n"
    "Inspection dates: 1 to 12 May 2023\n\n"
    "What needs to improve\n\n"
    "- The quality of pathway plans for care leavers.\n\n"
    "The experiences and progress of care leavers: requires improvement to be good\n\n"
    "1. Care leavers have pathway plans that lack ambition and are not reviewed when circumstances change.\n\n"
    "2. Personal advisers keep in touch with most young people and know them well.\n"
)
PLAN = (
    "Exampleton Council Improvement Plan 2023\n\n"
    "Objective\tActions\tLead officer\tTimescale\n"
    "Pathway planning\tReview every pathway plan\tHead of Service\tMarch 2024\n"
)


def build(folder: Path, settings, embedder, **kwargs):
    return build_index([folder], settings.index, embedder, settings, progress=False, log=lambda *_: None, **kwargs)


def test_rebuilding_an_unchanged_corpus_embeds_nothing(tmp_path, settings, hashing_embedder):
    corpus = write_files(tmp_path / "corpus", {"report.txt": REPORT, "plan.txt": PLAN})
    first = build(corpus, settings, hashing_embedder)
    assert (len(first.documents), first.embedded, first.reused) == (2, first.passages, 0)
    second = build(corpus, settings, hashing_embedder)
    assert (second.read, second.reused_files, second.embedded, second.reused) == (0, 2, 0, first.passages)
    # one encode() for the passages and their sentences, then none: the second build reused them all
    assert first.sentences_embedded > 0
    assert hashing_embedder.calls == [first.embedded + first.sentences_embedded]


def test_every_passage_s_sentences_are_stored_with_their_vectors(tmp_path, settings, hashing_embedder):
    corpus = write_files(tmp_path / "corpus", {"report.txt": REPORT, "plan.txt": PLAN})
    build(corpus, settings, hashing_embedder)
    index = load_index(settings.index, settings)
    assert len(index.sentences.offsets) == len(index.passages) + 1
    multi = 0
    for row, passage in enumerate(index.passages):
        spans, vectors = index.sentences.of(row)
        assert spans == sentence_spans(passage.text)
        expected = HashingEmbedder().encode([passage.text[start:end] for start, end in spans])
        assert np.abs(vectors - expected).max() < 1e-3  # float16 on disk
        multi += len(spans) > 1
    assert multi  # the test corpus has passages of several sentences


def test_without_sentence_vectors_only_passages_are_embedded_and_highlights_still_work(
        tmp_path, settings, hashing_embedder, monkeypatch):
    monkeypatch.setenv("INDEXER_SENTENCE_VECTORS", "0")
    assert Settings.from_env().sentence_vectors is False
    settings = replace(settings, sentence_vectors=False)
    corpus = write_files(tmp_path / "corpus", {"report.txt": REPORT, "plan.txt": PLAN})
    report = build(corpus, settings, hashing_embedder)
    assert report.sentences_embedded == 0 and hashing_embedder.calls == [report.embedded]
    index = load_index(settings.index, settings)
    assert index.sentences is None
    hits = Searcher(index, hashing_embedder, settings).search("pathway plans", k=3)
    assert hits and all(hit.highlights for hit in hits)  # sentences embedded at query time instead


def test_adding_a_file_embeds_only_its_passages_and_sentences(tmp_path, settings, hashing_embedder):
    corpus = write_files(tmp_path / "corpus", {"report.txt": REPORT})
    build(corpus, settings, hashing_embedder)
    before = load_index(settings.index, settings)
    write_files(corpus, {"plan.txt": PLAN})
    report = build(corpus, settings, hashing_embedder)
    assert (report.embedded, report.reused) == (report.passages - len(before.passages), len(before.passages))
    index = load_index(settings.index, settings)
    plan_sentences = sum(len(index.sentences.of(row)[0]) for row, passage in enumerate(index.passages)
                         if passage.doc_id == "plan")
    assert hashing_embedder.calls[1] <= plan_sentences + report.embedded
    for row, passage in enumerate(index.passages):  # the report's stored sentences came over unchanged
        if passage.doc_id == "report":
            old = before.sentences.of(before.row_of[passage.passage_id])
            assert index.sentences.of(row)[0] == old[0] and np.array_equal(index.sentences.of(row)[1], old[1])


def test_changing_one_file_re_embeds_only_that_file_and_keeps_other_ids(tmp_path, settings, hashing_embedder):
    corpus = write_files(tmp_path / "corpus", {"report.txt": REPORT, "plan.txt": PLAN})
    build(corpus, settings, hashing_embedder)
    before = {p.passage_id: p.text for p in load_index(settings.index, settings).passages}
    (corpus / "plan.txt").write_text(PLAN + "Care leavers\tRe-launch the local offer\tDirector\tJune 2024\n")
    report = build(corpus, settings, hashing_embedder)
    assert (report.read, report.reused_files, report.embedded) == (1, 1, 1)
    after = {p.passage_id: p.text for p in load_index(settings.index, settings).passages}
    assert {k: v for k, v in after.items() if k.startswith("report/")} == {
        k: v for k, v in before.items() if k.startswith("report/")}


def test_stale_reasons_name_new_changed_and_removed_files(tmp_path, settings, hashing_embedder):
    corpus = write_files(tmp_path / "corpus", {"report.txt": REPORT, "plan.txt": PLAN})
    assert stale_reasons([corpus], settings.index, settings) == [f"no index in {settings.index}"]
    build(corpus, settings, hashing_embedder)
    assert stale_reasons([corpus], settings.index, settings) == []
    (corpus / "report.txt").write_text(REPORT + "\n3. A new finding about advocacy services for children.\n")
    (corpus / "plan.txt").unlink()
    write_files(corpus, {"letter.txt": "Dear Director\n\nA letter about a focused visit to Exampleton."})
    assert stale_reasons([corpus], settings.index, settings) == [
        f"new file {(corpus / 'letter.txt').resolve()}",
        f"removed file {(corpus / 'plan.txt').resolve()}",
        f"changed file {(corpus / 'report.txt').resolve()}",
    ]
    (corpus / "metadata.csv").write_text("file,authority\nletter.txt,Exampleton\n")
    assert "metadata file changed" in stale_reasons([corpus], settings.index, settings)


def test_metadata_file_corrections_win_over_what_is_read(tmp_path, settings, hashing_embedder):
    corpus = write_files(tmp_path / "corpus", {
        "report.txt": REPORT,
        "metadata.csv": "file,title,authority,doc_type,date,grade_care_leavers\n"
                        "report.txt,Exampleton ILACS report,Exampleton Borough,inspection report,2023-06-30,Good\n",
    })
    build(corpus, settings, hashing_embedder)
    index = load_index(settings.index, settings)
    record = index.documents["report"]
    assert (record["title"], record["authority"], record["date"], record["grades"]) == (
        "Exampleton ILACS report", "Exampleton Borough", "2023-06-30", {"care leavers": "good"})
    assert index.passages[0].citation.startswith("Exampleton ILACS report (Jun 2023)")


def encrypted_pdf(path: Path) -> None:
    """A one-page PDF encrypted with AES-256 and a user password (tests/data/encrypted.pdf: PDFium cannot
    encrypt, so it was made once with another library and is kept as it is)."""
    shutil.copyfile(TEST_DATA / "encrypted.pdf", path)


def scanned_pdf(path: Path) -> None:
    """A page with a grey rectangle and no text: what a scan without OCR looks like to a reader."""
    import pypdfium2
    import pypdfium2.raw as raw

    pdf = pypdfium2.PdfDocument.new()
    page = pdf.new_page(595, 842)
    rect = raw.FPDFPageObj_CreateNewRect(50, 50, 250, 250)
    raw.FPDFPageObj_SetFillColor(rect, 128, 128, 128, 255)
    raw.FPDFPath_SetDrawMode(rect, raw.FPDF_FILLMODE_ALTERNATE, True)
    raw.FPDFPage_InsertObject(page.raw, rect)
    page.gen_content()
    pdf.save(path)
    page.close()
    pdf.close()


def test_bad_input_is_skipped_with_a_reason_and_the_rest_is_indexed(tmp_path, settings, hashing_embedder,
                                                                      monkeypatch):
    real_pdf = (TEST_DATA / "oldham-2024-07-12.pdf").read_bytes()
    corpus = write_files(tmp_path / "corpus", {
        "good.txt": REPORT,
        "copy-of-good.txt": REPORT,
        "empty.txt": "",
        "junk.txt": os.urandom(4096).replace(b"\x00", b"\x01") + b"\x00" * 64,
        "windows.txt": "Children\u2019s services \u2013 the caf\u00e9 budget was \u00a312m for care leavers."
                       .encode("cp1252"),
        "truncated.pdf": real_pdf[: len(real_pdf) // 2],
        "corrupt.pdf": b"%PDF-1.4\nthis is not really a PDF at all",
        "slides.pptx": b"PK\x03\x04 not supported",
        "huge.txt": "word " * 40_000,
    })
    encrypted_pdf(corpus / "locked.pdf")
    scanned_pdf(corpus / "scan.pdf")
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 150_000)
    report = build(corpus, settings, hashing_embedder)
    reasons = {Path(path).name: reason for path, reason in report.skipped}
    assert sorted(Path(path).name for path, _, _ in report.documents) == ["copy-of-good.txt", "windows.txt"]
    assert reasons["good.txt"] == f"duplicate of {corpus / 'copy-of-good.txt'} (same content): indexed once"
    assert reasons["empty.txt"] == "empty file"
    assert reasons["junk.txt"].startswith("binary data, not text")
    assert reasons["truncated.pdf"].startswith("the PDF is damaged or truncated")
    assert reasons["corrupt.pdf"].startswith("not a readable PDF (corrupt or truncated)")
    assert reasons["slides.pptx"].startswith("unsupported file type '.pptx'")
    assert reasons["huge.txt"] == "file is 200.0 KB, over the 150.0 KB limit for one document"
    assert reasons["locked.pdf"].startswith("the PDF is encrypted")
    assert "needs OCR" in reasons["scan.pdf"]
    assert len(reasons) == 9
    index = load_index(settings.index, settings)
    windows = next(p for p in index.passages if p.doc_id == "windows")
    assert windows.text == "Children\u2019s services \u2013 the caf\u00e9 budget was \u00a312m for care leavers."


def test_a_build_with_nothing_to_index_fails_and_leaves_the_old_index(tmp_path, settings, hashing_embedder):
    corpus = write_files(tmp_path / "corpus", {"report.txt": REPORT})
    build(corpus, settings, hashing_embedder)
    before = current_build(settings.index)
    broken = write_files(tmp_path / "broken", {"empty.txt": "", "junk.pdf": b"not a pdf"})
    with pytest.raises(IndexerError, match="nothing could be indexed"):
        build(broken, settings, hashing_embedder)
    assert current_build(settings.index) == before
    assert len(load_index(settings.index, settings).passages) > 0


def test_added_files_stay_and_removed_ones_stay_out(tmp_path, settings, hashing_embedder):
    corpus = write_files(tmp_path / "corpus", {"report.txt": REPORT})
    extra = write_files(tmp_path / "elsewhere", {"plan.txt": PLAN}) / "plan.txt"
    build(corpus, settings, hashing_embedder, plan=Plan((corpus,), added=(extra,)))
    assert set(load_index(settings.index, settings).documents) == {"report", "plan"}
    report = build(corpus, settings, hashing_embedder, plan=Plan((corpus,), added=(extra,),
                                                                 removed=((corpus / "report.txt").resolve(),)))
    assert (report.embedded, set(load_index(settings.index, settings).documents)) == (0, {"plan"})


def test_filters_restrict_by_authority_type_and_date(tmp_path, settings, hashing_embedder):
    corpus = write_files(tmp_path / "corpus", {"report.txt": REPORT, "plan.txt": PLAN})
    build(corpus, settings, hashing_embedder)
    searcher = Searcher(load_index(settings.index, settings), hashing_embedder, settings)
    assert {h.passage.doc_id for h in searcher.search("pathway plans", 10)} == {"report", "plan"}
    assert {h.passage.doc_id for h in searcher.search("pathway plans", 10, Filters(doc_types=("improvement plan",)))
            } == {"plan"}
    assert {h.passage.doc_id for h in searcher.search("pathway plans", 10, Filters(since="2023", until="2023"))
            } == {"report", "plan"}
    assert searcher.search("pathway plans", 10, Filters(until="2022")) == []


KILL_SCRIPT = """
import sys, time
from pathlib import Path
from indexer.building import build_index
from indexer.embedding import HashingEmbedder
from indexer.settings import Settings

class SlowEmbedder(HashingEmbedder):
    def encode(self, texts, progress=False):
        time.sleep(0.002 * len(texts))
        return super().encode(texts, progress)

settings = Settings.from_env(index=Path(sys.argv[2]), model=HashingEmbedder.name)
build_index([Path(sys.argv[1])], settings.index, SlowEmbedder(), settings, progress=False, log=lambda *_: None)
"""


def test_killing_a_build_at_any_point_leaves_the_previous_index_answering(tmp_path, settings, hashing_embedder):
    first = write_files(tmp_path / "first", {"report.txt": REPORT})
    build(first, settings, hashing_embedder)
    second = tmp_path / "second"
    shutil.copytree(SEED_CORPUS, second)
    script = tmp_path / "slow_build.py"
    script.write_text(KILL_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    for delay in (0.05, 0.5, 1.0, 1.5, 2.0, 3.0):
        process = subprocess.Popen([sys.executable, str(script), str(second), str(settings.index)], env=env)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        index = load_index(settings.index, settings)  # whichever build is current, it is whole
        hits = Searcher(index, hashing_embedder, settings).search("pathway plans", 3)
        assert hits and all(index.row_of[h.passage.passage_id] >= 0 for h in hits)
        assert len(index.passages) == len(index.vectors) == index.dense.ntotal


def test_document_and_passage_ids_survive_new_documents_being_added(tmp_path, settings, hashing_embedder):
    corpus = write_files(tmp_path / "corpus" / "b", {"report.txt": REPORT}).parent
    build(corpus, settings, hashing_embedder)
    before = [p.passage_id for p in load_index(settings.index, settings).passages]
    write_files(corpus / "a", {"report.txt": PLAN})  # sorts first and has the same name
    build(corpus, settings, hashing_embedder)
    index = load_index(settings.index, settings)
    assert index.documents["report"]["path"] == str(corpus / "b" / "report.txt")
    assert index.documents["report-2"]["path"] == str(corpus / "a" / "report.txt")
    assert [p.passage_id for p in index.passages if p.doc_id == "report"] == before


def test_a_folder_given_relative_then_absolute_is_not_stale(tmp_path, settings, hashing_embedder, monkeypatch):
    write_files(tmp_path / "corpus", {"report.txt": REPORT, "metadata.csv": "file,authority\nreport.txt,Oldham\n"})
    monkeypatch.chdir(tmp_path)
    build(Path("corpus"), settings, hashing_embedder)  # `build --corpus corpus`
    assert stale_reasons([(tmp_path / "corpus").resolve()], settings.index, settings) == []  # the app's full path


def test_an_index_built_with_the_settings_backend_is_not_stale(tmp_path):
    corpus = write_files(tmp_path / "corpus", {"report.txt": REPORT})
    settings = Settings.from_env(index=tmp_path / "index", backend="onnx-int8", sentence_layers=3)

    class Int8Named(HashingEmbedder):  # stands in for the int8 model: same names in the manifest
        name = settings.embedding_model

        def with_layers(self, layers):
            first = HashingEmbedder()
            first.name = replace(settings, sentence_layers=layers).sentence_model
            return first

    build(corpus, settings, Int8Named())
    assert read_manifest(settings.index)["sentence_model"] == "all-MiniLM-L6-v2+int8 (first 3 layers)"
    assert stale_reasons([corpus], settings.index, settings) == []
    fp32 = replace(settings, backend="torch")
    assert stale_reasons([corpus], settings.index, fp32) == [
        "model is 'all-MiniLM-L6-v2+int8', settings say 'all-MiniLM-L6-v2'",
        "sentence_model is 'all-MiniLM-L6-v2+int8 (first 3 layers)', settings say "
        "'all-MiniLM-L6-v2 (first 3 layers)'"]
    whole = replace(settings, sentence_layers=6)
    assert stale_reasons([corpus], settings.index, whole) == [
        "sentence_model is 'all-MiniLM-L6-v2+int8 (first 3 layers)', settings say 'all-MiniLM-L6-v2+int8'"]
