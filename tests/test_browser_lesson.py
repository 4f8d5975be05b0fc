"""The Lesson in a real browser (Debian's Chromium): every step opens with ?lang=zh with its
figure drawn and no English word outside the notation's allowlist; the handout downloaded
from the sidebar opens from file:// with every network request refused, and its figures
render. Skips without Chromium (fails with CI=true). DEEPRNN_SCREENSHOTS=1 also writes
assets/lesson_en.png and assets/lesson_zh.png (the README's)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from app.words.lesson_steps import STEPS
from tests import browser_support as bs

ASSETS = Path(__file__).resolve().parents[1] / "assets"
# Words that stay as they are in Chinese: notation (rms in the measures' formulas; inf / nan, the
# values of an overflow), names of cells, methods, people and libraries, the tutorial's own
# English ("Layer Normalization", "Dropout"), and units.
ALLOWED = {
    "tanh", "relu", "rnn", "gru", "lstm", "RNN", "GRU", "LSTM", "Loss", "FLOPs", "Dropout",
    "Layer", "Normalization", "Pascanu", "torch", "clip_grad_norm_", "PageUp", "PageDown",
    "Home", "End", "HTML", "URL", "MB", "plotly", "deeprnn", "English", "max", "nn",
    "lesson", "step", "lang", "zh", "rms", "inf", "nan", "mingru", "minlstm", "lru", "minGRU",
    "minLSTM", "LRU", "Zucchet", "Orvieto", "Feng", "exp", "eig", "Dask", "Optuna", "SQLite",
    "arXiv", "log",  # log10 (notation: the axes of the Tuning map's heatmap)
}  # fmt: skip
WORD = re.compile(r"[A-Za-z][A-Za-z_]{2,}")
NOTATION = re.compile(r"[A-Za-z]+_\{?[A-Za-z0-9,+\-]+\}?(\^\(?[A-Za-z0-9+\-]+\)?)?")


def english_words(text: str) -> set[str]:
    """The English words left in ``text`` once notation (H_t^(l), W_hh, ...) is taken out."""
    text = NOTATION.sub(" ", text)
    return {w for w in WORD.findall(text) if w not in ALLOWED}


def visible_text(page) -> str:
    """The main area's and the sidebar's text, without Material icons' names (an icon is a
    ligature: its name is its text, drawn as a glyph)."""
    text = page.inner_text('[data-testid="stMain"]') + "\n"
    text += page.inner_text('[data-testid="stSidebar"]')
    icons = page.eval_on_selector_all(
        '[data-testid="stIconMaterial"]', "els => els.map(e => e.innerText)"
    )
    for icon in sorted({i.strip() for i in icons} - {""}, key=len, reverse=True):
        text = text.replace(icon, " ")
    return text


def open_step(page, url: str, number: int, lang: str) -> float:
    start = time.perf_counter()
    page.goto(f"{url}/lesson?step={number}&lang={lang}")
    bs.wait_idle(page)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    return time.perf_counter() - start


def test_every_step_in_chinese_has_no_untranslated_english_and_the_handout_works_offline(
    tmp_path,
):
    bs.require_chromium()
    from playwright.sync_api import sync_playwright

    times = {}
    with bs.streamlit_server() as (url, _), sync_playwright() as p, bs.chromium(p) as page:
        open_step(page, url, 1, "zh")  # the first visit imports and warms the caches
        for number in range(1, len(STEPS) + 1):
            times[number] = open_step(page, url, number, "zh")
            assert page.locator('[data-testid="stException"]').count() == 0, number
            text = visible_text(page)
            assert "课程" in text and "English" in text, "the text is read as it is"
            left = english_words(text)
            assert not left, f"step {number}: untranslated {sorted(left)}"
            if number == 1 and os.environ.get("DEEPRNN_SCREENSHOTS"):
                page.screenshot(path=str(ASSETS / "lesson_zh.png"))
        if os.environ.get("DEEPRNN_SCREENSHOTS"):
            open_step(page, url, 1, "en")
            page.screenshot(path=str(ASSETS / "lesson_en.png"))
        print("lesson step open times (s):", {k: round(v, 2) for k, v in times.items()})

        # the arrow keys move through the steps (the top buttons' shortcuts)
        open_step(page, url, 3, "zh")
        page.locator('[data-testid="stMain"] h1').first.click()  # focus on the page, not a widget
        page.keyboard.press("ArrowRight")
        page.wait_for_url(re.compile(r"step=4"), timeout=60_000)
        bs.wait_idle(page)
        page.keyboard.press("ArrowLeft")
        page.wait_for_url(re.compile(r"step=3"), timeout=60_000)

        # the handout, as a teacher downloads it
        open_step(page, url, 1, "zh")
        page.locator(".st-key-open_handout summary").first.click(
            force=True
        )  # "inert" to Playwright
        bs.wait_idle(page)
        button = page.locator(".st-key-lesson_handout button")
        button.wait_for(timeout=120_000)
        with page.expect_download(timeout=120_000) as info:
            button.click()
        handout = tmp_path / "lesson.html"
        info.value.save_as(handout)
    size = handout.stat().st_size
    print(f"handout: {size:,} bytes")
    with sync_playwright() as p, bs.chromium(p) as page:
        asked = []

        def refuse(route):
            asked.append(route.request.url)
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                route.abort()

        page.route("**/*", refuse)
        errors = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(handout.as_uri())
        page.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {len(STEPS)}",
            timeout=60_000,
        )
        assert not errors, errors
        assert [u for u in asked if not u.startswith("file://")] == [], "nothing from a network"
        drawn = page.evaluate(
            "Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => "
            "(el._fullData || []).length)"
        )
        assert len(drawn) == len(STEPS) and all(n > 0 for n in drawn), drawn
        assert "问题" in page.inner_text("body")


def test_the_browsers_language_is_the_default():
    bs.require_chromium()
    from playwright.sync_api import sync_playwright

    with bs.streamlit_server() as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_ARGS)
        try:
            for locale, word in (("zh-CN", "课程"), ("en-US", "Lesson")):
                context = browser.new_context(locale=locale)
                page = context.new_page()
                page.goto(f"{url}/lesson?step=2")  # no ?lang=: st.context.locale decides
                bs.wait_idle(page)
                page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
                assert page.locator("h1").first.inner_text().startswith(word), locale
                context.close()
        finally:
            browser.close()
