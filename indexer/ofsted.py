"""Facts read from the plain text of an Ofsted children's services report or letter (stdlib only)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_MONTH = r"(?:" + "|".join(m.capitalize() for m in _MONTHS) + ")"
# A run of day numbers, month names, years and connectors: "10 to 14 June 2024",
# "21 January 2019 to 1 February 2019", "30 September to 11 October 2024 and 13 to 16 January 2025".
_DATE_RUN = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_MONTH}|\d{{4}}|to|and|–|—|-|,|\s)+"
_GRADE = r"(?:requires?\s+improvement(?:\s+to\s+be\s+good)?|outstanding|good|inadequate)"

# Words that name the kind of council rather than the place; stripped from both ends.
_PREFIXES = re.compile(
    r"^(?:the|london borough of|royal borough of|metropolitan borough of|borough of"
    r"|city and county of|county of|city of)\s+",
    re.IGNORECASE,
)
_SUFFIXES = re.compile(
    r"[\s,]+(?:local authority|children's (?:social care )?services|children and families trust"
    r"|children's trust|metropolitan borough council|metropolitan district council|metropolitan borough"
    r"|borough council|city council|county council|district council|council|borough|county"
    r"|city of|city)$",
    re.IGNORECASE,
)
# Reports sometimes use a short form; one authority should carry one name across reports.
_ALIASES = {
    "hull": "Kingston upon Hull",
    "newcastle": "Newcastle upon Tyne",
    "east riding": "East Riding of Yorkshire",
}
_SMALL_WORDS = {"and", "upon", "on", "of", "with", "the", "in", "under", "by"}

# Judgement headings, matched at the start of a heading (after any "2.1" numbering). Bare forms such
# as "Children in care" count only when nothing but a grade follows, so sentences are not mistaken
# for headings.
_END = rf"(?=\s*(?:$|[:–-]|(?:is|are)\s+{_GRADE}|{_GRADE}))"
_PROGRESS = r"(?:the )?experiences? and progress of "
_AREA_PATTERNS = (
    ("overall effectiveness", rf"overall effectiveness{_END}"),
    ("leaders", rf"(?:the )?impact of leaders\b|leadership,? management and governance{_END}"),
    (
        "help and protection",
        rf"{_PROGRESS}children (?:who need|in need of) help and protection\b"
        rf"|children (?:who need|in need of) help and protection{_END}",
    ),
    # Before "care leavers": pre-2023 reports judge both groups together, filed as children in care.
    (
        "children in care",
        rf"{_PROGRESS}children (?:in care|looked after)\b"
        rf"|children (?:in care|looked after)(?: and (?:care leavers|achieving permanence))?{_END}",
    ),
    ("care leavers", rf"{_PROGRESS}(?:children )?care leavers\b|care leavers{_END}"),
    # 2015-2017 single inspection framework (SIF) judgements with no ILACS equivalent.
    ("adoption performance", rf"adoption performance{_END}"),
    ("local safeguarding children board", rf"(?:the )?local safeguarding children board{_END}"),
)


@dataclass(frozen=True)
class OfstedFacts:
    """What an Ofsted report says about itself: who, what kind, when, by whom, and the grades."""

    authority: str | None = None
    doc_type: str | None = None
    framework: str | None = None
    inspection_start: str | None = None
    inspection_end: str | None = None
    lead_inspector: str | None = None
    grades: dict[str, str] = field(default_factory=dict)
    title: str | None = None


def is_ofsted_report(text: str) -> bool:
    """True when the opening of `text` looks like an Ofsted report or letter, not a council paper about one."""
    head = _flat(_clean(text[:6000]))
    if re.search(r"Inspection dates?:", head) and re.search(r"Lead inspectors?:|Judgement Grade", head):
        return True
    if re.search(r"Inspection of services for children in need of help and protection", head, re.I):
        return True
    if re.search(r"\b(?:Focused|Monitoring) visit to .{0,80}children's services", head):
        return True
    if re.search(r"\bJoint targeted area inspection of\b", head, re.I):
        return True
    # Ofsted letters: Ofsted letterhead or signature by one of Her/His Majesty's Inspectors.
    letter = re.search(r"\bDear\b", head) and re.search(r"ofsted\.gov\.uk|\bOfsted\b", head)
    return bool(letter and re.search(r"(?:Her|His) Majesty's Inspector|\bHMI\b|ofsted\.gov\.uk", _clean(text)))


def judgement_area(heading: str) -> str | None:
    """Map a section heading to its judgement area key, or None if it is not a judgement heading."""
    text = _flat(_clean(heading)).lower()
    text = re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", text)  # SIF numbering: "2.1 Adoption performance"
    text = re.sub(r"^the experience and progress\b", "the experiences and progress", text)
    for key, pattern in _AREA_PATTERNS:
        if re.match(pattern, text):
            return key
    return None


def read_ofsted_facts(text: str) -> OfstedFacts:
    """Read authority, document type, framework, dates, lead inspector, grades and title from report text."""
    text = _clean(text)
    head = _flat(text[:8000])
    doc_type = _doc_type(head)
    if doc_type is None:
        return OfstedFacts()  # not a format these rules know: claim nothing
    blocks = _inspection_dates(head, doc_type) or _inspection_dates(_flat(text), doc_type)
    if doc_type == "inspection report":
        name, what = _report_heading(head)
        authority = normalise_authority(name) if name else None
        title = f"{authority} inspection of {what}" if authority and what else None
        grades = _grades(text, head)
    else:
        name = _letter_authority(text, head)
        authority = normalise_authority(name) if name else None
        title, grades = _letter_subject(text), {}
    return OfstedFacts(
        authority=authority,
        doc_type=doc_type,
        framework=_framework(doc_type, head, blocks),
        inspection_start=blocks[0][0].isoformat() if blocks else None,
        inspection_end=blocks[-1][1].isoformat() if blocks else None,
        lead_inspector=_lead_inspector(text),
        grades=grades,
        title=title,
    )


def normalise_authority(name: str) -> str | None:
    """'London Borough of Barking & Dagenham' -> 'Barking and Dagenham': the place, in title case."""
    name = _flat(_clean(name)).strip(" ,.;:")
    name = re.sub(r"(?<=[a-z])\d+$", "", name)  # footnote marker glued to the name
    if re.fullmatch(r"(?:the )?city of london(?: corporation)?", name, re.I):
        return "City of London"  # stripping "City of" here would leave a different place
    previous = None
    while previous != name:
        previous = name
        name = _PREFIXES.sub("", name)
        name = _SUFFIXES.sub("", name).strip(" ,")
    name = re.sub(r"\s*&\s*", " and ", name)
    if not name:
        return None
    return _ALIASES.get(name.lower()) or _title_case(name)


# ---------------------------------------------------------------- helpers


def _clean(text: str) -> str:
    # PDFs use curly apostrophes and odd spaces; rules below are written for plain ones.
    return (
        text.replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u00a0", " ")
        .replace("\u200b", "")
        .replace("\u25fc", " ")
    )


def _flat(text: str) -> str:
    # Line breaks, tabs and page breaks fall in arbitrary places: read the text as one line.
    return " ".join(text.split())


def _title_case(name: str) -> str:
    words = []
    for i, word in enumerate(name.split(" ")):
        parts = word.split("-")
        cased = []
        for j, part in enumerate(parts):
            first = i == 0 and j == 0
            if part.lower() in _SMALL_WORDS and not first:
                cased.append(part.lower())
            else:
                cased.append(part[:1].upper() + part[1:].lower())
        words.append("-".join(cased))
    return " ".join(words)


def _normal_grade(grade: str) -> str:
    grade = _flat(grade).lower()
    return "requires improvement" if "improvement" in grade else grade


def _doc_type(head: str) -> str | None:
    """Which kind of Ofsted document the opening belongs to, or None."""
    opening = head[:1500]
    # Reports open with their inspection dates; they also mention earlier visits and JTAIs in
    # passing, so the letter types are recognised by their subject line, not by any mention.
    if re.search(r"Inspection dates?:", opening) or re.search(
        r"Inspection of services for children in need of help", opening, re.I
    ):
        return "inspection report"
    if re.search(r"\bJoint targeted area inspection of\b", opening):
        return "joint targeted area inspection"
    if re.search(r"\bFocused visit to\b|findings of (?:a|the|our) focused visit", opening):
        return "focused visit letter"
    if re.search(r"\bMonitoring visit to\b|findings of (?:a|the|our) monitoring visit", opening):
        return "monitoring visit letter"
    if re.search(r"\bDear\b", head[:3000]):
        return "inspection letter"
    return None


def _framework(doc_type: str, head: str, blocks: list[tuple[date, date]]) -> str | None:
    """'standard' or 'short' for ILACS reports, the visit type for letters, None when it cannot be told."""
    if doc_type != "inspection report":
        return {
            "focused visit letter": "focused visit",
            "monitoring visit letter": "monitoring visit",
            "joint targeted area inspection": "jtai",
            "inspection letter": "letter",
        }[doc_type]
    if re.search(r"Inspection of services for children in need of help", head, re.I):
        return None  # the 2013-2018 single inspection framework is neither standard nor short ILACS
    if not blocks:
        return None
    # Short inspections are one week on site, standard ones two. A return visit after a pause
    # (Devon 2025, South Tyneside 2023) does not change the framework, so time the first block only.
    first, last = blocks[0]
    return "short" if (last - first).days <= 7 else "standard"


def _report_heading(head: str) -> tuple[str | None, str | None]:
    """The authority as named in a report's heading, and what the report is an inspection of."""
    sif = re.search(
        r"(?:^|\s)(?P<name>[^\d\s].{1,80}?)\s+(?:Re-)?inspection of (?P<what>services for children in need of "
        r"help and protection, children looked after and care leavers)",
        head,
        re.I,
    )
    if sif:
        return sif["name"], sif["what"]
    # The heading is the last "Inspection of" before the dates; running headers may come earlier.
    dates = re.search(r"Inspection dates?:", head)
    before = head[: dates.start()] if dates else head[:400]
    starts = list(re.finditer(r"(?:Re-)?Inspection of ", before))
    if not starts:
        # Heading lost (e.g. stripped along with the running headers it repeats): use a later running header.
        header = re.search(r"Inspection of (?P<name>.{2,80}?) (?P<what>local authority children's services)", head)
        return (header["name"], header["what"]) if header else (None, None)
    last = starts[-1]
    after = before[last.end() :].strip()
    what = r"(?:local authority )?children's (?:social care )?services"
    if re.fullmatch(what, after):
        # 2018-2021: "Oldham Metropolitan Borough Council / Inspection of children's social care services"
        name = re.sub(r"^(?:\d+\s+)+", "", before[: last.start()].strip())  # page number before the heading
        return name or None, after
    # 2021 onwards: "Inspection of Barnet local authority children's services"
    new = re.fullmatch(rf"(?P<name>.+?)(?:\s+(?P<what>{what}))?", after)
    if new:
        return new["name"], new["what"] or "children's services"
    return None, None


def _letter_authority(text: str, head: str) -> str | None:
    """The authority a letter is about: from its subject line, its opening sentence or its addressee."""
    subject = _letter_subject(text) or ""
    patterns = (
        r"(?:Focused|Monitoring) visit to (?P<name>.{2,80}?) (?:local authority )?children's (?:social care )?services",
        r"\bwithin (?P<name>.{2,80}?) children's (?:social care )?services",
        r"findings of (?:a|the) .{0,40}?(?:visit|inspection) to (?P<name>.{2,80}?) (?:local authority )?children's",
    )
    for scope in (subject, head):
        for pattern in patterns:
            match = re.search(pattern, scope)
            if match:
                return match["name"]
    # JTAI subjects end with the area: "... response to children's mental health in Oldham".
    match = re.search(r"^Joint targeted area inspection of .+ in (?:the )?(?P<name>[A-Z].{1,60})$", subject)
    if match:
        return match["name"]
    # Fall back on the addressee's council in the letter's address block.
    match = re.search(r"^\s*(?P<name>[A-Z][^\n]{2,80}?(?:Council|Borough of [^\n]+))\s*$", text[:3000], re.M)
    return match["name"] if match else None


def _letter_subject(text: str) -> str | None:
    """A letter's subject line: the paragraph under 'Dear ...', or one naming the kind of visit."""
    starts = r"Focused visit to|Monitoring visit to|Joint targeted area inspection of"
    match = re.search(rf"^[ \t]*(?:Dear [^\n]+\n|(?=(?:{starts})\b))(?P<rest>.{{0,800}})", text[:6000], re.M | re.S)
    if not match:
        return None
    lines: list[str] = []
    for line in match["rest"].splitlines():
        line = line.strip()
        if line.startswith("This letter") or (lines and not line):
            break
        if line:
            lines.append(line)
    return _flat(" ".join(lines)) or None


def _inspection_dates(flat: str, doc_type: str | None) -> list[tuple[date, date]]:
    """Blocks of on-site dates, e.g. [(30 Sep 2024, 11 Oct 2024), (13 Jan 2025, 16 Jan 2025)]."""
    match = re.search(rf"Inspection dates?:\s*(?P<run>{_DATE_RUN})", flat)
    if not match and doc_type not in (None, "inspection report"):
        # Letters: "... which was conducted on 12 and 13 May 2010", "Between 4 and 8 March 2019, ...".
        # Skip the letter's own date: the visit is described after the salutation.
        dear = re.search(r"\bDear\b", flat)
        scope = flat[dear.end() :] if dear else flat
        runs = re.finditer(rf"\b(?i:on|between|from)\s+(?P<run>{_DATE_RUN})", scope)
        match = next((m for m in runs if re.search(rf"{_MONTH}\s+\d{{4}}", m["run"])), None)
    if not match:
        return []
    return _date_blocks(match["run"])


def _date_blocks(run: str) -> list[tuple[date, date]]:
    """'10 to 14 June 2024' -> [(2024-06-10, 2024-06-14)]; one (first, last) pair per block of dates."""
    # Split "A to B and C to D" into blocks, but keep "12 and 13 May" together.
    run = re.sub(r"(?:[\s,–—-]|\bto\b|\band\b)+$", "", run)
    parts = re.split(r"\s+and\s+", run)
    blocks: list[str] = []
    pending = ""
    for i, part in enumerate(parts):
        pending = f"{pending} and {part}" if pending else part
        if re.search(_MONTH, pending) and (re.search(_MONTH, part) or i == len(parts) - 1):
            blocks.append(pending)
            pending = ""
    if pending:
        blocks.append(pending)

    tokens = []  # [block index, day, month or None, year or None]
    for block_index, block in enumerate(blocks):
        for m in re.finditer(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\b(?:\s+({_MONTH}))?(?:\s+(\d{{4}}))?", block):
            month = _MONTHS.index(m[2].lower()) + 1 if m[2] else None
            tokens.append([block_index, int(m[1]), month, int(m[3]) if m[3] else None])
    if not tokens:
        return []
    # "10 to 14 June 2024": earlier days take the month and year of later ones.
    month = year = None
    inferred = set()
    for i in range(len(tokens) - 1, -1, -1):
        month = tokens[i][2] = tokens[i][2] or month
        if tokens[i][3] is None:
            inferred.add(i)
        year = tokens[i][3] = tokens[i][3] or year
    if any(t[2] is None or t[3] is None for t in tokens):
        return []
    try:
        dates = [date(t[3], t[2], t[1]) for t in tokens]
    except ValueError:
        return []
    # "5 to 9 December and 14 to 15 February 2023": a borrowed year can be one too late.
    for i in range(len(dates) - 2, -1, -1):
        if i in inferred and dates[i] > dates[i + 1]:
            dates[i] = dates[i].replace(year=dates[i].year - 1)
    result = []
    for block_index in range(len(blocks)):
        own = [d for t, d in zip(tokens, dates) if t[0] == block_index]
        if own:
            result.append((own[0], own[-1]))
    return result


_NAME_WORD = r"[^\W\d_][\w'.-]*"
_TITLES = re.compile(
    r"\b(?:Senior )?(?:Her|His) Majesty's Inspectors?\b|\bHMI\b|\bSHMI\b|\bOfsted Inspectors?\b"
    r"|\bSocial Care Regulatory Inspector\b",
)


def _lead_inspector(text: str) -> str | None:
    """The lead inspector's name(s) without titles: from 'Lead inspector:', 'the lead inspector was', or the signature."""
    flat = _flat(text)
    match = re.search(r"(?<![Dd]eputy )Lead inspectors?:\s*(?P<rest>.{0,160})", flat)
    if match:
        rest = re.split(r"\b(?:Judgement|Deputy|Team inspectors?|Inspection|Shadow|Report published)\b", match["rest"])[0]
        names = _names(rest)
        if names:
            return " and ".join(names)
    match = re.search(rf"\b[Tt]he lead inspector (?:was|is) (?P<rest>{_NAME_WORD}(?: {_NAME_WORD}){{1,3}})", flat)
    if match:
        names = _names(match["rest"])
        if names:
            return names[0]
    # Letters are signed by the inspector who led the visit.
    match = re.search(
        rf"Yours sincerely,?\s+(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}}?)\s*,?\s*"
        rf"(?:Senior )?(?:(?:Her|His) Majesty's Inspector|S?HMI)\b",
        flat,
    )
    if match:
        names = _names(match["name"])
        if names:
            return names[0]
    return None


def _names(segment: str) -> list[str]:
    """Personal names in 'A B, His Majesty's Inspector, and C D', titles dropped."""
    segment = _TITLES.sub(",", segment)
    segment = re.sub(r"\s+-\s*|\s*-\s+", "-", segment)  # "Thomson -Jones" -> "Thomson-Jones"
    names = []
    for part in re.split(r",|\band\b", segment):
        part = part.strip(" .;:")
        words = part.split()
        if 2 <= len(words) <= 4 and all(re.fullmatch(_NAME_WORD, w) for w in words) and words[0][0].isupper():
            names.append(part)
    return names


def _grades(text: str, head: str) -> dict[str, str]:
    """Judgement area -> grade, from the page-1 table (or SIF summary), gaps filled from body headings."""
    grades: dict[str, str] = {}
    if re.search(r"Inspection of services for children in need of help", head, re.I):
        grades.update(_sif_grades(text, head))
    else:
        grades.update(_table_grades(head))
    # Judgement headings in the body ("... help and protection: good") fill any gaps in the table.
    heading = re.compile(
        rf"(?P<label>(?:The )?(?:experiences?|impact) [^:.]{{10,130}}?|Overall effectiveness)"
        rf"\s*(?::|\s(?:is|are)\s*:?)\s*(?P<grade>{_GRADE})\b",
        re.I,
    )
    for match in heading.finditer(_flat(text)):
        key = judgement_area(match["label"])
        if key and key not in grades:
            grades[key] = _normal_grade(match["grade"])
    return grades


def _table_grades(head: str) -> dict[str, str]:
    """Grades from the judgement table on page 1, whichever order its cells come out in."""
    start = re.search(r"\bJudgement\s+Grade\b", head)
    if start:
        pos = start.end()
    else:
        first = re.search(r"The impact of leaders|The experiences? and progress of", head)
        if not first:
            return {}
        pos = first.start()
    region = head[pos : pos + 2000]
    # Read the table as a run of labels and grades. PDF text (PDFium's, PyMuPDF's) gives label, grade, label, grade; a
    # layout-aware reader may put a row's grade first when its label wraps onto two lines.
    cells: list[tuple[str, str]] = []
    last = 0
    for match in re.finditer(rf"\b{_GRADE}\b", region, re.I):
        labels = _table_labels(region[last : match.start()])
        if labels is None:
            break  # prose: past the end of the table
        cells.extend(("label", key) for key in labels)
        cells.append(("grade", _normal_grade(match.group())))
        last = match.end()
    # Pair each cell with its neighbour of the other kind; two of a kind in a row means the
    # structure is lost, so stop rather than guess.
    grades: dict[str, str] = {}
    pending: tuple[str, str] | None = None
    for kind, value in cells:
        if pending is None:
            pending = (kind, value)
        elif pending[0] == kind:
            break
        else:
            label, grade = (pending[1], value) if kind == "grade" else (value, pending[1])
            grades.setdefault(label, grade)
            pending = None
    return grades


def _table_labels(chunk: str) -> list[str] | None:
    """Judgement areas named in the text between two grades; None if it holds anything else."""
    chunk = chunk.strip()
    starts = [m.start() for m in re.finditer(r"The impact of|The experiences? and progress of|Overall effectiveness", chunk)]
    if not chunk:
        return []
    if not starts or starts[0] != 0:
        return None
    keys = []
    for begin, stop in zip(starts, [*starts[1:], len(chunk)]):
        key = judgement_area(chunk[begin:stop])
        if key is None:
            return None
        keys.append(key)
    return keys


def _sif_grades(text: str, head: str) -> dict[str, str]:
    """Grades of a 2015-2017 single inspection framework report, mapped onto ILACS keys where they fit."""
    grades: dict[str, str] = {}
    overall = re.search(
        rf"(?:Children's services in .{{2,60}}?|overall judgement is that children's services)\s+"
        rf"(?:are|is|require|requires)\s+(?P<grade>improvement(?:\s+to\s+be\s+good)?|{_GRADE})\b",
        head,
        re.I,
    )
    if overall:
        grades["overall effectiveness"] = _normal_grade(overall["grade"])
    labels = (
        r"Children who need help and protection|Children looked after and achieving permanence|Adoption performance"
        r"|Experiences and progress of care leavers|Leadership, management and governance"
    )
    for match in re.finditer(rf"\b\d(?:\.\d)?\.?\s+(?P<label>{labels})\s+(?P<grade>{_GRADE})\b", head, re.I):
        key = judgement_area(match["label"])
        if key:
            grades.setdefault(key, _normal_grade(match["grade"]))
    lscb = re.search(
        rf"The Local Safeguarding Children Board (?:is|are|requires?)\s+(?P<grade>improvement(?:\s+to\s+be\s+good)?|{_GRADE})\b",
        _flat(text),
    )
    if lscb:
        grades["local safeguarding children board"] = _normal_grade(lscb["grade"])
    return grades
