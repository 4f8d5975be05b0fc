"""The handout builder (figures.handout): one HTML file, plotly.js inside exactly once, no
address outside the file, every step's figure and text, in both languages."""

from __future__ import annotations

import re

import pytest

from app.figures.handout import handout_html, markdown_html
from app.parts.lesson_content import content
from app.words import i18n
from app.words.lesson_steps import STEPS


@pytest.fixture(scope="module")
def shown():
    return {lang: _build(lang) for lang in ("en", "zh")}


def _build(lang):
    with i18n.using(lang):
        steps = [(s, content(s)) for s in STEPS]
        links = [(s.title, f"lesson?step={i}&lang={lang}") for i, s in enumerate(STEPS, 1)]
        return handout_html(steps, links, "", lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_self_contained_file(shown, lang):
    html = shown[lang]
    assert html.count("Plotly.newPlot") == len(STEPS)
    assert len(re.findall(r"plotly\.js v\d", html)) == 1, "plotly.js embedded once"
    assert not re.search(r"<script[^>]+src=", html), "no script from anywhere else"
    pages = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)  # plotly.js's own text
    assert not re.search(r"""(src|href)=["']https?:""", pages)
    assert f'lang="{lang}"' in html
    for i in range(1, len(STEPS) + 1):
        assert f"lesson?step={i}&amp;lang={lang}" in html


def test_the_text_is_in_the_language(shown):
    assert "问题" in shown["zh"] and "Question" in shown["en"]
    assert STEPS[0].claim_zh in shown["en"], "the original stays quoted in English too"


def test_with_the_apps_address_each_step_links_to_the_lab():
    with i18n.using("zh"):
        steps = [(s, content(s)) for s in STEPS[:2]]
        lab = [f"http://host/{c.page}?lang=zh" for _s, c in steps]
        out = handout_html(steps, [], "http://host/", "zh", lab)
    assert 'href="http://host/flow?lang=zh"' in out and "在实验室中打开" in out


def test_markdown_is_escaped_and_kept():
    out = markdown_html("**a** `<b>` and *c*\n\n- one\n- two")
    assert "<strong>a</strong>" in out and "<code>&lt;b&gt;</code>" in out
    assert "<em>c</em>" in out and out.count("<li>") == 2
