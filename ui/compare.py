"""Compare: a theme across every authority in scope, as a sortable table with a chart of strengths and weaknesses."""

from dataclasses import replace

import altair as alt
import pandas as pd
import streamlit as st

from indexer.authorities import load_register
from indexer.comparing import compare
from indexer.export import comparison_csv, comparison_markdown, comparison_records, safe_cell
from indexer.tone import LABELS
from ui import core

DEFAULT_SIMILARITY = 0.40  # all-MiniLM-L6-v2 cosine; see RELEVANCE below for why
PER_AUTHORITY = 3  # passages shown when a row is opened
CANDIDATES = 10
GROUPINGS = {"grade": "Grade", "year": "Inspection year", "region": "Region"}
GRADE_ORDER = ["outstanding", "good", "requires improvement to be good", "requires improvement", "inadequate",
               "unknown"]
TONE_COLOURS = {"strength": "#1b7837", "weakness": "#b2182b", "neutral": "#9e9e9e"}
RELEVANCE = f"""Each row is one authority, with the **single sentence** of its documents (within the sidebar
filters) closest in meaning to the theme, from a finding or summary passage that counts as **relevant**:

- its meaning is close to the theme: a similarity of at least the bar below (cosine similarity of the
  all-MiniLM-L6-v2 embeddings, from 0 to 1; default {DEFAULT_SIMILARITY:.2f}), or
- it contains **every key word** of the theme, ignoring small words and word endings.

**Tone** says what the sentence says of the practice: a *strength* ("IROs effectively challenge…"), a
*weakness* ("Management oversight is not consistently…") or *neutral* (a fact or a description). It is
read by a model trained on hand-labelled sentences from the reports (eval/SENTENCES.md gives its measured
accuracy); check the sentence before quoting the label. **Grade** is the report's grade for the judgement
the sentence sits under (children in care, care leavers, …), or its overall effectiveness. The chart counts
every relevant sentence, not only the best one per authority."""


def similarity(raw: str) -> float:
    value = round(float(raw), 2)
    if not 0 <= value <= 1:
        raise ValueError(raw)
    return value


@st.cache_data(max_entries=64, show_spinner=False)
def _comparison(_searcher, build: str, question: str, filters_key: str, _filters, minimum: float):
    return compare(_searcher, question, _filters, minimum)


def chart(counts: list[dict], by: str):
    """A stacked bar per group: how many relevant sentences read as strengths, weaknesses or neutral."""
    frame = pd.DataFrame(counts or [{by: "unknown", "tone": "neutral", "sentences": 0}])
    order = [g for g in GRADE_ORDER if g in set(frame[by])] if by == "grade" else sorted(set(frame[by]))
    pick = alt.selection_point(fields=[by], name="pick")
    return (alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{by}:N", sort=order, title=GROUPINGS[by], axis=alt.Axis(labelAngle=-30, labelLimit=180)),
        y=alt.Y("sentences:Q", title="Relevant sentences"),
        color=alt.Color("tone:N", scale=alt.Scale(domain=list(TONE_COLOURS), range=list(TONE_COLOURS.values())),
                        title="Tone"),
        order=alt.Order("tone:N"),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
        tooltip=[alt.Tooltip(f"{by}:N", title=GROUPINGS[by]), "tone:N", "sentences:Q"],
    ).add_params(pick).properties(height=260))


def picked(event, by: str) -> str | None:
    """The group of the bar clicked in the chart, if any."""
    try:
        points = event.selection["pick"]
    except (AttributeError, KeyError, TypeError):
        return None
    values = [point.get(by) for point in points or [] if isinstance(point, dict)]
    return str(values[0]) if values else None


def group_of(record: dict, by: str) -> str:
    value = {"grade": record["grade"], "year": record["report_date"][:4], "region": record["region"]}[by]
    return value or "unknown"


def set_neighbours() -> None:
    """One click: the sidebar's "an authority and its statistical neighbours" becomes the authority chosen here."""
    mine = st.session_state.get("mine")
    if mine:
        st.session_state["near"] = mine
        st.session_state["authority"], st.session_state["region"], st.session_state["atype"] = [], [], []


searcher = core.open_searcher()
core.init_from_url("theme", "")
core.init_from_url("min", DEFAULT_SIMILARITY, convert=similarity)
core.init_from_url("by", "grade", list(GROUPINGS))
core.init_from_url("ct", [], list(LABELS), multi=True)
core.init_from_url("pick", "")
core.init_from_url("open", "")
st.title("Compare authorities on a theme")
with st.form("compare", border=False):
    st.text_input("Theme or question", key="theme",
                  placeholder="e.g. IRO challenge · how is IRO challenge described across authorities judged "
                              "inadequate vs good?")
    st.form_submit_button("Compare", type="primary", icon=":material/compare_arrows:")
filters = core.current_filters(searcher)
with st.expander("How rows, tone and grades are decided", icon=":material/help:"):
    st.markdown(RELEVANCE)
    st.slider("Similarity bar", 0.0, 1.0, step=0.05, key="min",
              help="Lower shows weaker matches; higher keeps only close ones.")
question = st.session_state["theme"].strip()
minimum = st.session_state["min"]
if not question:
    core.write_url({"theme": "", "min": DEFAULT_SIMILARITY, "by": "grade", "ct": [], "pick": "", "open": ""})
    st.info("Type a theme, such as “IRO challenge” or “care leavers' pathway plans”, or a researcher's question "
            "such as “how is IRO challenge described across authorities judged inadequate vs good?”: every "
            "authority in the sidebar's scope gets a row with its closest sentence, its grade and whether the "
            "sentence reads as a strength or a weakness.")
    st.stop()

result, seconds = core.timed(_comparison, searcher, searcher.index.build_id, question, repr(filters), filters,
                             minimum)
records = comparison_records(result.rows)
named = [grade for grade in result.grades if grade in {r["grade"] for r in records}]
core.init_from_url("cg", list(named), GRADE_ORDER[:-1], multi=True)
found = sum(1 for row in result.rows if row.best)
st.caption(f"Theme read as **{core.md(result.theme)}**"
           + (f"; grades named: {core.md(', '.join(result.grades))}" if result.grades else "")
           + f". {found} of {len(result.rows)} authorities have a relevant sentence; "
             f"{len(result.evidence)} relevant sentences in all ({seconds:.2f} s).")

left, middle, right = st.columns([2, 2, 3])
left.multiselect("Grades", GRADE_ORDER[:-1], key="cg", placeholder="Every grade",
                 help="Only authorities whose report gave one of these grades for the theme's judgement.")
middle.multiselect("Tone of the sentence", list(LABELS), key="ct", placeholder="Any tone")
with right:
    mine_choices = sorted(row.authority for row in result.rows)
    inner_left, inner_right = st.columns([3, 2], vertical_alignment="bottom")
    inner_left.selectbox("My authority", mine_choices, key="mine", index=None, placeholder="Choose an authority")
    registered = {authority.name for authority in load_register()}
    inner_right.button("+ neighbours", on_click=set_neighbours, disabled=st.session_state.get("mine") not in registered,
                       help="Compare this authority with its ten statistical neighbours (sets the sidebar filter).")

by = st.radio("Chart by", list(GROUPINGS), key="by", format_func=GROUPINGS.get, horizontal=True)
shown = [r for r in records if r["best_sentence"]]
if st.session_state["cg"]:
    shown = [r for r in shown if r["grade"] in st.session_state["cg"]]
if st.session_state["ct"]:
    shown = [r for r in shown if r["tone"] in st.session_state["ct"]]
wanted_authorities = {r["authority"] for r in shown}
counts = [dict(c) for c in replace(result, evidence=tuple(  # the chart counts what the table's choices keep
    e for e in result.evidence if e.passage.authority in wanted_authorities
    and (not st.session_state["cg"] or e.grade in st.session_state["cg"])
    and (not st.session_state["ct"] or e.tone in st.session_state["ct"]))).counts(by)]
event = st.altair_chart(chart(counts, by), on_select="rerun", key=f"chart-{by}", width="stretch")
live = picked(event, by)
if live is not None:
    st.session_state["pick"] = live
elif st.session_state.get("_chart_seen"):  # the bar was clicked off (the first run keeps the URL's)
    st.session_state["pick"] = ""
st.session_state["_chart_seen"] = True
group = st.session_state["pick"]
if group:
    shown = [r for r in shown if group_of(r, by) == group]
    st.caption(f"Showing the rows of the bar **{core.md(group)}**; click it again (or elsewhere) to show all.")

table = pd.DataFrame([{
    "Authority": safe_cell(r["authority"]), "Region": safe_cell(r["region"]), "Grade": r["grade"] or "—",
    "Judgement": r["judgement_area"], "Report": r["report_date"], "Tone": r["tone"],
    "Best sentence": safe_cell(r["best_sentence"]), "Citation": safe_cell(r["citation"]),
    "Strengths": r["strengths"], "Weaknesses": r["weaknesses"]} for r in shown],
    columns=["Authority", "Region", "Grade", "Judgement", "Report", "Tone", "Best sentence", "Citation", "Strengths",
             "Weaknesses"])
nothing = [r["authority"] for r in records if not r["best_sentence"]]
st.subheader(f"{len(shown)} authorities", anchor=False)
selection = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                         key="table", column_config={
                             "Best sentence": st.column_config.TextColumn(width="large"),
                             "Citation": st.column_config.TextColumn(width="medium")})
if nothing:
    st.caption(f"Nothing relevant for {len(nothing)} authorities: {core.md(', '.join(nothing))}.")
notes = [f"Filters: {core.describe_filters(filters)}",
         f"Relevant means similarity at least {minimum:.2f} or every key word of the theme present.",
         "Tone is read by a model (see eval/SENTENCES.md for its accuracy); check the sentence before quoting it."]
kept = [row for row in result.rows if row.authority in {r["authority"] for r in shown}]
one, two = st.columns(2)
one.download_button("Download the table (CSV)", comparison_csv(result.theme, kept).encode("utf-8-sig"),
                    file_name="compare.csv", mime="text/csv", on_click="ignore", icon=":material/download:")
two.download_button("Download the table (Markdown, with citations)",
                    comparison_markdown("Inspection report search: Compare", result.theme, kept, notes).encode(),
                    file_name="compare.md", mime="text/markdown", on_click="ignore", icon=":material/download:")

rows_picked = getattr(getattr(selection, "selection", None), "rows", []) or []
if rows_picked and rows_picked[0] < len(shown):
    st.session_state["open"] = shown[rows_picked[0]]["authority"]
opened = st.session_state.get("open") or ""
core.write_url({"theme": "", "min": DEFAULT_SIMILARITY, "by": "grade", "ct": [], "cg": list(named), "pick": "",
                "open": ""})
if opened and opened in {row.authority for row in result.rows}:
    st.subheader(f"{core.md(opened)}: its passages on the theme", anchor=False)
    st.html(core.grades_html(searcher, opened))
    hits = core.search(searcher, result.theme, CANDIDATES, replace(filters, authorities=(opened,)))
    for hit in hits[:PER_AUTHORITY]:
        st.html(core.hit_html(hit, hit.highlights))
        st.page_link(core.READER_PAGE, label="Read in context", icon=":material/menu_book:",
                     query_params={"doc": hit.passage.doc_id, "at": hit.passage.passage_id})
elif not shown:
    st.info("No authority in scope has a relevant sentence with these grades and tone. Clear the choices above, "
            "lower the similarity bar, or widen the sidebar filters.")
