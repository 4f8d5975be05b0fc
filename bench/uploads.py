"""Upload benchmark in the browser: a 3-layer h = 256 LSTM state dict (torch.save, float32)
uploaded through the sidebar's file input until the landing page's charts are redrawn, against
the same page for a drawn model of that size (L = 3, h = 256, lstm, d = 8, T = 50) after a
recurrent-gain move (a new trace, no cache hit). Rounds are interleaved (Remove, which also
empties the file box; move the slider; upload a new file: new weights, no cache hit); medians, their
ratio. The first upload of a server pays first-use costs (torch.load); it is reported apart.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import browser_support as bs  # noqa: E402

ROUNDS = 5
QUERY = "?L=3&h=256&cell=lstm&d=8&T=50"


def state_dict_file(folder: Path, seed: int) -> Path:
    import torch

    torch.manual_seed(seed)
    path = folder / f"lstm_{seed}.pt"
    torch.save(torch.nn.LSTM(8, 256, num_layers=3).state_dict(), path)
    return path


def timed(page, action) -> float:
    """Seconds from ``action()`` until every chart is redrawn with new data."""
    before = bs.chart_signature(page)
    start = time.perf_counter()
    action()
    return bs.wait_redrawn(page, before)[1] - start


def main() -> None:
    from playwright.sync_api import sync_playwright

    missing = bs.chromium_missing()
    if missing:
        print(f"== upload: skipped, {missing}")
        return
    print("== upload: 3-layer h=256 LSTM state dict -> first chart, vs a drawn model that size")
    with (
        tempfile.TemporaryDirectory() as tmp,
        sync_playwright() as p,
        bs.streamlit_server() as (url, _),
        bs.chromium(p) as page,
    ):
        files = [state_dict_file(Path(tmp), seed) for seed in range(ROUNDS + 1)]
        page.goto(url + "/" + QUERY)
        bs.wait_idle(page)
        page.wait_for_selector(".js-plotly-plot", timeout=60_000)
        bs.wait_redrawn(page, "")
        page.get_by_text("Your model and data").click()
        bs.wait_idle(page)
        uploader = page.locator('.st-key-upload_model_box input[type="file"]')
        remove = page.locator(".st-key-upload_remove_model button")
        first = timed(page, lambda: uploader.set_input_files(str(files[0])))
        drawn, uploaded = [], []
        for path in files[1:]:
            timed(page, remove.click)  # back to the drawn model (cached)
            drawn.append(timed(page, lambda: bs.press_slider(page, "recurrent_gain")))
            uploaded.append(timed(page, lambda f=str(path): uploader.set_input_files(f)))
        size = files[0].stat().st_size / 2**20
        ratio = np.median(uploaded) / np.median(drawn)
        print(
            f"   file {size:.1f} MB; first upload of this server {first:.2f} s (it pays "
            "first-use costs, e.g. importing torch if nothing has yet)"
        )
        print(
            f"   upload -> charts: median {np.median(uploaded):.3f} s; drawn model, gain move "
            f"-> charts: median {np.median(drawn):.3f} s ({ROUNDS} interleaved rounds)"
        )
        print(f"   ratio upload / drawn: {ratio:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
