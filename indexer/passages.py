"""The data that flows between stages: Document -> [Passage] -> [Hit] (stdlib only)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

# Characters no document shows: C0 controls but tab and newlines, and the bidirectional embeddings, overrides
# and isolates, which would reverse the citation printed after a passage.
INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


def strip_invisible(text: str) -> str:
    """Text without control characters and bidirectional overrides (see INVISIBLE)."""
    return INVISIBLE.sub("", text)


# Document types a user can filter by; the metadata file may use any of these.
DOC_TYPES = (
    "inspection report",
    "focused visit letter",
    "monitoring visit letter",
    "inspection letter",
    "joint targeted area inspection",
    "improvement plan",
    "council report",
    "document",
)

# Judgement areas of an Ofsted ILACS report, as stored on passages and in grades.
JUDGEMENT_AREAS = (
    "overall effectiveness",
    "leaders",
    "help and protection",
    "children in care",
    "care leavers",
)


@dataclass(frozen=True)
class Block:
    """One unit of layout in Document.text: a heading, paragraph, bullet item or table row."""

    start: int
    end: int
    kind: str  # heading | paragraph | bullet | row | footnote


@dataclass(frozen=True)
class Document:
    """One source file, read and repaired, with what is known about it."""

    doc_id: str
    path: str
    title: str
    authority: str | None
    doc_type: str
    date: str | None  # ISO date the document is cited by (publication or letter date)
    text: str  # repaired full text: passages point into it by character offsets
    blocks: tuple[Block, ...] = ()  # layout units, in order, covering the text
    page_starts: tuple[int, ...] = ()  # offset in `text` where each page begins
    source: str | None = None  # who published it, e.g. "Ofsted" or "Oldham Council"
    checksum: str = ""  # sha256 of the file's bytes
    inspection_start: str | None = None
    inspection_end: str | None = None
    lead_inspector: str | None = None
    framework: str | None = None  # e.g. "standard", "short", "focused visit"
    grades: dict[str, str] = field(default_factory=dict)  # judgement area -> grade
    url: str | None = None  # where it was published, e.g. its address on Ofsted's file service
    authority_code: str | None = None  # the authority's ONS code (E08000004), once its name is in the register
    region: str | None = None  # its English region

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding character `offset`, or None for documents without pages."""
        if not self.page_starts:
            return None
        page = 0
        for number, start in enumerate(self.page_starts):
            if start <= offset:
                page = number
            else:
                break
        return page + 1

    def describe(self) -> dict[str, Any]:
        """Everything but the text: what `documents --json` and documents.jsonl hold."""
        record = asdict(self)
        for bulky in ("text", "blocks", "page_starts"):
            record.pop(bulky)
        return record


@dataclass(frozen=True)
class Passage:
    """A paragraph-level, citable piece of a document."""

    passage_id: str  # "<doc_id>/<ordinal>", stable while the document is unchanged
    doc_id: str
    title: str
    authority: str | None
    doc_type: str
    date: str | None
    section: str | None  # nearest heading above the passage
    paragraph: str | None  # the document's own number: "31", "1.1"; None if unnumbered
    page: int | None  # 1-based page where the passage starts (None where pages are unknown)
    text: str  # what is shown and quoted: verbatim, table rows labelled by column
    start: int  # character span of the passage in Document.text
    end: int
    kind: str = "text"  # what it is: finding | recommendation | summary | plan action | council narrative |
    # boilerplate | text (sections.PASSAGE_KINDS)
    layout: str = "paragraph"  # how it is set: paragraph | bullet | table row | footnote
    judgement_area: str | None = None  # ILACS judgement the passage sits under
    page_end: int | None = None  # last page, when the passage runs over a page break
    source: str | None = None
    national_framework: str | None = None  # a recommendation's National Framework reference, e.g. "outcome 4"
    authority_code: str | None = None  # ONS code of the authority (authorities.csv)
    region: str | None = None

    @property
    def citation(self) -> str:
        """A ready-to-paste citation, e.g. 'Ofsted, Oldham inspection ... (Jan 2019), para 31, p. 9'."""
        return format_citation(self)


def format_date(iso: str | None) -> str | None:
    """'2019-03-04' -> 'Mar 2019'; partial dates are shown as far as they go."""
    if not iso:
        return None
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    parts = iso.split("-")
    if len(parts) >= 2 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
        return f"{months[int(parts[1]) - 1]} {parts[0]}"
    return parts[0]


def format_citation(passage: Passage) -> str:
    """Source, title (date), section-free locator: paragraph and page where known."""
    head = passage.title
    if passage.source and not head.lower().startswith(passage.source.lower()):
        head = f"{passage.source}, {head}"
    when = format_date(passage.date)
    parts = [f"{head} ({when})" if when else head]
    if passage.paragraph:
        parts.append(f"para {passage.paragraph}")
    if passage.page is not None:
        if passage.page_end and passage.page_end != passage.page:
            parts.append(f"pp. {passage.page}–{passage.page_end}")
        else:
            parts.append(f"p. {passage.page}")
    return ", ".join(parts)


@dataclass(frozen=True)
class Hit:
    """A passage found for a question, with its score and the sentences that answer it."""

    passage: Passage
    score: float
    rank: int = 0
    highlights: tuple[tuple[int, int], ...] = ()  # character spans in passage.text
    also_in: tuple[str, ...] = ()  # citations of verbatim copies in other documents
    dense_score: float | None = None  # the passage vector's similarity to the question
    lexical_score: float | None = None  # BM25's score
    sentence_score: float | None = None  # the best sentence's similarity to the question
    tones: tuple[str | None, ...] = ()  # strength | weakness | neutral of each highlight (None: not a finding)

    @property
    def tone(self) -> str | None:
        """What the first answering sentence says of the practice: strength, weakness or neutral (tone.py)."""
        return self.tones[0] if self.tones else None

    def to_json(self) -> dict[str, Any]:
        """The flat JSON object the CLI prints and the app exports."""
        record = asdict(self.passage)
        record.update(
            score=round(self.score, 6),
            rank=self.rank,
            citation=self.passage.citation,
            highlights=[list(span) for span in self.highlights],
            also_in=list(self.also_in),
            dense_score=self.dense_score,
            lexical_score=self.lexical_score,
            sentence_score=self.sentence_score,
            tone=self.tone,
            highlight_tones=list(self.tones),
        )
        return record


# A recommendation's closing "(National Framework outcome four)." (sections.national_framework reads it)
FRAMEWORK_REFERENCE = re.compile(r"\s*\((?=[^()]*national\s+framework)(?P<inner>[^()]*)\)\.?\s*$", re.IGNORECASE)


def content_text(passage: Passage) -> str:
    """The passage's words about children's services: its text without a recommendation's National Framework
    reference ("… pathway plans for care leavers (National Framework outcome four)."), which says where
    it files, not what it is about."""
    if passage.national_framework:
        return FRAMEWORK_REFERENCE.sub("", passage.text)
    return passage.text


def embedding_text(passage: Passage) -> str:
    """What is embedded for a passage: its own text only.

    Title and section in front measured worse on the dev questions (eval/TUNING.md): they pull every
    passage of a document towards the same point, and authority and year are handled by the searcher.
    """
    return content_text(passage)


def lexical_text(passage: Passage) -> str:
    """What the BM25 index reads for a passage: document title and section heading, then the text.

    The title's authority and the section's topic words let a question match on them.
    """
    context = " — ".join(part for part in (passage.title, passage.section) if part)
    return f"{context}\n{content_text(passage)}" if context else content_text(passage)
