"""PDFium (the project's PDF reader) against PyMuPDF (the one it replaced), through indexer.reading.

Reads every PDF with both (INDEXER_PDF_READER=pymupdf|pdfium; PyMuPDF must be installed for this
comparison, the project does not depend on it) and prints:

* word agreement of the whole document text (`read_document(...).text`): difflib's ratio over the
  sequence of words, and the overlap of the two multisets of words;
* layout blocks: the share of PyMuPDF's text blocks (page and text, white space folded) that PDFium's
  layout gives identically, as PyMuPDF gives them and split at their blank lines (the reader starts a new
  paragraph at a blank line inside a block, so a block with a blank line is two paragraphs either way);
* the reader's own blocks (kind and text): the share of PyMuPDF's found identically, and the counts of
  headings, bullets, paragraphs, rows and footnotes per reader;
* page numbers: for a sample of sentences of each document (every 7th of at least 40 characters), the
  share found word for word in the other reader's text and, of those, the share cited on the same page;
* seconds each reader spent in `read_document`, wall and CPU (files read once before timing, so both read
  from the cache; the two readers take turns, file by file);
* the worst documents and, for each, the first few places where the two texts differ.

    .venv/bin/python benchmarks/pdf_readers.py                 # the ILACS PDFs and tests/data
    .venv/bin/python benchmarks/pdf_readers.py --sample 20     # every n-th file, 20 files
    .venv/bin/python benchmarks/pdf_readers.py a.pdf b.pdf     # these files
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer import reading  # noqa: E402
from indexer.errors import DocumentError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDERS = (ROOT.parent / "shared" / "corpus" / "ofsted-ilacs", ROOT / "corpus", ROOT / "tests" / "data")
READERS = ("pymupdf", "pdfium")
KINDS = ("heading", "paragraph", "bullet", "row", "footnote")


def read(path: Path, reader: str):
    os.environ["INDEXER_PDF_READER"] = reader
    try:
        return reading.read_document(path)
    except DocumentError as error:
        return error


def layout_blocks(path: Path, reader: str, split: bool) -> Counter:
    """(page, text) of each text block of the raw layout; with `split`, each part between blank lines."""
    out: Counter = Counter()
    for number, page in enumerate(reading.PDF_READERS[reader](path), start=1):
        for block in page["blocks"]:
            if block.get("type") != 0:
                continue
            lines = ["".join(span["text"] for span in line["spans"]) for line in block["lines"]]
            text = "\n".join(lines)
            parts = re.split(r"\n\s*\n", text) if split else [text]
            for part in parts:
                text = " ".join(part.split())
                if text:
                    out[(number, text)] += 1
    return out


def share_found(reference: Counter, other: Counter) -> float:
    total = sum(reference.values())
    return sum((reference & other).values()) / total if total else 1.0


def words(text: str) -> list[str]:
    return text.split()


def sequence_agreement(a: list[str], b: list[str]) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() if a or b else 1.0


def multiset_agreement(a: list[str], b: list[str]) -> float:
    left, right = Counter(a), Counter(b)
    union = sum((left | right).values())
    return sum((left & right).values()) / union if union else 1.0


def sentences(document) -> list[tuple[int, str]]:
    out = []
    for match in re.finditer(r"[A-Z][^.!?\n]{38,300}[.!?]", document.text):
        out.append((match.start(), match.group()))
    return out[::7]


def page_agreement(reference, other) -> tuple[int, int, int]:
    """(sampled, found in `other`, found on the same page)."""
    sampled = found = same = 0
    for start, sentence in sentences(reference):
        sampled += 1
        nth = reference.text.count(sentence, 0, start)  # (a sentence a report repeats: the same occurrence)
        at = -1
        for _ in range(nth + 1):
            at = other.text.find(sentence, at + 1)
            if at < 0:
                break
        if at < 0:
            continue
        found += 1
        same += reference.page_at(start) == other.page_at(at)
    return sampled, found, same


def differences(a: list[str], b: list[str], limit: int = 4) -> list[str]:
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        left, right = " ".join(a[i1:i2]), " ".join(b[j1:j2])
        out.append(f"{tag} {i2 - i1}/{j2 - j1} words: pymupdf «{left[:110]}» | pdfium «{right[:110]}»")
        if len(out) >= limit:
            break
    return out


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("pdfs", nargs="*", type=Path)
    options.add_argument("--sample", type=int, default=0, help="take this many files, evenly spread")
    options.add_argument("--worst", type=int, default=5)
    args = options.parse_args()
    try:
        import pymupdf  # noqa: F401
    except ImportError:
        sys.exit("PyMuPDF is not installed (the project does not depend on it): pip install pymupdf to compare")
    pdfs = args.pdfs or sorted(p for folder in DEFAULT_FOLDERS if folder.is_dir() for p in folder.glob("*.pdf"))
    if args.sample and len(pdfs) > args.sample:
        step = len(pdfs) / args.sample
        pdfs = [pdfs[int(i * step)] for i in range(args.sample)]
    for path in pdfs:  # into the file cache, so that the first reader timed does not pay for the disk
        path.read_bytes()

    seconds = dict.fromkeys(READERS, 0.0)
    cpu = dict.fromkeys(READERS, 0.0)
    rows = []
    kinds = {reader: Counter() for reader in READERS}
    pages = {"sampled": 0, "found": 0, "same": 0}
    raw_found = raw_total = split_found = split_total = unit_found = unit_total = 0
    failures = []
    page_count = 0
    for path in pdfs:
        documents = {}
        for reader in READERS:
            started, started_cpu = time.perf_counter(), time.process_time()
            documents[reader] = read(path, reader)
            seconds[reader] += time.perf_counter() - started
            cpu[reader] += time.process_time() - started_cpu
        mu, pd = documents["pymupdf"], documents["pdfium"]
        if isinstance(mu, DocumentError) or isinstance(pd, DocumentError):
            failures.append((path.name, str(mu) if isinstance(mu, DocumentError) else "read",
                             str(pd) if isinstance(pd, DocumentError) else "read"))
            continue
        a, b = words(mu.text), words(pd.text)
        row = {"name": path.name, "sequence": sequence_agreement(a, b), "multiset": multiset_agreement(a, b)}
        for split in (False, True):
            reference, other = layout_blocks(path, "pymupdf", split), layout_blocks(path, "pdfium", split)
            found, total = sum((reference & other).values()), sum(reference.values())
            row["split" if split else "raw"] = found / total if total else 1.0
            if split:
                split_found, split_total = split_found + found, split_total + total
            else:
                raw_found, raw_total = raw_found + found, raw_total + total
        units = {reader: Counter((block.kind, documents[reader].text[block.start:block.end])
                                 for block in documents[reader].blocks) for reader in READERS}
        found, total = sum((units["pymupdf"] & units["pdfium"]).values()), sum(units["pymupdf"].values())
        row["units"] = found / total if total else 1.0
        unit_found, unit_total = unit_found + found, unit_total + total
        for reader in READERS:
            kinds[reader].update(block.kind for block in documents[reader].blocks)
        sampled, found, same = page_agreement(mu, pd)
        pages["sampled"] += sampled
        pages["found"] += found
        pages["same"] += same
        row["pages"] = same / found if found else 1.0
        rows.append(row)
        page_count += len(mu.page_starts)

    def summary(key: str) -> str:
        values = [row[key] for row in rows]
        return (f"median {statistics.median(values):.4f}  mean {statistics.mean(values):.4f}  "
                f"min {min(values):.4f}") if values else "-"

    print(f"{len(pdfs)} PDFs, {len(rows)} read by both")
    print(f"word agreement, sequence (difflib ratio):  {summary('sequence')}")
    print(f"word agreement, multiset overlap:          {summary('multiset')}")
    print(f"PyMuPDF layout blocks found in PDFium's:   {raw_found / max(raw_total, 1):.4f} of {raw_total}   "
          f"per document {summary('raw')}")
    print(f"  the same, blocks split at blank lines:   {split_found / max(split_total, 1):.4f} of {split_total}   "
          f"per document {summary('split')}")
    print(f"reader blocks (kind, text) found:          {unit_found / max(unit_total, 1):.4f} of {unit_total}   "
          f"per document {summary('units')}")
    print("reader blocks by kind:      " + "  ".join(f"{kind} {kinds['pymupdf'][kind]} / {kinds['pdfium'][kind]}"
                                                for kind in KINDS) + "   (pymupdf / pdfium)")
    print(f"page numbers: {pages['sampled']} sentences sampled, {pages['found']} found in PDFium's text "
          f"({pages['found'] / max(pages['sampled'], 1):.4f}), {pages['same']} on the same page "
          f"({pages['same'] / max(pages['found'], 1):.4f} of those found)")
    for reader in READERS:
        print(f"seconds in read_document, {reader:<8} {seconds[reader]:8.2f} wall, {cpu[reader]:8.2f} CPU  "
              f"({page_count / max(seconds[reader], 1e-9):.1f} pages/s over {page_count} pages)")
    print(f"pdfium / pymupdf time: {seconds['pdfium'] / max(seconds['pymupdf'], 1e-9):.2f} wall, "
          f"{cpu['pdfium'] / max(cpu['pymupdf'], 1e-9):.2f} CPU")
    for name, mu, pd in failures:
        print(f"not read by both: {name}: pymupdf: {mu}; pdfium: {pd}")
    worst = sorted(rows, key=lambda row: (row["sequence"], row["units"]))[:args.worst]
    print(f"\nworst {len(worst)} by word sequence agreement:")
    by_name = {path.name: path for path in pdfs}
    for row in worst:
        print(f"- {row['name']}: sequence {row['sequence']:.4f}, multiset {row['multiset']:.4f}, layout blocks "
              f"{row['raw']:.3f} (split {row['split']:.3f}), reader blocks {row['units']:.3f}, "
              f"pages {row['pages']:.3f}")
        a, b = (words(read(by_name[row["name"]], reader).text) for reader in READERS)
        for line in differences(a, b):
            print(f"    {line}")
    worst_units = sorted(rows, key=lambda row: row["units"])[:args.worst]
    print(f"\nworst {len(worst_units)} by reader blocks found:")
    for row in worst_units:
        print(f"- {row['name']}: reader blocks {row['units']:.3f}, layout blocks {row['raw']:.3f} "
              f"(split {row['split']:.3f}), sequence {row['sequence']:.4f}")


if __name__ == "__main__":
    main()
