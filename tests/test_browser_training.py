"""The Training page in a real browser (Streamlit server + Debian's Chromium via Playwright):
press Train at the default settings, see the progress bar and the live loss chart while it
trains, then every figure with data, and scrub the |G| grid over the snapshots in the browser
(plotly frames: no rerun). Screenshots go to tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

from tests import browser_support as bs

ARTIFACTS = Path(__file__).parent / "artifacts"
FRAMES_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el =>
  (el._transitionData && el._transitionData._frames || []).length)"""


def test_train_shows_progress_then_every_chart_and_scrubs_in_the_browser(app_url):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p, bs.chromium(p, height=1100) as page:
        page.goto(f"{app_url}/training")
        bs.wait_idle(page)
        page.get_by_text("Press Train").first.wait_for(timeout=60_000)
        assert page.locator(".js-plotly-plot").count() == 0, "nothing trains before Train"
        page.locator(".st-key-train button").click()
        page.wait_for_selector('[data-testid="stProgress"]', timeout=60_000)
        page.wait_for_selector(".js-plotly-plot", timeout=60_000)  # the live loss chart
        live = bs.chart_signature(page)
        assert live and "" not in live.split("|"), "the live chart has data while training"
        page.screenshot(path=str(ARTIFACTS / "training_live.png"))
        bs.wait_idle(page, timeout_ms=180_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stProgress"]').count() == 0, "the bar is removed"
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length === 7")
        done = bs.chart_signature(page)
        assert all(done.split("|")), "every chart has data"
        frames = page.evaluate(FRAMES_JS)
        assert max(frames) >= 20, f"the |G| scrub carries one frame per snapshot: {frames}"
        page.set_viewport_size({"width": 1400, "height": 6200})  # the app scrolls inside
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "training_done.png"))
        scrub = page.locator(".js-plotly-plot").nth(frames.index(max(frames)))
        scrub.scroll_into_view_if_needed()
        before = scrub.evaluate("el => JSON.stringify(el._fullData[0].z[0].slice(0, 5))")
        scrub.locator(".slider-rail-touch-rect").first.click(position={"x": 2, "y": 20})
        page.wait_for_timeout(500)
        after = scrub.evaluate("el => JSON.stringify(el._fullData[0].z[0].slice(0, 5))")
        assert after != before, "the slider shows another snapshot"
        assert page.locator(bs.IDLE).count() == 1, "scrubbing ran no rerun"
