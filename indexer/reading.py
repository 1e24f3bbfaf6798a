"""read_document(path) -> Document: the only file and PDF I/O, and the repair of what extraction breaks."""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import pdf_layout
from .errors import DocumentError
from .passages import Block, Document, strip_invisible

SUPPORTED_SUFFIXES = (".txt", ".pdf", ".docx", ".html", ".htm")
MAX_FILE_BYTES = 200_000_000
MAX_EXPANDED_BYTES = 100_000_000  # the XML a .docx may unpack to (a 534 KB file that unpacked to 171 MB read for 10 minutes)
MAX_READ_SECONDS = 300.0  # one file may take this long to read; the largest of the 266 ILACS PDFs takes about 2 s

# Bullet glyphs seen in extracted text: PDF symbol fonts map them to private-use code points.
BULLET = re.compile(r"^\s*(?:(?:[-•◼▪■●○◦‣∙·*]|[\uf000-\uf0ff])\s+)+")
NUMBERED = re.compile(r"^\d{1,3}\.(?:\d{1,3}\.?)*\s*$")  # a paragraph number alone on its line
SENTENCE_END = re.compile(r"[.!?:;)\]\"'’”]\s*$")
HEADING_MAX_WORDS = 30
CONTINUATION_MAX_WORDS = 12  # a bullet's last line that a PDF put in a block of its own is no longer than this
# Words a line cannot end a sentence with: a bullet ending in one carries on in the next block.
TRAILING_WORDS = ("the", "of", "and", "a", "an", "to", "for", "in", "with", "by", "on", "or", "that", "their", "its",
                  "from", "at", "as", "is", "are", "be", "which", "who", "this", "these", "between", "into")
TEXT_PAGE_MAX_CHARS = 6000  # a page of A4 prose holds about 3,000 characters


@dataclass
class _Unit:
    """A block under construction: its text, kind and the page it starts on."""

    text: str
    kind: str
    page: int
    page_breaks: list[tuple[int, int]]  # (offset within text, page) where a later page begins


def file_checksum(path: Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def printable(text: str) -> str:
    """Text for one line of output: a file name's bytes that are not UTF-8 as \\xNN, control characters escaped."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\u2028\u2029]",
                  lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class _Clock:
    """Raises DocumentError once a file has been read for longer than MAX_READ_SECONDS."""

    now = staticmethod(time.monotonic)

    def __init__(self, path: Path):
        self.path, self.started = path, self.now()

    def tick(self) -> None:
        """Called once a page or paragraph; a clock read costs about 50 ns, so it looks every time."""
        elapsed = self.now() - self.started
        if elapsed > MAX_READ_SECONDS:
            raise DocumentError(self.path, f"reading took over {MAX_READ_SECONDS:.0f} seconds "
                                           f"(stopped after {elapsed:.0f} s); is it one enormous document?")


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} bytes"


def read_document(path: str | Path, doc_id: str | None = None, max_bytes: int | None = None) -> Document:
    """Read a .txt or .pdf file into a Document with repaired text, layout blocks and page offsets.

    Metadata (title, authority, dates) is left for `metadata.describe_document` to fill in.
    Raises DocumentError naming the file and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise DocumentError(path, "no such file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(path, f"unsupported file type '{suffix or '(none)'}'; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    size = path.stat().st_size
    if size == 0:
        raise DocumentError(path, "empty file")
    limit = MAX_FILE_BYTES if max_bytes is None else max_bytes
    if size > limit:
        raise DocumentError(path, f"file is {_size(size)}, over the {_size(limit)} limit for one document")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DocumentError(path, f"cannot be read: {error.strerror or error}") from None
    clock = _Clock(path)
    try:
        pages = READERS.get(suffix, _read_text_pages)(path, data, clock)
    except DocumentError:
        raise
    except MemoryError:
        raise DocumentError(path, "too large to read in the memory there is") from None
    except RecursionError:
        raise DocumentError(path, "nested too deeply to read") from None
    except Exception as error:  # a library's own failure on a damaged file: skip that file, never the build
        raise DocumentError(path, f"could not be read ({type(error).__name__}: {error})") from None
    for page in pages:
        for unit in page:
            unit.text = strip_invisible(unit.text)
    units = _join_across_pages(pages)
    text, blocks, page_starts = _assemble(units, len(pages))
    if len(pages) == 1 and suffix != ".pdf":  # (Word and HTML files have no fixed pages either)
        page_starts = []  # a text file without page breaks has no page numbers to cite
    if not text.strip():
        raise DocumentError(path, "no text found")
    return Document(
        doc_id=doc_id or path.stem,
        path=str(path),
        title=path.stem,
        authority=None,
        doc_type="document",
        date=None,
        text=text,
        blocks=tuple(blocks),
        page_starts=tuple(page_starts),
        checksum=hashlib.sha256(data).hexdigest(),  # of the bytes read: the file may have changed since
    )


# --- plain text -------------------------------------------------------------------------


def decode_text(path: Path, data: bytes) -> str:
    """Decode bytes as UTF-8, else Windows-1252, refusing binary data (control characters are left to the caller)."""
    if b"\x00" in data[:65536] or data.count(b"\x00") > 0.01 * len(data):
        raise DocumentError(path, "binary data, not text (it contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Windows-1252 is a superset of Latin-1's printable range and what Office saves on Windows.
        text = data.decode("cp1252", errors="replace")
    control = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\n\r\f")
    if control > 0.01 * min(len(text), 65536):
        raise DocumentError(path, "binary data, not text (too many control characters)")
    return text


def _read_text_pages(path: Path, data: bytes, clock: _Clock) -> list[list[_Unit]]:
    text = decode_text(path, data).replace("\r\n", "\n").replace("\r", "\n")
    # Text exported from PDFs shows a page break as a form feed or a run of blank lines. Runs of
    # blank lines are trusted as page breaks only when they come at a page-like rate; otherwise the
    # text is one page and its passages get no page numbers rather than wrong ones.
    raw_pages = re.split(r"\f|\n[ \t]*\n(?:[ \t]*\n)+", text)
    if "\f" not in text and (len(raw_pages) < 3 or len(text) / len(raw_pages) > TEXT_PAGE_MAX_CHARS):
        raw_pages = ["\n\n".join(raw_pages)]
    pages = []
    for number, raw in enumerate(raw_pages, start=1):
        units: list[_Unit] = []
        for chunk in re.split(r"\n[ \t]*\n", raw):
            clock.tick()
            units.extend(_units_from_lines(chunk.split("\n"), number))
        pages.append(units)
    return pages


def _units_from_lines(lines: list[str], page: int) -> list[_Unit]:
    """Split a blank-line-separated chunk into units: bullets, table rows, numbered paragraphs, prose."""
    units: list[_Unit] = []
    for line in lines:
        if not line.strip():
            continue
        if "\t" in line.strip("\t ") or (line.startswith("\t") and line.strip()):
            units.append(_Unit(line.rstrip(), "row", page, []))
            continue
        bullet = BULLET.match(line)
        stripped = line[bullet.end():] if bullet else line.strip()
        if bullet:
            units.append(_Unit(stripped.strip(), "bullet", page, []))
        elif units and units[-1].kind in ("paragraph", "bullet") and not _starts_new(stripped):
            units[-1].text = _join_lines(units[-1].text, stripped.strip())  # a hard-wrapped line
        else:
            units.append(_Unit(stripped.strip(), "paragraph", page, []))
    for unit in units:
        if unit.kind == "paragraph" and _looks_like_heading(unit.text) and not _looks_like_point(unit.text):
            unit.kind = "heading"
    return units


POINT_VERBS = re.compile(r"\b(?:should|must|will|shall|needs? to|ought to)\b", re.I)


def _looks_like_point(text: str) -> bool:
    """A numbered line of a sentence's length, or a line that says what someone should do: a point, not a heading.

    A plain-text list often leaves off the full stops ("2. Social workers should visit children in care
    more often"); taken as a heading, such a line would be only a section label, in no passage's text.
    """
    number = re.match(r"\s*(?:\d{1,3}(?:\.\d{1,3})*\.?|\(?[a-z]\)|\(?[ivx]{1,4}\))\s+", text)
    words = text[number.end():].split() if number else text.split()
    return (bool(number) and len(words) >= 6) or (len(words) >= 6 and bool(POINT_VERBS.search(text)))


def _starts_new(line: str) -> bool:
    return bool(re.match(r"\s*\d{1,3}(?:\.\d{1,3})*\.?\s", line))


def _looks_like_heading(text: str) -> bool:
    """A short line with no closing punctuation, or an Ofsted judgement heading with its grade."""
    if re.search(r":\s*(?:outstanding|good|requires improvement(?: to be good)?|inadequate)\s*$", text, re.I):
        return len(text.split()) <= HEADING_MAX_WORDS
    words = text.split()
    if not words or len(words) > 12 or text.rstrip().endswith(","):
        return False
    if SENTENCE_END.search(text) and not (text.rstrip().endswith("?") and len(words) <= 8):
        return False
    label = text.split(":", 1)[0]
    if ":" in text and len(label.split()) < 3:  # "Lead inspector: …" is a field, not a heading
        return False
    return words[0][0].isupper() or words[0][0].isdigit()


# --- Word and HTML: the file says which lines are headings, list items and table rows ---------


def _read_docx_pages(path: Path, data: bytes, clock: _Clock) -> list[list[_Unit]]:
    import io
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(item.file_size for item in archive.infolist() if item.filename.endswith((".xml", ".rels")))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise DocumentError(path, f"not a readable Word document (corrupt or not .docx): {error}") from None
    if expanded > MAX_EXPANDED_BYTES:
        raise DocumentError(path, f"the Word file expands to {_size(expanded)} of XML, over the "
                                  f"{_size(MAX_EXPANDED_BYTES)} limit for one document")
    try:
        word = docx.Document(io.BytesIO(data))
    except XMLSyntaxError as error:
        raise DocumentError(path, f"not a readable Word document (its XML is broken: {error})") from None
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as error:
        raise DocumentError(path, f"not a readable Word document (corrupt or not .docx): {error}") from None
    units: list[_Unit] = []
    body = word.element.body
    for child in body.iterchildren():
        clock.tick()
        tag = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
        if tag == "p":
            paragraph = docx.text.paragraph.Paragraph(child, word)
            text = " ".join(paragraph.text.split())
            if not text:
                continue
            style = (paragraph.style.name if paragraph.style is not None else "").lower()
            kind = "heading" if style.startswith(("heading", "title")) else (
                "bullet" if "list" in style else "paragraph")
            units.append(_Unit(text, kind, 1, []))
        elif tag == "tbl":
            for row in docx.table.Table(child, word).rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                if any(cells):
                    units.append(_Unit("\t".join(cells), "row", 1, []))
    return [units]


def _read_html_pages(path: Path, data: bytes, clock: _Clock) -> list[list[_Unit]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(path, data), "html.parser")
    for hidden in soup(["script", "style", "noscript", "template", "nav", "footer"]):
        hidden.decompose()
    units: list[_Unit] = []
    for element in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr"]):
        clock.tick()
        if element.name != "tr" and element.find_parent(["li", "tr"]) is not None:
            continue  # its text is part of the enclosing list item or table row
        if element.name == "tr":
            cells = [" ".join(cell.get_text(" ").split()) for cell in element.find_all(["td", "th"])]
            if any(cells):
                units.append(_Unit("\t".join(cells), "row", 1, []))
            continue
        text = " ".join(element.get_text(" ").split())
        if text:
            kind = {"p": "paragraph", "li": "bullet"}.get(element.name, "heading")
            units.append(_Unit(text, kind, 1, []))
    return [units]


# --- PDF --------------------------------------------------------------------------------


def _read_pdf_pages(path: Path, data: bytes, clock: _Clock) -> list[list[_Unit]]:
    reader = os.environ.get("INDEXER_PDF_READER", "pdfium")
    if reader not in PDF_READERS:
        raise ValueError(f"INDEXER_PDF_READER must be one of {', '.join(PDF_READERS)}, not {reader!r}")
    spans = PDF_READERS[reader](path, data, clock.tick)
    heights = [page["height"] for page in spans]
    body = _body_font_size(spans)
    raw_pages = [_pdf_page_blocks(page, height, body) for page, height in zip(spans, heights)]
    if not any(block.text.strip() for page in raw_pages for block in page):
        raise DocumentError(path, "the PDF has no text layer (a scan?): it needs OCR before it can be indexed")
    furniture = _running_furniture(raw_pages)
    pages = []
    for number, blocks in enumerate(raw_pages, start=1):
        units: list[_Unit] = []
        for block in blocks:
            key = _furniture_key(block.text)
            if block.in_margin and (key in furniture or re.fullmatch(r"#*", key)):
                continue
            if block.footnote:
                units.append(_Unit(" ".join(block.text.split()), "footnote", number, []))
                continue
            units.extend(_units_from_pdf_block(block.lines, block.bold, number))
        pages.append(units)
    return pages


def _read_pymupdf(path: Path, data: bytes | None = None, tick=None) -> list[dict]:
    """PyMuPDF's text dictionaries, for comparison with PDFium's (benchmarks/pdf_readers.py): not a dependency."""
    import pymupdf

    try:
        pdf = pymupdf.open(stream=data, filetype="pdf") if data is not None else pymupdf.open(path)
    except Exception as error:  # pymupdf raises several types for damaged files
        raise DocumentError(path, f"not a readable PDF (corrupt or truncated): {error}") from None
    with pdf:
        if pdf.needs_pass:
            raise DocumentError(path, "the PDF is encrypted (password-protected); save an unprotected copy")
        if pdf.is_repaired:  # text recovered from a damaged file may be partial: say so rather than index it
            raise DocumentError(path, "the PDF is damaged or truncated (it could only be opened by repairing it); "
                                      "download or save it again")
        try:
            pages = []
            for page in pdf:
                if tick is not None:
                    tick()
                layout = page.get_text("dict", sort=True)
                layout["height"] = page.rect.height
                pages.append(layout)
            return pages
        except Exception as error:
            raise DocumentError(path, f"not a readable PDF (corrupt or truncated): {error}") from None


# How PDFs are read: PDFium (the default and the only one the project depends on), or PyMuPDF when it is
# installed, to compare the two (INDEXER_PDF_READER=pymupdf).
PDF_READERS = {"pdfium": pdf_layout.read_pdf, "pymupdf": _read_pymupdf}


@dataclass
class _PdfBlock:
    """A text block of a PDF page (grouped as MuPDF groups lines), with what its fonts and place say about it."""

    text: str
    lines: list[str]
    bold: bool  # (nearly) all its characters are bold: a heading when it is one short line of text
    in_margin: bool  # in the top or bottom margin, where running headers, footers and page numbers sit
    footnote: bool  # small print in the lower part of the page, starting with its number


FOOTNOTE_SIZE = 0.85  # footnotes and superscript markers are set under this share of the body text's size


def _body_font_size(pages: list[dict]) -> float:
    """The font size most of the document's characters are set in."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for block in page["blocks"]:
            for line in block.get("lines", ()):
                for span in line["spans"]:
                    sizes[round(span["size"], 1)] += len(span["text"].strip())
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _pdf_page_blocks(page: dict, height: float, body: float) -> list[_PdfBlock]:
    """The text blocks of a page, in reading order, without superscript footnote markers.

    A marker ("What needs to improve?¹", "in the area.³") is a run of digits in a smaller font than the
    line around it: left in, it would glue itself to headings and sentences.
    """
    out = []
    for block in page["blocks"]:
        if block.get("type") != 0:
            continue
        lines, bold_chars, chars, sizes, raw = [], 0, 0, [], []
        for line in block["lines"]:
            raw.append("".join(span["text"] for span in line["spans"]))
            line_size = max((span["size"] for span in line["spans"] if span["text"].strip()), default=0.0)
            kept = [span for span in line["spans"]
                    if not (re.fullmatch(r"\s*\d{1,2}(?:,\s*\d{1,2})*\s*", span["text"])
                            and span["size"] < FOOTNOTE_SIZE * line_size)]
            text = "".join(span["text"] for span in kept)
            for span in kept:
                n = len(span["text"].strip())
                chars += n
                if n:
                    sizes.append(span["size"])
                if span["flags"] & 16 or "bold" in span["font"].lower():
                    bold_chars += n
            lines.append(text)  # a blank line inside a block still separates paragraphs
        if not any(line.strip() for line in lines):
            continue
        y0, y1 = block["bbox"][1], block["bbox"][3]
        in_margin = y1 < 0.09 * height or y0 > 0.91 * height
        joined = "\n".join(lines)
        footnote = bool(body and sizes and max(sizes) < FOOTNOTE_SIZE * body and y0 > 0.5 * height
                        and re.match(r"\s*\d{1,2}\s", "\n".join(raw)))
        out.append(_PdfBlock(joined, lines, chars > 0 and bold_chars >= 0.8 * chars, in_margin, footnote))
    return out


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", text)).strip()


def _running_furniture(pages: list[list[_PdfBlock]]) -> set[str]:
    """Texts in the page margins that repeat on many pages: running headers and footers."""
    seen: Counter[str] = Counter()
    for page in pages:
        seen.update({_furniture_key(block.text) for block in page if block.in_margin})
    threshold = max(2, len(pages) // 3)
    return {key for key, n in seen.items() if n >= threshold}


def _units_from_pdf_block(lines: list[str], bold: bool, page: int) -> list[_Unit]:
    """One PDF block -> units: a paragraph number on its own line joins the text after it."""
    units: list[_Unit] = []
    open_unit = False  # False after a blank line: the next line starts a new unit
    for raw in lines:
        line = raw.strip()
        if not line:
            open_unit = False
            continue
        bullet = BULLET.match(raw)
        if bullet:
            units.append(_Unit(raw[bullet.end():].strip(), "bullet", page, []))
        elif NUMBERED.match(line):
            units.append(_Unit(line, "paragraph", page, []))
        elif open_unit and NUMBERED.match(units[-1].text):
            units[-1].text = f"{units[-1].text} {line}"
        elif open_unit:
            units[-1].text = _join_lines(units[-1].text, line)
        else:
            units.append(_Unit(line, "paragraph", page, []))
        open_unit = True
    if bold and len(units) == 1 and units[0].kind == "paragraph" and len(units[0].text.split()) <= HEADING_MAX_WORDS:
        units[0].kind = "heading"
    return units


READERS = {".pdf": _read_pdf_pages, ".docx": _read_docx_pages, ".html": _read_html_pages, ".htm": _read_html_pages,
           ".txt": _read_text_pages}  # suffix -> reader(path, bytes, clock) -> pages of units


# --- repair and assembly ----------------------------------------------------------------


def _join_lines(left: str, right: str) -> str:
    """Join two wrapped lines; a line-end hyphen is kept (these documents hyphenate compounds, not syllables)."""
    left = left.rstrip()
    if re.search(r"[A-Za-z]-$", left) and right[:1].islower():
        return left + right
    return f"{left} {right}"


def _is_continuation(previous: _Unit, unit: _Unit) -> bool:
    """True when `unit` carries on the sentence `previous` left unfinished at a page or block break.

    It does when it starts in lower case or with punctuation; when `previous` left a bracket open
    ("… pathway plans for care leavers (National" / "Framework outcome four)."); or when `previous` is a
    bullet without its full stop and `unit` is a short line that ends the sentence ("… senior leaders of
    the council and the" / "Children's Services Trust.").
    """
    if previous.kind == unit.kind == "heading":  # one heading over two lines: "… who need help and" / "protection"
        return unit.text[:1].islower() or bool(
            re.search(rf"\b(?:{'|'.join(TRAILING_WORDS)})$", previous.text.rstrip()))
    if previous.kind not in ("paragraph", "bullet") or unit.kind != "paragraph" or NUMBERED.match(previous.text):
        return False
    if previous.text.count("(") > previous.text.count(")") and ")" in unit.text:
        return True
    if re.fullmatch(r"\([^()]{1,150}\)\.?", unit.text.strip()):
        return True  # a reference set on a line of its own: "(Outcome 4, National Framework)"
    first = unit.text[:1]
    if first.islower() and not re.search(r"(?:[.!?][\"'’”)\]]*|:)\s*$", previous.text):
        return True  # "… independent reviewing officers (IROs)" / "between reviews."
    if SENTENCE_END.search(previous.text) and not re.search(r"s[’']$", previous.text.rstrip()):
        return False  # (a plural possessive, "IROs’", does not end a sentence)
    if first.islower() or first in "(,;–-" or (first.isdigit() and not _starts_new(unit.text)):
        return True
    if _starts_new(unit.text) or _looks_like_heading(unit.text):
        return False
    if previous.kind == "bullet" and re.search(rf"\b(?:{'|'.join(TRAILING_WORDS)})$", previous.text.rstrip()):
        return True  # "… the pre-proceedings stage of the" / "PLO, to drive progress …"
    return (previous.kind == "bullet" and len(unit.text.split()) <= CONTINUATION_MAX_WORDS
            and bool(re.search(r"[.;]$", unit.text.rstrip())))


def _join_across_pages(pages: list[list[_Unit]]) -> list[_Unit]:
    """Flatten pages into units, re-joining sentences cut by a page or block break.

    A unit that carries on the one before (see _is_continuation) is joined to it: a sentence cut by a
    page break, or a bullet's second line that the PDF put in a block of its own. Footnotes at the foot
    of a page do not stand in the way: they follow the paragraph they interrupted.
    """
    units: list[_Unit] = []
    for page in pages:
        for unit in page:
            last = len(units) - 1
            while last >= 0 and units[last].kind == "footnote":
                last -= 1
            if last >= 0 and _is_continuation(units[last], unit):
                previous = units[last]
                joined = _join_lines(previous.text, unit.text)
                if unit.page > (previous.page_breaks[-1][1] if previous.page_breaks else previous.page):
                    previous.page_breaks.append((len(joined) - len(unit.text), unit.page))
                previous.text = joined
            else:
                units.append(unit)
    return units


def _assemble(units: list[_Unit], page_count: int) -> tuple[str, list[Block], list[int]]:
    """Lay units out as text separated by blank lines; return text, blocks and page start offsets."""
    parts: list[str] = []
    blocks: list[Block] = []
    page_starts = [0] * page_count
    seen_pages: set[int] = set()
    offset = 0
    for unit in units:
        text = re.sub(r"[ \t]+", " ", unit.text).strip() if unit.kind != "row" else unit.text.rstrip()
        if not text:
            continue
        if unit.page not in seen_pages:
            for page in range(1, unit.page + 1):
                if page not in seen_pages:
                    page_starts[page - 1] = offset
                    seen_pages.add(page)
        for at, page in unit.page_breaks:
            # the break position was measured before white space was folded: find it again
            position = offset + min(len(text), _position_after_fold(unit.text, at))
            for missing in range(1, page + 1):
                if missing not in seen_pages:
                    page_starts[missing - 1] = position
                    seen_pages.add(missing)
        blocks.append(Block(offset, offset + len(text), unit.kind))
        parts.append(text)
        offset += len(text) + 2
    for page in range(1, page_count + 1):  # pages with no text of their own start where the next text does
        if page not in seen_pages:
            page_starts[page - 1] = offset
    return "\n\n".join(parts), blocks, page_starts


def _position_after_fold(text: str, at: int) -> int:
    return len(re.sub(r"[ \t]+", " ", text[:at]).lstrip())
