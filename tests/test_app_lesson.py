"""The lesson must be true: every direction word the Plain vs deep, Depth sweep and Gradient flow
pages print agrees with the numbers printed next to it, at the defaults and at L = 32, T = 500.

The test reads the page as a user would: it splits the page's text into sentences, takes the
numbers each sentence prints, derives the direction from those numbers itself (with a
tolerance for the printed rounding) and compares it with the word the page chose. Any sentence
that carries a direction word but matches none of the known sentence shapes fails the test, so
a new sentence cannot slip past unchecked.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from app.parts import training_rows
from app.runs import theory as compute_theory
from app.views import depth_sweep as sweep_page
from app.views import gradient_flow as gradients_page
from app.views import plain_vs_deep as compare_page
from deeprnn_core.analysis.measures import MEASURES, ORDER, ROUNDING, clear_change, path_steps
from tests.figure_data import values
from tests.test_app import assert_clean, chart_with, charts, open_app

SETTINGS = {
    "defaults": {},
    "L=32, T=500": {"L": "32", "T": "500", "Lmax": "32"},
    "exploding": {"init": "orthogonal", "grec": "1.3", "gin": "1.3", "act": "identity"},
    # issue 17: the edges where a change of about nothing was called a direction
    "L=1": {"L": "1"},
    "L=2": {"L": "2"},
    "T=1": {"T": "1"},
    "residual L=8": {"L": "8", "res": "true"},
    "exploding relu": {"act": "relu", "grec": "2", "gin": "2", "Lmax": "8", "S": "3"},
    # issue 19: the element-wise cells, alone and in a mixed stack; an LRU stack alone, whose
    # top layer's H_t feeds no later step (its G_t is exactly 0 before the scored step): the
    # paths through time along H are "no path", never "vanishes"
    "mingru L=8": {"cell": "mingru", "L": "8"},
    "mixed new cells": {"cell": "per layer", "cells": "lstm,minlstm,lru,rnn"},
    "lru": {"cell": "lru"},
    "lru L=32, T=500": {"cell": "lru", "L": "32", "T": "500", "Lmax": "32", "h": "256"},
    "mingru L=32, T=500": {"cell": "mingru", "L": "32", "T": "500", "Lmax": "32", "h": "256"},
    "minlstm L=32, T=500": {"cell": "minlstm", "L": "32", "T": "500", "Lmax": "32", "h": "256"},
    "lru on top": {"cell": "per layer", "cells": "rnn,lstm,lru"},
}
WORDS = re.compile(
    r"\b(vanish\w*|explod\w*|rose|fell|rises|falls|more|less|higher|lower|grew|"
    r"smaller|larger|does not hold|holds)\b",
    re.IGNORECASE,
)
NUM = r"(—|nan|inf|-?\d\.\d\de[+-]\d+)"
FACTOR = r"(10\^-?\d+\.\d|\d[\d.]*)"
KEYS = list(MEASURES)
# two values printed to 3 significant digits that differ by more than this (in log10) differ
# by more than their rounding can explain: measures.ROUNDING plus a printed unit of slack
NEAR = math.log10(1.02)


def number(text: str) -> float:
    return math.nan if text == "—" else float(text)


def factor(text: str) -> float:
    return 10 ** float(text[3:]) if text.startswith("10^") else float(text)


def same_factor(printed: str, a: float, b: float) -> bool:
    """The printed factor equals max/min of the printed values, within their rounding (three
    digits each, and 10^x.x to 0.05 in the exponent)."""
    want = math.log10(max(a, b) / min(a, b))
    return abs(math.log10(factor(printed)) - want) <= 0.06


def check_verdict(text: str, value: float, key: str | None = None, L: int = 2, T: int = 2):
    """A verdict such as "vanishes (below 1)" or "gives the bottom layer more (above 1)": its
    side follows the value, and "vanish" / "explod" / "less" / "more" (the weight ratios'
    "far" words) only where the whole path's ratio is a factor ORDER from 1 (measures.regime;
    checked when ``key`` says how many steps a per-step rate covers)."""
    if math.isnan(value):
        assert "no path" in text or "undefined" in text, text
        return
    if value == 0:  # no gradient reaches that end: no direction word
        assert "exactly 0" in text and not WORDS.search(text), text
        return
    steps = int(path_steps(key, L, T)) if key in ("corner_rate", "depth_rate", "time_rate") else 1
    whole = math.log10(value) * steps if value > 0 else -math.inf
    if "(about 1" in text:
        assert abs(whole) <= math.log10(1 + ROUNDING) + 0.005 * steps, f"{text!r} for {value}"
        assert not WORDS.search(text), text
        return
    side = "below" if value < 1 else "above" if value > 1 else "exactly"
    assert f"({side} 1" in text, f"{text!r} for {value}"
    far = "within a factor" not in text
    if "vanish" in text or "less" in text:
        assert value < 1 and (not far or whole <= -math.log10(ORDER) + 0.01 * steps), text
    if "explod" in text or "more" in text:
        assert value > 1 and (not far or whole >= math.log10(ORDER) - 0.01 * steps), text
    if key is not None and not far:
        assert abs(whole) < math.log10(ORDER) + 0.01 * steps, f"{text!r} for {value}"


def sentences(markdown: str) -> list[str]:
    return [s.strip() for s in markdown.split("\n") if s.strip()]


def check_change(line: str, key: str, T: int) -> tuple[float, float, str]:
    """A Plain vs deep sentence: L = 1 → L, rose / fell or no clear change, the verdicts, more
    / less severe or no clear difference. A direction word needs printed values that differ
    beyond their rounding; "no clear change" needs values that agree to it."""
    m = re.search(rf"`: {NUM} at L = 1 → {NUM} at L = (\d+)", line)
    assert m, line
    plain, deep, L = number(m[1]), number(m[2]), int(m[3])
    if L == 1:
        assert line.endswith("the deep network is the plain one: nothing to compare."), line
        assert not WORDS.search(line), line
        return plain, deep, "none"
    if "No direction to compare" in line:
        assert not WORDS.search(line.replace("no path", "")), line
        return plain, deep, "none"
    if m[2] == "—" and m[1] != "—":  # the deep one's top layer has no path along H (an LRU)
        v = re.search(rf"At L = 1 it (.*?\)); at L = {L} there is no path \(the top layer", line)
        assert v and "does not decide the tutorial's claim" in line, line
        check_verdict(v[1], plain, key, 1, T)
        assert not WORDS.search(line[v.end(1) :].replace("does not decide", "")), line
        return plain, deep, "open"
    if m[1] == "—":
        assert "At L = 1 there is no path" in line
        v = re.search(rf"at L = {L} it (.*?\)): (a problem only|no gradient problem)", line)
        assert v and not math.isnan(deep), line
        check_verdict(v[1], deep, key, L, T)
        if v[2] == "no gradient problem":
            assert "does not decide the tutorial's claim" in line and "holds" not in line, line
            return plain, deep, "open"
        assert "within a factor" not in v[1] and "about 1" not in v[1], line
        return plain, deep, "holds"
    v = re.search(rf"At L = 1 it (.*?\)), at L = {L} it (.*?\)):", line)
    assert v, line
    check_verdict(v[1], plain, key, 1, T)
    check_verdict(v[2], deep, key, L, T)
    printed = abs(math.log10(deep / plain))
    moved = re.search(rf": (rose|fell) by a factor of {FACTOR}\.", line)
    if moved:
        assert printed > 0, f"a direction word for values that print the same: {line}"
        assert (moved[1] == "rose") == (deep > plain), line
        assert same_factor(moved[2], plain, deep), line
    else:
        assert re.search(r": no clear change \(within 1%, the rounding", line), line
        assert printed <= NEAR, f"no clear change for values far apart: {line}"
    logs = abs(math.log10(plain)), abs(math.log10(deep))
    if "no clear difference in severity" in line:
        assert "does not decide the tutorial's claim" in line, line
        assert "holds" not in line and "severe here" not in line, line
        s = re.search(r"\|log10\| ([\d.]+) → ([\d.]+)\)", line)
        assert s and abs(float(s[1]) - float(s[2])) <= 0.015, line
        return plain, deep, "open"
    assert moved, line
    s = re.search(r"problem is (more|less) severe here .*?\|log10\| ([\d.]+) → ([\d.]+)\)", line)
    assert s, line
    assert abs(float(s[2]) - logs[0]) < 0.01 and abs(float(s[3]) - logs[1]) < 0.01, line
    assert (s[1] == "more") == (logs[1] > logs[0]) and abs(logs[1] - logs[0]) > 0, line
    claim = "holds" if s[1] == "more" else "does not hold"
    assert f"the tutorial's claim {claim} by this measure" in line, line
    return plain, deep, claim


def check_paths(line: str, plain_corner: float, deep_corner: float, low: int, high: int) -> None:
    """The path-count sentence: its numbers are the corner ratios, the counts are binomial
    coefficients and the per-path factor moves the way the words say."""
    m = re.search(rf"rose \({NUM} at L = (\d+) → {NUM} at L = (\d+)\)", line)
    assert m and int(m[2]) == low and int(m[4]) == high, line
    a, b = number(m[1]), number(m[3])
    assert b > a and (a, b) == pytest.approx((plain_corner, deep_corner), rel=5e-3), line
    m = re.search(
        r"\(ratio / paths\) (fell|rose|stayed about the same) from 10\^(-?[\d.]+) to "
        r"10\^(-?[\d.]+)",
        line,
    )
    assert m, line
    if m[1] == "stayed about the same":
        assert abs(float(m[3]) - float(m[2])) <= 0.1, line
    else:
        assert (m[1] == "rose") == (float(m[3]) > float(m[2])), line
    T = int(re.search(r"\((\d+) Jacobians each\)", line)[1]) - (low - 1) + 1
    for L, ratio, printed in ((low, a, m[2]), (high, b, m[3])):
        per_path = math.log10(ratio) - math.log10(math.comb(T - 1 + L - 1, L - 1))
        assert abs(per_path - float(printed)) <= 0.06, line


def every_word_checked(texts: list[str], checked: set[str]) -> None:
    for text in texts:
        for line in sentences(text):
            if WORDS.search(line):
                assert line in checked, f"a direction word in an unchecked sentence: {line!r}"


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_plain_vs_deep_words_follow_its_numbers(setting):
    at = open_app(SETTINGS[setting], page="views/plain_vs_deep.py")
    assert_clean(at)
    table = at.table[0].value
    static = (
        compare_page.EXPLAIN,
        training_rows.EXPLAIN,
    )  # what the tutorial says, not a measurement
    texts = [m.value for m in at.markdown if m.value not in static]
    bullets = [line for t in texts for line in sentences(t) if line.startswith("- **")]
    assert len(bullets) == 8, "one sentence per measure"
    L, T = at.session_state["setting:num_layers"], at.session_state["setting:steps"]
    checked, claims = set(bullets), []
    for line, key in zip(bullets, KEYS):
        plain, deep, claim = check_change(line, key, T)
        claims.append(claim)
        row = [r for r in table.index if r.startswith(line[4 : line.index("**", 4)] + ":")]
        assert len(row) == 1, line
        printed = table.loc[row[0]].iloc[:2].str.replace(" per step", "")
        for shown, value in zip(printed, (plain, deep)):
            # nan: "—" where no path, "nan" where undefined (a layer without W_hh)
            assert (shown in ("—", "nan")) if math.isnan(value) else float(shown) == value, line
    gradient = table.loc["Gradient problems (the tutorial's words)"]
    row, cell = gradient.iloc[2], gradient.iloc[1]
    held, failed = claims.count("holds"), claims.count("does not hold")
    if L == 1:
        assert "nothing to compare" in row and "nothing to compare" in cell, (cell, row)
        assert not WORDS.search(row) and not WORDS.search(cell), (cell, row)
    else:
        assert row.startswith(f"More severe by {held} of 8 measures")
        assert (f"Less severe by {failed} " in row) == (failed > 0), row
        assert ("does not hold" in row) == (failed > 0), row
        assert (f"No clear difference by {claims.count('open')} " in row) == ("open" in claims), row
        # the deep column says "more severe" only when more measures say so: a tie is mixed
        if held == failed:
            assert "more severe" not in cell and "less severe" not in cell, cell
        else:
            assert cell.startswith("more severe" if held > failed else "less severe"), cell
    corner = check_change(bullets[0], "corner", T)[:2]
    why = [line for t in texts for line in sentences(t) if "Why the corner ratio" in line]
    if why:
        assert corner[1] > corner[0], "the path count explains a rise only"
    if L > 1 and T > 1 and corner[1] > corner[0] and math.log10(corner[1] / corner[0]) > NEAR:
        assert why, "the path count shows where the corner rises"
    for line in why:
        check_paths(line, *corner, 1, L)
    every_word_checked(texts + [row, cell], checked | set(why) | {row, cell})


def top_cell(setting: str, depth: int) -> str:
    """The top layer's cell of the depth-``depth`` network of a sweep at ``setting`` (per-layer
    cells extended by the last, as the sweep deepens a stack)."""
    query = SETTINGS[setting]
    if query.get("cell") != "per layer":
        return query.get("cell", "rnn")
    cells = query["cells"].split(",")
    return cells[min(int(depth), len(cells)) - 1]


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_depth_sweep_words_follow_its_numbers(setting):
    at = open_app(SETTINGS[setting], page="views/depth_sweep.py")
    assert_clean(at)
    assert at.selectbox(key="sweep_measure").value == "all"
    chart = chart_with(at, "corner")
    medians = {t["meta"]: values(t["y"]) for t in chart["data"] if t.get("meta")}
    depths = values(chart["data"][0]["x"])
    texts = [m.value for m in at.markdown if m.value != sweep_page.EXPLAIN]
    T = int(re.search(r"\), T = (\d+)\. Same gains", "\n".join(texts))[1])
    bullets = [line for t in texts for line in sentences(t) if line.startswith("- **")]
    assert len(bullets) == 8, "one sentence per measure"
    pattern = (
        rf"`: median {NUM} at L = (\d+) → {NUM} at L = (\d+): (?:(rises|falls) with L"
        rf"( \(not monotonically\))?, by a factor of {FACTOR}(?: \(beyond the seeds' spread, a "
        rf"factor of {FACTOR}\))?|no clear change with L \(within ([^)]*)\)); at L = (\d+) it "
        r"(.*?\)), at L = (\d+) it (.*?\))\.$"
    )
    corner = None
    for line, key in zip(bullets, medians):
        if line.endswith("fewer than two depths with a finite value; no direction."):
            assert np.isfinite(medians[key]).sum() < 2 and not WORDS.search(line), line
            continue
        if line.endswith("at every depth; no direction.") and T == 1:  # no step through time
            assert key in ("time", "time_rate", "w_hh") and "no path (T = 1" in line, line
            assert not WORDS.search(line), line
            continue
        if line.endswith("at every depth; no direction."):  # an LRU on top: no path along H
            assert "feeds no later step" in line and "through its complex state x_t" in line
            assert not np.isfinite(medians[key]).any() and not WORDS.search(line), line
            continue
        m = re.search(pattern, line)
        assert m, line
        a, lo, b, hi = number(m[1]), int(m[2]), number(m[3]), int(m[4])
        curve = medians[key]
        assert (a, b) == pytest.approx((curve[lo - 1], curve[hi - 1]), rel=5e-3), line
        before = curve[: lo - 1]  # not drawn on log axes: nan, or exactly 0 (an LRU's top G)
        # no path through time along H where the depth-d network's top layer is an LRU
        no_h = [key in ("time", "time_rate") and top_cell(setting, d) == "lru" for d in depths]
        inside = np.isfinite(curve) | np.isnan(curve) & np.array(no_h)
        assert inside[lo - 1 : hi].all() and (np.isnan(before) | (before == 0)).all()
        printed = abs(math.log10(b / a))
        if m[5] is None:  # no clear change: within the rounding, or the seeds' spread
            if m[9].startswith("1%"):
                assert printed <= NEAR, f"no clear change for values far apart: {line}"
            else:
                spread = re.match(rf"the seeds' spread, a factor of {FACTOR}$", m[9])
                assert spread and printed <= math.log10(factor(spread[1])) + 0.01, line
        else:
            assert printed > 0, f"a direction word for values that print the same: {line}"
            bar = math.log10(1 + ROUNDING) if m[8] is None else math.log10(factor(m[8]))
            assert printed > bar - 0.01, f"a direction inside the seeds' spread: {line}"
            assert (m[5] == "rises") == (b > a), line
            steps = np.diff(np.log10(curve[lo - 1 : hi]))
            monotone = (steps >= -bar - 1e-3).all() if b > a else (steps <= bar + 1e-3).all()
            strict = (steps >= -bar + 1e-3).all() if b > a else (steps <= bar - 1e-3).all()
            assert (not m[6]) if strict else (bool(m[6]) or monotone), line
            assert same_factor(m[7], a, b), line
        check_verdict(m[11], a, key, int(m[10]), T)
        check_verdict(m[13], b, key, int(m[12]), T)
        if key == "corner":
            corner = (a, b, lo, hi)
    why = [line for t in texts for line in sentences(t) if "Why the corner ratio" in line]
    if why:
        assert corner[1] > corner[0], "the path count explains a rise only"
    for line in why:
        check_paths(line, *corner)
    asked, L = at.session_state["setting:sweep_layers"], int(SETTINGS[setting].get("L", 4))
    assert len(depths) == (asked or max(L, 16)), "0 follows the sidebar's L, at least 16"
    every_word_checked(texts, set(bullets) | set(why))


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_gradient_flow_words_follow_its_numbers(setting):
    at = open_app(SETTINGS[setting], page="views/gradient_flow.py")
    assert_clean(at)
    L, T = at.session_state["setting:num_layers"], at.session_state["setting:steps"]
    table = at.table[0].value
    assert len(table) == 8
    for (path, row), key in zip(table.iterrows(), KEYS):
        value = number(row["value"].replace(" per step", ""))
        check_verdict(row["the gradient along it"], value, key, L, T)
        if key == "w_hh" and T == 1 and L > 1:
            # T = 1: W_hh multiplies H_0 = 0 only; that is no path, not an overflow
            assert row["value"] == "—", row
            assert row["the gradient along it"].startswith("no path (T = 1"), row
        else:
            assert (row["Jacobians on the path"] == "0") == (row["value"] == "—"), path
    texts = [m.value for m in at.markdown if m.value not in (gradients_page.EXPLAIN,)]
    headline = [t for t in texts if "the gradient reaching (t = 1" in t or "**No path:**" in t]
    assert len(headline) == 1
    if L == 1 and T == 1:
        assert headline[0].startswith("**No path:**") and not WORDS.search(headline[0])
    else:
        exponent = float(re.search(r"\$10\^\{(-?[\d.]+)\}\$", headline[0])[1])
        word = (
            "About unchanged" if "About unchanged" in headline[0]
            else "Vanishing" if exponent <= -1 else "Exploding" if exponent >= 1
            else "Shrinking, not vanishing" if exponent < 0 else "Growing, not exploding"
        )  # fmt: skip
        if abs(abs(exponent) - 1) <= 0.05:  # at a factor of 10 the printed 10^x.x rounds
            word = headline[0][2 : headline[0].index(":**")]
            assert word.split(",")[0] in ("Vanishing", "Exploding", "Shrinking", "Growing"), word
        assert headline[0].startswith(f"**{word}:**"), headline[0]
        if word == "About unchanged":
            assert abs(exponent) <= 0.05, headline[0]
        corner = float(table.loc["corner to corner (time and depth)", "value"])
        assert abs(math.log10(corner) - exponent) <= 0.06
    static = {gradients_page.MEASURES_TEXT, gradients_page.PARAMS, gradients_page.THEORY,
              gradients_page.EIGEN, gradients_page.MEMORY.replace(
                  "{samples}", str(compute_theory.MEMORY_SAMPLES)).replace(
                  "{seed}", str(compute_theory.MEMORY_SEED))}  # fmt: skip
    trust = [t for t in texts if t.startswith("R² of log10")]
    memory = [line for t in texts for line in sentences(t) if "measured E[(∂h/∂p)²]" in line]
    for line in memory:  # the curse of memory: the word follows the two printed values
        m = re.search(r"E\[\(∂h/∂p\)²\] (grows|falls|shows no clear change), (\S+) → (\S+?)[;( ]",
                      line)  # fmt: skip
        lo, hi = float(m[2]), float(m[3])
        assert m[1] == {1: "grows", -1: "falls", 0: "shows no clear change"}[clear_change(lo, hi)]
    if T == 1:  # no path through time: no curve, no R²
        assert not trust and not [c for c in charts(at) if "predicted l = 1" in str(c)]
        assert any("no path through time" in i.value for i in at.info)
    elif any("No prediction is drawn" in i.value for i in at.info):
        assert not trust, "no prediction, no R²"
    else:
        assert len(trust) == 1, "the theory's verdict is printed once"
        check_trust(trust[0], chart_with(at, "predicted l = 1"), at.session_state)
    every_word_checked(
        [t for t in texts if t not in static], set(headline) | set(trust) | set(memory)
    )


def check_trust(text: str, chart: dict, session) -> None:
    """The sentence under the theory chart: its R² is the chart's, its verdict follows it, and
    it names the scheme, the finite width and the weights' state where they apply."""
    if "is undefined" in text:
        assert "R² = nan" in chart["layout"]["title"]["text"], text
    else:
        r2 = float(re.search(r"over the grid: \*\*(-?\d+\.\d{3})\*\*", text)[1])
        assert f"R² = {r2:.3f}" in chart["layout"]["title"]["text"], text
        fit = (
            "the dashed lines follow the measured shape" if r2 >= 0.9
            else "only roughly" if r2 >= 0.5
            else "the prediction misses the measured shape"
        )  # fmt: skip
        assert fit in text, (r2, text)
    h = session["setting:hidden_size"]
    assert (f"At h = {h} the width is finite" in text) == (h < 128), text
    scheme = session["setting:scheme"]
    assert (f"this run uses {scheme} init" in text) == (scheme != "gaussian"), text
    assert text.endswith("not trained ones.") or "Dropout is off" in text, text
