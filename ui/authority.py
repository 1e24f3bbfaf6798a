"""Authority: its inspections, plans and papers on a timeline, and each recommendation traced to what followed."""

from collections import Counter

import altair as alt
import pandas as pd
import streamlit as st

from indexer.export import follow_csv, follow_markdown, safe_cell, theme_csv
from indexer.following import follow, letters_since, on_theme, recommendation_text
from indexer.passages import format_date
from ui import core

OUTCOME_COLOURS = {"improved": "#1b7837", "still weak": "#b2182b", "not mentioned": "#9e9e9e"}
HOW = """Each recommendation ("What needs to improve") is compared by meaning with every passage of the
authority's later documents: its improvement plans and council papers from the report's year on, Ofsted's
letters after the report (focused and monitoring visits, and any other letter), and the next Ofsted
inspection. A later passage is shown only when a relevance model, trained on hand-labelled pairs
(eval/FOLLOW.md), finds it likely enough to be about what was recommended (its similarity, its words, and the
practice areas it shares with the recommendation); otherwise the chain says **not found in the later
report**. The outcome (**improved**, **still weak**, **not mentioned**) is a second model's reading of the
next report: whether its own "What needs to improve" items come back to it, the tone of its closest passages
weighted by their relevance, and its grade for the area. The probability and the evidence it was read from
are shown beside it. On held-out pairs (eval/FOLLOW.md) about 4 links in 5 are right, about 3 in 5 of the
passages a careful reader would link are found, and the outcome agrees with that reader for about 4
recommendations in 5. Letters are linked by the same model and bar, which were trained and measured on
inspection reports only.
Every line shown is a quotation with its citation; the outcome is the tool's reading — check the quotes."""


@st.cache_data(max_entries=64, show_spinner=False)
def _follow(_searcher, build: str, authority: str):
    return follow(_searcher, authority)


@st.cache_data(max_entries=32, show_spinner=False)
def _on_theme(_searcher, build: str, theme: str, filters_key: str, _filters):
    return on_theme(_searcher, theme, _filters)


def timeline_chart(timeline) -> alt.Chart:
    frame = pd.DataFrame([{"date": record.get("date") or "", "type": record["doc_type"],
                           "grade": (record.get("grades") or {}).get("overall effectiveness", "not graded"),
                           "title": record["title"]} for record in timeline if record.get("date")],
                         columns=["date", "type", "grade", "title"])
    frame["date"] = pd.to_datetime(frame["date"].str.pad(10, "right", "-").str.replace("--", "-01", regex=False)
                                   .str.replace(r"-+$", "", regex=True), errors="coerce", format="mixed")
    return alt.Chart(frame.dropna(subset=["date"])).mark_point(size=160, filled=True).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y", tickCount="year")), y=alt.Y("type:N", title=None),
        color=alt.Color("grade:N", title="Overall effectiveness", scale=alt.Scale(
            domain=["outstanding", "good", "requires improvement to be good", "requires improvement", "inadequate",
                    "not graded"],
            range=["#1b7837", "#7fbf7b", "#f4a582", "#f4a582", "#b2182b", "#9e9e9e"])),
        tooltip=["title:N", alt.Tooltip("date:T", format="%b %Y"), "grade:N"]).properties(height=160)


def outcomes_chart(inspections) -> alt.Chart | None:
    """Each inspection's recommendations by what followed at the next one (None when there is no recommendation
    with a next inspection)."""
    frame = pd.DataFrame([{"inspection": f"{format_date(inspection.record.get('date'))}"
                                         f" ({(inspection.record.get('grades') or {}).get('overall effectiveness', 'not graded')})",
                           "date": inspection.record.get("date") or "", "outcome": chain.outcome}
                          for inspection in inspections for chain in inspection.chains
                          if chain.outcome in OUTCOME_COLOURS], columns=["inspection", "date", "outcome"])
    if frame.empty:
        return None
    order = list(dict.fromkeys(frame.sort_values("date")["inspection"]))
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y("inspection:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
        x=alt.X("count():Q", title="Recommendations of each inspection, by what the next one said",
                axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("outcome:N", title="At the next inspection", scale=alt.Scale(
            domain=list(OUTCOME_COLOURS), range=list(OUTCOME_COLOURS.values()))),
        tooltip=["inspection:N", "outcome:N", "count():Q"]).properties(height=70 + 36 * len(order))


def outcome_note(chain) -> str:
    """The outcome's probability and what it was read from, e.g. 'probability 0.91; read from: …'."""
    parts = [f"probability {chain.confidence:.2f}"] if chain.confidence is not None else []
    return "; ".join(parts + ([f"read from: {chain.basis}"] if chain.basis else []))


def shortened(text: str, most: int = 110) -> str:
    return text if len(text) < most else text[:most - 3] + "…"


def chain_html(chain, letters: int = 0) -> str:
    """One recommendation's chain: its words and citation, the plan actions, what Ofsted's letters since said
    (`letters`: how many were read; the section shows when there are any), what the next inspection said."""
    text = recommendation_text(chain.recommendation)
    parts = [f'<p><q>{core.esc(text)}</q> <span class="src">— {core.esc(chain.recommendation.citation)}</span></p>',
             "<p><b>What the council planned</b></p><ul>"
             + ("".join(link_html(link) for link in chain.actions)
                or "<li>No plan action or council paper on this found.</li>") + "</ul>"]
    if letters or chain.visits:
        parts.append("<p><b>What Ofsted's visits said since</b></p><ul>"
                     + ("".join(link_html(link) for link in chain.visits)
                        or f"<li>Nothing on this found in {letters_since(letters)}.</li>")
                     + "</ul>")
    if chain.later_report is None:
        parts.append("<p><b>Next inspection:</b> none in the index yet.</p>")
    else:
        later = chain.later_report
        note = outcome_note(chain)
        parts.append(f"<p><b>Next inspection ({core.esc(format_date(later.get('date')))}"
                     f"{', ' + core.esc(chain.later_grade) if chain.later_grade else ''}): {core.esc(chain.outcome)}</b>"
                     + (f' <span class="src">({core.esc(note)})</span>' if note else "") + "</p><ul>"
                     + ("".join(link_html(link) for link in chain.later)
                        or "<li>Not found in the later report.</li>") + "</ul>")
    return "".join(parts)


def link_html(link) -> str:
    tone = f'<span class="tone {core.esc(link.tone)}">{core.esc(link.tone)}</span> ' if link.tone else ""
    return (f'<li>{tone}<q>{core.esc(" ".join(link.sentence.split()))}</q> '
            f'<span class="src">— {core.esc(link.passage.citation)}</span></li>')


searcher = core.open_searcher()
index = searcher.index
names = sorted({r["authority"] for r in index.documents.values() if r.get("authority")})
core.init_from_url("name", "", ["", *names])
core.init_from_url("rtheme", "")
st.title("An authority's recommendations, and what followed")
st.selectbox("Authority", ["", *names], key="name", format_func=lambda name: name or "Choose an authority")
with st.expander("How a recommendation is traced", icon=":material/help:"):
    st.markdown(HOW)
authority = st.session_state["name"]
if authority:
    result, seconds = core.timed(_follow, searcher, index.build_id, authority)
    st.altair_chart(timeline_chart(result.timeline), width="stretch")
    counts = Counter(chain.outcome for inspection in result.inspections for chain in inspection.chains)
    st.caption(f"{len(result.timeline)} documents, {len(result.inspections)} inspections; recommendations: "
               + (", ".join(f"{n} {name}" for name, n in counts.most_common()) or "none") + f" ({seconds:.2f} s).")
    chart = outcomes_chart(result.inspections)
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    one, two = st.columns(2)
    one.download_button("Download the briefing (Markdown, with citations)",
                        follow_markdown(authority, result.inspections).encode(), file_name=f"{authority}-follow.md",
                        mime="text/markdown", on_click="ignore", icon=":material/download:")
    two.download_button("Download the chains (CSV)", follow_csv(authority, result.inspections).encode("utf-8-sig"),
                        file_name=f"{authority}-follow.csv", mime="text/csv", on_click="ignore",
                        icon=":material/download:")
    for inspection in reversed(result.inspections):
        record = inspection.record
        grade = (record.get("grades") or {}).get("overall effectiveness")
        st.subheader(f"Inspection of {format_date(record.get('date'))}" + (f" ({grade})" if grade else "")
                     + (f" of {core.md(record.get('authority'))}" if record.get("authority") != authority else "")
                     + f": {len(inspection.chains)} recommendation{'s' * (len(inspection.chains) != 1)}", anchor=False)
        if inspection.letters:
            st.caption("Ofsted's letters since: " + "; ".join(
                core.md(f"{format_date(letter.get('date'))} {letter['doc_type']}") for letter in inspection.letters))
        for number, chain in enumerate(inspection.chains, start=1):
            short = shortened(recommendation_text(chain.recommendation))
            with st.expander(core.md(f"{number}. {short} — {chain.outcome}")):  # document text: never Markdown
                st.html(chain_html(chain, len(inspection.letters)))
else:
    st.info("Choose an authority to see its inspections, plans and council papers on a timeline, then each "
            "recommendation with the plan actions that answer it and what the next inspection said.")

st.divider()
st.subheader("Across authorities: what happened to recommendations on a theme", anchor=False)
with st.form("theme", border=False):
    st.text_input("Theme", key="rtheme", placeholder="e.g. pathway plans, management oversight, IRO challenge")
    st.form_submit_button("Trace", icon=":material/timeline:")
core.write_url({"name": "", "rtheme": ""})
theme = st.session_state["rtheme"].strip()
if theme:
    filters = core.current_filters(searcher)
    chains, seconds = core.timed(_on_theme, searcher, index.build_id, theme, repr(filters), filters)
    if not chains:
        st.info("No recommendation on this theme has a later inspection in the index (within the sidebar filters).")
    else:
        frame = pd.DataFrame([{"authority": c.recommendation.authority, "next grade": c.later_grade or "unknown",
                               "outcome": c.outcome} for c in chains])
        authorities = frame["authority"].nunique()
        st.caption(f"{len(chains)} recommendation{'s' * (len(chains) != 1)} on “{core.md(theme)}” with a later "
                   f"inspection, from {authorities} authorit{'ies' if authorities != 1 else 'y'} ({seconds:.2f} s).")
        st.altair_chart(alt.Chart(frame).mark_bar().encode(
            x=alt.X("next grade:N", title="Grade at the next inspection"), y=alt.Y("count():Q", title="Recommendations"),
            color=alt.Color("outcome:N", scale=alt.Scale(domain=list(OUTCOME_COLOURS),
                                                         range=list(OUTCOME_COLOURS.values())))
        ).properties(height=240), width="stretch")
        table = (frame.groupby(["authority", "outcome"]).size().unstack(fill_value=0).reset_index()
                 .rename(columns={"authority": "Authority"}))
        table["Authority"] = table["Authority"].map(safe_cell)
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button("Download these recommendations and what followed (CSV, with citations)",
                           theme_csv(index.documents, chains).encode("utf-8-sig"), file_name="recommendations-followed.csv",
                           mime="text/csv", on_click="ignore", icon=":material/download:")
        for chain in chains:
            label = (f"{chain.recommendation.authority} ({format_date(chain.recommendation.date)}): "
                     f"{shortened(recommendation_text(chain.recommendation), 90)} — {chain.outcome}")
            with st.expander(core.md(label)):  # document text: never Markdown
                st.html(chain_html(chain))
