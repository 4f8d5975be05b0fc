"""Issue 18, item 4: every lab page finished in Chinese (tests/test_app_zh.FINISHED) opens in
Debian's Chromium at the defaults with ?lang=zh, draws its figures, and shows no English word
outside the notation's allowlist: the main area's and the sidebar's text and the figures' SVG
text; so do Gradient flow with an LRU and a minGRU stack and Hidden states with minLSTM.
Skips without Chromium (fails with CI=true)."""

from __future__ import annotations

from tests import browser_support as bs
from tests.test_app_zh import FINISHED, english
from tests.test_browser_lesson import visible_text

PATHS = {  # the page's URL path (streamlit_app.PAGES)
    "views/information_flow.py": "flow",
    "views/gradient_flow.py": "gradients",
    "views/hidden_states.py": "hidden",
    "views/depth_sweep.py": "sweep",
    "views/plain_vs_deep.py": "compare",
    "views/training.py": "training",
    "views/ab_compare.py": "ab",
    "views/phase_diagram.py": "phase",
    "views/tuning_map.py": "tuning",
}
# the element-wise cells' own panels: the LRU's and the minGRU's theory, the minLSTM's gates
NEW_CELLS = ["gradients?cell=lru&lang=zh", "gradients?cell=mingru&lang=zh",
             "hidden?cell=minlstm&lang=zh"]  # fmt: skip


def test_every_finished_lab_page_in_chinese_has_no_untranslated_english():
    bs.require_chromium()
    from playwright.sync_api import sync_playwright

    with bs.streamlit_server() as (url, _), sync_playwright() as p, bs.chromium(p) as page:
        for file in [*(f"{PATHS[f]}?lang=zh" for f in FINISHED), *NEW_CELLS]:
            page.goto(f"{url}/{file}")
            bs.wait_idle(page, 180_000)
            if page.locator('[data-testid="stPlotlyChart"]').count():  # Plain vs deep: tables
                page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
                bs.wait_idle(page, 180_000)
            assert page.locator('[data-testid="stException"]').count() == 0, file
            text = visible_text(page)
            icons = page.eval_on_selector_all(  # a notice's icon: a ligature named in its text
                '[data-testid*="Icon"]',
                "els => els.map(e => (e.innerText || e.textContent || '').trim())",
            )
            for icon in sorted(set(icons) - {""}, key=len, reverse=True):
                text = text.replace(icon, " ")
            text += "\n".join(
                page.eval_on_selector_all(
                    ".js-plotly-plot text", "els => els.map(e => e.textContent)"
                )
            )
            assert "计算方法" in text, "the text is read as it is ('How this is computed')"
            left = {line[:120]: english(line) for line in text.splitlines() if english(line)}
            assert not left, f"{file}: untranslated {left}"
