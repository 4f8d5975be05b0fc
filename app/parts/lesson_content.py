"""What one Lesson step shows at one value of its control: the figure (an app/figures function,
its text in the run's language), the answer worded from the numbers, an optional table, and
the settings the "open this in the lab" link carries. Every number comes through app/runs.
No Streamlit widgets here: the view draws this, and the handout builds it at the presets."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from app import figures
from app.figures import training as training_figures
from app.figures import tuning_map as tuning_figures
from app.figures.localize import localize
from app.runs import compute, lesson_runs, lesson_study
from app.runs import theory as run_theory
from app.settings.controls import BY_KEY, CONTROLS, Settings, to_query
from app.words import lesson
from app.words import lesson_answers as answers
from app.words import lesson_beyond as beyond
from app.words.i18n import N_, decimal, language
from app.words.i18n import gettext as _
from app.words.lesson_steps import Step, choice
from deeprnn_core.analysis.measures import MEASURES

DEFAULTS = {c.key: c.default for c in CONTROLS}
SCHEDULE_NAMES = {"cosine": N_("cosine annealing"), "step": N_("step decay")}


@dataclass(frozen=True)
class Content:
    figure: Any  # plotly Figure
    answer: str  # markdown
    settings: Any  # controls.Settings the lab link opens (or its query, a dict)
    page: str  # the lab page's URL path
    table: list | None = None  # rows for st.table (first row: the header)
    notices: tuple[str, ...] = ()


def preset_value(step: Step) -> Any:
    """The control's value at the step's preset."""
    if step.control == "choice":
        return step.choices[0].value
    return dict(step.preset).get(step.control, BY_KEY[step.control].default)


def settings_of(step: Step, value: Any = None) -> Settings:
    """The step's Settings: the defaults, its preset, and the control's value."""
    changes = DEFAULTS | dict(step.preset)
    if step.control == "choice":
        changes |= dict(choice(step, value).settings)
    elif value is not None:
        changes[step.control] = value
    return Settings(**changes)


def lab_link(page: str, settings: Settings, base: str = "") -> str:
    """The lab page's URL with every setting and the language (``base``: the app's root URL,
    empty for a link relative to the app)."""
    query = dict(settings) if isinstance(settings, dict) else to_query(settings)
    query |= {"lang": language()}
    return f"{base.rstrip('/') + '/' if base else ''}{page}?{urlencode(query)}"


def _summary(settings: Settings):
    plan = compute.plan(settings)
    if plan.error:
        raise ValueError(plan.error)
    return plan.spec, compute.summarize(plan.spec), plan.notices


def _grid(s, summary, spec, **kwargs):
    return figures.flow_grid(
        summary.hidden_norm, summary.grad_hidden_norm, summary.nonfinite_hidden,
        summary.nonfinite_grad, summary.input_norm, summary.output_norm,
        cells=spec.config.cells, **kwargs,
    )  # fmt: skip


def _measures_table(plain: dict, deep: dict, num_layers: int, steps: int, along_h) -> list:
    severity = answers.severity_of(plain, deep, num_layers, steps, along_h)
    head = [_("measure"), _("plain RNN (L = 1)"), _("deep RNN (L = {L})").format(L=num_layers),
            _("the deep one's problem")]  # fmt: skip

    def shown(value: float) -> str:  # no path (nan) is a dash, as on the Plain vs deep page
        return "—" if math.isnan(value) else decimal(value)

    rows = [[answers.name(k), shown(plain[k]), shown(deep[k]),
             _(answers.SEVERITY[severity[k]])] for k in MEASURES]  # fmt: skip
    return [head, *rows]


def content(step: Step, value: Any = None) -> Content:
    """The step's figure, answer and link at control value ``value`` (None: the preset)."""
    value = preset_value(step) if value is None else value
    s = settings_of(step, value)
    key, table = step.key, None
    if key in ("learning", "dropout", "schedule"):
        return _trained(step, value)
    if key == "tuning":
        return _study(step, value)
    if key == "recurrences":
        return _recurrence(step, value, s)
    spec, summary, notices = _summary(s)
    L, T = summary.hidden_norm.shape
    if key == "formula":
        fig = _grid(s, summary, spec, color_by="hidden")
        text = answers.formula_answer(summary.hidden_norm, spec.config.hidden_size)
    elif key == "stack":
        lit, phase, cell = figures.lit_mask(L, T, int(value))
        fig = _grid(s, summary, spec, color_by="hidden" if phase == "forward" else "grad",
                    lit=lit, current=cell)  # fmt: skip
        text = answers.walk_answer(int(value), 2 * L * T, phase, cell, int(lit.sum()))
    elif key in ("backward", "exploding"):
        fig = figures.grad_lines(summary.grad_hidden_norm, summary.nonfinite_grad)
        text = answers.backward_answer(summary.measures, L, T, lesson.time_path(spec.config))
        if key == "exploding":
            bound = run_theory.pascanu(spec)
            text = answers.pascanu_answer(bound.top_singular, bound.gamma, bound.applies,
                                          summary.measures["time"], L, T)  # fmt: skip
    elif key == "depth":
        sweep_spec, more = compute.sweep_plan(spec, int(s.sweep_layers), int(s.sweep_seeds))
        notices += tuple(more)
        sweep = compute.depth_sweep(sweep_spec)
        medians = {k: sweep.measure_quantiles(k, (0.5,))[0] for k in MEASURES}
        names = {k: _(answers.MEASURE_NAMES[k]) for k in MEASURES}
        fig = figures.measures_figure(sweep.depths, medians, names)
        text = answers.sweep_answer(sweep.depths, medians, sweep_spec.base.steps)
    elif key == "clipping":
        fig = figures.param_grad_bars(summary.param_grad_norms)
        text = answers.clipping_answer(summary.param_grad_norm, summary.param_grad_norm_clipped,
                                       spec.clip_norm)  # fmt: skip
    elif key == "residual":
        _spec, plain, _n = _summary(settings_of(step, "none"))
        fig = figures.grad_lines(summary.grad_hidden_norm, summary.nonfinite_grad)
        text = answers.remedy_answer(value, plain.measures, summary.measures, L, T)
    else:  # "table", "not_held": the plain network next to this one
        plain_spec = compute.plain(spec)
        plain = compute.summarize(plain_spec)
        along_h = (lesson.time_path(plain_spec.config), lesson.time_path(spec.config))
        fig = figures.grad_lines(summary.grad_hidden_norm, summary.nonfinite_grad)
        table = _measures_table(plain.measures, summary.measures, L, T, along_h)
        if key == "table":
            text = answers.table_answer((plain.num_params, summary.num_params),
                                        (plain.flops_per_step, summary.flops_per_step),
                                        plain.measures, summary.measures, L, T,
                                        along_h)  # fmt: skip
        else:
            text = answers.not_held_answer(plain.measures, summary.measures, L, T, along_h)
    return Content(localize(fig), text, s, step.page, table, tuple(notices))


def _recurrence(step: Step, value: str, s: Settings) -> Content:
    """A later recurrence (A, the A/B page's left side) against the tanh RNN (B: the step's
    own settings) at the same L, T, seed and input."""
    _b_spec, b, notices = _summary(s)
    a_spec, a, more = _summary(replace(s, cell=s.a_cell))
    title = _(choice(step, value).label)
    fig = figures.lines_pair(a.grad_hidden_norm, b.grad_hidden_norm, a.nonfinite_grad,
                             b.nonfinite_grad, (title, _("tanh RNN")))  # fmt: skip
    L, T = a.hidden_norm.shape
    text = beyond.recurrence_answer(title, a.measures, b.measures, L, T,
                                    lesson.time_path(a_spec.config))  # fmt: skip
    return Content(localize(fig), text, s, step.page, None, tuple(dict.fromkeys((*notices, *more))))


def _study(step: Step, value: str) -> Content:
    """A cell of the shipped study of many runs (runs.lesson_study), drawn as the Tuning map
    draws it."""
    name, cell = choice(step, value).value.split("_")
    m = lesson_study.measured(name, cell)
    fig = localize(tuning_figures.map_figure(m.spread, m.windows, cell))
    label = _(choice(step, value).label)
    text = beyond.tuning_answer(m.windows, cell, label, m.spacing, m.seeds, m.verdict)
    text += "\n\n" + beyond.tuning_recipe(lesson_study.spec(name))
    return Content(fig, text, lesson_study.query(name), step.page)


def _trained(step: Step, value: str) -> Content:
    """The steps drawn from the shipped training runs (runs.lesson_runs)."""
    if step.key == "learning":
        names = (f"adding_rnn_{value}", f"adding_lstm_{value}")
        labels = (_("tanh RNN"), "LSTM")
    elif step.key == "dropout":
        names = ("dropout_0", f"dropout_{value}")
        labels = ("p = 0", f"p = {value}")
    else:
        names = ("schedule_constant", f"schedule_{value}")
        labels = (_("constant"), _(SCHEDULE_NAMES[value]))
    a, b = (lesson_runs.get(n) for n in names)
    fig = localize(training_figures.loss_pair((a, b), labels))
    if step.key == "learning":
        text = answers.learning_answer(a, b)
    elif step.key == "dropout":
        text = answers.dropout_answer(a, b, float(value))
    else:
        text = answers.schedule_answer(a, b, labels[1])
    settings = lesson_runs.settings_of(names[1])
    return Content(fig, text, settings, step.page)
