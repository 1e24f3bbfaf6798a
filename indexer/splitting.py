"""split_passages(document) -> [Passage]: paragraph-level, citable passages; pure."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .passages import Block, Document, Passage
from .sections import Place, Sectioner, national_framework

# "31. ", "1.1 ", "2.3.1 ": the document's own paragraph number at the start of a block.
PARAGRAPH_NUMBER = re.compile(r"(\d{1,3}\.(?:\d{1,3}\.?)*)\s+(?=\S)")
TINY_WORDS = 12  # unnumbered prose shorter than this is merged with its neighbour
HEADER_CELL_WORDS = 6
SPLIT_SEPARATORS = ["\n\n", "\n", ". ", "; ", ", ", " ", ""]
LONG_RUN = 2000  # characters without white space cut into pieces of this size: no word is that long
LONG_WORD = re.compile(rf"\S{{{LONG_RUN + 1},}}")


def word_count(text: str) -> int:
    """A stand-in token counter: white-space separated words."""
    return len(text.split())


@dataclass
class _Draft:
    """A passage before ids are given: a span of the text and its context."""

    start: int
    end: int
    layout: str
    section: str | None
    paragraph: str | None
    area: str | None
    kind: str
    text: str | None = None  # set for table rows, whose shown text labels the columns
    numbered: bool = False


def split_passages(
    document: Document,
    max_tokens: int = 200,
    token_count: Callable[[str], int] = word_count,
) -> list[Passage]:
    """Split a document into passages that cover all its text once, each under `max_tokens`."""
    drafts = _merge_tiny(_draft_passages(document), document.text)
    passages: list[Passage] = []
    for draft in drafts:
        for start, end, text in _fit(document.text, draft, max_tokens, token_count):
            passages.append(
                Passage(
                    passage_id=f"{document.doc_id}/{len(passages) + 1:04d}",
                    doc_id=document.doc_id,
                    title=document.title,
                    authority=document.authority,
                    doc_type=document.doc_type,
                    date=document.date,
                    section=draft.section,
                    paragraph=draft.paragraph,
                    page=document.page_at(start),
                    page_end=document.page_at(max(start, end - 1)),
                    text=text,
                    start=start,
                    end=end,
                    kind=draft.kind,
                    layout=draft.layout,
                    judgement_area=draft.area,
                    source=document.source,
                    national_framework=national_framework(text) if draft.kind == "recommendation" else None,
                    authority_code=document.authority_code,
                    region=document.region,
                )
            )
    return passages


def _draft_passages(document: Document) -> list[_Draft]:
    text = document.text
    drafts: list[_Draft] = []
    sectioner = Sectioner(document.doc_type, document.source, document.framework)
    columns: list[str] | None = None
    row_context: str | None = None  # the first cell carried down to rows that leave it empty
    last_number: str | None = None
    for block in document.blocks:
        body = text[block.start:block.end]
        is_heading, place = sectioner.place(block.kind, body, document.page_at(block.start))
        if is_heading:
            columns, row_context, last_number = None, None, None
            continue
        if block.kind == "row":
            cells = body.split("\t")
            if _is_header_row(cells, columns):
                columns, row_context = [cell.strip() for cell in cells], None
                continue
            draft, row_context = _row_draft(block, cells, columns, place, row_context)
            if draft:
                drafts.append(draft)
            continue
        columns = None
        start = block.start
        number = PARAGRAPH_NUMBER.match(body) if block.kind != "footnote" else None
        paragraph = None
        if place.kind == "boilerplate":
            pass  # page furniture and small print carry no paragraph number of the report's
        elif number:
            paragraph = number.group(1).rstrip(".")
            start += number.end()
            last_number = paragraph
        elif block.kind == "paragraph" and last_number:
            paragraph = last_number  # an unnumbered paragraph continues the numbered one above it
        layout = "footnote" if block.kind == "footnote" else ("paragraph" if number or block.kind != "bullet"
                                                             else "bullet")
        drafts.append(_Draft(start, block.end, layout, place.section, paragraph, place.area, place.kind,
                             numbered=bool(number)))
    return drafts


def _is_header_row(cells: list[str], columns: list[str] | None) -> bool:
    """A table's header: every cell filled and short, and not already the header in force."""
    cleaned = [cell.strip() for cell in cells]
    if columns == cleaned:
        return True
    filled = [cell for cell in cleaned if cell]
    return columns is None and len(filled) >= 2 and all(len(cell.split()) <= HEADER_CELL_WORDS for cell in filled)


def _row_draft(block: Block, cells: list[str], columns: list[str] | None, place: Place,
               row_context: str | None) -> tuple[_Draft | None, str | None]:
    """A table row as 'Column: value' lines; rows that leave the first cell empty inherit it as context."""
    labelled = []
    for index, cell in enumerate(cells):
        value = cell.strip()
        if not value:
            continue
        label = columns[index] if columns and index < len(columns) else f"Column {index + 1}"
        labelled.append(f"{label}: {value}")
    if not labelled:
        return None, row_context
    first = cells[0].strip()
    if first:
        row_context = first
        context = place.section
    else:
        context = " — ".join(part for part in (place.section, _shorten(row_context)) if part) or None
    offset = len(cells[0]) - len(cells[0].lstrip()) if first else len(cells[0]) + 1
    draft = _Draft(block.start + offset, block.end, "table row", context, None, place.area, place.kind,
                   text="\n".join(labelled))
    return draft, row_context


def _shorten(text: str | None, words: int = 20) -> str | None:
    if not text:
        return text
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def _merge_tiny(drafts: list[_Draft], text: str) -> list[_Draft]:
    """Merge short unnumbered prose into the next (or previous) prose passage of the same section and kind."""
    def mergeable(draft: _Draft) -> bool:
        return draft.layout == "paragraph" and not draft.numbered and draft.text is None

    def together(first: _Draft, second: _Draft) -> bool:
        return (first.section, first.kind, first.paragraph) == (second.section, second.kind, second.paragraph)

    merged: list[_Draft] = []
    carry: _Draft | None = None
    for draft in drafts:
        if carry is not None:
            if mergeable(draft) and together(carry, draft):
                draft = _Draft(carry.start, draft.end, draft.layout, draft.section, draft.paragraph, draft.area,
                               draft.kind)
            else:
                merged.append(carry)
            carry = None
        if mergeable(draft) and len(text[draft.start:draft.end].split()) < TINY_WORDS:
            carry = draft
            continue
        merged.append(draft)
    if carry is not None:
        previous = merged[-1] if merged else None
        if previous and mergeable(previous) and (previous.section, previous.kind) == (carry.section, carry.kind):
            merged[-1] = _Draft(previous.start, carry.end, previous.layout, previous.section, previous.paragraph,
                                previous.area, previous.kind)
        else:
            merged.append(carry)
    return merged


def _fit(text: str, draft: _Draft, max_tokens: int, token_count: Callable[[str], int]):
    """Yield (start, end, shown text) pieces of a draft, splitting what is over `max_tokens`."""
    if draft.text is not None:  # table row: split between cells, then inside an over-long cell
        yield from _fit_row(text, draft, max_tokens, token_count)
        return
    body = text[draft.start:draft.end]
    if token_count(body) <= max_tokens and not LONG_WORD.search(body):
        yield draft.start, draft.end, body
        return
    for start, end in _split_span(text, draft.start, draft.end, max_tokens, token_count):
        yield start, end, text[start:end]


def _split_span(text: str, start: int, end: int, max_tokens: int, token_count: Callable[[str], int]):
    """Split text[start:end] into pieces under `max_tokens`; a run of over LONG_RUN characters without a space
    (encoded data pasted into a document) is cut every LONG_RUN characters, not kept whole or dropped."""
    cursor = start
    for run in LONG_WORD.finditer(text, start, end):
        run_start, run_end = run.start(), run.end()
        if text[cursor:run_start].strip():
            yield from _split_prose(text, cursor, run_start, max_tokens, token_count)
        for piece in range(run_start, run_end, LONG_RUN):
            yield piece, min(piece + LONG_RUN, run_end)
        cursor = run_end
    if text[cursor:end].strip():
        yield from _split_prose(text, cursor, end, max_tokens, token_count)


def _split_prose(text: str, start: int, end: int, max_tokens: int, token_count: Callable[[str], int]):
    """Split text[start:end] with langchain's recursive splitter and find each piece's span again."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=max_tokens, chunk_overlap=0, length_function=token_count,
        separators=SPLIT_SEPARATORS, keep_separator="end", strip_whitespace=True,
    )
    cursor = start
    for chunk in splitter.split_text(text[start:end]):
        at = text.find(chunk, cursor, end)
        if at < 0:  # cannot happen with overlap 0 and stripped chunks; keep the text rather than lose it
            at = cursor
        yield at, at + len(chunk)
        cursor = at + len(chunk)


def _fit_row(text: str, draft: _Draft, max_tokens: int, token_count: Callable[[str], int]):
    if token_count(draft.text) <= max_tokens:
        yield draft.start, draft.end, draft.text
        return
    # Cells of the row with their spans, labelled as in draft.text.
    labels = [line.split(": ", 1)[0] for line in draft.text.split("\n")]
    spans = []
    cursor = draft.start
    for cell in text[draft.start:draft.end].split("\t"):
        value = cell.strip()
        if value:
            at = text.index(value, cursor)
            spans.append((at, at + len(value)))
        cursor += len(cell) + 1
    group: list[tuple[str, int, int]] = []
    for label, (start, end) in zip(labels, spans):
        piece = f"{label}: {text[start:end]}"
        if token_count(piece) > max_tokens:
            if group:
                yield _row_piece(group)
                group = []
            for sub_start, sub_end in _split_span(text, start, end, max_tokens - token_count(label) - 1,
                                                  token_count):
                yield sub_start, sub_end, f"{label}: {text[sub_start:sub_end]}"
            continue
        if group and token_count("\n".join(p for p, _, _ in group) + "\n" + piece) > max_tokens:
            yield _row_piece(group)
            group = []
        group.append((piece, start, end))
    if group:
        yield _row_piece(group)


def _row_piece(group: list[tuple[str, int, int]]) -> tuple[int, int, str]:
    return group[0][1], group[-1][2], "\n".join(piece for piece, _, _ in group)
