"""Start the app in a real Streamlit server and drive it in Debian's Chromium (Playwright).

Shared by the browser test and by ``bench/browser.py``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
INSTALL_HINT = "install it with: apt-get update && apt-get install -y chromium"

# A signature of every plotly chart on the page: how many numbers each trace holds, plus a
# checksum of them, so a redraw with new data is told apart from the old one. It reads plotly's
# decoded ``_fullData`` (``data`` still holds the base64 typed arrays the app sends), walks
# nested rows (heatmap z) and customdata, and sums log10|v| so that tiny gradients count too.
CHARTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el =>
  (el._fullData || el.data || []).map(tr => {
    let n = 0, s = 0;
    const walk = (v) => {
      if (v == null || typeof v === 'string') return;
      if (typeof v === 'number') {
        n++;
        if (Number.isFinite(v)) s += Math.log10(Math.abs(v) + 1e-300) * ((n % 97) + 1);
        return;
      }
      if (v.length !== undefined) for (let i = 0; i < v.length; i++) walk(v[i]);
    };
    for (const key of ['x', 'y', 'z', 'customdata']) walk(tr[key]);
    return n + ':' + s.toPrecision(12);
  }).join(',')).join('|')"""


def chromium_missing() -> str | None:
    """None when Debian's Chromium is there, else why not and how to install it."""
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return None
    return f"{CHROMIUM} not found; {INSTALL_HINT}"


def require_chromium(what: str = "the browser test") -> None:
    """Fail (under CI, which must run it) or skip (elsewhere) when Chromium is missing."""
    import pytest

    missing = chromium_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} needs Chromium: {missing}")
        pytest.skip(f"{what} needs Chromium: {missing}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(port: int | None = None, timeout: float = 60.0, script: Path | None = None):
    """Run ``script`` (default ``app/streamlit_app.py``) on localhost; yield (base url, seconds
    until healthy)."""
    port = port or free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = script or ROOT / "app" / "streamlit_app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(script)]
    cmd += ["--server.port", str(port), "--server.headless", "true"]
    cmd += ["--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        url = f"http://localhost:{port}"
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{proc.stdout.read()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"streamlit not healthy after {timeout} s")
            time.sleep(0.2)
        yield url, time.perf_counter() - start
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def chromium(playwright, width: int = 1400, height: int = 1000):
    """A fresh headless Chromium page."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        page = browser.new_page(viewport={"width": width, "height": height})
        yield page
    finally:
        browser.close()


def wait_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait until the current Streamlit run has finished."""
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def chart_signature(page) -> str:
    return page.evaluate(CHARTS_JS)


def press_slider(page, key: str, arrow: str = "ArrowRight", times: int = 1) -> None:
    """Move the slider with ``key`` from the keyboard."""
    slider = page.locator(f".st-key-{key} input[type=range]").first
    slider.focus()
    for _ in range(times):
        slider.press(arrow)


def wait_redrawn(page, before: str, timeout: float = 60.0) -> tuple[str, float]:
    """Wait until a rerun has finished and the charts show data other than ``before``;
    returns the new signature and the perf_counter time it first appeared (confirmed by a
    second look 50 ms later, so a half-drawn page does not count)."""
    deadline = time.perf_counter() + timeout
    seen, seen_at = None, 0.0
    while time.perf_counter() < deadline:
        now = chart_signature(page) if page.locator(IDLE).count() else None
        if now is not None and now != before and "" not in now.split("|"):
            if now == seen:
                return now, seen_at
            seen, seen_at = now, time.perf_counter()
            page.wait_for_timeout(50)
            continue
        seen = None
        page.wait_for_timeout(10)
    raise TimeoutError("the charts did not change after the slider moved")
