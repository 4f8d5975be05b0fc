"""Streamlit pieces that several pages share: the page frame, rows and sections."""
