"""Browser benchmark of the depth scrub: a frame change inside plotly.js, no server call.

Opens the Information flow page in scrub mode at L_max = 32, T = 200, drags the plot's depth
slider from step to step with the mouse, and times each change in the page itself: from
plotly's ``plotly_sliderchange`` (emitted inside the mouse event) to ``plotly_animated`` (the
new frame drawn). It also counts Streamlit script runs and websocket messages the browser sent
during the drag: both must be 0. Also used by tests/test_browser_scrub.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import browser_support as bs  # noqa: E402

QUERY = "?L=32&T=200&scrub=1"
MOVES = 15
# Listeners on the scrub chart (the plot holding frames) and a count of script runs.
INSTALL_JS = """() => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
    .find(el => el._transitionData && el._transitionData._frames.length > 0);
  if (!gd) return 0;
  window.scrub = {times: [], start: null, runs: 0, active: null};
  gd.on('plotly_sliderchange', e => { window.scrub.start = performance.now();
                                      window.scrub.active = e.step.label; });
  gd.on('plotly_animated', () => { if (window.scrub.start !== null) {
    window.scrub.times.push(performance.now() - window.scrub.start); window.scrub.start = null; }});
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.scrub.runs++;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  return gd._transitionData._frames.length;
}"""
# Page x of every slider step and the rail's y (plotly's slider: steps spread over the rail
# minus a 10 px inset at each end), to drag the grip from step to step.
STEPS_JS = """() => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
    .find(el => el._transitionData && el._transitionData._frames.length > 0);
  const rail = gd.querySelector('.slider-rail-touch-rect').getBoundingClientRect();
  const n = gd.layout.sliders[0].steps.length;
  const xs = Array.from({length: n}, (_, i) => rail.x + 10 + (rail.width - 20) * i / (n - 1));
  return {y: rail.y + rail.height / 2, xs: xs};
}"""


def drag_through_depth(page, moves: int = MOVES) -> dict:
    """Drag the scrub slider to ``moves`` other depths; returns the frame-change times (ms),
    the Streamlit script runs and websocket messages sent during the drag, and the depth
    the slider shows at the end."""
    sent: list[int] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(1)))
    frames = page.evaluate(INSTALL_JS)
    if not frames:
        raise RuntimeError("no chart with frames on the page")
    page.locator(".slider-rail-touch-rect").first.scroll_into_view_if_needed()
    where = page.evaluate(STEPS_JS)
    xs, y = where["xs"], where["y"]
    order = [len(xs) - 1 - 2 * i for i in range(moves) if len(xs) - 1 - 2 * i >= 0]
    sent.clear()
    page.mouse.move(xs[-1], y)
    page.mouse.down()
    for index in order[1:]:
        page.mouse.move(xs[index], y)
        page.wait_for_function("() => window.scrub.start === null", timeout=10_000)
        page.wait_for_timeout(30)
    page.mouse.up()
    page.wait_for_timeout(500)  # a rerun, if any, would start within this
    result = page.evaluate("() => window.scrub")
    return dict(times=result["times"], runs=result["runs"], sent=len(sent),
                active=result["active"], frames=frames, expected=len(order) - 1)  # fmt: skip


def main() -> None:
    from playwright.sync_api import sync_playwright

    missing = bs.chromium_missing()
    if missing:
        print(f"== browser scrub: skipped, {missing}")
        return
    print("== browser scrub: Information flow, scrub depth, L_max = 32, T = 200 (Chromium)")
    with sync_playwright() as p, bs.streamlit_server() as (url, _), bs.chromium(p) as page:
        page.goto(url + "/" + QUERY)
        bs.wait_idle(page)
        page.wait_for_selector(".slider-rail-touch-rect", timeout=60_000)
        r = drag_through_depth(page)
        times = np.array(r["times"])
        print(
            f"   frame change (slider input -> plotly_animated): median {np.median(times):.1f} "
            f"ms (min {times.min():.1f}, max {times.max():.1f}, {len(times)} changes; target "
            f"<= 100 ms); script runs during the drag: {r['runs']}; websocket messages "
            f"sent: {r['sent']}"
        )


if __name__ == "__main__":
    main()
