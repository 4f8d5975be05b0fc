"""Issue 18, item 3: the lab pages in Chinese. Each page finished in Chinese opens at the defaults
with ?lang=zh without an exception, and what a reader sees (text, captions, notices, metrics,
expander labels, table headers and the figures' words and hover text, as localize leaves them)
holds no English word outside the notation's allowlist (the browser test tests/test_browser_zh.py
reads the rendered page as well). So does every page with a minGRU / minLSTM / LRU stack, the
Tuning map with a finished study, a hostile URL's notices and an upload's refusal."""

from __future__ import annotations

import json
import re

import pytest

from app.words.catalog import NAMES as OPTION_NAMES
from app.words.i18n import gettext as _
from tests.test_app import assert_clean, open_app
from tests.test_app_prose import shown_texts
from tests.test_browser_lesson import english_words

# the lab pages whose every default string is in the catalog (tests/test_browser_zh.py too)
FINISHED = [
    "views/tuning_map.py",
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
         "Var", "SGD", "Mikolov", "fan", "numpy", "tracemalloc", "diag", "CSV", "safetensors",
         "UTF", "npy", "pickle", "zip"}  # fmt: skip


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
            hover = trace.get("hovertemplate")  # what a pointer shows, without its %{fields}
            if isinstance(hover, str):
                texts.append(re.sub(r"%\{[^}]*\}", " ", hover))
    return texts


def widget_labels(at) -> list[str]:
    """The labels of the main area's widgets (a page's own form and buttons)."""
    kinds = ("button", "selectbox", "multiselect", "number_input", "select_slider", "slider",
             "checkbox", "radio", "text_input", "download_button")  # fmt: skip
    return [w.label for kind in kinds for w in at.main.get(kind)]


def left_english(at) -> dict[str, list[str]]:
    """What a reader of ``at`` sees that holds English words (the sidebar's captions and
    notices too: the reasons beside greyed controls, an upload's refusal)."""
    texts = shown_texts(at) + figure_texts(at) + widget_labels(at)
    texts += [e.label for e in at.sidebar.expander]
    texts += [re.sub(r"\\(.)", r"\1", e.value)  # as read: markdown's escapes undone
              for kind in ("caption", "info", "warning", "error") for e in
              getattr(at.sidebar, kind)]  # fmt: skip
    return {t[:120]: english(t) for t in texts if english(t)}


@pytest.mark.parametrize("page", FINISHED)
def test_a_finished_lab_page_in_chinese_has_no_english_sentence(page):
    at = open_app({"lang": "zh"}, page=page)
    assert_clean(at)
    left = left_english(at)
    assert not left, left


# the element-wise cells, each as a whole stack (their theory panel, gate figures, the scope
# notices of the mean-field theory) and mixed in one per-layer list
NEW_CELLS = {
    "mingru": {"cell": "mingru"},
    "minlstm": {"cell": "minlstm"},
    "lru": {"cell": "lru"},
    "mixed": {"cell": "per layer", "cells": "minlstm,lstm,lru,lru"},
}


@pytest.mark.parametrize("stack", list(NEW_CELLS))
@pytest.mark.parametrize("page", FINISHED[1:])
def test_every_page_with_a_new_cell_stack_is_in_chinese(page, stack):
    at = open_app({"lang": "zh", "L": "4", "T": "30", "h": "16"} | NEW_CELLS[stack], page=page)
    assert_clean(at)
    left = left_english(at)
    assert not left, left


def test_a_hostile_url_is_refused_in_chinese():
    """Unknown, repeated, invalid and re-spelled parameters, a bad per-layer list, and remedies
    the core's rules switch off: every notice and every greyed control's reason in Chinese."""
    query = {"lang": "zh", "zzz": "1", "L": ["3", "2"], "T": "abc", "h": "12.0", "d": "5",
             "cell": "per layer", "cells": "mingru,bogus", "res": "1", "ln": "1",
             "act": "per layer", "acts": "tanh,nope,relu,relu"}  # fmt: skip
    at = open_app(query, page="views/gradient_flow.py")
    assert not at.exception, at.exception
    notices = [w.value for w in at.warning] + [i.value for i in at.info]
    assert len(notices) >= 6, notices  # four from the URL, two lists, two remedy rules
    assert any("未知的 URL 参数" in n for n in notices), notices
    left = left_english(at)
    assert not left, left


def test_dropout_at_one_layer_and_the_lru_ring_are_said_in_chinese():
    query = {"lang": "zh", "L": "1", "p": "0.5", "cell": "lru", "rmin": "0.9", "rmax": "0.5"}
    at = open_app(query, page="views/information_flow.py")
    assert_clean(at)
    said = " ".join(i.value for i in at.info)
    assert "Dropout" in said and "LRU" in said, said
    left = left_english(at)
    assert not left, left


def test_an_upload_refusal_is_in_chinese():
    import io

    import numpy as np
    import torch

    from tests.test_app_upload import send

    buffer = io.BytesIO()
    np.save(buffer, np.array([[1.0, np.inf]]))
    at = open_app({"lang": "zh"}, page="views/information_flow.py")
    at = send(at, "upload_data", "bad.npy", buffer.getvalue())
    assert not at.exception
    assert at.sidebar.error and "被拒绝" in at.sidebar.error[0].value
    assert not left_english(at), left_english(at)
    evil = io.BytesIO()
    torch.save(torch.nn.GRU(3, 4), evil)
    at = send(at, "upload_model", "evil.pt", evil.getvalue())
    refusals = [e.value for e in at.sidebar.error]
    assert any("evil" in r and "被拒绝" in r for r in refusals), refusals
    assert not left_english(at), left_english(at)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_tuning_map_in_both_languages_says_what_its_study_measured(lang, tiny_studies):
    """A tiny study run to its end: the Chinese page has no English word, and in both
    languages the windows, the interval and the verdict printed are the measures' own."""
    from app.words import tuning
    from app.words.i18n import using
    from deeprnn_core.study import measures
    from tests.test_app_tuning import fill_form, page_spec

    at = fill_form(open_app({"lang": lang}, page="views/tuning_map.py"))
    with using(lang):
        apply, run = _("Apply"), _("Run study")
    next(b for b in at.button if b.label == apply).click()
    at.run()
    assert at.button(key="tm_run").label == run
    at.button(key="tm_run").click().run()
    job = tiny_studies.job_of(page_spec())
    job.thread.join(300)
    assert job.error is None and job.result.complete
    at.run()
    assert_clean(at)
    table = job.result.table
    windows = measures.good_window(table)
    verdict = measures.plain_vs_deep(table, "rnn", 2)
    text = " ".join(m.value for m in at.markdown)
    with using(lang):
        for w in windows.itertuples():
            assert _("L = {L}: {width}").format(L=w.depth, width=f"{w.width:.2f}") in text
        assert _(tuning.VERDICTS[verdict.verdict]) in text
        assert f"[{verdict.low:.3g}, {verdict.high:.3g}]" in text
        trend = measures.window_trend(windows, "rnn", 1.0)
        if trend in tuning.CLAIMS:
            assert _(tuning.CLAIMS[trend]).split("{")[0][:8] in text
    assert len(at.get("plotly_chart")) >= 2, "the map and the window's width"
    if lang == "zh":
        left = left_english(at)
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
    left = left_english(at)
    assert not left, left


def _refusals() -> list[str]:
    """The core's refusals of files a user can upload (deeprnn_core.data, .weights)."""
    import io
    import pickle

    import numpy as np

    from deeprnn_core.data.signals import load_sequence
    from deeprnn_core.weights.io import load_model

    def npy(array) -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, array)
        return buffer.getvalue()

    limits = dict(max_bytes=1 << 20, max_steps=50, max_batch=4)
    sequences = [b"", b"\xff\xfe\x00bad", b"a,b\n", b"1,2\n3\n", b"1,2\n3,x\n", b"1,2\n4,nan\n",
                 npy(np.zeros((60, 2))), npy(np.zeros((3, 9, 2))), npy(np.zeros(3)),
                 b"1,2,3\n" * 2]  # fmt: skip
    models = [b"", b"plain text, no model", pickle.dumps({"w": 1}), b"x" * (2 << 20)]
    said = []
    for data in sequences:
        try:
            load_sequence(data, input_size=2 if data == b"1,2,3\n" * 2 else None, **limits)
        except ValueError as err:
            said.append(str(err))
    for data in models:
        try:
            load_model(data, max_bytes=1 << 20)
        except ValueError as err:
            said.append(str(err))
    return said


def test_the_cores_words_are_said_in_chinese_at_the_app_boundary():
    """app/words/core_text: the theory's scope and its gaps, the remedy rules' notices, the order
    of computation, what overflowed and the core's refusals of uploaded files, in Chinese; in
    English each is the core's own text."""
    from app.words import core_text
    from app.words.i18n import using
    from deeprnn_core import RNNConfig
    from deeprnn_core.config import applicability
    from deeprnn_core.engine.order import PHASES, order_text
    from deeprnn_core.engine.overflow import QUANTITIES
    from deeprnn_core.theory import mean_field

    configs = [
        RNNConfig(num_layers=3, cell=c)
        for c in ("gru", "lstm", "lru", ("mingru", "lru", "lstm"), ("rnn", "rnn", "minlstm"))
    ]
    configs += [RNNConfig(num_layers=2, residual=True), RNNConfig(num_layers=2, layer_norm=True)]
    gaps = [mean_field.scope_gap(c) for c in configs]
    rules = applicability(("lstm", "mingru", "rnn"), 3, 5, 8, True, True, 0.0)
    rules += applicability("rnn", 1, 8, 8, dropout=0.5)
    assert {r.rule for r in rules} == {"layer_norm_cells", "residual_width",
                                       "dropout_between_layers"}  # fmt: skip
    orders = [(p, L, T) for p in PHASES for L, T in ((1, 5), (2, 7), (6, 40))]
    refusals = _refusals()
    assert len(refusals) >= 12, refusals
    with using("en"):
        assert [core_text.scope_gap(g) for g in gaps] == gaps
        assert [core_text.applicability(r) for r in rules] == [r.notice for r in rules]
        assert all(core_text.order(*o, order_text(*o)) == order_text(*o) for o in orders)
        assert [core_text.error(e) for e in refusals] == refusals
    with using("zh"):
        said = [core_text.rule(mean_field.SCOPE), *(core_text.scope_gap(g) for g in gaps)]
        said += [core_text.applicability(r) for r in rules]
        said += [core_text.order(*o, order_text(*o)) for o in orders]
        said += [core_text.quantity(k) for k in QUANTITIES]
        said += [core_text.error(e) for e in refusals]
    left = {t: english(t) for t in said if english(t)}
    assert not left, left
    # the numbers of the core's sentence are kept: d and h of the residual rule, the order's
    with using("zh"):
        residual = next(r for r in rules if r.rule == "residual_width")
        assert "d = 5" in core_text.applicability(residual)
        assert "h = 8" in core_text.applicability(residual)
        assert "t = 40..1" in core_text.order("backward", 6, 40, "")
        assert "第 6 层" in core_text.order("backward", 6, 40, "")


@pytest.mark.parametrize(
    "query",
    [
        {"L": "2", "T": "500", "act": "tanh", "init": "orthogonal", "grec": "3"},  # backward
        {"L": "8", "T": "500", "h": "256", "act": "relu", "grec": "3", "gin": "3"},  # forward
        {"L": "3", "T": "6", "walk": "1", "step": "20"},  # the step-through's order
    ],
)
def test_the_overflow_banner_and_the_order_of_computation_are_in_chinese(query):
    at = open_app(query | {"dtype": "float32", "lang": "zh"}, page="views/information_flow.py")
    assert_clean(at)
    said = [w.value for w in at.warning] + [c.value for c in at.caption]
    assert any("传播" in s for s in said), said  # forward / backward pass, in Chinese
    left = left_english(at)
    assert not left, left


def test_a_hostile_tuning_map_link_is_refused_in_chinese():
    """The Tuning map's form in the address bar (settings.tuning_query): bad fields fall back
    with a notice, in Chinese."""
    query = {"lang": "zh", "tmtask": "nope", "tmcells": "rnn,bogus", "tmdepths": "99",
             "tmlr": "0,-3", "tmnlr": "x", "tmsteps": "5.5", "tmh": "1e9"}  # fmt: skip
    at = open_app(query, page="views/tuning_map.py")
    assert_clean(at)
    notices = [i.value for i in at.info]
    assert len(notices) >= 7 and all("URL 参数" in n for n in notices[:7]), notices
    left = left_english(at)
    assert not left, left
