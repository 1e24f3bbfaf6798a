"""Streamlit front end: Ask, Compare, Precedent and Documents over the built index (thin; renders what `indexer` returns).

Run with `make run`, or `streamlit run app.py`; INDEXER_INDEX chooses the index folder. The pages live in ui/.
"""

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # `streamlit run` adds it; AppTest and other runners may not
    sys.path.insert(0, str(ROOT))

from ui import core  # noqa: E402

# The icon is a file of our own: a ":material/…:" page icon is fetched from fonts.gstatic.com, and the tool is offline.
st.set_page_config(page_title="Inspection report search", page_icon=str(ROOT / "ui" / "icon.png"), layout="wide")
navigation = st.navigation([
    st.Page("ui/ask.py", title="Ask", icon=":material/question_answer:", default=True),
    st.Page("ui/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("ui/precedent.py", title="Precedent", icon=":material/gavel:", url_path="precedent"),
    st.Page("ui/authority.py", title="Authority", icon=":material/account_balance:", url_path="authority"),
    st.Page("ui/documents.py", title="Documents", icon=":material/library_books:", url_path="documents"),
], position="top")
st.html(core.CSS)
searcher = core.open_searcher()  # says how to build the index and stops when there is none
with core.service_errors():  # a Milvus server that stops answering is said in words, not a traceback
    core.sidebar_filters(searcher)
    core.show_stale_warning(searcher)
    navigation.run()
