"""Browser benchmarks: the app against a floor app, served and driven side by side in one run.

The floor (bench/floor_app.py) is plain Streamlit: a sidebar with two sliders and three plotly
charts of the landing page's sizes. Absolute browser times differ ~2x between days on this
shared machine, so the result is the ratio app / floor, with moves of the two interleaved:
- first page complete: a fresh session (new browser page) from navigation to every chart
  drawn and the script idle, median of several loads of each;
- slider move -> every chart redrawn with new data and the script idle, median of MOVES moves,
  each to a setting not seen before (no cache hits), at the defaults and at L=16, T=200, h=128;
- the websocket bytes the browser receives for one such rerun (the app's).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.words.lesson_steps import STEPS  # noqa: E402
from tests import browser_support as bs  # noqa: E402

MOVES = 12  # as the outside measurement of issue 17: the sidebar slider T moved 12 times
LOADS = 5
LESSON_LOADS = 3  # fresh loads of each Lesson step (and of the floor), interleaved
PATHS = {"app": "/flow", "floor": "/"}  # "/" opens the Lesson: the lab pages are timed at /flow
FLOOR = Path(__file__).resolve().parent / "floor_app.py"
SETTINGS = (("defaults", "", 1.5), ("L=16, T=200, h=128", "?L=16&T=200&h=128", 3.0))


def move_once(page, received: list, slider: str) -> tuple[float, int]:
    """Seconds until every chart shows new data after one ArrowRight on ``slider``, and the
    websocket bytes received meanwhile."""
    before = bs.chart_signature(page)
    received.clear()
    start = time.perf_counter()
    bs.press_slider(page, slider)
    _, drawn_at = bs.wait_redrawn(page, before)
    page.wait_for_timeout(300)  # let trailing frames of this rerun arrive
    return drawn_at - start, sum(received)


def open_page(page, url: str) -> float:
    """Seconds from navigation to every chart drawn and the script idle."""
    start = time.perf_counter()
    page.goto(url)
    bs.wait_idle(page)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    _, drawn_at = bs.wait_redrawn(page, "")
    return drawn_at - start


def recorded_page(browser, received: list):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: received.append(len(f))))
    return page


def compare(browser, app_url: str, floor_url: str) -> None:
    """Print the app / floor ratios of first page and slider moves, interleaved."""
    loads = {"app": [], "floor": []}
    for _ in range(LOADS):
        for name, url in (("app", app_url), ("floor", floor_url)):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            loads[name].append(open_page(page, url + PATHS[name]))
            page.close()
    app, floor = np.median(loads["app"]), np.median(loads["floor"])
    print(f"   first page complete (fresh session, median of {LOADS}): app {app:.2f} s, floor "
          f"{floor:.2f} s, ratio {app / floor:.2f} (target <= 1.3)")  # fmt: skip
    for label, query, target in SETTINGS:
        received: dict[str, list] = {"app": [], "floor": []}
        pages = {name: recorded_page(browser, received[name]) for name in received}
        for name, url in (("app", app_url), ("floor", floor_url)):
            open_page(pages[name], url + PATHS[name] + query)
        times: dict[str, list] = {"app": [], "floor": []}
        sizes = []
        for _ in range(MOVES):
            for name in ("app", "floor"):
                seconds, size = move_once(pages[name], received[name], "steps")
                times[name].append(seconds)
                if name == "app":
                    sizes.append(size)
        app, floor = np.median(times["app"]), np.median(times["floor"])
        print(f"   {label:20} slider move -> all charts redrawn: app median {app:.3f} s "
              f"(min {min(times['app']):.3f}, max {max(times['app']):.3f}), floor median "
              f"{floor:.3f} s, ratio {app / floor:.2f} (target <= {target:g}; {MOVES} moves "
              f"each, interleaved); app websocket per rerun: median "
              f"{np.median(sizes) / 1e6:.2f} MB")  # fmt: skip
        for page in pages.values():
            page.close()


def lesson_compare(browser, app_url: str, floor_url: str, steps: int) -> None:
    """Print, per Lesson step, a fresh session's time to the step complete against the floor's
    first page, interleaved (the issue's target: <= 1.5)."""
    ratios = []
    for number in range(1, steps + 1):
        loads = {"app": [], "floor": []}
        for _ in range(LESSON_LOADS):
            for name, url in (("app", f"{app_url}/lesson?step={number}"), ("floor", floor_url)):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                loads[name].append(open_page(page, url))
                page.close()
        app, floor = np.median(loads["app"]), np.median(loads["floor"])
        ratios.append(app / floor)
        print(
            f"   Lesson step {number:2}: app {app:.2f} s, floor {floor:.2f} s, ratio "
            f"{app / floor:.2f} (target <= 1.5; median of {LESSON_LOADS} fresh loads each)"
        )
    print(f"   Lesson steps: ratio median {np.median(ratios):.2f}, max {max(ratios):.2f}")


def main() -> None:
    from playwright.sync_api import sync_playwright

    missing = bs.chromium_missing()
    if missing:
        print(f"== browser: skipped, {missing}")
        return
    print("== browser: the app vs a floor app (plain Streamlit, 2 sliders, 3 plotly charts), "
          "Chromium via Playwright; one shared, noisy machine: medians and ratios")  # fmt: skip
    with sync_playwright() as p:
        start = time.perf_counter()
        with (
            bs.streamlit_server() as (app_url, healthy),
            bs.streamlit_server(script=FLOOR) as (floor_url, _),
        ):
            browser = p.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                open_page(page, app_url)
                first = time.perf_counter() - start
                page.close()
                print(f"   app server healthy after {healthy:.2f} s; its first page complete "
                      f"{first:.2f} s after the servers started (cold start)")  # fmt: skip
                compare(browser, app_url, floor_url)
                lesson_compare(browser, app_url, floor_url, len(STEPS))
            finally:
                browser.close()


if __name__ == "__main__":
    main()
