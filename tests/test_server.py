"""The server under several sessions, in a real browser: ten sessions opened at once on a cold
server, no cross-talk, hostile URLs shown as text, memory given back after the tabs close, and
no CPU spent for a closed tab. Small settings: the large soak is in ``make bench``."""

from __future__ import annotations

import os
import re
import time

import psutil
import pytest

from tests import browser_support as bs

CAPTION = re.compile(r"Running L = (\d+), T = (\d+), h = (\d+).*seed (\d+)")


STUDY_ENV = {
    "DEEPRNN_DASK_MEMORY": "1GiB",  # each study worker's limit, enforced by its nanny
    "DEEPRNN_DASK_SCHEDULER": "",  # the embedded cluster, started by the server
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    bs.require_chromium("the server test")
    env = STUDY_ENV | {
        "DEEPRNN_TRACE_SECONDS": "30",  # long enough to close a tab mid-run
        "DEEPRNN_STUDY_STORAGE": f"sqlite:///{tmp_path_factory.mktemp('study')}/server.db",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with bs.streamlit_server() as (url, _):
            yield url, server_process()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def server_process() -> psutil.Process:
    me = psutil.Process()
    return next(p for p in me.children(recursive=True) if "streamlit" in " ".join(p.cmdline()))


def rss_mb(proc: psutil.Process) -> float:
    return proc.memory_info().rss / 2**20


def caption(page) -> tuple[int, ...]:
    text = page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    found = [CAPTION.search(t) for t in text]
    return tuple(int(v) for v in next(m for m in found if m).groups())


def test_ten_sessions_at_once_on_a_cold_server_then_memory_is_given_back(server):
    """The first test of the module: the server has run nothing yet."""
    from playwright.sync_api import sync_playwright

    url, proc = server
    start_mb = rss_mb(proc)
    pages = ["", "hidden", "gradients", "sweep", "compare", "ab"] * 2
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_ARGS)
        tabs = []
        for k, name in enumerate(pages[:10]):
            tab = browser.new_page(viewport={"width": 1200, "height": 900})
            query = f"L={2 + k}&T={20 + k}&h={8 + k}&seed={k}&S=2&Lmax=4"
            tab.goto(f"{url}/{name}?{query}", wait_until="commit")
            tabs.append((tab, (2 + k, 20 + k, 8 + k, k)))
        for tab, expected in tabs:
            bs.wait_idle(tab, 120_000)
            tab.wait_for_selector('[data-testid="stCaptionContainer"]', timeout=120_000)
            bs.wait_idle(tab, 120_000)
            assert tab.locator('[data-testid="stException"]').count() == 0
            if "ab" not in tab.url:  # the A/B page has no "Running" caption
                assert caption(tab) == expected, "each page shows its own URL's settings"
        for tab, _ in tabs:  # a few reruns each: the seed moves
            box = tab.locator(".st-key-seed input").first
            if box.count():
                box.fill("7")
                box.press("Enter")
        for tab, _ in tabs:
            bs.wait_idle(tab, 120_000)
            assert tab.locator('[data-testid="stException"]').count() == 0
        busy_mb = rss_mb(proc)
        browser.close()
    deadline = time.monotonic() + 60
    while rss_mb(proc) > start_mb + 300 and time.monotonic() < deadline:
        time.sleep(2)
    assert rss_mb(proc) <= start_mb + 300, (start_mb, busy_mb, rss_mb(proc))


ATTACK = (
    "act=x`[click me](http://example.invalid/phish)`&cell=$\\href{http://example.invalid}{k}$"
    "&x=<b>bold</b><a href='http://example.invalid'>a</a>&acts=" + "relu," * 2000 + "&L=2&L=3"
    "&T=\uff15\uff10&seed=" + "9" * 400
)


def test_hostile_url_values_show_as_text_cut_with_notices(server):
    from playwright.sync_api import sync_playwright

    url, _ = server
    with sync_playwright() as p, bs.chromium(p) as page:
        page.goto(f"{url}/?{ATTACK}")
        bs.wait_idle(page, 120_000)
        page.wait_for_selector('[data-testid="stAlert"]', timeout=60_000)
        alerts = page.locator('[data-testid="stAlert"]')
        text = " ".join(alerts.all_inner_texts())
        assert alerts.locator("a").count() == 0, "no link from the URL"
        assert alerts.locator(".katex, b, img").count() == 0, "no KaTeX or HTML from the URL"
        assert "x`[click me](http://example.invalid/phi…" in text, "shown as text, cut"
        assert "<b>bold</b>" in text and "$\\href{http" in text
        assert "given 2 times" in text and "(400 characters, cut)" in text
        assert "(10,000 characters, cut)" in text
        assert "５０" in text and len(text) < 4000, "values are cut"
        assert page.locator('[data-testid="stException"]').count() == 0
        assert caption(page)[:2] == (3, 50)


def test_closing_the_browser_mid_run_frees_the_cpu(server):
    from playwright.sync_api import sync_playwright

    url, proc = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{url}/?L=32&T=500&h=256&cell=lstm&B=4&seed=11")
        page.wait_for_selector('[data-testid="stSpinner"]', timeout=60_000)
        before = proc.cpu_times()
        # the memory budget cuts this run to about a second on a quiet machine: catch it busy.
        # On a loaded 2-core machine the server gets a fraction of a core, so "busy" is any
        # window of 0.5 s in which it spends at least 0.1 CPU-s (an idle server spends ~0)
        busy = any(proc.cpu_percent(0.5) > 20 for _ in range(8))
        assert busy, "the run is under way before the tab closes"
        chromium = [c for c in psutil.Process().children(recursive=True) if "chrom" in c.name()]
        for c in chromium:
            c.kill()  # as kill -9: no goodbye from the browser
        closed = time.monotonic()
        browser.close()
    time.sleep(max(0.0, closed + 2.0 - time.monotonic()))
    after_two = proc.cpu_times()
    time.sleep(2.0)
    used = sum(proc.cpu_times()[:2]) - sum(after_two[:2])
    assert used < 0.4, f"{used:.2f} CPU-s spent 2-4 s after the tab closed"
    assert sum(after_two[:2]) - sum(before[:2]) < 8


def worker_processes(proc: psutil.Process) -> list[psutil.Process]:
    """The server's child processes: the study workers it started (each a nanny running
    ``deeprnn_core.study.worker`` with the worker process under it)."""
    return proc.children(recursive=True)


def test_a_running_study_keeps_server_and_worker_memory_bounded(server):
    """The soak's study part, small: a Tuning map study of 126 short trials (its default map,
    20 updates each) on the server's embedded Dask cluster while another session browses; the
    server's RSS stays within 300 MB of its start, every worker under its memory limit (set on
    its command line), and the study finishes with its results drawn."""
    from playwright.sync_api import sync_playwright

    url, proc = server
    start_mb = rss_mb(proc)
    peaks = {"server": start_mb, "worker": 0.0}
    limits: set[str] = set()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/tuning")
        bs.wait_idle(page, 120_000)
        steps = page.locator(".st-key-tm_steps input").first
        steps.fill("20")
        page.get_by_role("button", name="Apply").click()
        bs.wait_idle(page, 120_000)
        page.get_by_role("button", name="Run study").click()
        page.wait_for_selector('[data-testid="stProgress"]', timeout=180_000)
        other = browser.new_page(viewport={"width": 1200, "height": 900})
        deadline = time.monotonic() + 600
        k = 0
        while page.locator('[data-testid="stProgress"]').count() and time.monotonic() < deadline:
            other.goto(f"{url}/gradients?L={2 + k % 4}&seed={k}", wait_until="commit")
            bs.wait_idle(other, 120_000)
            assert other.locator('[data-testid="stException"]').count() == 0
            k += 1
            peaks["server"] = max(peaks["server"], rss_mb(proc))
            for w in worker_processes(proc):
                try:
                    line = w.cmdline()
                    peaks["worker"] = max(peaks["worker"], rss_mb(w))
                except psutil.NoSuchProcess:
                    continue
                if "--memory-limit" in line:
                    limits.add(line[line.index("--memory-limit") + 1])
        page.wait_for_selector(".js-plotly-plot", timeout=120_000)  # the finished map
        assert page.locator('[data-testid="stException"]').count() == 0
        browser.close()
    assert k >= 1, "the other session browsed while the study ran"
    assert limits == {STUDY_ENV["DEEPRNN_DASK_MEMORY"]}, limits
    assert peaks["worker"] < 1024, peaks
    assert peaks["server"] <= start_mb + 300, (start_mb, peaks)
