"""Browser bench: does a running study block other sessions? (issue 20: "ten sessions browsing
other pages while a study runs keep their redraw time").

One app server and the floor app (bench/floor_app.py) run side by side. SESSIONS browser pages
open the app's Gradient flow page; each round moves the sidebar slider T once on every session,
each app move followed by one move on the floor page (interleaved, as bench/browser.py does).
The median app / floor redraw ratio is measured twice in one run:
- quiet: no study anywhere;
- study running: another session has pressed **Run study** on the Tuning map (its defaults:
  90 trials when measured, 126 since the default moved to the character task; on the embedded
  Dask LocalCluster, whose worker processes share this machine's cores with the server and
  Chromium), checked to be still running when the moves end.
The study writes into a fresh SQLite file (``$DEEPRNN_STUDY_STORAGE``), so it always runs.
Not a test: speed is printed, never asserted.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.browser import FLOOR, PATHS, move_once, open_page  # noqa: E402
from tests import browser_support as bs  # noqa: E402

SESSIONS = int(os.environ.get("DEEPRNN_BENCH_SESSIONS", "10"))
ROUNDS = 3  # moves per session in each phase


def moves(pages, floor, received) -> tuple[list[float], list[float]]:
    """ROUNDS x SESSIONS app moves, each followed by a floor move: their redraw seconds."""
    app, ref = [], []
    for _ in range(ROUNDS):
        for page in pages:
            app.append(move_once(page, received, "steps")[0])
            ref.append(move_once(floor, received, "steps")[0])
    return app, ref


def report(label: str, app: list[float], ref: list[float]) -> float:
    a, f = float(np.median(app)), float(np.median(ref))
    print(f"   {label:15} app median {a:.3f} s (max {max(app):.3f}, {len(app)} moves over "
          f"{SESSIONS} sessions), floor median {f:.3f} s ({len(ref)} moves): ratio "
          f"{a / f:.2f}")  # fmt: skip
    return a / f


def start_study(browser, app_url: str):
    """A session that presses Run study on the Tuning map (its defaults); the page, left open."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/tuning")
    bs.wait_idle(page)
    page.get_by_role("button", name="Run study").click()
    page.wait_for_selector('[data-testid="stProgress"]', timeout=60_000)
    return page


def running(page) -> str:
    """The progress text of the study's page ("" when it no longer shows progress)."""
    bar = page.locator('[data-testid="stProgress"]')
    return bar.first.inner_text() if bar.count() else ""


def main() -> None:
    from playwright.sync_api import sync_playwright

    missing = bs.chromium_missing()
    if missing:
        print(f"== study sessions: skipped, {missing}")
        return
    print(f"== browser: {SESSIONS} sessions moving a slider on Gradient flow, with and without a "
          f"study running on the Tuning map (Chromium via Playwright; medians, ratio to the "
          f"floor app)")  # fmt: skip
    db = Path(tempfile.mkdtemp()) / "bench_study.db"
    os.environ["DEEPRNN_STUDY_STORAGE"] = f"sqlite:///{db}"
    with (
        sync_playwright() as p,
        bs.streamlit_server() as (app_url, _),
        bs.streamlit_server(script=FLOOR) as (floor_url, _),
    ):
        browser = p.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_ARGS)
        try:
            received: list = []
            floor = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_page(floor, floor_url + PATHS["floor"])
            pages = []
            for _ in range(SESSIONS):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                open_page(page, app_url + PATHS["app"])
                pages.append(page)
            moves(pages[:1], floor, received)  # warm both servers' caches of the code paths
            quiet = report("quiet:", *moves(pages, floor, received))
            study = start_study(browser, app_url)
            time.sleep(2.0)
            before = running(study)
            busy = report("study running:", *moves(pages, floor, received))
            after = running(study)
            print(f"   the study's progress when the moves began: {before!r}; when they ended: "
                  f"{after!r}")  # fmt: skip
            if not after:
                print("   (the study finished before the moves ended: part of them ran quiet)")
            print(f"   study running / quiet: {busy / quiet:.2f} (ratios to the floor, measured "
                  f"in the same run)")  # fmt: skip
            study.get_by_role("button", name="Cancel").click()
        finally:
            browser.close()


if __name__ == "__main__":
    main()
