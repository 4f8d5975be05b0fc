"""The mean-field overlays in a real browser: the Gradient flow page draws the dashed predicted
lines with the core's numbers (read back from plotly's decoded data), and the Depth sweep draws
its predicted curve. Skips without Chromium (fails with CI=true)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deeprnn_core import InitSpec, RNNConfig
from deeprnn_core.theory import mean_field as theory
from deeprnn_core.theory import phase
from tests import browser_support as bs

ARTIFACTS = Path(__file__).parent / "artifacts"
# every trace plotly drew whose meta starts with a prefix: [meta, dash, y as decoded numbers]
TRACES = """(prefix) => Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(
    el => el._fullData.filter(t => String(t.meta || '').startsWith(prefix)).map(
        t => [t.meta, t.line.dash, Array.from(t.y, v => v === null ? NaN : Number(v))]))"""


def test_gradient_flow_and_depth_sweep_draw_the_predicted_overlays():
    bs.require_chromium()
    from playwright.sync_api import sync_playwright

    query = "L=2&T=10&h=16&B=2&init=gaussian&grec=1.3&gin=0.7&tseeds=2"
    config = RNNConfig(num_layers=2, input_size=8, hidden_size=16)
    init = InitSpec("gaussian", 1.3, 0.7, 1.0)
    _, moment = phase.measured_grad_sq(config, init, [0, 1], 10, 2)
    want = theory.predicted_grad_sq(config, init, moment, batch=2)
    with bs.streamlit_server() as (url, _), sync_playwright() as p, bs.chromium(p) as page:
        page.goto(f"{url}/gradients?{query}")
        bs.wait_idle(page)
        page.wait_for_function(f"({TRACES})('predicted l = ').length === 2", timeout=60_000)
        drawn = {meta: (dash, y) for meta, dash, y in page.evaluate(TRACES, "predicted l = ")}
        for l in (1, 2):
            dash, y = drawn[f"predicted l = {l}"]
            assert dash == "dash", "the prediction is drawn dashed"
            np.testing.assert_allclose(y, want[l - 1], rtol=1e-6, err_msg="float32 on the wire")
        assert page.locator('[data-testid="stException"]').count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "gradients_theory.png"), full_page=True)
        page.goto(f"{url}/sweep?{query}&Lmax=4&S=3")
        bs.wait_idle(page)
        page.wait_for_function(f"({TRACES})('predicted ').length === 3", timeout=60_000)
        metas = sorted(meta for meta, _, _ in page.evaluate(TRACES, "predicted "))
        assert metas == ["predicted corner", "predicted depth", "predicted time"]
        assert page.locator('[data-testid="stException"]').count() == 0
