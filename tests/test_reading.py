"""Reading and repairing text and PDF documents."""

from __future__ import annotations

import pytest

from indexer.errors import DocumentError
from indexer.reading import read_document

from .conftest import SEED_CORPUS, TEST_DATA, write_files


def blocks_of(document):
    return [(block.kind, document.text[block.start:block.end]) for block in document.blocks]


def test_text_page_breaks_rejoin_a_cut_sentence_and_give_pages():
    document = read_document(SEED_CORPUS / "oldham-2019-01-ofsted-inspection-report.txt")
    texts = [text for _, text in blocks_of(document)]
    joined = next(text for text in texts if "Some significant investment in new posts has already" in text)
    assert "has already taken place, with further transformation planned for 2019." in joined
    assert len(document.page_starts) == 12
    para_31 = document.text.index("31. Some young people have pathway plans")
    assert document.page_at(para_31) == 8
    assert document.page_at(document.text.index("the last three months has improved")) == 9


def test_text_without_page_breaks_has_no_page_numbers():
    document = read_document(SEED_CORPUS / "tameside-2019-05-ofsted-inspection-report.txt")
    assert document.page_starts == ()
    assert document.page_at(100) is None


def test_text_blocks_are_typed(tmp_path):
    write_files(tmp_path, {"plan.txt": (
        "What needs to improve\n\n"
        "- Care planning with clear outcomes.\n"
        "• Management oversight of practice.\n\n"
        "Objective\tActions\tLead officer\n"
        "Pathway planning\tTrack plans\tDirector\n\n"
        "1. Children are seen alone by social workers.\n"
        "This paragraph was wrapped\nat a fixed width.\n"
    )})
    document = read_document(tmp_path / "plan.txt")
    assert blocks_of(document) == [
        ("heading", "What needs to improve"),
        ("bullet", "Care planning with clear outcomes."),
        ("bullet", "Management oversight of practice."),
        ("row", "Objective\tActions\tLead officer"),
        ("row", "Pathway planning\tTrack plans\tDirector"),
        ("paragraph", "1. Children are seen alone by social workers. This paragraph was wrapped at a fixed width."),
    ]


def test_pdf_keeps_pages_drops_running_headers_and_rejoins_paragraphs():
    document = read_document(TEST_DATA / "oldham-2024-07-12.pdf")
    assert len(document.page_starts) == 12
    texts = [text for _, text in blocks_of(document)]
    # the running header "Inspection of Oldham local authority children's services / 13 to 24 May 2024 / 2"
    assert not any(text.startswith("13 to 24 May 2024") for text in texts)
    assert sum("Inspection of Oldham local authority children’s services" == text for text in texts) <= 1
    # a bullet whose second line the PDF put in a block of its own is one bullet again
    assert ("bullet", "The quality of return home interviews for children, to ensure that impact and "
            "outcomes can be appropriately measured.") in blocks_of(document)
    # the paragraph number on its own line belongs to the paragraph
    assert any(text.startswith("1. Children and families in Oldham benefit from") for text in texts)
    assert ("heading", "The experiences and progress of children who need help and protection: good") in blocks_of(
        document)


def test_pdf_sentence_cut_by_page_break_is_one_sentence_with_both_pages():
    document = read_document(TEST_DATA / "oldham-2019-03-04.pdf")
    start = document.text.index("31. Some young people have pathway plans")
    end = document.text.index("more time with young people.", start)
    assert "\n" not in document.text[start:end]
    assert (document.page_at(start), document.page_at(end)) == (8, 9)


def test_line_end_hyphens_of_compound_words_are_kept():
    document = read_document(TEST_DATA / "oldham-2019-03-04.pdf")
    assert "well-coordinated planning" in document.text
    assert "well- coordinated" not in document.text


def test_windows_1252_text_is_read_correctly(tmp_path):
    (tmp_path / "letter.txt").write_bytes("Children\u2019s services \u2013 caf\u00e9 \u00a312m".encode("cp1252"))
    assert read_document(tmp_path / "letter.txt").text == "Children\u2019s services \u2013 caf\u00e9 \u00a312m"


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.txt", b"", "empty file"),
        ("junk.txt", bytes(range(256)) * 40, "binary data, not text"),
        ("notes.rtf", b"{\\rtf1 hello}", "unsupported file type '.rtf'"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", "not a readable PDF"),
    ],
)
def test_bad_files_raise_an_error_naming_file_and_problem(tmp_path, name, content, problem):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(DocumentError) as raised:
        read_document(tmp_path / name)
    assert raised.value.path == str(tmp_path / name)
    assert problem in raised.value.problem
    assert str(raised.value).startswith(str(tmp_path / name))


def test_word_documents_keep_headings_lists_and_tables(tmp_path):
    import docx

    word = docx.Document()
    word.add_heading("Improvement plan 2024", level=1)
    word.add_paragraph("We will improve pathway planning for care leavers.")
    word.add_paragraph("Every plan reviewed every six months", style="List Bullet")
    table = word.add_table(rows=2, cols=2)
    for row, cells in enumerate((("Objective", "Lead officer"), ("Pathway planning", "Head of Service"))):
        for column, text in enumerate(cells):
            table.cell(row, column).text = text
    word.save(tmp_path / "plan.docx")
    document = read_document(tmp_path / "plan.docx")
    assert blocks_of(document) == [
        ("heading", "Improvement plan 2024"),
        ("paragraph", "We will improve pathway planning for care leavers."),
        ("bullet", "Every plan reviewed every six months"),
        ("row", "Objective\tLead officer"),
        ("row", "Pathway planning\tHead of Service"),
    ]
    assert document.page_starts == ()


def test_html_pages_keep_structure_and_drop_scripts(tmp_path):
    (tmp_path / "paper.html").write_text(
        "<html><head><script>alert(1)</script></head><body><nav>Menu</nav>"
        "<h2>Children's services update</h2><p>1.1 The council approved <b>£12m</b> of investment.</p>"
        "<ul><li>Strong <i>MASH</i> partnership</li></ul>"
        "<table><tr><th>Area</th><th>Grade</th></tr><tr><td>Care leavers</td><td>Good</td></tr></table>"
        "</body></html>", encoding="utf-8")
    assert blocks_of(read_document(tmp_path / "paper.html")) == [
        ("heading", "Children's services update"),
        ("paragraph", "1.1 The council approved £12m of investment."),
        ("bullet", "Strong MASH partnership"),
        ("row", "Area\tGrade"),
        ("row", "Care leavers\tGood"),
    ]


def test_a_corrupt_word_file_is_reported(tmp_path):
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DocumentError, match="not a readable Word document"):
        read_document(tmp_path / "broken.docx")
