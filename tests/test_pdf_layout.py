"""indexer.pdf_layout: PDFium's characters grouped into blocks, lines and spans as MuPDF groups them."""

from __future__ import annotations

import ctypes

import pytest

from indexer.errors import DocumentError
from indexer.pdf_layout import page_texts, read_pdf

from .conftest import TEST_DATA


def make_pdf(path, runs, rotation=0, size=(595, 842)):
    """A one-page PDF with each (text, x, y[, font, size]) drawn by a text object of its own, as word
    processors draw their runs."""
    import pypdfium2
    import pypdfium2.raw as raw

    pdf = pypdfium2.PdfDocument.new()
    page = pdf.new_page(*size)
    for run in runs:
        text, x, y = run[:3]
        font = run[3] if len(run) > 3 else "Helvetica"
        points = run[4] if len(run) > 4 else 12.0
        obj = raw.FPDFPageObj_NewTextObj(pdf.raw, font.encode(), points)
        encoded = ctypes.create_string_buffer((text + "\0").encode("utf-16-le"))
        raw.FPDFText_SetText(obj, ctypes.cast(encoded, ctypes.POINTER(raw.FPDF_WCHAR)))
        raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, y)
        raw.FPDFPage_InsertObject(page.raw, obj)
    if rotation:
        page.set_rotation(rotation)
    page.gen_content()
    pdf.save(path)
    page.close()
    pdf.close()
    return path


def layout(path):
    """Each page as a list of blocks, each a list of its lines' texts (without their trailing spaces)."""
    return [[["".join(span["text"] for span in line["spans"]).rstrip() for line in block["lines"]]
             for block in page["blocks"]] for page in read_pdf(path)]


def test_lines_of_a_paragraph_are_one_block_and_a_gap_starts_another(tmp_path):
    pdf = make_pdf(tmp_path / "a.pdf", [("First line of the paragraph", 72, 700), ("and its second line.", 72, 685.5),
                                        ("A new paragraph", 72, 650)])
    assert layout(pdf) == [[["First line of the paragraph", "and its second line."], ["A new paragraph"]]]


def test_an_indented_line_starts_a_block_unless_the_line_above_is_numbered(tmp_path):
    indented = make_pdf(tmp_path / "a.pdf", [("The quality of", 72, 700), ("outcomes can be", 100, 685.5)])
    assert layout(indented) == [[["The quality of"], ["outcomes can be"]]]
    numbered = make_pdf(tmp_path / "b.pdf", [("10.", 72, 700), ("Social workers visit", 99, 700),
                                             ("children regularly.", 99, 685.5)])
    # the text after the number's tab is a line of its own, in the same block
    assert layout(numbered) == [[["10.", "Social workers visit", "children regularly."]]]


def test_a_gap_between_runs_is_a_space_and_adjacent_runs_join(tmp_path):
    # Helvetica 12 pt: "over" is 23.34 pt wide, "sight" 25.34
    pdf = make_pdf(tmp_path / "a.pdf", [("over", 72, 700), ("sight", 95.34, 700), ("and", 124.7, 700),
                                        ("far away", 200, 700)])
    assert layout(pdf) == [[["oversight and", "far away"]]]  # (a gap wider than 0.8 font sizes: a new line)


def test_blocks_come_top_to_bottom_whatever_the_drawing_order(tmp_path):
    pdf = make_pdf(tmp_path / "a.pdf", [("Footer", 72, 40), ("Body text", 72, 700), ("Heading", 72, 760)])
    assert layout(pdf) == [[["Heading"], ["Body text"], ["Footer"]]]


def test_fonts_sizes_and_bold_are_reported_like_pymupdf(tmp_path):
    pdf = make_pdf(tmp_path / "a.pdf", [("What needs to improve?", 72, 700, "Helvetica-Bold", 14.0),
                                        ("Plain text", 72, 650)])
    heading, body = read_pdf(pdf)[0]["blocks"]
    span = heading["lines"][0]["spans"][0]
    assert (span["font"], round(span["size"], 1), bool(span["flags"] & 16)) == ("Helvetica-Bold", 14.0, True)
    assert not body["lines"][0]["spans"][0]["flags"] & 16
    x0, y0, x1, y1 = heading["bbox"]
    assert 70 < x0 < 74 and 842 - 700 - 14 < y0 < y1 < 842 - 700 + 5  # top-down, from the top of the page


def test_text_off_the_page_is_left_out(tmp_path):
    pdf = make_pdf(tmp_path / "a.pdf", [("On the page", 72, 700), ("Off the page", 700, 700)])
    assert layout(pdf) == [[["On the page"]]]


def test_a_rotated_page_is_laid_out_as_it_is_shown(tmp_path):
    pdf = make_pdf(tmp_path / "a.pdf", [("Top of the portrait page", 72, 800)], rotation=90)
    page = read_pdf(pdf)[0]
    assert (round(page["width"]), round(page["height"])) == (842, 595)
    (block,) = page["blocks"]
    assert block["bbox"][1] < block["bbox"][3] <= 595  # within the shown (landscape) page


def test_page_texts_are_pdfium_text_with_newlines(tmp_path):
    pdf = make_pdf(tmp_path / "a.pdf", [("First line", 72, 700), ("Second line", 72, 685)])
    assert page_texts(pdf) == ["First line\nSecond line"]


def test_a_real_report_keeps_bullets_paragraph_numbers_and_footers(tmp_path):
    blocks = layout(TEST_DATA / "oldham-2024-07-12.pdf")[1]
    lines = [line for block in blocks for line in block]
    assert "◼ Consistent management oversight in relation to supervision and audit actions." in lines
    assert ["1.", "Children and families in Oldham benefit from a comprehensive range of early"] == next(
        block[:2] for block in blocks if block[0] == "1.")
    assert blocks[-1][:2] == ["Inspection of Oldham local authority children’s services", "13 to 24 May 2024"]


@pytest.mark.parametrize(("content", "problem"), [
    (b"%PDF-1.4\nthis is not really a PDF at all", "not a readable PDF"),
    (b"not a pdf", "not a readable PDF"),
])
def test_unreadable_files_raise_document_errors(tmp_path, content, problem):
    (tmp_path / "bad.pdf").write_bytes(content)
    with pytest.raises(DocumentError, match=problem):
        read_pdf(tmp_path / "bad.pdf")


def test_a_truncated_or_encrypted_pdf_says_so(tmp_path):
    data = (TEST_DATA / "oldham-2024-07-12.pdf").read_bytes()
    (tmp_path / "cut.pdf").write_bytes(data[: len(data) // 2])
    with pytest.raises(DocumentError, match="damaged or truncated"):
        read_pdf(tmp_path / "cut.pdf")
    with pytest.raises(DocumentError, match="encrypted"):
        read_pdf(TEST_DATA / "encrypted.pdf")
