"""The depth scrub in a real browser: dragging the plot's depth slider changes the frame inside
plotly.js, with no Streamlit rerun and no message to the server. Saves screenshots of the
scrub at a small and at the largest depth under tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.browser_scrub import drag_through_depth
from tests import browser_support as bs

ARTIFACTS = Path(__file__).parent / "artifacts"
DEPTH_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
  .find(el => el._transitionData && el._transitionData._frames.length > 0)
  ._fullData.find(tr => tr.name === 'O_t').y[0]"""


@pytest.mark.parametrize("query", ["?L=8&T=30&scrub=1", "?L=32&T=200&scrub=1"])
def test_dragging_the_depth_slider_redraws_without_a_rerun(app_url, query):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, bs.chromium(p) as page:
        page.goto(app_url + "/" + query)
        bs.wait_idle(page)
        page.wait_for_selector(".slider-rail-touch-rect", timeout=60_000)
        depth = int(query.split("&")[0].removeprefix("?L="))
        assert page.evaluate(DEPTH_JS) == depth + 1, "the scrub opens at the sidebar's depth"
        result = drag_through_depth(page, moves=3)
        assert result["frames"] == depth
        assert len(result["times"]) == result["expected"] == 2, "each move drew a new frame"
        final = depth - 4  # moves go two steps down each
        assert result["active"] == str(final)
        assert page.evaluate(DEPTH_JS) == final + 1, "O_t now sits on the new top layer"
        assert result["runs"] == 0, "no Streamlit script ran during the drag"
        assert result["sent"] == 0, "the browser sent nothing to the server"
        assert not page.locator('[data-testid="stException"]').count()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"scrub_L{depth}.png"), full_page=True)
