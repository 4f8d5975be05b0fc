"""The app in a real browser: Streamlit server + Debian's Chromium driven by Playwright.

Moves the depth and sequence-length sliders from the keyboard, waits for each rerun to finish,
checks that the charts changed and no exception is shown, and saves screenshots under
tests/artifacts/. Where Chromium is missing the test says how to install it; with CI=true it
fails instead of skipping.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import browser_support as bs

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, bs.chromium(p) as page:
        page.goto(f"{app_url}/flow")  # "/" opens the Lesson
        bs.wait_idle(page)
        page.wait_for_selector(".js-plotly-plot", timeout=60_000)
        yield page


def slider_value(page, key: str) -> str:
    return page.locator(f".st-key-{key} input[type=range]").first.get_attribute("value")


def test_sliders_redraw_the_charts(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "flow_default.png"), full_page=True)
    before = bs.chart_signature(page)
    assert before and "" not in before.split("|"), "every chart on the landing page has data"
    depth = slider_value(page, "num_layers")
    bs.press_slider(page, "num_layers", times=2)
    after_depth, _ = bs.wait_redrawn(page, before)
    assert slider_value(page, "num_layers") == str(int(depth) + 2)
    steps = slider_value(page, "steps")
    bs.press_slider(page, "steps", times=5)
    after_steps, _ = bs.wait_redrawn(page, after_depth)
    assert slider_value(page, "steps") == str(int(steps) + 5)
    assert len({before, after_depth, after_steps}) == 3, "each slider move changed the charts"
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(ARTIFACTS / "flow_moved.png"), full_page=True)
    # the URL carries the new settings, so a copied link reproduces this picture
    url = page.evaluate("() => location.href")  # page.url misses history.replaceState
    assert f"L={int(depth) + 2}" in url and f"T={int(steps) + 5}" in url


def test_ab_page_presets_redraw_both_sides(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.get_by_role("link", name="A/B compare").click()
    page.wait_for_selector('h1:has-text("A/B compare")', timeout=60_000)
    bs.wait_idle(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 5")
    before, _ = bs.wait_redrawn(page, "")  # the A/B page's charts, fully drawn
    body = page.inner_text("body")
    assert "A: LSTM" in body and "B: your settings (tanh RNN)" in body
    page.set_viewport_size({"width": 1400, "height": 3000})
    page.screenshot(path=str(ARTIFACTS / "ab_lstm_vs_rnn.png"))
    for preset in ("residual on", "orthogonal init", "GRU"):
        page.locator(f".st-key-preset_{preset.replace(' ', '_').lower()} button").click()
        before, _ = bs.wait_redrawn(page, before)
        assert page.locator('[data-testid="stException"]').count() == 0, preset
        slug = preset.split()[0].lower()
        page.screenshot(path=str(ARTIFACTS / f"ab_{slug}.png"))
    assert "A: GRU" in page.inner_text("body")
    url = page.evaluate("() => location.href")
    assert "/ab?" in url and "Acell=gru" in url, "the preset is in the address bar"
