"""Every page with the new cells (minGRU, minLSTM, LRU; issue 19) at the defaults, whole stacks and
a mixed per-layer list: no exception, no error, the cells offered by the selector."""

from __future__ import annotations

import pytest

from app.settings import controls
from tests.test_app import assert_clean, open_app

PAGES = (
    "views/information_flow.py",
    "views/hidden_states.py",
    "views/gradient_flow.py",
    "views/depth_sweep.py",
    "views/plain_vs_deep.py",
    "views/ab_compare.py",
    "views/phase_diagram.py",
    "views/training.py",
)
NEW = ("mingru", "minlstm", "lru")


def test_the_selector_offers_the_new_cells_with_their_summaries():
    cell = next(c for c in controls.CONTROLS if c.key == "cell")
    assert set(NEW) <= set(cell.options)
    for name in ("minGRU", "minLSTM", "linear recurrent unit"):
        assert name in cell.help


@pytest.mark.parametrize("cell", NEW)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_with_each_new_cell_at_defaults(page, cell):
    at = open_app({"cell": cell}, page)
    assert_clean(at)
    assert at.query_params["cell"] == cell


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_with_a_mixed_per_layer_stack(page):
    at = open_app({"cell": "per layer", "cells": "lstm,lru,mingru,minlstm"}, page)
    assert_clean(at)
