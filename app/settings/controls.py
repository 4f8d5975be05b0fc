"""ONE table of controls: every setting a user can change, declared once, and its URL codec.

Widgets, the ``Settings`` the pages read and the URL's query parameters are all derived from
``CONTROLS`` (as TensorFlow Playground's ``state.ts``); ``compute.plan`` turns Settings into the
core's config. A bad or unknown URL value falls back to the default and is reported by name.
Pure: no Streamlit here (settings.state keeps the session side), so it is tested without one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, make_dataclass
from typing import Any

from app.words.i18n import gettext as _
from deeprnn_core import ACTIVATIONS, CELLS, OPTIMIZERS, SCHEDULES, SCHEMES, TASKS
from deeprnn_core.analysis.measures import MEASURES
from deeprnn_core.cells import REGISTRY
from deeprnn_core.config import ACTIVATION_RULE, DROPOUT_RULE, LAYER_NORM_RULE, RESIDUAL_RULE
from deeprnn_core.data.signals import SIGNALS

PER_LAYER = "per layer"
TYPICAL_BELOW = 128  # the theory overlay's "auto": the typical draw below this width
SWEEP_FOLLOW_MIN = 16  # "Sweep up to depth" at 0 follows the sidebar's L, but sweeps this far


def sweep_depth(asked: int, num_layers: int) -> int:
    """L_max of the Depth sweep: ``asked`` (the page's slider), or at 0 the sidebar's L, at
    least SWEEP_FOLLOW_MIN."""
    return asked if asked > 0 else max(num_layers, SWEEP_FOLLOW_MIN)


SAME = "same"  # an A/B override that keeps the sidebar's value
ARCH, INIT, DATA, REMEDY = "Architecture", "Initialization", "Input and loss", "Remedies"
KEYS = " Keyboard: ←/→ one step, PageUp/PageDown a tenth of the range, Home/End."


@dataclass(frozen=True)
class Control:
    """One setting: its widget, its default, its legal values and its name in the URL."""

    key: str  # session-state key of the widget and field name of Settings
    label: str  # widget label
    kind: str  # "slider", "select", "radio", "check", "number", "text" or "layers"
    default: Any  # the value when neither the URL nor the user set one (its type is the type)
    url: str  # query-parameter name
    group: str  # sidebar section, or "page:<name>" for a control drawn on one page
    help: str = ""  # tooltip: what it does, in the tutorial's (d2l) notation
    low: float | None = None  # numeric bounds (inclusive) and widget step
    high: float | None = None
    step: float | None = None
    options: tuple = ()  # legal values of select / radio
    labels: tuple = ()  # how options are shown, parallel to options (empty: as is)
    spellings: tuple = ()  # options' URL spellings, parallel to options (empty: encode's)


# fmt: off
CONTROLS: tuple[Control, ...] = (
    # key, label, widget, default, URL name, group; bounds or options; help
    Control("num_layers", "Depth L (layers)", "slider", 4, "L", ARCH, low=1, high=32, step=1,
            help="Layers stacked between X_t and O_t." + KEYS),
    Control("steps", "Sequence length T", "slider", 50, "T", ARCH, low=1, high=500, step=1,
            help="Time steps t = 1..T of the input sequence." + KEYS),
    Control("hidden_size", "Hidden size h", "slider", 32, "h", ARCH, low=1, high=256, step=1,
            help="Width of every hidden state H_t^(l)." + KEYS),
    Control("input_size", "Input size d", "slider", 8, "d", ARCH, low=1, high=32, step=1,
            help="Width of each input X_t." + KEYS),
    Control("activation", "Activation φ", "select", "tanh", "act", ARCH,
            options=(*ACTIVATIONS, PER_LAYER),
            help=f"One φ_l for every layer, or one per layer; {ACTIVATION_RULE}."),
    Control("activation_layers", "φ per layer (comma list, bottom first)", "text", "tanh,relu",
            "acts", ARCH,
            help=f"One of {', '.join(ACTIVATIONS)} per layer; a short list repeats its last."),
    Control("cell", "Cell type", "select", "rnn", "cell", ARCH, options=(*CELLS, PER_LAYER),
            help="; ".join(f"{name}: {cell.summary}" for name, cell in REGISTRY.items()) + "."),
    Control("cell_layers", "Cell per layer (comma list, bottom first)", "text", "rnn,lstm",
            "cells", ARCH,
            help=f"One of {', '.join(CELLS)} per layer; a short list repeats its last."),
    Control("scheme", "Init scheme", "select", "torch", "init", INIT, options=SCHEMES,
            help="torch: g·U(±1/√h), variance g²/3h, vanishing at g = 1. gaussian: "
                 "N(0, g²/fan_in). orthogonal: g·Q. identity: W_hh = g·I (IRNN)."),
    Control("recurrent_gain", "Recurrent gain g (W_hh)", "slider", 1.0, "grec", INIT,
            low=0.0, high=3.0, step=0.05,
            help="Scale of W_hh^(l), the path through time. Near the edge between vanishing "
                 "and exploding: torch init + relu at g ≈ 2, orthogonal + tanh at g ≈ 1.2."
                 + KEYS),
    Control("input_gain", "Input/depth gain (W_xh)", "slider", 1.0, "gin", INIT,
            low=0.0, high=3.0, step=0.05,
            help="Scale of W_xh^(l), the path through depth (layer l-1 to l)." + KEYS),
    Control("bias_scale", "Bias scale", "slider", 1.0, "bias", INIT, low=0.0, high=2.0, step=0.05,
            help="b_h^(l) drawn from bias_scale·U(±1/√h); 0 turns biases off." + KEYS),
    Control("lru_r_min", "LRU ring: smallest |λ|", "slider", 0.9, "rmin", INIT, low=0.01,
            high=0.999, step=0.001,
            help="LRU layers only: the initial eigenvalues λ are drawn uniformly (in area) on "
                 "the ring r_min ≤ |λ| ≤ r_max; the nearer 1, the longer the memory. Above "
                 "r_max, both go back to 0.9 and 0.999." + KEYS),
    Control("lru_r_max", "LRU ring: largest |λ|", "slider", 0.999, "rmax", INIT, low=0.01,
            high=0.999, step=0.001,
            help="LRU layers only: the outer radius of the ring of initial eigenvalues (below "
                 "1, so |λ| < 1)." + KEYS),
    Control("lru_theta_turns", "LRU ring: largest phase θ_max / π", "slider", 1.0, "thmax",
            INIT, low=0.01, high=2.0, step=0.01,
            help="LRU layers only: the phases of the initial eigenvalues are uniform in "
                 "[0, θ_max]; small θ_max keeps λ near the positive real axis." + KEYS),
    Control("seed", "Seed", "number", 0, "seed", INIT, low=0, high=2**31 - 1, step=1,
            help="Seeds the weights, the input and the dropout masks."),
    Control("signal", "Input signal X_t", "select", "noise", "x", DATA, options=SIGNALS,
            help="noise: N(0,1). sine: periods 8-32 steps. impulse: X_1 = 1, then 0. "
                 "step: 0, then 1 from T/2."),
    Control("batch", "Batch B", "slider", 1, "B", DATA, low=1, high=8, step=1,
            help="Sequences run side by side; norms are over batch and units." + KEYS),
    Control("loss_kind", "Loss", "radio", "last", "loss", DATA, options=("last", "all"),
            labels=("last step", "every step"),
            help="MSE against a zero target, of O_T only or summed over every O_t."),
    Control("dtype", "Precision", "select", "float64", "dtype", DATA,
            options=("float64", "float32"),
            help="float32 overflows to inf above about 3e38, float64 above 1.8e308."),
    Control("residual", "Residual connections", "check", False, "res", REMEDY,
            help=f"{RESIDUAL_RULE} (deeprnn_core.config.residual_applies); the page says which "
                 "layers skip it."),
    Control("layer_norm", "Layer norm", "check", False, "ln", REMEDY,
            help=f"LayerNorm on A_t^(l), with learnable gain and bias; {LAYER_NORM_RULE} "
                 "(deeprnn_core.config.layer_norm_applies; greyed out otherwise)."),
    Control("dropout", "Dropout p", "slider", 0.0, "p", REMEDY, low=0.0, high=0.9, step=0.05,
            help=f"Each unit zeroed with probability p; {DROPOUT_RULE} "
                 "(deeprnn_core.config.dropout_applies)." + KEYS),
    Control("dropout_mode", "Dropout mode", "radio", "train", "mode", REMEDY,
            options=("train", "eval"), help="Dropout acts in training mode only, as in torch."),
    Control("clip_norm", "Gradient clip norm (0 = off)", "number", 0.0, "clip", REMEDY,
            low=0.0, high=1e6, step=0.1,
            help="clip_grad_norm_ on the parameter gradients; G_t^(l) is never clipped."),
    # views drawn on one page; kept in the URL too so a link shows the same view
    Control("color_by", "Colour cells by", "radio", "grad", "color", "page:flow",
            options=("hidden", "grad"), labels=("state |H|", "gradient |G|"),
            help="|H_t^(l)| (forward pass) or |G_t^(l)| = |dLoss/dH_t^(l)| (backward pass)."),
    Control("flow_theory", "Colour by the mean-field theory", "radio", "off", "ftheory",
            "page:flow", options=("off", "prediction", "ratio"),
            labels=("off", "predicted E|G|²/h", "measured / predicted"),
            help="The grid coloured by the predicted E|G_t^(l)|²/h (theory.predict), or by this "
                 "run's |G_t^(l)|²/(B·h) over it: 1 where the run follows the mean field."),
    Control("walk", "Step through the computation", "check", False, "walk", "page:flow",
            help="Light the cells in the order the core computes them."),
    Control("scrub", "Scrub depth 1..L", "check", False, "scrub", "page:flow",
            help="Every depth's grid at once: drag the plot's depth slider, no rerun."),
    Control("walk_step", "Computation step", "slider", 0, "step", "page:flow",
            low=0, high=32000, step=1,
            help="0..2LT: the forward pass, then the backward pass." + KEYS),
    Control("cell_t", "Cell t", "number", 1, "t", "page:flow", low=1, high=500, step=1,
            help="Time step of the cell whose vectors are drawn (or click a cell)."),
    Control("cell_l", "Cell l", "number", 1, "l", "page:flow", low=1, high=32, step=1,
            help="Layer of the cell whose vectors are drawn (or click a cell)."),
    Control("sample", "Batch sample", "number", 1, "b", "page:hidden", low=1, high=8, step=1,
            help="Which of the B sequences to draw."),
    Control("layers_shown", "Layers shown (empty: spread from bottom to top)", "layers", (),
            "show", "page:hidden", help="The layers whose heatmaps are drawn (up to 6)."),
    Control("sweep_layers", "Sweep up to depth (0: follow the sidebar's L)", "slider", 0,
            "Lmax", "page:sweep", low=0, high=32, step=1,
            help="The sweep runs L = 1..this. At 0 it follows the sidebar: its depth L, and at "
            f"least {SWEEP_FOLLOW_MIN} so that there are depths to compare." + KEYS),
    Control("sweep_seeds", "Seeds", "slider", 8, "S", "page:sweep", low=1, high=16, step=1,
            help="Independent weight draws per depth." + KEYS),
    Control("sweep_measure", "Measure", "select", "all", "measure", "page:sweep",
            options=("all", *MEASURES),
            labels=("all measures (medians)", *(f"{n}: {f}" for n, f in MEASURES.values())),
            help="Which path's gradient ratio to draw against L, with its band over seeds."),
    Control("grad_theory", "Mean-field prediction", "check", True, "theory", "page:gradients",
            help="Measure E|G_t^(l)|² over several seeds and draw the mean-field prediction "
                 "next to it (dashed)."),
    Control("theory_seeds", "Seeds averaged", "slider", 4, "tseeds", "page:gradients",
            low=1, high=16, step=1,
            help="Weight draws (each with its own input) averaged for the measured mean." + KEYS),
    Control("theory_average", "Measured side", "radio", "auto", "tavg", "page:gradients",
            options=("auto", "log", "mean"),
            labels=("auto", "typical draw", "mean of draws"),
            help="What the solid lines show of the seeds: the typical draw (the mean over seeds "
                 "of log10 |G|², which the theory's quenched form predicts), or the mean of "
                 "|G|² over draws (what E|G|² means, dominated by the largest draw at small h). "
                 f"auto: the typical draw at h < {TYPICAL_BELOW}, the mean from there on, where "
                 "the two agree."),
    Control("grad_eigen", "Eigenvalues on the unit circle", "check", True, "eig",
            "page:gradients", help="Per layer, what multiplies the gradient at each step back "
                                   "through time (eig(W_hh), the LRU's λ, the gates 1 − z_t, "
                                   "f'_t, f_t); at L = 32, h = 256 the eigenvalues take ~1 s."),
    Control("grad_memory", "The curse of memory", "check", True, "mem", "page:gradients",
            help="The closed forms of Zucchet & Orvieto (2024) against a seeded simulation, "
                 "once per server (independent of the settings)."),
    Control("phase_sweep", "Measure a sweep on the diagram", "check", True, "psweep",
            "page:phase", help="Run gaussian-init networks at 5 x 5 gains and mark each "
                               "measured per-step factor on the diagram."),
    Control("phase_seeds", "Seeds per point", "slider", 3, "pseeds", "page:phase", low=1,
            high=8, step=1, help="Weight draws averaged at each measured point." + KEYS),
    # the Training page (runs.training); depth, cells, init, T, dropout and clipping: sidebar
    Control("task", "Task", "select", "adding", "task", "page:training", options=TASKS,
            help="adding: sum the two marked values. copy: repeat 10 symbols after T blanks. "
                 "sine: next step of noisy sines. sunspots / co2: next value of a real series."),
    Control("optimizer", "Optimizer", "select", "adam", "opt", "page:training",
            options=tuple(OPTIMIZERS), labels=("SGD (momentum 0.9)", "Adam", "AdamW", "RMSprop"),
            help="torch.optim's, driven by the core's exact gradients."),
    Control("learning_rate", "Learning rate", "select", "0.01", "lr", "page:training",
            options=("0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1"),
            help="The initial learning rate of the optimizer (a schedule changes it)."),
    Control("schedule", "Schedule", "select", "constant", "sched", "page:training",
            options=SCHEDULES, help="torch.optim.lr_scheduler, stepped once per update: "
            "StepLR, ExponentialLR, CosineAnnealingLR, OneCycleLR, LinearLR warm-up, "
            "ReduceLROnPlateau."),
    Control("train_steps", "Updates", "slider", 300, "n", "page:training", low=10, high=3000,
            step=10, help="Optimizer steps, one minibatch each." + KEYS),
    Control("train_batch", "Batch size", "slider", 32, "bs", "page:training", low=1, high=256,
            step=1, help="Training sequences per update." + KEYS),
)
# The A/B page runs two sides, A and B, each the sidebar's settings with some fields replaced.
# One control per side and field, URL names "A" / "B" + suffix, holding a value of the
# sidebar field's own type, or SAME ("as sidebar"). At the defaults: LSTM vs the sidebar.
def _spelled(*values: float) -> tuple:
    """(value, its URL spelling) of numbers, e.g. (0.5, "0.5")."""
    return tuple((v, f"{v:g}") for v in values)


ON_OFF = ((True, "on"), (False, "off"))
AB_FIELDS = (  # (Settings field, label, URL suffix, ((typed value, URL spelling), ...))
    ("cell", "Cell type", "cell", tuple((c, c) for c in CELLS)),
    ("activation", "Activation φ", "act", tuple((a, a) for a in ACTIVATIONS)),
    ("residual", "Residual", "res", ON_OFF),
    ("layer_norm", "Layer norm", "ln", ON_OFF),
    ("dropout", "Dropout p (training mode)", "p", _spelled(0.0, 0.1, 0.25, 0.5, 0.75)),
    ("clip_norm", "Clip norm", "clip", ((0.0, "off"), *_spelled(0.01, 0.1, 1.0, 10.0))),
    ("scheme", "Init scheme", "init", tuple((s, s) for s in SCHEMES)),
    ("recurrent_gain", "Recurrent gain g", "grec",
     _spelled(0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0)),
)
AB_DEFAULTS = {"a_cell": "lstm"}  # B: the sidebar as it is; A: B with LSTM cells
CONTROLS += tuple(
    Control(f"{side}_{field}", label, "select", AB_DEFAULTS.get(f"{side}_{field}", SAME),
            f"{side.upper()}{suffix}", "page:ab", options=(SAME, *(v for v, _ in choices)),
            labels=("as sidebar", *(t for _, t in choices)),
            spellings=(SAME, *(t for _, t in choices)),
            help=f"Side {side.upper()} runs the sidebar's settings with this replaced.")
    for side in "ab" for field, label, suffix, choices in AB_FIELDS
)
CONTROLS += tuple(
    Control(f"{side}_schedule", f"{side.upper()}: schedule (training)", "select", SAME,
            f"{side.upper()}sched", "page:ab", options=(SAME, *SCHEDULES),
            labels=("as Training page", *SCHEDULES),
            help=f"Side {side.upper()} trains with this learning-rate schedule.")
    for side in "ab"
)
# fmt: on

BY_KEY: dict[str, Control] = {c.key: c for c in CONTROLS}
BY_URL: dict[str, Control] = {c.url: c for c in CONTROLS}
Settings = make_dataclass(
    "Settings", [(c.key, Any if c.spellings else type(c.default)) for c in CONTROLS], frozen=True
)  # one field per control, in table order (an A/B override: its field's type, or SAME)
Settings.__doc__ = "Every control's value, as the pages read them (fields: the table's keys)."
GROUPS = (ARCH, INIT, DATA, REMEDY)


# --- values <-> URL strings (pure: tested without Streamlit)
def encode(control: Control, value: Any) -> str:
    """The URL string of a value."""
    if control.spellings:
        return control.spellings[control.options.index(value)]
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


MAX_SHOWN = 40  # characters of a user's value echoed in a notice
_NUMBER = {  # strict ASCII spellings: int("٤") and float("１") would accept other digits
    int: re.compile(r"[+-]?[0-9]{1,12}"),
    float: re.compile(r"[+-]?([0-9]{1,20}(\.[0-9]{0,20})?|\.[0-9]{1,20})([eE][+-]?[0-9]{1,3})?"),
}


def quote(text: str, limit: int = MAX_SHOWN) -> str:
    """A user's text, safe to put in a notice: cut to ``limit`` characters, unprintable
    characters replaced, inside a markdown code span (a backtick fence longer than any run of
    backticks in it), where markdown, links, KaTeX ($) and HTML show as the characters they
    are. (Backslash escapes are not enough: GFM still turns http://... into a link.)"""
    text = "".join(char if char.isprintable() else "\ufffd" for char in str(text))
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    more = _(" ({n} characters, cut)").format(n=f"{len(text):,}") if len(text) > limit else ""
    if not cut.strip():
        return f"“{cut}”{more}"
    fence = "`" * (max(map(len, re.findall(r"`+", cut)), default=0) + 1)
    pad = " " if cut[0] in "` " or cut[-1] in "` " else ""
    return f"{fence}{pad}{cut}{pad}{fence}{more}"


def decode(control: Control, text: str) -> Any:
    """The value of a URL string; raises ValueError naming the rule it breaks. Never raises
    anything else, whatever the string (huge numbers, other scripts' digits, 20,000 chars)."""
    d = control.default
    if not isinstance(text, str):
        raise ValueError(_("expected text"))
    if control.options:  # a choice, typed as the option it spells
        spelled = [encode(control, option) for option in control.options]
        if text not in spelled:
            raise ValueError(  # the URL's spellings, as code: typed as they are
                _("expected one of {values}").format(values=", ".join(f"`{v}`" for v in spelled))
            )
        return control.options[spelled.index(text)]
    if isinstance(d, bool):
        if text.lower() not in ("1", "0", "true", "false"):
            raise ValueError(_("expected 1 or 0"))
        return text.lower() in ("1", "true")
    if isinstance(d, tuple):
        rule = _("expected distinct layer numbers 1-32, comma separated")
        parts = [v.strip() for v in text.split(",") if v.strip()]
        if len(text) > 200 or not all(re.fullmatch(r"[0-9]{1,2}", v) for v in parts):
            raise ValueError(rule)
        value = tuple(int(v) for v in parts)
        if any(not 1 <= v <= 32 for v in value) or len(set(value)) != len(value):
            raise ValueError(rule)
        return value
    if isinstance(d, str):
        if len(text) > 300:
            raise ValueError(_("longer than 300 characters"))
        return text
    kind = type(d)
    low, high = (f"{kind(v):,}" if kind is int else f"{v:g}" for v in (control.low, control.high))
    rule = (
        _("expected a whole number from {low} to {high}")
        if kind is int
        else _("expected a number from {low} to {high}")
    ).format(low=low, high=high)
    if not _NUMBER[kind].fullmatch(text):  # also refuses "4.5" for an int, "inf", "nan"
        raise ValueError(rule)
    value = kind(text)
    if not math.isfinite(value) or not control.low <= value <= control.high:
        raise ValueError(rule)
    return value


def from_query(params: Mapping[str, str | list[str]]) -> tuple[dict[str, Any], list[str]]:
    """Settings values from query parameters, defaults where missing; and a notice for every
    parameter that is unknown, given more than once, has a bad value or was read as another
    spelling of its value. A list holds every value of a parameter given more than once (the
    last one counts). Notices quote the user's text cut and escaped (``quote``)."""
    values = {c.key: c.default for c in CONTROLS}
    notices = []
    for name, given in params.items():
        texts = [given] if isinstance(given, str) else list(given) or [""]
        text = texts[-1]
        control = BY_URL.get(name)
        if control is None:
            notices.append(_("Unknown URL parameter {name} was ignored.").format(name=quote(name)))
            continue
        if len(texts) > 1:
            shown = ", ".join(quote(t, 12) for t in texts[:4]) + (", …" if len(texts) > 4 else "")
            notices.append(
                _("URL parameter {name} was given {n} times ({values}); using the last.").format(
                    name=quote(name), n=len(texts), values=shown
                )
            )
        try:
            value = decode(control, text)
        except ValueError as err:
            notices.append(
                _(
                    "URL parameter {name} = {text} is not valid ({error}); using the default "
                    "{default}."
                ).format(
                    name=quote(name),
                    text=quote(text),
                    error=err,
                    default=quote(encode(control, control.default)),
                )  # fmt: skip
            )
            continue
        values[control.key] = value
        canonical = encode(control, value)
        if canonical != text and not (isinstance(value, float) and _NUMBER[float].fullmatch(text)):
            notices.append(
                _("URL parameter {name} = {text} was read as {value}.").format(
                    name=quote(name), text=quote(text), value=quote(canonical)
                )
            )
    return values, notices


def to_query(settings) -> dict[str, str]:
    """Query parameters for every control, in table order."""
    return {c.url: encode(c, getattr(settings, c.key)) for c in CONTROLS}
