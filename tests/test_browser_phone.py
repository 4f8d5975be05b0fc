"""Issue 17, item 6: the Information flow page on a phone (390 x 844). The grid collapsed into
hairlines (a step 4 px wide at T = 50) with arrows printed over them, and the "Inside cell"
plots, one figure with two axes, overlapped each other and the toolbar. Now the grid keeps the
width its arrows need and scrolls sideways inside its box, and the two cell plots are two
charts in columns, which Streamlit stacks on a narrow screen. The screenshot goes to
assets/page_flow_phone.png."""

from __future__ import annotations

from pathlib import Path

from app.figures.flow import ARROW_STEP_PX, narrow_min_width
from tests import browser_support as bs

ASSET = Path(__file__).resolve().parents[1] / "assets" / "page_flow_phone.png"
WIDTH, HEIGHT = 390, 844

BOXES = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => {
  const r = el.getBoundingClientRect();
  return {x: r.x, y: r.y, w: r.width, h: r.height, plot: el._fullLayout._size.w,
          key: el.closest('[class*="st-key-"]').className.match(/st-key-([\\w-]+)/)[1]};
})"""


def test_the_landing_page_is_readable_on_a_phone(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_ARGS)
        try:
            page = browser.new_page(
                viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=2
            )
            page.goto(
                f"{app_url.rstrip('/')}/flow"
            )  # the defaults: L = 4, T = 50 (/ is the Lesson)
            bs.wait_idle(page)
            page.wait_for_selector(".st-key-cell_vectors_g .js-plotly-plot", timeout=60_000)
            page.wait_for_timeout(1000)  # plotly's resize to the box
            charts = {b["key"]: b for b in page.evaluate(BOXES)}
            grid, h, g = charts["flow_chart"], charts["cell_vectors"], charts["cell_vectors_g"]
            # the grid: wide enough for its arrows, scrolled sideways inside its own box
            assert grid["w"] >= narrow_min_width(4, 50), grid
            assert grid["plot"] / 50 >= ARROW_STEP_PX - 1, "a step wide enough for its arrows"
            box = page.locator(".st-key-flow_grid_box")
            scroll = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
            assert scroll[0] > scroll[1] and scroll[1] <= WIDTH, scroll
            page_width = page.evaluate("() => document.documentElement.scrollWidth")
            assert page_width <= WIDTH, "only the grid's box scrolls, not the page"
            # the cell plots: stacked, each within the screen, no overlap with anything
            assert h["y"] + h["h"] <= g["y"], "G below H"
            for chart in (h, g):
                assert chart["x"] >= 0 and chart["x"] + chart["w"] <= WIDTH, chart
            for a in charts.values():
                for b in charts.values():
                    if a is not b:
                        apart_y = a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]
                        assert apart_y, (a["key"], b["key"])
            assert page.locator('[data-testid="stException"]').count() == 0
            # the screenshot: the page from its title to the cell plots, as a phone shows it
            tall = page.evaluate(
                "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
            )
            page.set_viewport_size({"width": WIDTH, "height": tall})
            page.wait_for_timeout(1000)
            end = page.evaluate(BOXES)[-1]
            page.screenshot(path=str(ASSET), clip={"x": 0, "y": 0, "width": WIDTH,
                                                   "height": end["y"] + end["h"] + 20})  # fmt: skip
        finally:
            browser.close()
