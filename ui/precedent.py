"""Precedent: a draft finding in, the closest passages from reports out, grouped by judgement area with grades."""

import streamlit as st

from indexer.export import Section
from indexer.passages import JUDGEMENT_AREAS
from ui import core

HITS = 15
OTHER = "Not under a judgement heading"


def grade_of(searcher, hit) -> str | None:
    """'Children in care: requires improvement', the grade the passage's report gave its judgement area."""
    grades = searcher.index.documents.get(hit.passage.doc_id, {}).get("grades") or {}
    area = hit.passage.judgement_area
    if area and area in grades:
        return f"{area.capitalize()}: {grades[area]}"
    if "overall effectiveness" in grades:
        return f"Overall effectiveness: {grades['overall effectiveness']}"
    return None


searcher = core.open_searcher()
core.init_from_url("draft", "")
st.title("Find precedent for a finding")
st.caption("Paste a draft finding or a paragraph. The closest passages from inspection reports and plans "
           "come back grouped by the judgement they sit under, with the grade that report gave.")
with st.form("precedent", border=False):
    st.text_area("Draft finding", key="draft", height=140,
                 placeholder="e.g. Pathway plans are not consistently updated and do not reflect young people's "
                             "current needs.")
    st.form_submit_button("Find precedent", type="primary", icon=":material/gavel:")
draft = st.session_state["draft"].strip()
core.write_url({"draft": ""})
if not draft:
    st.stop()

filters = core.current_filters(searcher)
hits = core.search(searcher, draft, HITS, filters)
if not hits:
    st.info("No passage matches these filters. Clear some filters in the sidebar and try again.")
    st.stop()
groups: dict[str, list] = {}  # judgement area -> hits, the area of the closest passage first
for hit in hits:
    groups.setdefault(hit.passage.judgement_area if hit.passage.judgement_area in JUDGEMENT_AREAS else OTHER,
                      []).append(hit)
sections = [Section(area.capitalize() if area != OTHER else OTHER, tuple(found),
                    grades={hit.passage.passage_id: grade_of(searcher, hit) or "" for hit in found})
            for area, found in groups.items() if found]
core.export_buttons("precedent-results", "Inspection report search: Precedent", draft, sections,
                    [f"Filters: {core.describe_filters(filters)}"])
st.caption(f"The {len(hits)} closest passages, grouped by judgement area: the area of the closest passage "
           "comes first, and passages are closest first within each area.")
for section in sections:
    st.subheader(f"{section.heading} ({len(section.hits)})", anchor=False)
    for hit in section.hits:
        core.show_hit(searcher, hit, hit.highlights, key="precedent", grade=grade_of(searcher, hit))
