"""Compare: a theme across authorities, their best passages side by side with grades and dates."""

from dataclasses import replace
from functools import lru_cache

import streamlit as st

from indexer.export import Section
from indexer.store import lexical_tokens
from ui import core

DEFAULT_SIMILARITY = 0.40  # all-MiniLM-L6-v2 cosine; see RELEVANCE below for why
PER_AUTHORITY = 3
CANDIDATES = 10  # the best passages per authority that are tested for relevance
COLUMNS = 3
RELEVANCE = f"""A passage counts as **relevant** to the theme when either

- its meaning is close to the theme: a similarity of at least the bar below (cosine similarity of the
  all-MiniLM-L6-v2 embeddings, from 0 to 1; default {DEFAULT_SIMILARITY:.2f}), or
- it contains **every key word** of the theme, ignoring small words and word endings (so *IRO challenge*
  finds "IROs do not always challenge").

The default bar was set on the seed corpus: of the authorities whose documents answer one of the
project's 103 seed test questions, 98 in 100 have a passage that clears it, while themes no document
addresses ("football stadium parking", "weather forecast") find nothing, and loosely related passages
(homelessness at 16 for "youth offending") fall below it. The key-word rule catches what the model
misses. When an authority shows "nothing relevant", its documents (within the sidebar filters) have no
passage among its ten best for the theme that passes either test; lower the bar to see weaker matches."""


@lru_cache(maxsize=4096)
def key_words(text: str) -> frozenset[str]:
    """Stemmed words without stop words, as the lexical index reads them."""
    return frozenset(lexical_tokens([text], return_ids=False)[0])


def relevant(hits, theme: str, minimum: float):
    """The hits that pass the relevance test, best first."""
    wanted = key_words(theme)
    return [hit for hit in hits if (hit.dense_score is not None and hit.dense_score >= minimum)
            or (wanted and wanted <= key_words(hit.passage.text))]


def similarity(raw: str) -> float:
    value = round(float(raw), 2)
    if not 0 <= value <= 1:
        raise ValueError(raw)
    return value


searcher = core.open_searcher()
core.init_from_url("theme", "")
core.init_from_url("min", DEFAULT_SIMILARITY, convert=similarity)
st.title("Compare authorities on a theme")
with st.form("compare", border=False):
    st.text_input("Theme", key="theme", placeholder="e.g. IRO challenge, care leavers' pathway plans, staying put")
    st.form_submit_button("Compare", type="primary", icon=":material/compare_arrows:")
filters = core.current_filters(searcher)
in_scope = core.documents_in_scope(searcher, filters)
authorities = sorted({record.get("authority") for record in in_scope if record.get("authority")})
chosen = "the authorities picked in the sidebar" if filters.authorities else "every authority (pick some in the sidebar)"
st.caption(f"Comparing {len(authorities)} authorities: {chosen}.")
with st.expander("How “relevant” is decided", icon=":material/help:"):
    st.markdown(RELEVANCE)
    st.slider("Similarity bar", 0.0, 1.0, step=0.05, key="min",
              help="Lower shows weaker matches; higher keeps only close ones.")
theme = st.session_state["theme"].strip()
minimum = st.session_state["min"]
core.write_url({"theme": "", "min": DEFAULT_SIMILARITY})
if not theme:
    st.info("Type a theme, such as “IRO challenge” or “care leavers' pathway plans”, to see what each "
            "authority's documents say about it, side by side.")
    st.stop()
if not authorities:
    st.info("No documents match the sidebar filters. Clear some filters to compare.")
    st.stop()

sections = []
later = core.highlight_later(searcher)  # then search without highlighting, and highlight only what is shown
source = core.plain_searcher(searcher) if later else searcher
for authority in authorities:
    hits = core.search(source, theme, CANDIDATES, replace(filters, authorities=(authority,)))
    found = relevant(hits, theme, minimum)[:PER_AUTHORITY]
    if later and found:
        found = searcher.highlight(theme, found)
    documents = [record for record in in_scope if record.get("authority") == authority]
    note = None
    if not found:
        closest = max((hit.dense_score for hit in hits if hit.dense_score is not None), default=None)
        note = (f"Nothing relevant: none of {authority}'s {len(documents)} document"
                f"{'s' if len(documents) != 1 else ''} in scope has a passage close in meaning to the theme "
                f"(similarity {minimum:.2f} or more) or containing all its key words"
                + (f"; the closest scores {closest:.2f}." if closest is not None else "."))
    sections.append((authority, documents, Section(authority, tuple(found), note)))

core.export_buttons("compare-results", "Inspection report search: Compare", theme, [s for _, _, s in sections],
                    [f"Filters: {core.describe_filters(filters)}",
                     f"Relevant means similarity at least {minimum:.2f} or every key word of the theme present."])
columns = min(COLUMNS, len(sections))
for start in range(0, len(sections), columns):
    for column, (authority, documents, section) in zip(st.columns(columns, border=True),
                                                        sections[start:start + columns]):
        with column:
            dates = [core.format_date(date) or "undated" for date in sorted(r.get("date") or "" for r in documents)]
            st.html(f'<h3 style="margin:0 0 .3rem 0">{core.esc(authority)}</h3>{core.grades_html(searcher, authority)}'
                    f'<p class="meta"><b>Documents in scope:</b> {len(documents)} ({core.esc(", ".join(dates))})</p>')
            if section.note:
                st.html(f'<p class="nothing">{core.esc(section.note)}</p>')
            for hit in section.hits:
                st.html(core.hit_html(hit, hit.highlights))
                st.page_link(core.READER_PAGE, label="Read in context", icon=":material/menu_book:",
                             query_params={"doc": hit.passage.doc_id, "at": hit.passage.passage_id})
