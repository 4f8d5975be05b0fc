"""The settings: the one controls table and its URL codec, session state, the sidebar, uploads."""
