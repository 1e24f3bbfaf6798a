"""Export hits as CSV and Markdown with full citations, safe to open in a spreadsheet or a Markdown viewer."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .passages import JUDGEMENT_AREAS, Hit, Passage

# Columns of the CSV export, in order: the same names as Passage / Hit.to_json where they overlap.
CSV_COLUMNS = (
    "query", "group", "rank", "citation", "authority", "title", "doc_type", "date", "section",
    "paragraph", "page", "judgement_area", "grade", "score", "answering_sentences", "text", "also_in",
    "passage_id", "note",
)
# A spreadsheet treats a cell starting with one of these as a formula (or as the start of one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Markdown syntax that document text must not trigger: emphasis, links and images, HTML, maths, tables, code.
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>$|~&])")
# Syntax that only counts at the start of a line: headings, list items, quotes, setext underlines, numbered lists.
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([#+\-=>]|\d+[.)])", re.MULTILINE)


@dataclass(frozen=True)
class Section:
    """A group of hits in an export: one authority in Compare, one judgement area in Precedent, or all of Ask."""

    heading: str | None
    hits: tuple[Hit, ...]
    note: str | None = None  # e.g. "nothing relevant in Tameside's 3 documents"
    grades: dict[str, str] | None = None  # passage_id -> grade shown beside it, where known


def safe_cell(value: object) -> str:
    """A CSV cell that no spreadsheet will run as a formula: a leading = + - @ tab or CR gets a quote mark."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def answering_sentences(hit: Hit) -> str:
    """The highlighted (answering) parts of a hit's passage, joined by ' … '."""
    return " … ".join(hit.passage.text[start:end].strip() for start, end in merge_spans(hit.highlights,
                                                                                        len(hit.passage.text)))


def merge_spans(spans: Sequence[Sequence[int]], length: int) -> list[tuple[int, int]]:
    """Character spans clipped to [0, length], sorted, with overlapping or touching spans merged."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, int(s)), min(length, int(e))) for s, e in spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def hits_csv(query: str, sections: Sequence[Section]) -> str:
    """One row per hit (and one per empty section, with its note); every cell formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for section in sections:
        if not section.hits:
            writer.writerow([safe_cell(value) for value in _row(query, section, None)])
        for hit in section.hits:
            writer.writerow([safe_cell(value) for value in _row(query, section, hit)])
    return buffer.getvalue()


def _row(query: str, section: Section, hit: Hit | None) -> list[object]:
    if hit is None:
        values = dict.fromkeys(CSV_COLUMNS, "")
        values.update(query=query, group=section.heading or "", note=section.note or "")
        return list(values.values())
    passage = hit.passage
    record = {
        "query": query, "group": section.heading or "", "rank": hit.rank, "citation": passage.citation,
        "authority": passage.authority or "", "title": passage.title, "doc_type": passage.doc_type,
        "date": passage.date or "", "section": passage.section or "", "paragraph": passage.paragraph or "",
        "page": _pages(hit), "judgement_area": passage.judgement_area or "",
        "grade": (section.grades or {}).get(passage.passage_id, ""), "score": f"{hit.score:.4f}",
        "answering_sentences": answering_sentences(hit), "text": passage.text,
        "also_in": "; ".join(hit.also_in), "passage_id": passage.passage_id, "note": section.note or "",
    }
    return [record[column] for column in CSV_COLUMNS]


def _pages(hit: Hit) -> str:
    passage = hit.passage
    if passage.page is None:
        return ""
    if passage.page_end and passage.page_end != passage.page:
        return f"{passage.page}–{passage.page_end}"
    return str(passage.page)


def escape_markdown(text: str) -> str:
    """Text that renders literally in Markdown: no links, images, HTML, emphasis, maths, headings or lists."""
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    return _MARKDOWN_LINE_START.sub(lambda match: match.group(1) + _escape_marker(match.group(2)), text)


def _escape_marker(marker: str) -> str:
    # "12." becomes "12\." so it is not read as a numbered list; "#", "-", "+", "=", ">" get a backslash
    return marker[:-1] + "\\" + marker[-1] if marker[0].isdigit() else "\\" + marker


def hits_markdown(title: str, query: str, sections: Sequence[Section], notes: Sequence[str] = ()) -> str:
    """A Markdown report: the query, then each section's hits as quotes with their full citations."""
    lines = [f"# {escape_markdown(title)}", "", f"**Query:** {escape_markdown(query)}", ""]
    lines += [f"{escape_markdown(note)}  " for note in notes]
    if notes:
        lines.append("")
    for section in sections:
        if section.heading is not None:
            lines += [f"## {escape_markdown(section.heading)}", ""]
        if section.note:
            lines += [f"*{escape_markdown(section.note)}*", ""]
        for hit in section.hits:
            lines.append(f"{hit.rank}. **{escape_markdown(hit.passage.citation)}**"
                         + (f" — grade: {escape_markdown(section.grades[hit.passage.passage_id])}"
                            if section.grades and section.grades.get(hit.passage.passage_id) else ""))
            if hit.passage.section:
                lines.append(f"   Section: {escape_markdown(hit.passage.section)}")
            lines.append("")
            for line in hit.passage.text.splitlines() or [""]:
                lines.append(f"   > {escape_markdown(line)}" if line.strip() else "   >")
            answering = " ".join(answering_sentences(hit).split())  # one line, so it stays inside the list item
            if answering:
                lines += ["", f"   Answering sentences: {escape_markdown(answering)}"]
            if hit.also_in:
                lines += ["", "   Also in: " + "; ".join(escape_markdown(citation) for citation in hit.also_in)]
            lines.append("")
    lines.append("Source text: Ofsted and council reports, Crown copyright / Open Government Licence v3.0 "
                 "where published by Ofsted.")
    return "\n".join(lines) + "\n"


DOCUMENT_COLUMNS = ("doc_id", "authority", "doc_type", "date", "title", "source", "inspection_start",
                    "inspection_end", "lead_inspector", *(f"grade: {area}" for area in JUDGEMENT_AREAS), "passages",
                    "path")


def documents_csv(records: Sequence[dict]) -> str:
    """One formula-safe row per document record (as in documents.jsonl), grades one column per judgement area."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(DOCUMENT_COLUMNS)
    for record in records:
        grades = record.get("grades") or {}
        values = {**record, **{f"grade: {area}": grades.get(area, "") for area in JUDGEMENT_AREAS}}
        writer.writerow([safe_cell(values.get(column)) for column in DOCUMENT_COLUMNS])
    return buffer.getvalue()


def passages_markdown(title: str, passages: Sequence[Passage]) -> str:
    """A whole document as Markdown, passage by passage, each with its citation; document text escaped."""
    lines = [f"# {escape_markdown(title)}", ""]
    section = None
    for passage in passages:
        if passage.section and passage.section != section:
            section = passage.section
            lines += [f"## {escape_markdown(section)}", ""]
        lines += [escape_markdown(passage.text), "", f"*{escape_markdown(passage.citation)}*", ""]
    return "\n".join(lines) + "\n"


COMPARISON_COLUMNS = ("authority", "authority_code", "region", "grade", "judgement_area", "report_date", "tone",
                      "best_sentence", "citation", "strengths", "weaknesses", "neutral", "passage_id")


def comparison_records(rows) -> list[dict]:
    """One record per authority of a comparing.Comparison's rows (its best sentence blank when nothing is relevant)."""
    out = []
    for row in rows:
        best = row.best
        out.append({
            "authority": row.authority, "authority_code": best.passage.authority_code if best else "",
            "region": row.region or "", "grade": (best.grade if best else "") or "",
            "judgement_area": best.area if best else "", "report_date": (best.passage.date if best else "") or "",
            "tone": best.tone if best else "", "best_sentence": " ".join(best.sentence.split()) if best else "",
            "citation": best.passage.citation if best else "", "strengths": row.tally.get("strength", 0),
            "weaknesses": row.tally.get("weakness", 0), "neutral": row.tally.get("neutral", 0),
            "passage_id": best.passage.passage_id if best else "",
        })
    return out


def comparison_csv(theme: str, rows) -> str:
    """The Compare table as CSV, every cell safe for a spreadsheet, with a first column naming the theme."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("theme", *COMPARISON_COLUMNS))
    for record in comparison_records(rows):
        writer.writerow([safe_cell(theme), *(safe_cell(record[column]) for column in COMPARISON_COLUMNS)])
    return out.getvalue()


def comparison_markdown(title: str, theme: str, rows, notes: Sequence[str] = ()) -> str:
    """The Compare table as a Markdown document: one line per authority with its quoted sentence and citation."""
    lines = [f"# {escape_markdown(title)}", "", f"Theme: {escape_markdown(theme)}", ""]
    lines += [f"- {escape_markdown(note)}" for note in notes] + ([""] if notes else [])
    for record in comparison_records(rows):
        head = f"## {escape_markdown(record['authority'])}"
        facts = ", ".join(escape_markdown(part) for part in (record["region"], record["grade"] and
                          f"{record['judgement_area']}: {record['grade']}", record["report_date"]) if part)
        lines += [head, "", facts, ""] if facts else [head, ""]
        if record["best_sentence"]:
            lines += [f"> {escape_markdown(record['best_sentence'])}", "",
                      f"{escape_markdown(record['tone'])} — {escape_markdown(record['citation'])} "
                      f"(relevant sentences: {record['strengths']} strengths, {record['weaknesses']} weaknesses, "
                      f"{record['neutral']} neutral)", ""]
        else:
            lines += ["Nothing relevant in its documents in scope.", ""]
    return "\n".join(lines)


FOLLOW_COLUMNS = ("authority", "inspection", "inspection_grade", "recommendation", "recommendation_citation",
                  "plan_actions", "visit_evidence", "next_inspection", "next_grade", "outcome", "outcome_probability",
                  "outcome_basis", "later_evidence")


def follow_records(authority: str, inspections) -> list[dict]:
    """One record per recommendation of a following.Follow's inspections (plan actions and later evidence quoted,
    each with its citation)."""
    from .following import recommendation_text

    out = []
    for inspection in inspections:
        record = inspection.record
        for chain in inspection.chains:
            out.append({
                "authority": record.get("authority") or authority, "inspection": record.get("date") or "",
                "inspection_grade": (record.get("grades") or {}).get("overall effectiveness", ""),
                "recommendation": recommendation_text(chain.recommendation),
                "recommendation_citation": chain.recommendation.citation,
                "plan_actions": " | ".join(f"“{' '.join(l.sentence.split())}” ({l.passage.citation})" for l in chain.actions),
                "visit_evidence": " | ".join(f"“{' '.join(l.sentence.split())}” [{l.tone or l.passage.kind}] "
                                             f"({l.passage.citation})" for l in chain.visits),
                "next_inspection": (chain.later_report or {}).get("date") or "",
                "next_grade": chain.later_grade or "", "outcome": chain.outcome,
                "outcome_probability": "" if chain.confidence is None else f"{chain.confidence:.2f}",
                "outcome_basis": chain.basis,
                "later_evidence": " | ".join(f"“{' '.join(l.sentence.split())}” [{l.tone or l.passage.kind}] "
                                             f"({l.passage.citation})" for l in chain.later),
            })
    return out


def follow_csv(authority: str, inspections) -> str:
    return _follow_table(follow_records(authority, inspections))


def _follow_table(records) -> str:
    """follow_records' rows as spreadsheet-safe CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FOLLOW_COLUMNS)
    for record in records:
        writer.writerow([safe_cell(record[column]) for column in FOLLOW_COLUMNS])
    return out.getvalue()


def theme_csv(documents: dict, chains) -> str:
    """Chains from many authorities (following.on_theme) as follow_csv's rows, each under its own report."""
    from .following import Inspection

    by_report: dict[str, list] = {}
    for chain in chains:
        by_report.setdefault(chain.recommendation.doc_id, []).append(chain)
    return _follow_table(record for doc_id, group in by_report.items() for record in follow_records(
        group[0].recommendation.authority or "", [Inspection(documents.get(doc_id) or {"doc_id": doc_id}, tuple(group))]))


def follow_markdown(authority: str, inspections) -> str:
    """A briefing for an inspection-preparation meeting: each recommendation, what was promised, what followed."""
    from .following import letters_since, recommendation_text

    lines = [f"# {escape_markdown(authority)}: recommendations and what followed", ""]
    for inspection in inspections:
        record = inspection.record
        grade = (record.get("grades") or {}).get("overall effectiveness")
        lines += [f"## Inspection of {escape_markdown(record.get('date') or 'unknown date')}"
                  + (f" ({escape_markdown(grade)})" if grade else "")
                  + (f" of {escape_markdown(record.get('authority') or '')}" if record.get("authority") != authority
                     else ""), ""]
        if inspection.letters:
            lines += ["Ofsted's letters since: " + "; ".join(
                escape_markdown(f"{letter.get('date') or 'undated'} {letter['doc_type']}") for letter in inspection.letters),
                ""]
        for number, chain in enumerate(inspection.chains, start=1):
            lines += [f"{number}\\. {escape_markdown(recommendation_text(chain.recommendation))} — "
                      f"{escape_markdown(chain.recommendation.citation)}", ""]
            for link in chain.actions:
                lines.append(f"- Plan: “{escape_markdown(' '.join(link.sentence.split()))}” — "
                             f"{escape_markdown(link.passage.citation)}")
            if not chain.actions:
                lines.append("- Plan: no plan action or council paper on this found.")
            for link in chain.visits:
                lines.append(f"- Visit: “{escape_markdown(' '.join(link.sentence.split()))}” "
                             f"[{escape_markdown(link.tone or link.passage.kind)}] — {escape_markdown(link.passage.citation)}")
            if inspection.letters and not chain.visits:
                lines.append(f"- Visit: nothing on this found in {letters_since(len(inspection.letters))}.")
            if chain.later_report is None:
                lines += ["- Next inspection: none in the index yet.", ""]
                continue
            lines.append(f"- Next inspection ({escape_markdown(chain.later_report.get('date') or '')}"
                         f"{', ' + escape_markdown(chain.later_grade) if chain.later_grade else ''}): "
                         f"**{escape_markdown(chain.outcome)}**"
                         + (f" (probability {chain.confidence:.2f})" if chain.confidence is not None else "")
                         + (f"; read from: {escape_markdown(chain.basis)}" if chain.basis else ""))
            for link in chain.later:
                lines.append(f"  - “{escape_markdown(' '.join(link.sentence.split()))}” "
                             f"[{escape_markdown(link.tone or link.passage.kind)}] — {escape_markdown(link.passage.citation)}")
            if not chain.later:
                lines.append("  - not found in the later report")
            lines.append("")
    return "\n".join(lines)
