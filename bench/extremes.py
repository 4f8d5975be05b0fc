"""Every page at the legal extremes: the seconds the page says its work takes, against the time
its script run took (issue 11: "renders within 1.5x of the time its notice promises").

Each case opens the app in Streamlit's AppTest (in this process, so the promise is made with the
speed factor that this process's own traces taught runs.budget), draws the page at tiny settings,
then sets the extreme settings with a fresh seed (a cold cache) and times the rerun. The promise
is read from the page as a user reads it: the sum of every "about X s here" it shows (the trace
in the header's caption, and each extra piece of work a page states: the theory's seeds, the
depth sweep, the timing runs, the depth scrub, the measured phase sweep) or, for Training, the
"about X s estimated" of its button. The time is the script run only: the browser's drawing is
left out (bench/soak.py times the pages in Chromium). Each case runs REPEATS times (medians).

Run alone: ``python bench/extremes.py`` (BENCH_EXTREMES_REPEATS, default 3; BENCH_EXTREMES_ONLY:
comma list of case names to run).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.runs import budget
from app.settings import controls  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")
TINY = {"L": "1", "T": "2", "h": "2"}
REPEATS = int(os.environ.get("BENCH_EXTREMES_REPEATS", "3"))
MAX = "L=32&T=500&h=256&B=8"
SETTINGS = {  # name: URL query at a corner of the sliders
    "LSTM f64": f"{MAX}&cell=lstm",
    "GRU f32": f"{MAX}&cell=gru&dtype=float32",
    "relu f64": f"{MAX}&act=relu&grec=2",
    "orthogonal": "L=32&T=500&h=256&B=1&init=orthogonal",
    "tanh f64": MAX,
}
PAGES = {  # name: (page file, extra query of its own controls at their extremes)
    "flow": ("views/information_flow.py", ""),
    "flow+scrub": ("views/information_flow.py", "&scrub=1"),
    "hidden": ("views/hidden_states.py", "&show=1,8,16,24,30,32"),
    "gradients": ("views/gradient_flow.py", "&tseeds=16"),
    "sweep": ("views/depth_sweep.py", "&Lmax=32&S=16"),
    "compare": ("views/plain_vs_deep.py", ""),
    "ab": ("views/ab_compare.py", ""),
    "phase": ("views/phase_diagram.py", "&pseeds=8"),
}
# the scrub runs only where it fits its limit: the largest L at which it still does, too
SCRUB_FITS = {"scrub fits": "L=32&T=100&h=64&B=1&scrub=1"}
TRAINING = {  # Training: one click of Train at the extremes of its sliders
    "train rnn": "L=32&T=500&h=256&n=3000&bs=256",
    "train lstm": "L=32&T=500&h=256&n=3000&bs=256&cell=lstm",
}
NUMBER = r"([0-9.]+(?:e[+-]?[0-9]+)?)"
PROMISE = re.compile(rf"about {NUMBER} s here")  # what the page's own run does
CLICK_PROMISE = re.compile(rf"about {NUMBER} s estimated")  # what a Train button will do


def page_texts(at) -> list[str]:
    """Every text a user reads on the page: captions, notices, markdown, progress bars."""
    kinds = ("caption", "info", "markdown", "warning")
    return [e.value for kind in kinds for e in at.get(kind) if isinstance(e.value, str)]


def promised(at, pattern: re.Pattern = PROMISE) -> float:
    """The sum of the seconds the page promises ("about X s here")."""
    return sum(float(m) for text in page_texts(at) for m in pattern.findall(text))


def open_page(page: str):
    """(AppTest on ``page`` at tiny settings, seconds that run of the page took: its floor)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=900)
    at.query_params.update(TINY)
    at.run()
    start = time.perf_counter()
    at.switch_page(page).run()
    return at, time.perf_counter() - start


def apply(at, query: str, seed: int) -> None:
    params = dict(p.split("=", 1) for p in f"{query}&seed={seed}".split("&") if p)
    values, notices = controls.from_query(params)
    if notices:
        raise ValueError(f"bad bench query {query!r}: {notices}")
    for key, value in values.items():
        at.session_state[f"setting:{key}"] = value


def run_case(
    page: str, query: str, seed: int, click: str | None = None
) -> tuple[float, float, float]:
    """(seconds the page promised, seconds its cold rerun took, seconds the same page took at
    tiny settings just before) at ``query``."""
    at, floor = open_page(page)
    apply(at, query, seed)
    if click:
        at.run()  # the page states its estimate before the click
        promise = promised(at, CLICK_PROMISE)
        button = at.button(key=click)
        start = time.perf_counter()
        button.click().run()
    else:
        start = time.perf_counter()
        at.run()
        promise = None
    took = time.perf_counter() - start
    if at.exception:
        raise RuntimeError(f"{page} at {query}: {at.exception[0].value}")
    return (promised(at) if promise is None else promise), took, floor


def cases():
    for page_name, (page, extra) in PAGES.items():
        for name, query in SETTINGS.items():
            yield f"{page_name} {name}", page, query + extra, None
    for name, query in SCRUB_FITS.items():
        yield f"flow {name}", "views/information_flow.py", query, None
    for name, query in TRAINING.items():
        yield name, "views/training.py", query, "train"


def main() -> None:
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    only = [c for c in os.environ.get("BENCH_EXTREMES_ONLY", "").split(",") if c]
    print("== every page at the legal extremes (AppTest, script run only, cold cache), median")
    print(f"   of {REPEATS}: seconds the page promises, seconds it took, the same page at tiny")
    print("   settings (floor: Streamlit's own work), took / promised, (took - floor) / promised")
    print("   (target <= 1.5; its range over the runs), the speed factor the server learned")
    print(f"   {'page setting':24} promise |   took | floor |   raw | net")
    open_page("views/information_flow.py")  # imports and first-run costs, not timed
    worst, seed = 0.0, 10_000
    for name, page, query, click in cases():
        if only and not any(o in name for o in only):
            continue
        rows = []
        for _ in range(REPEATS):
            seed += 1
            rows.append(run_case(page, query, seed, click))
        promise, took, floor = (float(np.median(col)) for col in zip(*rows))
        raw = float(np.median([t / p if p > 0 else np.inf for p, t, _ in rows]))
        ratios = [(t - f) / p if p > 0 else np.inf for p, t, f in rows]
        ratio = float(np.median(ratios))
        worst = max(worst, ratio)
        print(
            f"   {name:24} {promise:6.2f} | {took:6.2f} | {floor:4.2f} | {raw:5.2f} | "
            f"{ratio:4.2f} ({min(ratios):.2f}-{max(ratios):.2f}) | {budget.speed():.2f}",
            flush=True,
        )
    print(f"   worst median (took - floor) / promised: {worst:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
