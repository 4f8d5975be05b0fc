"""Issue 17: an old or unknown page path opens a page, not Streamlit's "Page not found" dialog.
``/flow?L=7`` (the landing page's old path) opened the dialog over the landing page; a view's
file name or a typo did the same. Each now opens the page it names, or the landing page, with
the link's settings."""

from __future__ import annotations

import pytest

from tests import browser_support as bs

CASES = [  # path -> the page's title
    ("", "Information flow"),
    ("flow", "Information flow"),
    ("hidden_states", "Hidden states"),
    ("no-such-page", "Information flow"),
    ("gradients", "Gradient flow"),
]


@pytest.mark.parametrize("path,title", CASES)
def test_old_and_unknown_paths_open_a_page_without_the_dialog(app_url, path, title):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, bs.chromium(p) as page:
        page.goto(f"{app_url.rstrip('/')}/{path}?L=7")
        page.wait_for_selector(f'h1:has-text("{title}")', timeout=60_000)
        bs.wait_idle(page)
        page.wait_for_timeout(500)  # the dialog, if any, comes with the first script run
        assert page.get_by_text("Page not found").count() == 0, path
        assert page.locator('[data-testid="stDialog"]').count() == 0, path
        assert page.locator('[data-testid="stException"]').count() == 0, path
        depth = page.locator(".st-key-num_layers input[type=range]").first
        assert depth.get_attribute("value") == "7", "the link's settings apply"
