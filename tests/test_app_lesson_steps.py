"""The Lesson in Streamlit's AppTest: every step opens in both languages with no exception,
its answer follows the numbers at the current settings (recomputed here from the core's
summaries and analysis.measures), the step lives in the URL, and the sidebar holds only what
the step uses."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import parse_qsl

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.parts.lesson_content import content, lab_link, preset_value, settings_of
from app.runs import compute, lesson_runs, lesson_study
from app.settings import state
from app.words import i18n
from app.words import lesson as lesson_words
from app.words.lesson_answers import NO_H_PATH, REGIMES, final_loss
from app.words.lesson_beyond import NOT_LEARNED, TREND, VERDICTS
from app.words.lesson_steps import BY_KEY, STEPS
from deeprnn_core.analysis.measures import change, path_steps, regime
from deeprnn_core.study import measures
from tests.test_app import APP, assert_clean, open_app

CJK = re.compile(r"[\u4e00-\u9fff]")


def open_step(number: int | str, lang: str = "en", **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"step": str(number), "lang": lang, **query})
    return at.run()


def answer(at: AppTest) -> str:
    found = [m.value for m in at.markdown if m.value.startswith("**")]
    said = [v for v in found if "\n\n" in v]
    assert len(said) == 1, found
    return said[0].split("\n\n", 1)[1]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("number", range(1, len(STEPS) + 1))
def test_every_step_opens_in_both_languages(number, lang):
    at = open_step(number, lang)
    assert_clean(at)
    step = STEPS[number - 1]
    with i18n.using(lang):
        title = i18n.gettext(step.title)
    assert title in at.title[0].value
    assert at.get("plotly_chart"), "one live figure"
    text = answer(at)
    assert text.strip()
    if lang == "zh":
        assert CJK.search(text), text
        assert step.claim_zh in at.markdown[0].value
    else:
        assert not CJK.search(text), text
    assert any("lang=" + lang in m.value for m in at.markdown if "](" in m.value), "lab link"
    assert at.query_params["step"] == [str(number)] or at.query_params["step"] == str(number)
    # the sidebar: the language switch and the step's one control, nothing of the lab's
    widgets = [w for w in at.sidebar if getattr(w, "key", None)]
    keys = {w.key for w in widgets}
    assert keys == {"language_choice", "open_handout", f"lesson:{step.key}:{step.control}"}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("gain", [0.5, 1.0, 2.5])
def test_the_backward_answer_follows_the_measured_ratio(lang, gain):
    step = BY_KEY["backward"]
    at = open_step(STEPS.index(step) + 1, lang)
    at.slider(key="lesson:backward:recurrent_gain").set_value(gain).run()
    assert_clean(at)
    s = compute.summarize(compute.plan(settings_of(step, gain)).spec)
    L, T = s.hidden_norm.shape
    value = s.measures["time"]
    word = regime(value, int(path_steps("time", L, T)))
    with i18n.using(lang):
        expected = i18n.gettext(REGIMES[word])
    text = answer(at)
    first = text.split("。" if lang == "zh" else ". ")[0]
    assert f"{value:.2e}"[:4] in first or i18n.decimal(value) in first, (first, value)
    assert expected in first, (first, expected)
    for other in set(REGIMES) - {word}:
        with i18n.using(lang):
            wrong = i18n.gettext(REGIMES[other])
        assert wrong not in first or wrong in expected, (first, wrong)


def test_the_remedy_answer_says_which_way_the_depth_ratio_moved():
    step = BY_KEY["residual"]
    at = open_step(STEPS.index(step) + 1)
    at.radio(key="lesson:residual:choice").set_value("residual").run()
    assert_clean(at)
    plain = compute.summarize(compute.plan(settings_of(step, "none")).spec).measures["depth"]
    treated = compute.summarize(compute.plan(settings_of(step, "residual")).spec).measures["depth"]
    moved = "rose" if treated > plain else "fell"
    assert f"it {moved}" in answer(at).split(". ")[0] or "no clear change" in answer(at)


def test_a_training_step_opens_from_the_shipped_runs():
    step = BY_KEY["learning"]
    at = open_step(STEPS.index(step) + 1)
    assert_clean(at)
    text = answer(at)
    numbers = [float(x) for x in re.findall(r"\d+\.\d+", text)]
    rnn, lstm = lesson_runs.get("adding_rnn_10"), lesson_runs.get("adding_lstm_10")
    assert (
        float(f"{final_loss(rnn):.3g}") in numbers and float(f"{final_loss(lstm):.3g}") in numbers
    )
    word = "lower" if final_loss(lstm) < final_loss(rnn) else "higher"
    assert f"is {word} than" in text


@pytest.mark.parametrize("bad", ["0", str(len(STEPS) + 1), "-1", "abc", "1e3", "٣", "x" * 500, ""])
def test_a_hostile_step_opens_step_1_with_a_notice(bad):
    at = open_step(bad)
    assert_clean(at)
    assert STEPS[0].key and "formula" in at.title[0].value.lower()
    assert at.warning and "step" in at.warning[0].value


def test_next_and_previous_move_and_the_url_follows():
    at = open_step(1)
    at.button(key="lesson_next_top").click().run()
    assert_clean(at)
    assert at.query_params["step"] in ("2", ["2"])
    at.button(key="lesson_next_bottom").click().run()
    at.button(key="lesson_prev_top").click().run()
    assert at.query_params["step"] in ("2", ["2"])
    assert "stack" in STEPS[1].key


def test_the_language_switch_changes_the_words_and_the_link():
    at = open_step(3)
    at.radio(key="language_choice").set_value("zh").run()
    assert_clean(at)
    assert CJK.search(answer(at))
    assert at.query_params["lang"] in ("zh", ["zh"])


def test_the_landing_page_is_the_lesson_and_an_old_lab_link_opens_the_flow_page():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert_clean(at)
    assert at.title[0].value.startswith("Lesson")
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"L": "3", "walk": "1", "step": "5"})
    at.run()
    assert_clean(at)
    assert at.title[0].value == "Information flow"
    assert at.query_params["step"] in ("5", ["5"]), "the flow page's step-through step kept"


def test_preset_values_are_legal_for_their_controls():
    for step in STEPS:
        value = preset_value(step)
        s = settings_of(step, value)
        assert compute.plan(s).error is None, step.key
        assert np.isfinite(float(s.num_layers))


def test_a_lab_page_in_chinese_has_its_sidebar_and_title_translated():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"L": "3", "T": "10", "lang": "zh"})
    at.run()
    assert_clean(at)
    assert at.title[0].value == "信息流"
    labels = [s.label for s in at.sidebar.slider]
    assert labels and all(CJK.search(label) for label in labels), labels
    assert at.query_params["lang"] in ("zh", ["zh"]), "the shared link keeps the language"


@pytest.mark.parametrize("bad", ["fr", "ZH", "<b>x</b>", "z" * 300])
def test_a_hostile_language_falls_back_with_a_notice(bad):
    at = open_step(2, bad)
    assert_clean(at)
    assert at.title[0].value.startswith("Lesson")
    assert any("lang" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.query_params["lang"] in ("en", ["en"])


def test_no_choice_of_a_lesson_control_brings_an_untranslated_notice():
    for key in ("residual", "not_held", "depth"):
        step = BY_KEY[key]
        at = open_step(STEPS.index(step) + 1, "zh")
        widget_key = f"lesson:{key}:{step.control}"
        if step.choices:
            values = [c.value for c in step.choices]
            widget = at.radio(key=widget_key)
        elif step.control == "cell":
            widget = at.selectbox(key=widget_key)
            values = list(widget.options)
        else:
            widget, values = at.slider(key=widget_key), [2, 12]
        for value in values:
            widget.set_value(value)
            at.run()
            assert_clean(at)
            assert not at.info, (key, value, [i.value for i in at.info])


def test_the_first_twelve_steps_keep_their_numbers():
    """Links handed out before the later steps were added still open the same content."""
    first = ("formula", "stack", "backward", "depth", "exploding", "learning", "clipping",
             "residual", "dropout", "schedule", "table", "not_held")  # fmt: skip
    assert tuple(s.key for s in STEPS[:12]) == first
    assert [s.key for s in STEPS[12:]] == ["recurrences", "tuning"]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("cell", ["lru", "mingru", "minlstm"])
def test_the_recurrence_answer_follows_both_networks_measures(lang, cell):
    step = BY_KEY["recurrences"]
    at = open_step(STEPS.index(step) + 1, lang)
    at.radio(key="lesson:recurrences:choice").set_value(cell).run()
    assert_clean(at)
    s = settings_of(step, cell)
    assert (s.cell, s.a_cell) == ("rnn", cell)
    rnn = compute.summarize(compute.plan(s).spec)
    other = compute.summarize(compute.plan(replace(s, cell=cell)).spec)
    L, T = rnn.hidden_norm.shape
    a, b = rnn.measures["corner"], other.measures["corner"]
    first = answer(at).split("\n\n")[0]
    assert i18n.decimal(a) in first and i18n.decimal(b) in first, first
    c = change("corner", a, b)
    with i18n.using(lang):
        said = i18n.gettext(REGIMES[regime(b, int(path_steps("corner", L, T)))])
        phrase = lesson_words.phrase(c)
        wrong = lesson_words.phrase(replace(c, direction="fell" if c.direction == "rose" else
                                            "rose"))  # fmt: skip
    assert said in first and phrase in first and wrong.split(" ")[0] not in first, first
    # the time-only path: the LRU's top-layer H_t feeds no later step
    second = answer(at).split("\n\n")[1]
    with i18n.using(lang):
        no_path = i18n.gettext(NO_H_PATH)
    assert (no_path in second) == (cell == "lru"), second
    assert at.get("plotly_chart")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("value", [c.value for c in BY_KEY["tuning"].choices])
def test_the_tuning_answer_follows_the_shipped_studys_measures(lang, value):
    step = BY_KEY["tuning"]
    at = open_step(STEPS.index(step) + 1, lang)
    at.radio(key="lesson:tuning:choice").set_value(value).run()
    assert_clean(at)
    name, cell = value.split("_")
    table, spec = lesson_study.table(name), lesson_study.spec(name)
    windows = measures.good_window(table)
    spacing = float(np.median(np.diff(np.log10(spec.lrs))))
    trend = measures.window_trend(windows, cell, spacing)
    verdict = measures.plain_vs_deep(table, cell, max(spec.depths))
    text = answer(at)
    widths, said, deeper, recipe = text.split("\n\n")
    assert f"h = {spec.hidden_size}" in recipe and f"{len(spec.lrs)}" in recipe
    for w in windows[windows.cell == cell].itertuples():
        with i18n.using(lang):
            shown = i18n.gettext("L = {L}: {width}").format(L=w.depth, width=i18n.decimal(w.width))
        assert shown in widths, widths
    with i18n.using(lang):  # each verdict's own ending, after its last number
        tails = {t: i18n.gettext(TREND[t]).rsplit("}", 1)[1] for t in TREND}
        tails[measures.NOT_LEARNED] = i18n.gettext(NOT_LEARNED).rsplit("}", 1)[1]
        verdict_words = i18n.gettext(VERDICTS[verdict.verdict])
    assert tails[trend] in said, (trend, said)
    assert not [t for t, tail in tails.items() if t != trend and tail in said], said
    assert verdict_words in deeper, deeper
    assert i18n.decimal(verdict.low) in deeper and i18n.decimal(verdict.high) in deeper
    assert at.get("plotly_chart")


def test_the_recurrence_steps_lab_link_opens_the_ab_page_with_that_cell_against_the_rnn():
    step = BY_KEY["recurrences"]
    shown = content(step, "mingru")
    link = lab_link(shown.page, shown.settings)
    path, query = link.split("?", 1)
    assert path == "ab"
    at = open_app(dict(parse_qsl(query)), "views/ab_compare.py")
    assert_clean(at)
    assert at.session_state[state.stored("a_cell")] == "mingru"
    assert at.session_state[state.stored("cell")] == "rnn"
    assert at.session_state[state.stored("steps")] == 100
