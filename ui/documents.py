"""Documents: the corpus at a glance, a reader passage by passage, and the state of the index."""

from datetime import datetime

import streamlit as st

from indexer.export import documents_csv, passages_markdown, safe_cell
from indexer.passages import JUDGEMENT_AREAS, format_date
from ui import core


def grades_text(record: dict) -> str:
    grades = record.get("grades") or {}
    return "; ".join(f"{area}: {grades[area]}" for area in JUDGEMENT_AREAS if area in grades)


def built_at(manifest: dict) -> str:
    """'23 Nov 2026 at 11:02 (+0000)' from the manifest's ISO time stamp."""
    raw = manifest.get("built_at") or ""
    try:
        when = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return raw or "at an unknown time"
    return f"{when.day} {when:%b %Y} at {when:%H:%M} ({when:%z})"


def forget_passage() -> None:
    st.session_state["at"] = ""


searcher = core.open_searcher()
index = searcher.index
st.title("Documents")

manifest = index.manifest
reasons = core.stale_reasons_for(searcher)
status = f"**out of date** ({len(reasons)} change{'s' if len(reasons) != 1 else ''})" if reasons else "**up to date**"
st.markdown(f"Index built on **{core.md(built_at(manifest))}** with **{core.md(manifest.get('model'))}** "
            f"({manifest.get('dimensions')} dimensions): {manifest.get('documents')} documents, "
            f"{manifest.get('passages')} passages. It is {status} with its corpus folders.")
if reasons:
    with st.expander("What changed, and how to rebuild", icon=":material/warning:"):
        st.markdown("\n".join(f"- {core.md(reason)}" for reason in reasons))
        st.code(core.build_command(searcher.settings, manifest.get("corpus")), language="bash")
if manifest.get("skipped"):
    with st.expander(f"{len(manifest['skipped'])} files were not indexed"):
        st.dataframe([{"file": safe_cell(item["path"]), "reason": safe_cell(item["reason"])}
                      for item in manifest["skipped"]],
                     hide_index=True)

filters = core.current_filters(searcher)
records = core.documents_in_scope(searcher, filters)
# Streamlit's own table toolbar exports these cells as CSV too: each is made safe for a spreadsheet, like
# the project's export (a cell that starts with = + - or @ gets a quote mark and is never run as a formula).
rows = [{"Authority": safe_cell(record.get("authority")), "Type": record["doc_type"], "Date": record.get("date") or "",
         "Overall effectiveness": (record.get("grades") or {}).get("overall effectiveness", ""),
         "Passages": record.get("passages"), "Title": safe_cell(record["title"]), "Grades": grades_text(record)}
        for record in records]
st.subheader(f"{len(records)} of {len(index.documents)} documents", anchor=False)
st.caption("The sidebar filters apply here too.")
st.dataframe(rows, hide_index=True, width="stretch", column_config={
    "Title": st.column_config.TextColumn(width="large"), "Grades": st.column_config.TextColumn(width="large")})
st.download_button("Download the list (CSV)", documents_csv(records).encode("utf-8-sig"), file_name="documents.csv",
                   mime="text/csv", on_click="ignore", icon=":material/download:")

st.subheader("Reader", anchor=False)
choices = [record["doc_id"] for record in records] or list(index.documents)
titles = {doc_id: f"{record.get('authority') or '—'} · {format_date(record.get('date')) or 'undated'} · "
                  f"{record['title']}" for doc_id, record in index.documents.items()}
if "doc" not in st.session_state:  # arriving on the page: a link from a hit names the document and passage
    st.session_state["at"] = st.query_params.get("at", "")
core.init_from_url("doc", choices[0], choices)
if st.session_state["doc"] not in choices:
    st.session_state["doc"] = choices[0]
doc_id = st.selectbox("Document", choices, key="doc", format_func=titles.get, on_change=forget_passage)
core.write_url({"doc": "", "at": ""})
record = index.documents[doc_id]
passages = index.document_passages(doc_id)
at = st.session_state.get("at") or ""
st.download_button("Download this document (Markdown, with paragraph and page citations)",
                   passages_markdown(record["title"], passages).encode("utf-8"), file_name=f"{doc_id}.md",
                   mime="text/markdown", on_click="ignore", icon=":material/download:")
opened = next((passage for passage in passages if passage.passage_id == at), None)
if opened:
    st.info(f"The passage you opened is {core.md(core.locator(opened))}; it is marked ▶ below.")

parts, section = [f'<p class="meta">{core.esc(record.get("source") or "")} · {core.esc(record["doc_type"])} · '
                  f'{core.esc(format_date(record.get("date")) or "undated")} · {len(passages)} passages'
                  f'{" · grades: " + core.esc(grades_text(record)) if grades_text(record) else ""}</p>'], None
for passage in passages:
    if passage.section and passage.section != section:
        section = passage.section
        parts.append(f"<h4>{core.esc(section)}</h4>")
    current = passage.passage_id == at
    label = '<span class="this">▶ The passage you opened · </span>' if current else ""
    parts.append(f'<div class="para{" current" if current else ""}" id="{core.esc(passage.passage_id)}">'
                 f'<p class="loc">{label}{core.esc(core.locator(passage))}</p>'
                 f'<div class="passage">{core.esc(passage.text)}</div></div>')
with st.container(height=640, border=True):
    st.html(f'<div class="doc-reader">{"".join(parts)}</div>')
