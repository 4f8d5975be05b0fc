"""The Tuning map page in AppTest (trials in-process, a temporary database): the study runs
in a background thread on click, two sessions share one job, the figures carry the measures'
numbers, the verdict words follow them, and the same study opens from the database with no
job at all. Plus the pure figures on a constructed table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.figures import tuning_map as fig
from app.runs import studies
from deeprnn_core.study import StudySpec, log_lrs, measures
from tests.figure_data import values
from tests.test_app import assert_clean, charts, open_app

PAGE = "views/tuning_map.py"


def page_spec() -> StudySpec:
    """The spec the page builds from the values the test sets."""
    return StudySpec(
        task="adding", length=20, cells=("rnn",), depths=(1, 2), lrs=log_lrs(1e-3, 1e-1, 3),
        seeds=2, steps=6, hidden_size=4, batch_size=32, n_train=256, n_val=64,
    )  # fmt: skip


def set_form(at):
    """Fill the form with page_spec's fields and apply it."""
    next(b for b in fill_form(at).button if b.label == "Apply").click()
    return at.run()


def fill_form(at):
    """Put page_spec's fields into the form's widgets (not applied yet)."""
    at.selectbox(key="tm_task").set_value("adding")
    at.multiselect(key="tm_cells").set_value(["rnn"])
    at.multiselect(key="tm_depths").set_value([1, 2])
    at.number_input(key="tm_seeds").set_value(2)
    at.select_slider(key="tm_lrs").set_value((-3.0, -1.0))
    at.number_input(key="tm_count").set_value(3)
    at.number_input(key="tm_steps").set_value(6)
    at.number_input(key="tm_h").set_value(4)
    return at


def test_the_page_runs_a_study_in_the_background_and_shows_its_measures(tiny_studies):
    at = set_form(open_app(page=PAGE))
    assert_clean(at)
    spec = page_spec()
    assert any("has not been run yet" in i.value for i in at.info)
    assert any(f"{spec.size} trials of 6 updates" in c.value for c in at.caption)
    at.button(key="tm_run").click().run()
    job = studies.job_of(spec)
    job.thread.join(120)
    assert job.error is None and job.result.complete
    at.run()
    assert_clean(at)
    table = job.result.table
    spread, windows = measures.seed_spread(table), measures.good_window(table)
    heat = next(c for c in charts(at) if c["data"][0]["type"] == "heatmap")
    z = values(heat["data"][0]["z"])
    want = np.log10(spread.sort_values(["depth", "lr"])["median"].to_numpy()).reshape(2, 3)
    np.testing.assert_allclose(z, want, rtol=1e-6)
    text = " ".join(m.value for m in at.markdown)
    for w in windows.itertuples():
        assert f"L = {w.depth}: {w.width:.2f}" in text
    verdict = measures.plain_vs_deep(table, "rnn", 2)
    assert f"[{verdict.low:.3g}, {verdict.high:.3g}]" in text
    assert any("optuna-dashboard sqlite:///" in c.value for c in at.code)
    # a new server (no job) opens the same study from the database at once
    studies._JOBS.clear()
    again = open_app(page=PAGE)
    again = set_form(again)
    assert_clean(again)
    assert again.button(key="tm_run").disabled  # complete: nothing to run
    assert any(c["data"][0]["type"] == "heatmap" for c in charts(again))


def test_two_sessions_share_one_study_and_cancel_stops_it(tiny_studies):
    spec = StudySpec(
        task="adding", length=20, cells=("rnn",), depths=(1,), lrs=(1e-3, 1e-2), seeds=20,
        steps=200, hidden_size=4, n_train=64, n_val=16,
    )  # fmt: skip
    first = studies.start(spec)
    assert studies.start(spec) is first  # the second session joins the running job
    studies.cancel(spec)
    first.thread.join(120)
    assert first.result.cancelled and len(first.result.table) < spec.size
    second = studies.start(spec)  # after it stopped: a new job resumes from the database
    assert second is not first
    second.cancel.set()
    second.thread.join(120)


def test_map_figure_outlines_each_window_and_width_figure_carries_the_widths():
    rows = [
        ("gru", L, lr, s, v + 0.01 * s, None)
        for L, per_lr in ((1, (0.5, 0.2, 0.21, 0.9)), (3, (0.5, 0.6, 0.2, 0.9)))
        for lr, v in zip((1e-3, 1e-2, 1e-1, 1.0), per_lr)
        for s in range(3)
    ]
    t = pd.DataFrame(rows, columns=["cell", "depth", "lr", "seed", "val_loss", "diverged"])
    spread, windows = measures.seed_spread(t), measures.good_window(t)
    f = fig.map_figure(spread, windows, "gru")
    rects = [(s.x0, s.x1, s.y0, s.y1) for s in f.layout.shapes]
    assert rects == [(-2.5, -0.5, -0.5, 0.5), (-1.5, -0.5, 0.5, 1.5)]  # L=1: 1e-2..1e-1
    np.testing.assert_allclose(f.data[0].z[0][1], np.log10(0.21))  # median of 0.2, .21, .22
    w = fig.width_figure(windows)
    assert list(w.data[0].y) == [1.0, 0.0] and list(w.data[0].x) == [1.0, 3.0]
    assert list(w.layout.xaxis.tickvals) == [1, 3], "ticks at the study's depths only"


def open_at(query: dict):
    """A fresh session opened with ``query`` (its first run reads the link: AppTest starts at
    "/", a browser at /tuning), then the Tuning map."""
    return open_app(query, PAGE)


def test_a_link_opens_the_same_study_and_hostile_values_fall_back(tiny_studies):
    """The form is in the address bar: a link opens the form (so the same study key) it
    was shared from, keeps it across pages, and a bad value falls back with a notice."""
    from app.runs import lesson_study
    from app.settings import tuning_query

    at = set_form(open_app(page=PAGE))
    link = {k: v if isinstance(v, str) else v[-1] for k, v in at.query_params.items()}
    assert link["tmcells"] == "rnn" and link["tmdepths"] == "1,2" and link["tmh"] == "4"
    assert link["tmtask"] == "adding" and link["tmlr"] == "-3,-1"
    assert "tmnlr" in link and "tmseeds" in link and "tmcells" in link
    from app.settings import tuning_query as tq

    assert "tmtask" not in tq.to_query(tq.DEFAULTS) == {}, "defaults are not written"
    shared = open_at(link)
    assert_clean(shared)
    assert not shared.info or not any("not valid" in i.value for i in shared.info)
    assert shared.multiselect(key="tm_cells").value == ["rnn"]
    assert shared.number_input(key="tm_steps").value == 6
    assert any(f"{page_spec().size} trials of 6 updates" in c.value for c in shared.caption)
    shared.switch_page("views/information_flow.py").run()
    shared.switch_page(PAGE).run()  # back: the form as it was, in the URL again
    assert shared.number_input(key="tm_h").value == 4
    assert "4" in shared.query_params["tmh"]
    hostile = open_at({"tmtask": "<b>x</b>", "tmdepths": "1,5", "tmh": "1e9", "tmseeds": "3"})
    assert_clean(hostile)
    notices = " ".join(i.value for i in hostile.info)
    assert notices.count("is not valid") == 3 and "<b>x</b>" in notices
    assert hostile.selectbox(key="tm_task").value == "chars"  # the default
    assert hostile.multiselect(key="tm_depths").value == [1, 2, 4]
    assert not any("Unknown URL parameter" in i.value for i in hostile.info)
    # the Lesson's step 14 links here with its shipped study's form
    query = lesson_study.query("chars")
    values, notices = tuning_query.from_query(query)
    assert not notices and values["task"] == "chars" and values["depths"] == (1, 2, 4, 8)
    assert values["count"] == 7 and values["lrs"] == (-4.0, 0.0) and values["seeds"] == 5
