"""A real browser uploads a small safetensors LSTM through the sidebar's file input: the grid
changes to the uploaded model's depth and no exception shows; removing it brings the
sidebar's model back. Screenshots go to tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file

from tests import browser_support as bs

ARTIFACTS = Path(__file__).parent / "artifacts"
GRID_ROWS_JS = """() => {
  const plot = Array.from(document.querySelectorAll('.js-plotly-plot'))
    .find(el => (el._fullData || []).some(tr => tr.name === 'cells'));
  const cells = plot._fullData.find(tr => tr.name === 'cells');
  return cells.z.length;
}"""


def test_upload_a_safetensors_model_through_the_file_input(app_url, tmp_path):
    from playwright.sync_api import sync_playwright

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(8, 16, num_layers=2)
    path = tmp_path / "tiny_lstm.safetensors"
    save_file({f"lstm.{k}": v.contiguous() for k, v in lstm.state_dict().items()}, str(path))
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p, bs.chromium(p) as page:
        page.goto(f"{app_url}/flow")  # "/" opens the Lesson
        bs.wait_idle(page)
        page.wait_for_selector(".js-plotly-plot", timeout=60_000)
        before, _ = bs.wait_redrawn(page, "")
        assert page.evaluate(GRID_ROWS_JS) == 4, "the sidebar's default L = 4"
        page.get_by_text("Your model and data").click()
        uploader = page.locator('.st-key-upload_model_box input[type="file"]')
        uploader.set_input_files(str(path))
        after, _ = bs.wait_redrawn(page, before)
        assert page.evaluate(GRID_ROWS_JS) == 2, "the grid now has the upload's two layers"
        body = page.inner_text("body")
        assert "tiny_lstm.safetensors is the network of every page" in body
        assert "Model in use" in body and "sha256" in body
        # issue 17: the greyed sidebar shows the model, and the size limit is on screen
        for key, value in (("num_layers", "2"), ("hidden_size", "16")):
            slider = page.locator(f".st-key-{key} input[type=range]").first
            assert slider.get_attribute("value") == value, key
        sidebar = page.inner_text('[data-testid="stSidebar"]')
        assert "Set by your model tiny_lstm.safetensors: L = 2, h = 16, d = 8" in sidebar
        assert "up to 16 MB" in sidebar, "the limit readable without hovering"
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(ARTIFACTS / "flow_uploaded.png"), full_page=True)
        torch.save(torch.nn.GRU(3, 4), tmp_path / "whole_module.pt")  # refused: a pickled module
        uploader.set_input_files(str(tmp_path / "whole_module.pt"))
        page.locator('[data-testid="stSidebar"] [data-testid="stAlert"]').wait_for()
        bs.wait_idle(page)
        assert "torch.nn.modules.rnn.GRU" in page.inner_text('[data-testid="stSidebar"]')
        assert page.evaluate(GRID_ROWS_JS) == 2, "the refused file left the uploaded model"
        assert "tiny_lstm.safetensors is the network of every page" in page.inner_text("body")
        page.locator(".st-key-upload_remove_model button").click()
        bs.wait_redrawn(page, after)
        assert page.evaluate(GRID_ROWS_JS) == 4, "removed: the sidebar's model again"
