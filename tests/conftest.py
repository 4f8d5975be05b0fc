"""Fixtures shared by the real-browser tests."""

import pytest

from tests import browser_support as bs


@pytest.fixture(scope="module")
def app_url():
    """The app served by its own Streamlit process for one test module."""
    bs.require_chromium()
    with bs.streamlit_server() as (url, _):
        yield url
