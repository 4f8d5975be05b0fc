"""Words: pure functions from numbers to sentences (no Streamlit)."""
