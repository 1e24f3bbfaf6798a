"""Streamlit front end: ask a question, get cited passages (thin; renders what `indexer` returns)."""

import streamlit as st

from indexer.errors import IndexerError
from indexer.settings import Settings

st.set_page_config(page_title="Children's social care inspection search", layout="wide")


@st.cache_resource
def load_searcher():
    """The index and the model, loaded once per process."""
    from indexer.embedding import load_embedder
    from indexer.search import Searcher
    from indexer.store import load_index

    settings = Settings.from_env()
    return Searcher(load_index(settings.index, settings), load_embedder(settings), settings)


st.title("Children's social care inspection search")
try:
    searcher = load_searcher()
except IndexerError as error:
    st.error(f"{error}")
    st.info("Build the index with `make index` (or `python -m indexer build`), then reload this page.")
    st.stop()

query = st.text_input("Question", placeholder="What was said about care leavers' pathway plans?")
if not query:
    st.info("Type a question to find the passages that answer it, with citations.")
    st.stop()
for hit in searcher.search(query, k=10):
    st.markdown(f"**{hit.rank}.** ", help=None)
    st.text(hit.passage.citation)
    st.text(hit.passage.text)
