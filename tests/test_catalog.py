"""The message catalog: every message of app/ is in app/locale/zh (make messages), each has a
Chinese translation with the same placeholders, the compiled .mo is the .po's, and the lesson's
words follow their numbers in both languages (words.lesson_answers with made-up numbers)."""

from __future__ import annotations

import re
import string

import numpy as np
import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.words import catalog, i18n, lesson_answers
from deeprnn_core import cells
from deeprnn_core.analysis.measures import MEASURES

CJK = re.compile(r"[\u4e00-\u9fff]")


def po():
    with catalog.PO.open("rb") as f:
        return read_po(f, locale="zh_Hans_CN", domain=i18n.DOMAIN)


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_every_message_of_the_app_is_in_the_catalog():
    have = {m.id for m in po() if m.id}
    missing = [m.id for m in catalog.extracted() if m.id and m.id not in have]
    assert not missing, f"run `make messages` and translate: {missing[:5]}"


def test_every_message_has_a_chinese_translation_with_the_same_placeholders():
    for m in po():
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(strings), f"no translation: {ids[0]!r}"
        assert "fuzzy" not in m.flags, ids[0]
        for s in strings:
            assert fields(s) == fields(ids[0]), (ids[0], s)
            words = re.sub(r"\{[^}]*\}", "", ids[0])
            if re.search(r"[a-z]{4,}", words) and ids[0] not in (
                "tanh RNN",
                *cells.names(),
            ):  # a cell's name is notation
                assert CJK.search(s) or s == ids[0] == "p = 0.25", (ids[0], s)


def test_the_compiled_catalog_is_the_po():
    with catalog.MO.open("rb") as f:
        mo = read_mo(f)

    def flat(x):
        return tuple(x) if isinstance(x, (list, tuple)) else x

    compiled = {flat(m.id): flat(m.string) for m in mo if m.id}
    written = {flat(m.id): flat(m.string) for m in po() if m.id}
    assert compiled == written, "run `make messages` to compile the .mo"
    assert po().plural_forms == "nplurals=1; plural=0;"


def test_the_catalog_keeps_the_cores_measure_names():
    assert {k: v for k, v in lesson_answers.MEASURE_NAMES.items()} == {
        k: name for k, (name, _f) in MEASURES.items()
    }


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("value", [1e-6, 0.5, 0.999, 1.0, 1.5, 3.0, 1e8])
def test_path_words_follow_the_number_in_both_languages(lang, value):
    with i18n.using(lang):
        text = lesson_answers.path_answer("time", value, 4, 11)
        words = {k: i18n.gettext(v) for k, v in lesson_answers.REGIMES.items()}
    whole = np.log10(value)
    expected = ("vanishes" if whole <= -1 else "explodes" if whole >= 1 else
                "stays about 1" if abs(whole) <= np.log10(1.01) else
                "shrinks" if whole < 0 else "grows")  # fmt: skip
    assert words[expected] in text, (text, expected)
    assert i18n.decimal(value) in text if lang == "zh" else True


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_plural_templates_take_the_count(lang):
    with i18n.using(lang):
        one = lesson_answers.formula_answer(np.ones((1, 1)), 4)
        many = lesson_answers.formula_answer(np.ones((2, 3)), 4)
    if lang == "en":
        assert "1 hidden state H" in one and "6 hidden states H" in many
    else:
        assert "1 个隐状态" in one and "6 个隐状态" in many


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("a", "b"), [(0.1, 0.05), (0.05, 0.1), (0.1, 0.1003)])
def test_loss_comparisons_follow_the_numbers(lang, a, b):
    with i18n.using(lang):
        said = lesson_answers.compare_words(a, b)
        expected = {"lower than": a > b * 1.01, "higher than": b > a * 1.01}
        word = next((w for w, yes in expected.items() if yes), "about the same as")
        assert said == i18n.gettext(word)


def test_numbers_are_grouped_as_the_language_writes_them():
    with i18n.using("zh"):
        assert i18n.count(12345) == "12,345"
        assert i18n.decimal(0.00208) == "0.00208"
        assert i18n.decimal(3.2e-13) == "3.20e-13"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pascanu_words_follow_sigma_max(lang):
    with i18n.using(lang):
        below = lesson_answers.pascanu_answer([0.9, 0.8], [1.0, 1.0], [True, True], 1e-5, 2, 30)
        above = lesson_answers.pascanu_answer([0.9, 2.0], [1.0, 1.0], [True, True], 10.0, 2, 30)
        none = lesson_answers.pascanu_answer([2.0], [float("nan")], [False], 1e-5, 1, 30)
        guaranteed = i18n.gettext(
            "Every layer is below 1/γ: the bound guarantees that the gradient vanishes through "
            "time."
        )
    assert guaranteed in below and guaranteed not in above
    assert "1" in above.split(guaranteed[:3])[0]
    assert "PascanuBound.applies" in none and guaranteed not in none
