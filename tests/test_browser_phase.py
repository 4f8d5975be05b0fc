"""The Phase diagram in a real browser: a click on the gain plane sets the sidebar's gains and
the gaussian scheme, and the star moves there. Skips without Chromium (fails with CI=true)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

from tests import browser_support as bs

ARTIFACTS = Path(__file__).parent / "artifacts"
# the pixel of (sigma_h, sigma_x) on the first panel, from plotly's own axis transforms
TO_PIXEL = """([x, y]) => {
    const el = document.querySelectorAll('.js-plotly-plot')[0];
    const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis, r = el.getBoundingClientRect();
    return [r.left + xa._offset + xa.l2p(x), r.top + ya._offset + ya.l2p(y)];
}"""
STAR = """() => {
    const el = document.querySelectorAll('.js-plotly-plot')[0];
    const star = el._fullData.find(t => t.meta === 'current time');
    return [star.x[0], star.y[0]];
}"""


def test_click_on_the_phase_diagram_applies_the_gains():
    bs.require_chromium()
    from playwright.sync_api import sync_playwright

    query = "L=2&T=10&h=16&psweep=0&init=torch"
    with bs.streamlit_server() as (url, _), sync_playwright() as p, bs.chromium(p) as page:
        page.goto(f"{url}/phase?{query}")
        bs.wait_idle(page)
        page.wait_for_selector(".js-plotly-plot", timeout=60_000)
        x, y = page.evaluate(TO_PIXEL, [2.1, 0.45])  # a clickable point of the 0.15 grid
        before = bs.chart_signature(page)
        page.mouse.click(x, y)
        bs.wait_redrawn(page, before)
        settings = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
        assert (settings["grec"], settings["gin"], settings["init"]) == ("2.1", "0.45", "gaussian")
        assert page.evaluate(STAR) == [2.1, 0.45], "the star marks the new setting"
        assert page.locator('[data-testid="stException"]').count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "phase_after_click.png"), full_page=True)
