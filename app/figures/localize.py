"""A figure's words in the run's language: the figure functions write English; ``localize``
replaces the phrases of PHRASES (catalog messages) in its titles, axis titles, legend, colour
bars, annotations, tick labels and trace names. Notation (H_t^(l), |G|, L, T) is left as it is.
Pure: no Streamlit."""

from __future__ import annotations

import functools
import re

import plotly.graph_objects as go

from app.figures.eigen import VARIANT_NAMES
from app.words.i18n import N_, language
from app.words.i18n import gettext as _
from app.words.training import TASK_TEXTS

PHRASES = (  # the English the lesson's figures write (app/figures), longest replaced first
    N_("time step t"), N_("layer l"), N_("layer"), N_("not yet computed"), N_("computing"),
    N_("(log scale)"), N_("per step (log)"), N_("depth L (layers)"),
    N_("median over seeds (log)"), N_("measure"), N_("ratio along each path"),
    N_("per-step rate"), N_("loss"), N_("update k"), N_(": training"), N_(": validation"),
    N_("baseline"), N_("gradient norm"), N_(": through depth"), N_(": through time"),
    N_("cells"), N_("cell picker"),
    # the lab pages' figures
    N_("hidden unit"), N_("value"), N_("unit"), N_(", sample "), N_("<br>sample "),
    N_("lag-1 autocorrelation ρ of "), N_("timescale −1/ln ρ (steps)"),
    N_("0 steps: ρ ≤ 0, no lag-1 memory"),
    N_("∞ or undefined: overflow, a constant layer, or T < 3"),
    N_("predicted (dashed)"),
    # the gate-saturation figure (figures.gates: the registry's gate roles)
    N_("fraction<br>saturated"), N_(": 0 % saturated"), N_(": 100 % saturated"),
    N_("reset (σ)"), N_("update (σ)"), N_("candidate (tanh)"), N_("input (σ)"),
    N_("forget (σ)"), N_("output (σ)"), N_("layer without this gate"),
    N_("inf / nan (overflow)"),
    # the phase diagram (figures.theory.phase_figure)
    N_("Through time: "), N_("Through depth: "), N_(" per step"), N_(": E|G|² factor per step"),
    N_("χ = 1 (this panel)"), N_("measured ▲ grows ▼ shrinks"), N_("current"),
    N_(" = recurrent gain ("), N_(" = input/depth gain ("),
    N_("mean squared singular value"), N_(": LSTM cell state"),
    # the training figures (figures.training) and the tasks' baselines
    N_("training loss (minibatch)"), N_("validation loss"), N_(" per update"),
    N_("no attenuation (ratio 1)"), N_("largest singular value of "), N_(": through depth"),
    N_("learning rate"), N_("global gradient norm"), N_("(before clipping)"),
    N_("after clipping"), N_("clip norm "), N_("clipped ("), N_(" updates)"), N_(" of "),
    N_("norm"), N_("attenuation"),
    # the eigenvalues and the curse of memory (figures.eigen)
    N_("unit circle"), N_(": measured"), N_("1 − λ (memory grows to the left)"),
    N_("stationary second moment"), *VARIANT_NAMES.values(),
    *TASK_TEXTS,
    # the element-wise cells' gates (figures.gates: the registry's roles) and the overflow /
    # zero marks of the grids (figures.encoding, ab_pairs, gradients)
    N_("update, input only (σ)"), N_("forget, normalised (σ)"), N_("input, normalised (σ)"),
    N_("exactly 0"), N_("undefined: |G| = 0 on a side"), N_("inf / nan: off the scale"),
    # what a pointer shows (the traces' hover templates)
    N_("steps"), N_(", timescale 0 steps"), N_("predicted"), N_("measured"), N_("closed form"),
    N_(" of units saturated"), N_("sweep"), N_("click: "), N_("mean field"),
    N_("update"), N_("after %{x} updates"), N_("clipped"), N_("training"), N_("validation"),
    N_("overflow "),
    # the Tuning map's heatmap (figures.tuning_map.map_figure), drawn by the Lesson
    N_(": median validation loss"), N_("log10 median<br>val loss"), N_("log10 learning rate"),
    N_("good learning rates (median within tolerance of the best)"), N_("depth L"),
)  # fmt: skip


@functools.cache
def _pattern(phrase: str) -> re.Pattern:
    """``phrase`` as a whole: a letter at either end of it must not touch another letter (so
    "norm" is not replaced inside "normalised")."""
    head = r"(?<![A-Za-z])" if phrase[:1].isalpha() else ""
    tail = r"(?![A-Za-z])" if phrase[-1:].isalpha() else ""
    return re.compile(head + re.escape(phrase) + tail)


def _swap(text):
    if not isinstance(text, str) or not text:
        return text
    for phrase in sorted(PHRASES, key=len, reverse=True):
        if phrase in text:
            text = _pattern(phrase).sub(lambda _m, p=phrase: _(p), text)
    return text


def strings(fig: go.Figure) -> list[str]:
    """Every visible string ``localize`` looks at (tests check them)."""
    found = []
    _walk(fig, found.append)
    return found


def _walk(fig: go.Figure, visit) -> None:
    layout = fig.layout
    for obj in [layout, *(layout[k] for k in layout if k.startswith(("xaxis", "yaxis")))]:
        if obj is not None and getattr(obj, "title", None) is not None and obj.title.text:
            obj.title.text = visit(obj.title.text)
    for obj in [*(layout[k] for k in layout if k.startswith(("xaxis", "yaxis")))]:
        if obj.ticktext:
            obj.ticktext = [visit(t) for t in obj.ticktext]
    if layout.legend and layout.legend.title and layout.legend.title.text:
        layout.legend.title.text = visit(layout.legend.title.text)
    for note in layout.annotations or ():
        note.text = visit(note.text)
    for slider in layout.sliders or ():
        if slider.currentvalue and slider.currentvalue.prefix:
            slider.currentvalue.prefix = visit(slider.currentvalue.prefix)
    for key in [k for k in layout if k.startswith("coloraxis")]:
        bar = layout[key].colorbar
        if bar is not None and bar.title and bar.title.text:
            bar.title.text = visit(bar.title.text)
    for trace in fig.data:
        if trace.name:
            trace.name = visit(trace.name)
        if isinstance(getattr(trace, "hovertemplate", None), str):  # what a pointer shows
            trace.hovertemplate = visit(trace.hovertemplate)
        bar = getattr(trace, "colorbar", None)
        if bar is not None and bar.title and bar.title.text:
            bar.title.text = visit(bar.title.text)


def localize(fig: go.Figure) -> go.Figure:
    """``fig`` with its phrases in the current language (changed in place and returned)."""
    if language() != "en":
        _walk(fig, lambda text: _swap(text) or text)
    return fig
