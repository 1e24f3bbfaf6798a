"""The Streamlit pages of app.py and the few helpers they share (ui/core.py)."""
