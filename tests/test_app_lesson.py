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
from app.views import depth_sweep as sweep_page
from app.views import gradient_flow as gradients_page
from app.views import plain_vs_deep as compare_page
from tests.figure_data import values
from tests.test_app import assert_clean, chart_with, open_app

SETTINGS = {
    "defaults": {},
    "L=32, T=500": {"L": "32", "T": "500", "Lmax": "32"},
    "exploding": {"init": "orthogonal", "grec": "1.3", "gin": "1.3", "act": "identity"},
}
WORDS = re.compile(
    r"\b(vanish\w*|explod\w*|rose|fell|rises|falls|more|less|higher|lower|grew|"
    r"smaller|larger|does not hold|holds)\b",
    re.IGNORECASE,
)
NUM = r"(—|nan|inf|-?\d\.\d\de[+-]\d+)"
FACTOR = r"(10\^-?\d+\.\d|\d[\d.]*)"


def number(text: str) -> float:
    return math.nan if text == "—" else float(text)


def factor(text: str) -> float:
    return 10 ** float(text[3:]) if text.startswith("10^") else float(text)


def same_factor(printed: str, a: float, b: float) -> bool:
    """The printed factor equals max/min of the printed values, within their rounding (three
    digits each, and 10^x.x to 0.05 in the exponent)."""
    want = math.log10(max(a, b) / min(a, b))
    return abs(math.log10(factor(printed)) - want) <= 0.06


def check_verdict(text: str, value: float) -> None:
    """A verdict such as "vanishes (below 1)" or "gives the bottom layer more (above 1)"."""
    if math.isnan(value):
        assert "no path" in text or "undefined" in text, text
        return
    side = "below" if value < 1 else "above" if value > 1 else "exactly"
    assert f"({side} 1" in text, f"{text!r} for {value}"
    if "vanish" in text or "less" in text:
        assert value < 1, f"{text!r} for {value}"
    if "explod" in text or "more" in text:
        assert value > 1, f"{text!r} for {value}"


def sentences(markdown: str) -> list[str]:
    return [s.strip() for s in markdown.split("\n") if s.strip()]


def check_change(line: str) -> tuple[float, float, str]:
    """A Plain vs deep sentence: L = 1 → L, rose / fell, the verdicts, more / less severe."""
    m = re.search(rf"`: {NUM} at L = 1 → {NUM} at L = (\d+)", line)
    assert m, line
    plain, deep, L = number(m[1]), number(m[2]), int(m[3])
    if m[1] == "—":
        assert "At L = 1 there is no path" in line
        v = re.search(rf"at L = {L} it (.*?\)): a problem only", line)
        assert v and not math.isnan(deep), line
        check_verdict(v[1], deep)
        return plain, deep, "holds"
    moved = re.search(rf": (rose|fell) by a factor of {FACTOR}\.", line)
    if moved:
        assert (moved[1] == "rose") == (deep > plain), line
        assert same_factor(moved[2], plain, deep), line
    else:  # within 0.1 %: the printed values (3 digits) agree to their rounding
        assert "did not move (within 0.1%)" in line and "equally severe" in line, line
        assert deep == pytest.approx(plain, rel=6e-3), line
        v = re.search(r"It (.*?\)) at both", line)
        assert v, line
        check_verdict(v[1], deep)
        return plain, deep, "equal"
    v = re.search(rf"At L = 1 it (.*?\)), at L = {L} it (.*?\)):", line)
    assert v, line
    check_verdict(v[1], plain)
    check_verdict(v[2], deep)
    s = re.search(r"problem is (more|less) severe here .*?\|log10\| ([\d.]+) → ([\d.]+)\)", line)
    assert s, line
    logs = abs(math.log10(plain)), abs(math.log10(deep))
    assert abs(float(s[2]) - logs[0]) < 0.01 and abs(float(s[3]) - logs[1]) < 0.01, line
    assert (s[1] == "more") == (logs[1] > logs[0]), line
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
    m = re.search(r"\(ratio / paths\) (fell|rose) from 10\^(-?[\d.]+) to 10\^(-?[\d.]+)", line)
    assert m, line
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
    checked, claims = set(bullets), []
    for line in bullets:
        plain, deep, claim = check_change(line)
        claims.append(claim)
        row = [r for r in table.index if r.startswith(line[4 : line.index("**", 4)] + ":")]
        assert len(row) == 1, line
        printed = table.loc[row[0]].iloc[:2].str.replace(" per step", "")
        for shown, value in zip(printed, (plain, deep)):
            assert (shown == "—") if math.isnan(value) else float(shown) == value, line
    row = table.loc["Gradient problems (the tutorial's words)"].iloc[2]
    held, failed = claims.count("holds"), claims.count("does not hold")
    assert row.startswith(f"More severe by {held} of 8 measures")
    assert (f"Less severe by {failed} " in row) == (failed > 0), row
    assert ("does not hold" in row) == (failed > 0), row
    corner = check_change(bullets[0])[:2]
    why = [line for t in texts for line in sentences(t) if "Why the corner ratio" in line]
    assert bool(why) == (corner[1] > corner[0]), "the path count shows where the corner rises"
    for line in why:
        check_paths(line, *corner, 1, at.session_state["setting:num_layers"])
    every_word_checked(texts + [row], checked | set(why) | {row})


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_depth_sweep_words_follow_its_numbers(setting):
    at = open_app(SETTINGS[setting], page="views/depth_sweep.py")
    assert_clean(at)
    assert at.selectbox(key="sweep_measure").value == "all"
    chart = chart_with(at, "corner")
    medians = {t["meta"]: values(t["y"]) for t in chart["data"] if t.get("meta")}
    depths = values(chart["data"][0]["x"])
    texts = [m.value for m in at.markdown if m.value != sweep_page.EXPLAIN]
    bullets = [line for t in texts for line in sentences(t) if line.startswith("- **")]
    assert len(bullets) == 8, "one sentence per measure"
    pattern = (
        rf"`: median {NUM} at L = (\d+) → {NUM} at L = (\d+): (?:(rises|falls) with L"
        rf"( \(not monotonically\))?, by a factor of {FACTOR}|stays level with L \(did not move "
        r"\(within 0.1%\)\)); at L = \d+ it (.*?\)), at L = \d+ it (.*?\))\.$"
    )
    slack = math.log10(1.001)  # the page ignores wiggles below 0.1 % (measures.SAME)
    corner = None
    for line, key in zip(bullets, medians):
        m = re.search(pattern, line)
        assert m, line
        a, lo, b, hi = number(m[1]), int(m[2]), number(m[3]), int(m[4])
        curve = medians[key]
        assert (a, b) == pytest.approx((curve[lo - 1], curve[hi - 1]), rel=5e-3), line
        assert np.isfinite(curve[lo - 1 : hi]).all() and np.isnan(curve[: lo - 1]).all()
        if m[5] is None:  # stays level: the drawn ends agree to 0.1 % (float32 on the chart)
            assert abs(math.log10(curve[hi - 1] / curve[lo - 1])) <= slack + 1e-6, line
        else:
            assert (m[5] == "rises") == (b > a), line
            steps = np.diff(np.log10(curve[lo - 1 : hi]))
            monotone = (steps >= -slack).all() if b > a else (steps <= slack).all()
            assert bool(m[6]) == (not monotone), line
            assert same_factor(m[7], a, b), line
        check_verdict(m[8], a)
        check_verdict(m[9], b)
        if key == "corner":
            corner = (a, b, lo, hi)
    why = [line for t in texts for line in sentences(t) if "Why the corner ratio" in line]
    assert bool(why) == (corner[1] > corner[0]), "the path count shows where the corner rises"
    for line in why:
        check_paths(line, *corner)
    assert len(depths) == at.session_state["setting:sweep_layers"]
    every_word_checked(texts, set(bullets) | set(why))


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_gradient_flow_words_follow_its_numbers(setting):
    at = open_app(SETTINGS[setting], page="views/gradient_flow.py")
    assert_clean(at)
    table = at.table[0].value
    assert len(table) == 8
    for path, row in table.iterrows():
        value = number(row["value"].replace(" per step", ""))
        check_verdict(row["the gradient along it"], value)
        assert (row["Jacobians on the path"] == "0") == (row["value"] == "—"), path
    headline = [m.value for m in at.markdown if "the gradient reaching (t = 1" in m.value]
    assert len(headline) == 1
    exponent = float(re.search(r"\$10\^\{(-?[\d.]+)\}\$", headline[0])[1])
    word = "Vanishing" if exponent < 0 else "Exploding"
    assert headline[0].startswith(f"**{word}:**"), headline[0]
    corner = float(table.loc["corner to corner (time and depth)", "value"])
    assert abs(math.log10(corner) - exponent) <= 0.06
    texts = [m.value for m in at.markdown if m.value not in (gradients_page.EXPLAIN,)]
    static = {gradients_page.MEASURES_TEXT, gradients_page.PARAMS, gradients_page.THEORY}
    trust = [t for t in texts if t.startswith("R² of log10")]
    assert len(trust) == 1, "the theory's verdict is printed once"
    check_trust(trust[0], chart_with(at, "predicted l = 1"), at.session_state)
    every_word_checked([t for t in texts if t not in static], set(headline) | set(trust))


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
