"""Browser benchmarks: the app served by Streamlit, driven in Debian's Chromium.

- first page complete: from starting the server to the landing page's charts drawn;
- slider move -> every chart redrawn with new data, median of several moves, each to a
  setting not seen before (no cache hits), at the defaults and at L=16, T=200, h=128;
- the websocket bytes the browser receives for one such rerun.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import browser_support as bs  # noqa: E402

MOVES = 7


def measure_moves(page, received: list, slider: str, moves: int):
    """Seconds and websocket bytes of each ArrowRight on ``slider`` until the charts change;
    ``received`` collects the sizes of the frames the page's websocket receives."""
    times, sizes = [], []
    for _ in range(moves):
        before = bs.chart_signature(page)
        received.clear()
        start = time.perf_counter()
        bs.press_slider(page, slider)
        _, drawn_at = bs.wait_redrawn(page, before)
        times.append(drawn_at - start)
        page.wait_for_timeout(300)  # let trailing frames of this rerun arrive
        sizes.append(sum(received))
    return times, sizes


def open_app(page, url: str) -> None:
    page.goto(url)
    bs.wait_idle(page)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)


def main() -> None:
    from playwright.sync_api import sync_playwright

    missing = bs.chromium_missing()
    if missing:
        print(f"== browser: skipped, {missing}")
        return
    print("== browser: Streamlit + headless Chromium (Playwright), landing page")
    with sync_playwright() as p:
        start = time.perf_counter()
        with bs.streamlit_server() as (url, healthy), bs.chromium(p) as page:
            received: list[int] = []
            page.on(
                "websocket",
                lambda ws: ws.on("framereceived", lambda frame: received.append(len(frame))),
            )
            open_app(page, url)
            first = time.perf_counter() - start
            print(f"   server healthy after {healthy:.2f} s; first page complete {first:.2f} s")
            print("   (target: first page complete <= 6 s after the server starts)")
            for label, query in (("defaults", ""), ("L=16, T=200, h=128", "?L=16&T=200&h=128")):
                open_app(page, url + "/" + query)
                times, sizes = measure_moves(page, received, "steps", MOVES)
                target = "0.5" if label == "defaults" else "1.5"
                print(
                    f"   {label:20} slider move -> all charts redrawn: median "
                    f"{np.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}, "
                    f"{MOVES} moves; target <= {target} s); websocket per rerun: median "
                    f"{np.median(sizes) / 1e6:.2f} MB (max {max(sizes) / 1e6:.2f})"
                )


if __name__ == "__main__":
    main()
