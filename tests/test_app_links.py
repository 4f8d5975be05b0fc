"""Issue 17, item 4: a link reproduces exactly. A budget cuts a heavy run by its settings alone
(budget.py prices runs in fixed reference units; the speed the server learns changes only the
time estimate shown), so the same heavy link gives the same run in a fresh process and in one
that has run other heavy traces and learned another speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.runs import budget
from tests.test_app import assert_clean, chart_with, open_app

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"L": "32", "T": "500", "h": "256", "cell": "lstm"}

# the landing page of HEAVY in a process of its own: its budget notice and its grid's numbers
FRESH = """
import json
from tests.test_app import assert_clean, chart_with, open_app
at = open_app(%r)
assert_clean(at)
notices = [i.value for i in at.info if "To stay within" in i.value]
grid = chart_with(at, "cell picker")
print("RESULT" + json.dumps({"notices": notices, "grid": grid["data"][0]}))
"""


def page(at) -> dict:
    notices = [i.value for i in at.info if "To stay within" in i.value]
    return json.loads(
        json.dumps({"notices": notices, "grid": chart_with(at, "cell picker")["data"][0]})
    )


def test_the_same_heavy_link_gives_the_same_run_fresh_and_warm():
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", FRESH % HEAVY], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=600, check=True,
    ).stdout  # fmt: skip
    fresh = json.loads(out.split("RESULT", 1)[1])
    assert len(fresh["notices"]) == 1 and "T = " in fresh["notices"][0], fresh["notices"]
    before = dict(budget._speed)
    try:
        # a warm server: other heavy runs first (they teach it a speed), then a quiet machine
        assert_clean(open_app(HEAVY | {"cell": "gru"}))
        assert_clean(open_app(HEAVY | {"h": "200", "seed": "3"}))
        for ratio in (0.1, 10.0):  # measured 10x faster, then 10x slower than the constants
            for _ in range(20):
                budget.observe(1.0, ratio)
            at = open_app(HEAVY)
            assert_clean(at)
            warm = page(at)
            assert warm["notices"] == fresh["notices"], "the cut does not follow the speed"
            assert warm["grid"] == fresh["grid"], "the same picture, cell by cell"
    finally:
        budget._speed.update(before)


def test_a_refusal_states_the_price_it_was_refused_at_not_the_speed_of_the_moment():
    """The budget compares fixed-rate prices; on a fast server the estimate shown is lower, so
    a sentence "about 1 s here, over the 4 s budget" would be false. Both are named."""
    import re

    from app.parts.depth_frames import SCRUB_SECONDS

    before = dict(budget._speed)
    try:
        for _ in range(20):
            budget.observe(1.0, 0.1)  # a server measured 10x faster than the constants
        at = open_app({"scrub": "1"} | HEAVY)
        assert_clean(at)
        said = [i.value for i in at.info if i.value.startswith("Scrubbing depth would run")]
        assert len(said) == 1, [i.value for i in at.info]
        price = re.search(r"priced at ([0-9.e+]+) s at the cost model's fixed rates \(about "
                          r"([0-9.e+]+) s on this server now\)", said[0])  # fmt: skip
        assert price, said[0]
        assert float(price[1]) > SCRUB_SECONDS, "the price the budget compared is the one said"
        assert float(price[2]) < float(price[1])
    finally:
        budget._speed.update(before)
