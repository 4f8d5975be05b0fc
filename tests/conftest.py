"""Fixtures shared by the real-browser tests."""

import pytest

from tests import browser_support as bs


@pytest.fixture(scope="module")
def app_url():
    """The app served by its own Streamlit process for one test module."""
    bs.require_chromium()
    with bs.streamlit_server() as (url, _):
        yield url


@pytest.fixture
def tiny_studies(tmp_path, monkeypatch):
    """Studies run in-process (no Dask) into a temporary database, with no job of another
    test around (app.runs.studies)."""
    from app.runs import studies
    from deeprnn_core.study import IN_PROCESS

    monkeypatch.setattr(studies, "SCHEDULER", IN_PROCESS)
    monkeypatch.setattr(studies, "STORAGE", str(tmp_path / "studies.db"))
    monkeypatch.setattr(studies, "_JOBS", {})
    monkeypatch.setattr(studies, "_STORED", type(studies._STORED)())
    monkeypatch.setattr(studies, "_FORGOTTEN", {})
    yield studies
