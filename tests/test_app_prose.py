"""Issue 17, item 7: captions speak of what is shown. The core's code names
("deeprnn_core.engine.cost", "analysis.attenuation", "theory.gaussian_equivalent", ...) stood
in captions a learner reads; they live in each page's "How this is computed" expander now."""

from __future__ import annotations

import re

import pytest

from app.parts import layout
from tests.test_app import PAGES, assert_clean, open_app

CODE = re.compile(
    r"\b(deeprnn_core\.|analysis\.[a-z_]|theory\.[a-z_]|spectra\.[a-z_]|engine\.[a-z_]|"
    r"mean_field\.[a-z_]|scrub\.[a-z_]|phase\.[a-z_]|measures\.[a-z_]|Model\.[a-z_]|"
    r"training\.[a-z_]|training_rows\.)"
)
SETTINGS = {  # each page at the defaults, and where the page shows more
    "defaults": {},
    "gated (spectra, saturation)": {"cell": "lstm", "T": "20"},
    "heavy (budget notices)": {"L": "32", "T": "500", "h": "256", "cell": "lstm"},
    "scrub": {"scrub": "1", "L": "6", "T": "20"},
}


def shown_texts(at) -> list[str]:
    """Everything a reader sees on the page, outside the "How this is computed" expanders."""
    how = {m.value for e in at.expander if e.label == layout.HOW for m in e.markdown}
    texts = [
        e.value
        for kind in ("markdown", "caption", "info", "warning", "error", "success")
        for e in getattr(at.main, kind)
    ]
    texts += [e.label for e in at.main.expander if e.label != layout.HOW]
    texts += [m.label for m in at.main.metric]
    for table in at.main.table:
        texts += [str(v) for v in (*table.value.index, *table.value.columns)]
    return [t for t in texts if t not in how]


@pytest.mark.parametrize("setting", list(SETTINGS))
@pytest.mark.parametrize("page", [*PAGES, "views/phase_diagram.py", "views/training.py"])
def test_no_code_name_in_the_prose_and_the_expander_names_them(page, setting):
    at = open_app(SETTINGS[setting], page=page)
    assert_clean(at)
    named = [t for t in shown_texts(at) if CODE.search(t)]
    assert not named, named
    how = [e for e in at.expander if e.label == layout.HOW]
    assert len(how) == 1 and CODE.search(how[0].markdown[0].value), "the names are one click away"
