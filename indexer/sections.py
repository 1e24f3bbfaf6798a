"""Where each block of a document sits: the sections of Ofsted reports and letters (2010-2026) and each passage's kind.

An Ofsted report is read as its template lays it out, whatever the year:
- the opening (authority, title, inspection dates, lead inspector) and the judgement table: boilerplate;
- the summary under the table (ILACS), or the executive summary (single inspection framework, SIF);
- "What needs to improve" (ILACS) or "Recommendations" (SIF): recommendations;
- a section per judgement ("The experiences and progress of care leavers: good"): findings, with the
  judgement area; a SIF judgement's own "Summary" and "Inspection findings" keep its area;
- the local-area facts, lists of previous inspections, contents, "Information about this inspection",
  footnotes and Ofsted's closing page: boilerplate.
A letter's findings ("Strengths", "Main findings") and its areas for development or priority action
are told apart the same way. Headings are recognised by their words, not only by a bold font: several
templates set the judgement headings and "What needs to improve" as plain text.
Council documents: the rows of an improvement plan's action tables are plan actions, the rest council
narrative. Any other document's passages are plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .ofsted import judgement_area
from .passages import FRAMEWORK_REFERENCE

PASSAGE_KINDS = ("finding", "recommendation", "summary", "plan action", "council narrative", "boilerplate", "text")
OFSTED_TYPES = ("inspection report", "focused visit letter", "monitoring visit letter", "inspection letter",
                "joint targeted area inspection")
HEADING_WORDS = 30  # a template heading is no longer than this

_GRADE = r"(?:requires?\s+improvement(?:\s+to\s+be\s+good)?|outstanding|good|inadequate)"
# Headings that open a section of a known kind, matched on the whole (cleaned, lower-case) heading.
_RECOMMENDATIONS = re.compile(
    r"^(?:what needs to improve\b.*|recommendations?|areas? for (?:priority action|improvement)\b.*"
    r"|priority actions?)$")
_SUMMARY = re.compile(r"^(?:executive summary|summary|summary for children and young people|headline findings"
                      r"|overall effectiveness|summary of findings)$")
# (A 2010 letter's "Areas for development" lists weaknesses found, in sentences: findings, not recommendations.)
_FINDINGS = re.compile(r"^(?:inspection findings\b.*|main findings|findings|strengths|satisfactory practice"
                       r"|evaluation of progress|areas of strength|areas for development)$")
_BOILERPLATE = re.compile(
    r"^(?:information about this (?:inspection|local authority area)|the local authority|previous ofsted inspections"
    r"|local leadership|children living in this area|child protection in this area|children looked after in this area"
    r"|other ofsted inspections|the inspection team|inspection team|glossary|next steps|review of the effectiveness of"
    r" the local safeguarding children board|ofsted inspection.*|local authority details)$")
_CONTENTS = re.compile(r"^(?:contents|table of contents)$")
_GRADE_TABLE = re.compile(r"^judgement\s+grades?$")
# Ofsted's closing page and other publishing small print, recognised anywhere by how they begin.
_SMALL_PRINT = re.compile(
    r"^(?:This (?:report|publication|letter) (?:is|will be) (?:available|published)|Interested in our work"
    r"|Piccadilly Gate|T: 0300|© Crown copyright|The Office for Standards in Education, Children.s Services and"
    r" Skills \(Ofsted\) regulates|If you would like a copy of this document|You may reuse this information"
    r"|Ofsted produces this report|No\. \d{6}|Reference no:|Yours sincerely|Copy:|cc:?\s)", re.I)
_LETTER_OPENING = re.compile(r"^Dear\s")
_NUMBERS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6"}


@dataclass(frozen=True)
class Place:
    """Where a block sits: the heading it comes under, its judgement area and the kind its passages are."""

    section: str | None
    area: str | None
    kind: str


def clean_heading(text: str) -> str:
    """A heading on one line, without a footnote marker glued to it ("What needs to improve?1")."""
    flat = " ".join(text.split())
    return re.sub(r"(?<=[A-Za-z?)])\d{1,2}$", "", flat).strip()


def national_framework(text: str) -> str | None:
    """The National Framework reference a 2023-on recommendation ends with: '(National Framework outcome four)'
    -> 'outcome 4'; '(Enabler: the workforce is equipped and effective, National Framework)' -> that enabler."""
    match = FRAMEWORK_REFERENCE.search(" ".join(text.split()))
    if not match:
        return None
    inner = match["inner"]
    numbered = re.search(r"\b(outcome|enabler|principle)s?\s*(\d|one|two|three|four|five|six)\b", inner, re.I)
    if numbered:
        number = _NUMBERS.get(numbered[2].lower(), numbered[2])
        return f"{numbered[1].lower()} {number}"
    named = re.search(r"\b(outcome|enabler|principle)s?\s*:\s*(?P<name>[^,]+)", inner, re.I)
    if named:
        return f"{named[1].lower()}: {named['name'].strip().rstrip('.')}"
    return " ".join(inner.split())


def is_small_print(text: str) -> bool:
    """Publishing small print: Ofsted's closing page, a letter's sign-off and copy list."""
    return bool(_SMALL_PRINT.match(text.lstrip()))


def _judgement_heading(heading: str) -> str | None:
    """The judgement area a heading opens ("The experiences and progress of care leavers: good"), or None.

    A heading names its area and either gives a grade or stands on its own line in a bold font; SIF
    headings read "The graded judgement about the experience and progress of care leavers is that it …".
    """
    text = re.sub(r"^the graded judgement (?:about|for) ", "", heading.lower())
    text = re.sub(r"\s+is that (?:it|they) (?:is |are )?", " is ", text)  # "… is that it is good"
    if "." in text.rstrip(". ") or len(text.split()) > HEADING_WORDS:
        return None
    return judgement_area(text)


def _is_prose(text: str) -> bool:
    """A paragraph of sentences, not a title, date or name line."""
    return len(text.split()) >= 20 and bool(re.search(r"[.!?]$", text.rstrip()))


def _grade_cell(text: str) -> bool:
    """A cell of the judgement table on page 1: a grade, a judgement's name, or both."""
    low = " ".join(text.lower().split()).rstrip(". ")
    if re.fullmatch(_GRADE, low):
        return True
    if re.fullmatch(rf"overall effectiveness(?:\s*:?\s*{_GRADE})?", low):
        return True
    if "." in low or len(low.split()) > HEADING_WORDS:
        return False
    label = re.sub(rf"^{_GRADE}\s+", "", low)  # a grade and its judgement in one block
    return bool(re.match(r"(?:the )?(?:impact of leaders|experiences? and progress of)", label)) and bool(
        judgement_area(label))


class Sectioner:
    """Walks a document's blocks in order and says where each sits (see the module docstring)."""

    def __init__(self, doc_type: str, source: str | None = None, framework: str | None = None):
        self.ofsted = doc_type in OFSTED_TYPES or source == "Ofsted"
        self.letter = self.ofsted and doc_type != "inspection report"
        self.ilacs = doc_type == "inspection report" and framework in ("standard", "short")
        self.council = not self.ofsted and doc_type in ("improvement plan", "council report")
        self.plan = doc_type == "improvement plan"
        # Ofsted documents open with boilerplate (authority, title, dates, inspector); others with text.
        self.state = "opening" if self.ofsted else "text"
        self.section: str | None = None
        self.area: str | None = None
        self.contents_page: int | None = None

    def _kind(self, layout: str) -> str:
        if self.council:
            return "plan action" if self.plan and layout == "row" else "council narrative"
        return {"opening": "boilerplate", "grades": "boilerplate", "contents": "boilerplate",
                "boilerplate": "boilerplate", "summary": "summary", "recommendations": "recommendation",
                "findings": "finding", "closing": "boilerplate"}.get(self.state, "text")

    def place(self, layout: str, text: str, page: int | None = None) -> tuple[bool, Place]:
        """(whether the block is a heading, where the block sits) for the next block in reading order.

        `layout` is the reader's block kind: heading, paragraph, bullet, row or footnote.
        """
        if layout == "footnote":
            return False, Place(self.section, self.area, "boilerplate")
        if self.state == "contents" and page is not None and self.contents_page is not None \
                and page != self.contents_page:
            self.state = "boilerplate"
        if self.state == "contents":
            return False, Place(self.section, None, "boilerplate")
        if is_small_print(text):
            if self.letter and re.match(r"\s*Yours sincerely", text):
                self.state = "closing"
            return False, Place(self.section, self.area, "boilerplate")
        if self.state == "opening" and layout == "row" and re.match(r"\s*judgement\s+grade", text, re.I):
            self.state, self.section, self.area = "grades", "Judgement grades", None  # a text file's table
            return False, Place(self.section, None, "boilerplate")
        if self.state == "opening" and layout == "paragraph" and _is_prose(text):
            if re.match(r"\d{1,3}\.\s", text):  # the report's own numbered paragraphs: findings
                self.state = "findings"
            elif self.ilacs:
                self.state, self.section, self.area = "summary", "Summary", "overall effectiveness"
        if self.state == "grades":
            if _grade_cell(text):
                return False, Place(self.section, None, "boilerplate")
            self.state, self.section, self.area = "summary", "Summary", "overall effectiveness"
        if self.letter and self.state == "opening" and _LETTER_OPENING.match(text):
            self.state = "summary"
            return False, Place(self.section, None, "boilerplate")
        heading = clean_heading(text) if layout != "row" else ""
        # a paragraph is read as a template heading only when it does not end as a sentence does
        sentence = layout != "heading" and heading.endswith((".", ",", ";"))
        if heading and len(heading.split()) <= HEADING_WORDS and not self.council and not sentence:
            opened = self._open(heading, layout)
            if opened:
                self.contents_page = page if self.state == "contents" else None
                return True, Place(self.section, self.area, self._kind(layout))
        if layout == "heading":
            self._minor_heading(heading)
            return True, Place(self.section, self.area, self._kind(layout))
        return False, Place(self.section, self.area, self._kind(layout))

    def _open(self, heading: str, layout: str) -> bool:
        """Enter the section a template heading opens; False when `heading` is not one."""
        low = heading.lower().rstrip(" :.")
        before = self.state
        if _GRADE_TABLE.match(low):
            self.state, self.section, self.area = "grades", "Judgement grades", None
            return True
        if _CONTENTS.match(low):
            self.state, self.section, self.area = "contents", heading, None
            return True
        if _RECOMMENDATIONS.match(low):
            area = self.area if before in ("findings", "summary") and self.area != "overall effectiveness" \
                and not self.letter and low.startswith("recommendation") else None
            self.state, self.section, self.area = "recommendations", heading, area
            return True
        if _SUMMARY.match(low):
            # a SIF judgement's own summary keeps its area, and so does the executive summary of a SIF report's
            # review of the Local Safeguarding Children Board (so the board's recommendations after it are the
            # board's); the report's summary is overall effectiveness
            inside = before in ("findings", "summary") and self.area and (
                low == "summary" or self.area == "local safeguarding children board")
            self.state, self.section = "summary", heading
            self.area = self.area if inside else "overall effectiveness"
            return True
        if _FINDINGS.match(low):
            area = judgement_area(low.split("–")[-1].split(" - ")[-1]) if "–" in low or " - " in low else None
            self.state, self.section = "findings", heading
            self.area = area or (self.area if before in ("findings", "summary") else None)
            return True
        if _BOILERPLATE.match(low):
            self.state, self.section, self.area = "boilerplate", heading, None
            return True
        area = _judgement_heading(heading)
        if area and (layout == "heading" or (not heading.endswith(".") and re.search(rf"{_GRADE}$", low))):
            self.state, self.section, self.area = "findings", heading, area
            return True
        return False

    def _minor_heading(self, heading: str) -> None:
        """A heading no template names: it becomes the section; inside an Ofsted judgement the area stays."""
        area = judgement_area(heading)
        if self.ofsted:
            if self.state in ("opening", "grades", "closing"):
                return  # the report's title block, e.g. "Inspection of children's social care services"
            self.section = heading
            self.area = area or self.area
            return
        # other documents: a short heading inside a judgement section does not end it
        self.area = area or (self.area if _is_minor_heading(heading) else None)
        self.section = heading


def _is_minor_heading(heading: str) -> bool:
    """Headings inside a judgement section that do not end it."""
    return len(heading.split()) <= 4 and not heading.lower().startswith(("what needs", "information"))
