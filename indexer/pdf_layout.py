"""A PDF page's text as blocks, lines and spans, from PDFium (pypdfium2, Apache-2.0/BSD).

PDFium gives characters, not blocks. This module groups them the way MuPDF's structured-text device
does, so that `reading` sees the same dictionary PyMuPDF's ``page.get_text("dict", sort=True)`` gives:

    {"width": w, "height": h, "blocks": [{"type": 0, "bbox": (x0, y0, x1, y1),
        "lines": [{"bbox": ..., "spans": [{"text", "size", "flags", "font", "bbox"}]}]}]}

Coordinates are in points from the top left of the page as it is shown (rotation applied, y growing
downward), as PyMuPDF gives them for an unrotated page. ``flags & 16`` marks bold, as in PyMuPDF.

The grouping imitates what MuPDF 1.28 (in PyMuPDF 2.0) does, as measured on small generated PDFs
and on the ILACS reports (benchmarks/pdf_readers.py). It reads the page's text in content order, one
run of characters at a time (what one text-showing operator drew, as PDFium reports it; PDFium's
generated spaces and line breaks only cut runs), and compares each run with where the one before it
ended, in font sizes:

* less than 0.8 off its baseline: the same line, with a space when the gap is 0.15 to 0.8 font sizes;
  a gap wider than that (or a step back of more than 0.8) starts a new line of the same block, as the
  text after a paragraph number's tab does;
* at most 1.5 off: a new line of the same block, unless it starts more than half a point to the right of
  where the line above began (an indented paragraph), and that line does not start with a digit (MuPDF
  leaves a numbered paragraph's hanging indent in one block);
* farther: a new block. Blocks are then sorted by their bottom edge, then their left edge.

Text outside the page, or hidden by its clipping path, is left out, as MuPDF leaves it out.

Where the result differs from PyMuPDF's (benchmarks/pdf_readers.py measures it; BENCHMARKS.md has the
figures):

* A blank line (an empty paragraph's lone space, which PDFium drops and which is rebuilt here from the
  page's objects) ends a block, where MuPDF keeps it inside the block (except on the edge of its
  clipping path, which PDFium does not report). The reader starts a new paragraph at a blank line either
  way; a heading followed by a blank line is now a block of its own, so it is found as a heading.
* Character boxes are PDFium's loose boxes: the font descriptor's ascent and descent, a little shorter
  than MuPDF's, which takes the font file's.
* On a rotated page, coordinates are those of the page as shown; PyMuPDF gives the unrotated page's
  (with the shown page's height).
* Damaged files: PyMuPDF tells a file it opened only by repairing it (`is_repaired`); here that is
  PDFium's "the cross-reference table is not valid", and a file PDFium cannot open at all is called
  truncated when it starts as a PDF, holds objects and lacks its end-of-file marker.
"""

from __future__ import annotations

import ctypes
import math
import re
import threading
from pathlib import Path

from .errors import DocumentError

PARAGRAPH_DIST = 1.5  # a baseline moved by more font sizes than this starts a new block
LINE_DIST = 0.8  # ... by less than this, the run is on the same line
SPACE_DIST = 0.15  # a gap wider than this share of the font size between two runs is a space
SPACE_MAX_DIST = 0.8  # ... and wider than this, a new line of the same block
INDENT = 0.5  # points: a line that starts further right than the line above starts a block
BOLD = 16  # PyMuPDF's span flag for bold
BOLD_WEIGHT = 600  # PDFium's font weight (from the font descriptor) at and over which text is bold
FORCE_BOLD = 1 << 18  # the font descriptor's ForceBold flag
SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")

_pdfium = None
_LOCK = threading.Lock()  # PDFium is not thread-safe: one document at a time in a process


def _lib():
    """pypdfium2, and the few PDFium functions called per character or object, declared to pass plain ints."""
    global _pdfium
    if _pdfium is None:
        import pypdfium2
        import pypdfium2.raw as raw

        def declare(name, restype, *argtypes):
            return ctypes.CFUNCTYPE(restype, *argtypes)(ctypes.cast(getattr(raw, name), ctypes.c_void_p).value)

        pointer, number, floats = ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)
        _pdfium = (pypdfium2, raw, {
            "text_object": declare("FPDFText_GetTextObject", pointer, pointer, number),
            "loose_box": declare("FPDFText_GetLooseCharBox", number, pointer, number, ctypes.POINTER(raw.FS_RECTF)),
            "origin": declare("FPDFText_GetCharOrigin", number, pointer, number, ctypes.POINTER(ctypes.c_double),
                              ctypes.POINTER(ctypes.c_double)),
            "char_matrix": declare("FPDFText_GetMatrix", number, pointer, number, ctypes.POINTER(raw.FS_MATRIX)),
            "char_size": declare("FPDFText_GetFontSize", ctypes.c_double, pointer, number),
            "object_font": declare("FPDFTextObj_GetFont", pointer, pointer),
            "font_name": declare("FPDFFont_GetBaseFontName", ctypes.c_size_t, pointer, ctypes.c_char_p,
                                 ctypes.c_size_t),
            "font_weight": declare("FPDFFont_GetWeight", number, pointer),
            "font_flags": declare("FPDFFont_GetFlags", number, pointer),
            "count_objects": declare("FPDFPage_CountObjects", number, pointer),
            "get_object": declare("FPDFPage_GetObject", pointer, pointer, number),
            "count_form_objects": declare("FPDFFormObj_CountObjects", number, pointer),
            "get_form_object": declare("FPDFFormObj_GetObject", pointer, pointer, ctypes.c_ulong),
            "object_type": declare("FPDFPageObj_GetType", number, pointer),
            "bounds": declare("FPDFPageObj_GetBounds", number, pointer, floats, floats, floats, floats),
            "font_size": declare("FPDFTextObj_GetFontSize", number, pointer, floats),
            "matrix": declare("FPDFPageObj_GetMatrix", number, pointer, ctypes.POINTER(raw.FS_MATRIX)),
            "clip": declare("FPDFPageObj_GetClipPath", pointer, pointer),
            "clip_paths": declare("FPDFClipPath_CountPaths", number, pointer),
            "clip_segments": declare("FPDFClipPath_CountPathSegments", number, pointer, number),
            "clip_segment": declare("FPDFClipPath_GetPathSegment", pointer, pointer, number, number),
            "point": declare("FPDFPathSegment_GetPoint", number, pointer, floats, floats),
        })
    return _pdfium


def read_pdf(path: Path, data: bytes | None = None, tick=None) -> list[dict]:
    """Every page of a PDF as a PyMuPDF-style text dictionary; DocumentError when it cannot be read.

    `data` is the file's bytes when the caller has read them already (then they, not the file, are parsed);
    `tick` is called once a page (the reader's time limit)."""
    def read(page, textpage):
        if tick is not None:
            tick()
        return page_dict(page, textpage)

    return _each_page(path, read, data)


def page_texts(path: Path) -> list[str]:
    """Each page's plain text as PDFium extracts it (the raw text a tutorial would index), lines ending in \\n."""
    return _each_page(path, lambda page, textpage: _text(textpage).replace("\r\n", "\n"))


def _each_page(path: Path, read, data: bytes | None = None) -> list:
    with _LOCK:
        return _each_page_locked(path, read, data)


def _each_page_locked(path: Path, read, data: bytes | None = None) -> list:
    pypdfium2, raw, _ = _lib()
    try:
        pdf = pypdfium2.PdfDocument(data if data is not None else str(path))
    except pypdfium2.PdfiumError as error:
        raise _load_error(path, error, data) from None
    try:
        if not raw.FPDF_DocumentHasValidCrossReferenceTable(pdf.raw):
            # PDFium rebuilt the cross-reference table: text recovered from a damaged file may be partial
            raise DocumentError(path, "the PDF is damaged or truncated (it could only be opened by repairing it); "
                                      "download or save it again")
        pages = []
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    pages.append(read(page, textpage))
                finally:
                    textpage.close()
            finally:
                page.close()
        return pages
    except pypdfium2.PdfiumError as error:
        raise DocumentError(path, f"not a readable PDF (corrupt or truncated): {error}") from None
    finally:
        pdf.close()


def _text(textpage) -> str:
    """The page's text, one character per PDFium character (its generated spaces and line breaks included)."""
    _, raw, _ = _lib()
    handle = textpage.raw
    count = textpage.count_chars()
    text = textpage.get_text_range() if count > 0 else ""
    if len(text) != count:  # PDFium left characters out of (or put some into) its text: ask char by char
        text = "".join(chr(raw.FPDFText_GetUnicode(handle, i)) for i in range(count))
    at = text.find("\ufffe")
    while at >= 0:  # a line-end hyphen (PDFium tells it by code 2), or a glyph without Unicode (0)
        replacement = "-" if raw.FPDFText_GetUnicode(handle, at) == 2 else "\ufffd"
        text = text[:at] + replacement + text[at + 1:]
        at = text.find("\ufffe", at + 1)
    return text


def _object_spans(text_object, address: int, count: int) -> list[tuple[int, int, int | None]]:
    """(start, end, text object) for each run of characters one text object drew (None: PDFium's own).

    PDFium lists an object's characters together (its generated characters, which belong to no object,
    come between objects), so each run's end is found by galloping and halving rather than by asking
    for every character's object.
    """
    spans = []
    start = 0
    while start < count:
        obj = text_object(address, start)
        if obj is None:  # PDFium's own characters are few and scattered: one at a time
            end = start + 1
            while end < count and text_object(address, end) is None:
                end += 1
            spans.append((start, end, None))
            start = end
            continue
        low, step = start, 1  # the object of `low` is `obj`; find the first character after it that is not
        while True:
            probe = low + step
            if probe >= count:
                high = count
                break
            if text_object(address, probe) != obj:
                high = probe
                break
            low, step = probe, step * 2
        while high - low > 1:
            middle = (low + high) // 2
            if text_object(address, middle) == obj:
                low = middle
            else:
                high = middle
        spans.append((start, high, obj))
        start = high
    return spans


def _load_error(path: Path, error, data: bytes | None = None) -> DocumentError:
    _, raw, _ = _lib()
    if getattr(error, "err_code", None) == raw.FPDF_ERR_PASSWORD:
        return DocumentError(path, "the PDF is encrypted (password-protected); save an unprotected copy")
    if getattr(error, "err_code", None) == raw.FPDF_ERR_SECURITY:
        return DocumentError(path, "the PDF is encrypted with an unsupported security handler; "
                                   "save an unprotected copy")
    if _looks_truncated(data if data is not None else Path(path).read_bytes()):
        return DocumentError(path, "the PDF is damaged or truncated (its end is missing); download or save it again")
    return DocumentError(path, f"not a readable PDF (corrupt or truncated): {error}")


def _looks_truncated(data: bytes) -> bool:
    """A PDF whose objects begin but whose end-of-file marker is missing: the end of a real PDF is cut off.

    (MuPDF opens such a file by repairing it and says so; PDFium refuses to open it.)
    """
    if b"%PDF-" not in data[:1024] or b"%%EOF" in data[-2048:]:
        return False
    return data[:1 << 20].count(b"endobj") >= 3


# --- one page ---------------------------------------------------------------------------


def _transform(page) -> tuple[float, float, callable]:
    """The shown page's width and height, and a function from PDF user space to top-down shown coordinates."""
    left, bottom, right, top = page.get_bbox()
    rotation = page.get_rotation() % 360
    if rotation == 90:
        return top - bottom, right - left, lambda x, y: (y - bottom, x - left)
    if rotation == 180:
        return right - left, top - bottom, lambda x, y: (right - x, y - bottom)
    if rotation == 270:
        return top - bottom, right - left, lambda x, y: (top - y, right - x)
    return right - left, top - bottom, lambda x, y: (x - left, top - y)


class _Run:
    """Characters one text object drew next to each other, as PDFium lists them."""

    __slots__ = ("text", "x0", "y0", "x1", "y1", "baseline", "size", "font", "flags", "obj", "upright", "order",
                 "blank")

    def __init__(self, text, x0, y0, x1, y1, baseline, size, font, flags, obj, upright, order, blank=False):
        self.text, self.x0, self.y0, self.x1, self.y1 = text, x0, y0, x1, y1
        self.baseline, self.size, self.font, self.flags, self.obj, self.upright = (
            baseline, size, font, flags, obj, upright)
        self.order, self.blank = order, blank


def _content_order(page, calls, drawn: set[int]) -> tuple[dict[int, int], list[_Run], dict[int, tuple]]:
    """Each text object's place in the page's content, the blank ones PDFium leaves out of its text, and
    the clipping rectangles of the objects PDFium keeps one for.

    PDFium drops a text object that draws nothing visible (a space set in a font of its own, an empty
    paragraph's space): MuPDF keeps those spaces, and they matter: between a paragraph number and its
    text, or as a blank line. They come back here as runs of one space. (Only on the page itself, not
    inside form XObjects.)

    MuPDF leaves out text its clipping path hides entirely (a list bullet a word processor hid outside
    the text column). PDFium keeps a text object's clipping path only where the path does not hold the
    whole object, which is where it matters; a blank's clip is its position's, so a blank on the very edge
    of its clip (which MuPDF leaves out) cannot be told from one inside it.
    """
    _, raw, _ = _lib()
    width, height, to_page = _transform(page)
    order: dict[int, int] = {}
    blanks: list[_Run] = []
    clips: dict[int, tuple] = {}
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    px, py = ctypes.c_float(), ctypes.c_float()
    size = ctypes.c_float()
    matrix = raw.FS_MATRIX()
    text_type, form_type = raw.FPDF_PAGEOBJ_TEXT, raw.FPDF_PAGEOBJ_FORM
    object_type, clip_of, clip_paths = calls["object_type"], calls["clip"], calls["clip_paths"]

    def clip_box(clip, paths):
        box = [-math.inf, -math.inf, math.inf, math.inf]
        for path in range(paths):
            segments = calls["clip_segments"](clip, path)

            def point(segment):
                calls["point"](calls["clip_segment"](clip, path, segment), px, py)
                return px.value, py.value

            points = [point(0), point(1), point(2)] if segments in (4, 5) else []
            # (a clip is almost always an upright rectangle, which three corners tell)
            if not points or not ((points[0][0] == points[1][0] and points[1][1] == points[2][1]) or (
                    points[0][1] == points[1][1] and points[1][0] == points[2][0])):
                points = [point(segment) for segment in range(segments)]
            points = [to_page(x, y) for x, y in points]
            if points:
                box = [max(box[0], min(p[0] for p in points)), max(box[1], min(p[1] for p in points)),
                       min(box[2], max(p[0] for p in points)), min(box[3], max(p[1] for p in points))]
        return tuple(box)

    def walk(count, get, holder, on_page):
        for i in range(count(holder)):
            obj = get(holder, i)
            kind = object_type(obj)
            if kind == text_type:
                place = order[obj] = len(order)
                if not on_page:
                    continue
                clip = clip_of(obj)
                paths = clip_paths(clip) if clip else -1
                if paths > 0:
                    clips[obj] = clip_box(clip, paths)
                if obj not in drawn:
                    calls["bounds"](obj, left, bottom, right, top)
                    if right.value - left.value < 0.01:
                        calls["font_size"](obj, size)
                        calls["matrix"](obj, matrix)
                        em = size.value * math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c)) or 1.0
                        x, baseline = to_page(left.value, bottom.value)
                        x0, y0, x1, y1 = clips.get(obj, (0, 0, width, height))
                        if not (x0 < x < x1 and y0 < baseline < y1 and 0 <= x < width and 0 <= baseline <= height):
                            continue  # clipped, or off the page
                        blanks.append(_Run(" ", x, baseline - 0.9 * em, x + 0.25 * em, baseline + 0.25 * em,
                                           baseline, em, "", 0, obj, True, place, blank=True))
            elif kind == form_type:
                walk(calls["count_form_objects"], calls["get_form_object"], obj, False)

    walk(calls["count_objects"], calls["get_object"], ctypes.cast(page.raw, ctypes.c_void_p).value, True)
    return order, blanks, clips


def _runs(page, textpage) -> list[_Run]:
    """The page's runs of characters, in the order of the page's content (the order MuPDF reads them in)."""
    _, raw, calls = _lib()
    handle = textpage.raw
    text = _text(textpage)
    count = len(text)
    address = ctypes.cast(handle, ctypes.c_void_p).value
    spans = _object_spans(calls["text_object"], address, count)
    width, height, to_page = _transform(page)
    order, runs, clips = _content_order(page, calls, {obj for _, _, obj in spans})
    turned = page.get_rotation() % 360
    rotation = math.radians(turned)
    left, _, _, top = page.get_bbox()
    left_box, right_box = raw.FS_RECTF(), raw.FS_RECTF()
    left_pointer, right_pointer = ctypes.pointer(left_box), ctypes.pointer(right_box)
    ox, oy = ctypes.c_double(), ctypes.c_double()
    ox_pointer, oy_pointer = ctypes.pointer(ox), ctypes.pointer(oy)
    loose_box, char_origin, char_size = calls["loose_box"], calls["origin"], calls["char_size"]
    char_matrix, matrix = calls["char_matrix"], raw.FS_MATRIX()
    matrix_pointer = ctypes.pointer(matrix)
    name = ctypes.create_string_buffer(256)
    object_font = calls["object_font"]
    fonts: dict[int, tuple[str, int]] = {}  # by PDFium's font handle
    place = -1
    for start, end, obj in spans:
        if obj is not None:  # (None: a space or line break PDFium generated; the layout decides for itself)
            loose_box(address, start, left_pointer)
            loose_box(address, end - 1, right_pointer)
            char_origin(address, start, ox_pointer, oy_pointer)
            # upright when the baseline runs left to right as the page is shown (slanted, fake italic, text is)
            if turned == 0 and end - start > 1 and right_box.bottom == left_box.bottom and (
                    right_box.right > left_box.left):
                upright = True  # (first and last character on one level baseline, left to right)
            else:
                char_matrix(address, start, matrix_pointer)
                upright = (matrix.b == 0 and matrix.a > 0 and turned == 0) or abs(
                    math.remainder(math.atan2(matrix.b, matrix.a) - rotation, 2 * math.pi)) < 0.02
            if turned == 0:  # (the common case, without the general transform)
                x0, x1 = ox.value - left, right_box.right - left
                y0, y1 = top - max(left_box.top, right_box.top), top - min(left_box.bottom, right_box.bottom)
                baseline = top - oy.value
                if not upright:
                    x0 = min(x0, left_box.left - left)
            else:
                corners = [to_page(left_box.left, left_box.top), to_page(left_box.left, left_box.bottom),
                           to_page(right_box.right, right_box.top), to_page(right_box.right, right_box.bottom)]
                xs, ys = [c[0] for c in corners], [c[1] for c in corners]
                x0, x1 = min(xs), max(xs)
                y0, y1 = min(ys), max(ys)
                origin_x, baseline = to_page(ox.value, oy.value)
                if upright:
                    x0 = origin_x
            size = char_size(address, start)
            handle_of_font = object_font(obj)
            font = fonts.get(handle_of_font)
            if font is None:
                calls["font_name"](handle_of_font, name, len(name))
                font_name = SUBSET_PREFIX.sub("", name.value.decode("utf-8", "replace"))
                bold = (calls["font_weight"](handle_of_font) >= BOLD_WEIGHT
                        or bool(calls["font_flags"](handle_of_font) & FORCE_BOLD) or "bold" in font_name.lower())
                font = fonts[handle_of_font] = (font_name, BOLD if bold else 0)
            place = order.get(obj, place)
            if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:  # off the page
                continue
            clip = clips.get(obj)
            if clip and (x1 <= clip[0] or y1 <= clip[1] or x0 >= clip[2] or y0 >= clip[3]):
                continue  # hidden by its clipping path
            runs.append(_Run(text[start:end], x0, y0, x1, y1, baseline, size if size > 0 else (y1 - y0) or 1.0,
                             font[0], font[1], obj, upright, place))
    runs.sort(key=lambda run: run.order)  # (stable: the runs of one object keep PDFium's order)
    for i, run in enumerate(runs):
        if run.blank and _between_words(runs, i):
            run.blank = False  # a space like any other
    return runs


def _between_words(runs: list[_Run], i: int) -> bool:
    """True when the blank run `i` sits on a line of text, next to a run before or after it."""
    blank = runs[i]
    for j in (i - 1, i + 1):
        if 0 <= j < len(runs) and not runs[j].blank:
            if abs(runs[j].baseline - blank.baseline) < LINE_DIST * blank.size:
                return True
    return False


def _may_add_space(last: str) -> bool:
    """MuPDF adds a space in a gap after Latin, Greek, Cyrillic, Hebrew or Arabic letters and punctuation."""
    code = ord(last)
    return last != " " and (code < 0x700 or 0x2000 <= code <= 0x20CF)


def _grow(box: list[float], run: _Run) -> None:
    """Widen `box` (x0, y0, x1, y1) to take in the run's box."""
    if run.x0 < box[0]:
        box[0] = run.x0
    if run.y0 < box[1]:
        box[1] = run.y0
    if run.x1 > box[2]:
        box[2] = run.x1
    if run.y1 > box[3]:
        box[3] = run.y1


def page_dict(page, textpage) -> dict:
    """One page as PyMuPDF's ``get_text("dict", sort=True)`` lays it out (text blocks only)."""
    width, height, _ = _transform(page)
    blocks: list[dict] = []
    line: dict | None = None
    pen_x = pen_y = line_x = 0.0
    last_char = " "
    last_obj = None
    line_digit = False
    last_upright = True
    for run in _runs(page, textpage):
        if run.blank:
            # A blank line (an empty paragraph's space) ends the block and moves the pen. MuPDF keeps some
            # blank lines in the block (the reader starts a new paragraph at one) and loses others (those on
            # the edge of their clipping path, which PDFium does not report); ending the block is what both
            # come to, while the text after it still lines up with where the blank line was.
            line = None
            pen_x, pen_y, last_char, last_obj = run.x1, run.baseline, " ", run.obj
            continue
        size = run.size
        new_block = new_line = True
        add_space = False
        if line is not None and run.upright and last_upright:
            spacing = (run.x0 - pen_x) / size
            offset = abs(run.baseline - pen_y) / size
            if offset < LINE_DIST:
                if abs(spacing) < SPACE_DIST or -SPACE_MAX_DIST < spacing < 0:
                    new_block = new_line = False
                elif 0 < spacing < SPACE_MAX_DIST:
                    new_block = new_line = False
                    add_space = _may_add_space(last_char) and run.text[:1] != " "
                else:  # far along the line: a new line (a table column, the text after a paragraph number)
                    new_block = False
            elif offset <= PARAGRAPH_DIST:
                # an indented line starts a paragraph, unless the line above starts with a digit (MuPDF
                # leaves a numbered paragraph's hanging indent alone)
                new_block = run.obj != last_obj and run.x0 - line_x > INDENT and not line_digit
        if new_block:
            blocks.append({"type": 0, "lines": []})
        if new_line:
            line = {"spans": [], "_box": [run.x0, run.y0, run.x1, run.y1]}
            blocks[-1]["lines"].append(line)
            line_x = run.x0
            line_digit = run.text[:1].isdigit()
        else:
            _grow(line["_box"], run)
        text = (" " + run.text) if add_space else run.text
        spans = line["spans"]
        if spans and spans[-1]["font"] == run.font and spans[-1]["size"] == size and spans[-1]["flags"] == run.flags:
            span = spans[-1]
            span["text"] += text
            _grow(span["_box"], run)
        else:
            spans.append({"text": text, "size": size, "flags": run.flags, "font": run.font,
                          "_box": [run.x0, run.y0, run.x1, run.y1]})
        if run.text:
            last_char = run.text[-1]
        pen_x, pen_y = run.x1, run.baseline
        last_obj, last_upright = run.obj, run.upright
        if not run.upright:
            line = None  # text at an angle is a block of its own
    for block in blocks:
        for each in block["lines"]:
            each["bbox"] = tuple(each.pop("_box"))
            for span in each["spans"]:
                span["bbox"] = tuple(span.pop("_box"))
        boxes = [each["bbox"] for each in block["lines"]]
        block["bbox"] = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                         max(b[3] for b in boxes))
    blocks.sort(key=lambda b: (b["bbox"][3], b["bbox"][0]))
    return {"width": width, "height": height, "blocks": blocks}
