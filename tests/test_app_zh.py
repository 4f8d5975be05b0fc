"""Issue 18, item 3: the lab pages in Chinese. Each page finished in Chinese opens at the defaults
with ?lang=zh without an exception, and what a reader sees (text, captions, notices, metrics,
expander labels, table headers and the figures' words, as localize leaves them) holds no English
word outside the notation's allowlist (the browser test tests/test_browser_zh.py reads the
rendered page as well)."""

from __future__ import annotations

import json
import re

import pytest

from app.words.catalog import NAMES as OPTION_NAMES
from tests.test_app import assert_clean, open_app
from tests.test_app_prose import shown_texts
from tests.test_browser_lesson import english_words

# the lab pages whose every default string is in the catalog (tests/test_browser_zh.py too)
FINISHED = [
    "views/ab_compare.py",
    "views/phase_diagram.py",
    "views/plain_vs_deep.py",
    "views/training.py",
    "views/information_flow.py",
    "views/gradient_flow.py",
    "views/hidden_states.py",
    "views/depth_sweep.py",
]
# what is not a word a reader reads: code (`analysis.x`), a link's address, an HTML tag, a LaTeX
# command, a function's or a dtype's name (log10, float64), a file's path, a dotted name in code
# (torch.optim, History.wall_time: the browser shows code spans without their backticks)
MARKUP = re.compile(
    r"`[^`]*`|https?://[^)\s]+|<[^>]+>|\\[A-Za-z]+|\b(float|log)(?=\d)|\b[\w/]+\.py\b|\b\w+(\.\w+)+"
)
# people's and libraries' names (the papers cited) and notation (Var, fan-in), kept as they are; the
# options that are names (activations, init schemes, schedules, optimizers: catalog.NAMES)
NAMES = {"Poole", "Schoenholz", "Chen", "Pennington", "PyTorch", "Saxe", "Glorot", "Bengio",
         "Hochreiter", "Schmidhuber", "Arjovsky", "Shah", "Keeling", "Whorf", "NOAA", "NGDC",
         "Var", "SGD", "Mikolov", "fan", "numpy", "tracemalloc"}  # fmt: skip


def english(text: str) -> list[str]:
    return sorted(english_words(MARKUP.sub(" ", text)) - NAMES - OPTION_NAMES)


def figure_texts(at) -> list[str]:
    """The figures' titles, axis titles, annotations and trace names, as sent to the browser."""
    texts = []
    for chart in at.get("plotly_chart"):
        fig = json.loads(chart.proto.spec)
        layout = fig.get("layout", {})
        for key, value in layout.items():
            if key.startswith(("xaxis", "yaxis")) and isinstance(value, dict):
                texts.append(str((value.get("title") or {}).get("text") or ""))
                texts += [str(t) for t in value.get("ticktext") or ()]
        texts.append(str((layout.get("title") or {}).get("text") or ""))
        texts += [str(a.get("text") or "") for a in layout.get("annotations") or ()]
        for trace in fig.get("data", ()):
            # a legend entry (a heatmap's name is shown on hover only)
            if trace.get("showlegend", True) is not False and trace.get("type") != "heatmap":
                texts.append(str(trace.get("name") or ""))
    return texts


@pytest.mark.parametrize("page", FINISHED)
def test_a_finished_lab_page_in_chinese_has_no_english_sentence(page):
    at = open_app({"lang": "zh"}, page=page)
    assert_clean(at)
    texts = shown_texts(at) + figure_texts(at)
    texts += [e.label for e in at.sidebar.expander]
    left = {t[:120]: english(t) for t in texts if english(t)}
    assert not left, left


@pytest.mark.parametrize(
    ("page", "button"),
    [
        ("views/training.py", "train"),
        ("views/plain_vs_deep.py", "train_compare"),
        ("views/ab_compare.py", "train_ab"),
    ],
)
def test_after_training_the_results_are_in_chinese(page, button, tiny_studies):
    """A short run (the Train buttons): the result sentences, tables and figures in Chinese.
    Plain vs deep's button starts a study in the background: wait for it, then redraw."""
    query = {"L": "2", "h": "8", "T": "12", "n": "20", "bs": "8", "seed": "3", "lang": "zh"}
    at = open_app(query, page=page)
    at.button(key=button).click().run()
    jobs = list(tiny_studies._JOBS.values())
    for job in jobs:
        job.thread.join(300)
        assert job.error is None, job.error
    if jobs:
        at.run()
    assert_clean(at)
    texts = shown_texts(at) + figure_texts(at)
    left = {t[:120]: english(t) for t in texts if english(t)}
    assert not left, left
