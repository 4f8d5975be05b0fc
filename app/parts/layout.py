"""What every page shares: its header, the notices, the overflow banner and the downloads."""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import plotly.graph_objects as go
import streamlit as st

from app import figures
from app.figures.localize import localize
from app.runs import compute, export, server
from app.settings import controls, state, upload
from app.words import core_text, lesson
from app.words.i18n import N_, language
from app.words.i18n import gettext as _
from deeprnn_core import Model, Trace
from deeprnn_core.engine.cost import trace_cost
from deeprnn_core.engine.overflow import Overflow

_LOG = logging.getLogger("deeprnn.app")
TUTORIAL_ZH = f"《动手学深度学习》([深度循环神经网络]({lesson.TUTORIAL_URL})一节)"
SHARE = N_("the address bar holds every setting: copy it to share exactly this view")
# page paths that links may still carry: every view's file name (and /flow, a page path today)
OLD_PATHS = {
    "flow": "information_flow",
    **{name: name for name in ("information_flow", "hidden_states", "gradient_flow",
                               "depth_sweep", "plain_vs_deep", "ab_compare", "phase_diagram",
                               "tuning_map")},
}  # fmt: skip


def asked_path(url: str | None, known: set[str]) -> str | None:
    """The page path the browser asked for (the last part of ``url``, as st.context.url gives
    it) when no page has it, else None; only a plain name (letters, digits, - and _) counts."""
    if not url:
        return None
    name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return name if name and name not in known and re.fullmatch(r"[\w-]{1,64}", name) else None


@dataclass(frozen=True)
class Run:
    """The current settings and what the core computed for them, fetched from the shared
    cache on each use. A Run holds no arrays: a page's module namespace keeps it alive as long
    as Streamlit keeps a callback defined there (plotly selection callbacks are kept per figure,
    until the session ends), and a Trace held there would outlive its cache entry."""

    settings: object  # controls.Settings
    spec: compute.TraceSpec

    @property
    def model(self) -> Model:
        return compute.get_trace(self.spec)[0]

    @property
    def trace(self) -> Trace:
        """Shared with the cache: read only."""
        return compute.get_trace(self.spec)[1]

    @property
    def summary(self) -> compute.Summary:
        return compute.summarize(self.spec)


def chart(fig, key: str, **kwargs):
    """st.plotly_chart with the app's settings: Streamlit's theme off (the figures carry their
    own template; restyling costs the browser ~0.1 s per redraw) and the PNG button named."""
    config = {"displaylogo": False, "toImageButtonOptions": {"filename": f"deeprnn_{key}"}}
    if language() != "en":  # a copy: a figure may be a cached one, shared by other sessions
        fig = localize(go.Figure(fig))
    return st.plotly_chart(fig, key=key, theme=None, config=config, **kwargs)


class PageEnd(Exception):
    """The page has said why it draws nothing more (the core refused the settings). Unlike
    st.stop() it ends the page only: the router still draws the sidebar's controls after it,
    so the user can change what was refused."""


def guarded(draw):
    """Run a drawing function; an unexpected error becomes an st.error, never a traceback."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        try:
            return draw(*args, **kwargs)
        except PageEnd:
            return None
        except compute.STOPPED:
            st.stop()  # the session has gone: nothing to draw
        except Exception as err:  # noqa: BLE001 - the last line of defence, logged in full
            _LOG.exception("drawing %s failed", draw.__name__)
            st.error(
                _("Something went wrong while drawing this view ({kind}: {error}).").format(
                    kind=type(err).__name__, error=err
                )
            )

    return wrapper


def start(title: str, explanation: str, computed: tuple[str, ...] = ()) -> Run:
    """Draw the page header and run (or fetch) the trace of the current settings.

    Ends the page (PageEnd) with an st.error naming the problem if the core refuses the
    settings.
    """
    header(title, explanation, computed)
    settings = state.current()
    plan = compute.plan(settings)
    if not said(plan):
        raise PageEnd
    try:
        summary = compute.summarize(plan.spec)
    except compute.STOPPED:
        st.stop()
    except compute.CORE_ERRORS as err:
        st.error(
            _("The core could not run these settings: {error}").format(error=core_text.error(err))
        )
        raise PageEnd from err
    overflow_banner(summary)
    _facts(plan.spec, summary)
    spec = plan.spec
    box = downloads_section()
    if box is not None:
        _downloads(spec, box)
        model = compute.get_trace(spec)[0]  # in the cache already: the summary was made from it
        upload.export_section(
            model, f"deeprnn_model_L{spec.config.num_layers}",
            lambda: compute.get_trace(spec)[0], box,
        )  # fmt: skip
    return Run(settings, spec)


def downloads_section():
    """The sidebar's "Download and export" expander (None while closed: nothing in it is
    built or sent on a rerun until it is opened)."""
    return state.section(_("Download and export"), "open_downloads")


def said(plan) -> bool:
    """Show a plan's notices (a compute.Plan, training.TrainPlan or ab_sides.Pair: settings
    adjusted) and the core's refusal as an st.error; False when the settings were refused."""
    for notice in plan.notices:
        st.info(notice, icon=":material/info:")
    if plan.error:
        st.error(
            _("The core refused these settings: {error}").format(error=core_text.error(plan.error))
        )
    return not plan.error


# where the numbers of every page come from, in the core's own names: kept out of the prose a
# learner reads, in an expander under each page's explanation (HOW)
HOW = N_("How this is computed")
ALWAYS = (
    N_("Every number is computed by `deeprnn_core`; the app computes none itself."),
    N_(
        "The run's states H and exact gradients G: `deeprnn_core.trace` (the engine's forward "
        "pass and its adjoint, checked against PyTorch in the tests)."
    ),
    N_(
        'The time estimates ("about N s here") and the budgets: the cost model '
        "`deeprnn_core.engine.cost`."
    ),
)


def how(lines: tuple[str, ...] = ()) -> None:
    """The "How this is computed" expander: the core functions behind the page, by name."""
    with st.expander(_(HOW)):
        st.markdown("\n".join(f"- {_(line)}" for line in (*ALWAYS, *lines)))


def tutorial() -> str:
    """The tutorial's name and link in the run's language (markdown)."""
    return TUTORIAL_ZH if language() == "zh" else lesson.TUTORIAL


def header(title: str, explanation: str, computed: tuple[str, ...] = ()) -> None:
    """The page's title, its explanation, how it is computed and the URL's notices."""
    server.note_session()
    st.title(_(title))  # the page titles are the menu's messages
    st.markdown(_(explanation).replace("{tutorial}", tutorial()))
    how(computed)
    for notice in state.url_notices():
        st.warning(notice, icon=":material/warning:")


def overflow_banner(summary: compute.Summary, container=None, side: str = "") -> None:
    """Where inf / nan began (the core's Overflow record), if anywhere, and the order of
    computation of the pass it happened in (the record's own order)."""
    record = summary.overflow
    if record is None:
        return
    L, T = summary.hidden_norm.shape
    order = core_text.order(record.phase, L, T, record.order)
    template = (
        _("**Overflow in {side}** — {where}: the first inf / nan in the core's order of "
          "computation ({order}). Cells holding inf / nan are marked in magenta in every "
          "figure. Lower the gains, or use float64, tanh, layer norm or residual connections to "
          "stay finite.") if side
        else _("**Overflow** — {where}: the first inf / nan in the core's order of computation "
               "({order}). Cells holding inf / nan are marked in magenta in every figure. Lower "
               "the gains, or use float64, tanh, layer norm or residual connections to stay "
               "finite.")
    )  # fmt: skip
    (container or st).warning(
        template.format(side=side, where=overflow_where(record), order=_math(order)),
        icon=":material/local_fire_department:",
    )


def overflow_where(record: Overflow) -> str:
    """The record's phase, quantity, layer and step in words and math, e.g. "backward pass:
    $G_{96}^{(2)}$ (layer 2, step 96)"."""
    if record.quantity in ("hidden", "grad_hidden"):
        symbol = "H" if record.quantity == "hidden" else "G"
        what = _("${symbol}_{{{t}}}^{{({l})}}$ (layer {l}, step {t})").format(
            symbol=symbol, t=record.t, l=record.l
        )
    elif record.quantity == "param_grad":
        what = _("the gradient of {param}").format(param=record.param)
    else:  # the output or loss, or the global norm of finite gradients
        what = core_text.quantity(record.quantity)
        if record.quantity == "param_grad_norm":
            what += _(" (every entry finite; their norm passes the float64 range)")
    if record.phase == "forward":
        return _("forward pass: {what}").format(what=what)
    if record.phase == "backward":
        return _("backward pass: {what}").format(what=what)
    return f"{record.phase} pass: {what}"


def _math(order: str) -> str:
    """The order's O_t in math (the rest is words)."""
    return order.replace("O_t", "$O_t$")


SATURATION = N_(
    "**Gate saturation**: the fraction of a gate's units (over batch and units) within 0.05 of "
    "0 or 1 (a tanh candidate: within 0.1 of ±1), per layer and step. A saturated gate passes "
    "almost no gradient through its own derivative; a forget gate f near 1 is what lets an "
    "LSTM carry gradient far back in time."
)


def draw_gate_saturation(spec: compute.TraceSpec, key: str) -> None:
    """The gate-saturation figure of ``spec``'s GRU / LSTM layers (nothing without them)."""
    cells = spec.config.cells
    if figures.gated_layers(cells):
        chart(figures.saturation_heatmaps(compute.saturation_of(spec), cells), key)


def _facts(spec: compute.TraceSpec, s: compute.Summary) -> None:
    c = spec.config
    st.caption(
        _(
            "Running L = {L}, T = {T}, h = {h}, d = {d}, B = {B} · {dtype} · seed {seed} · "
            "loss {loss} · computing it takes about {seconds} s here · every number on this "
            "page computed by deeprnn_core · {share}"
        ).format(
            L=c.num_layers,
            T=spec.steps,
            h=c.hidden_size,
            d=c.input_size,
            B=spec.batch,
            dtype=spec.dtype,
            seed=spec.seed,
            loss=f"{s.loss:.4g}",
            seconds=f"{compute.seconds(spec):.2g}",
            share=_(SHARE),
        )  # fmt: skip
    )


def _downloads(spec: compute.TraceSpec, box) -> None:
    """Downloads of this run into ``box``, built only when clicked, from the small spec (never
    a closure over a Trace: Streamlit keeps a download's callable until the session's next run
    ends)."""
    c = spec.config
    stem = f"deeprnn_L{c.num_layers}_T{spec.steps}_h{c.hidden_size}_seed{spec.seed}"
    query = urlencode(controls.to_query(state.current()))
    size = trace_cost(c, spec.steps, spec.batch, spec.dtype).kept_bytes
    box.markdown(_("**Download this run**"))
    box.download_button(
        _("Trace, every array (NPZ, about {size})").format(size=export.megabytes(size)),
        data=functools.partial(export.trace_npz, spec, query),
        file_name=f"{stem}.npz",
        mime="application/octet-stream",
        on_click="ignore",
        key="download_npz",
        help=_(
            "All arrays of the Trace (hidden, grad_hidden, preact, gates, parameter "
            "gradients, ...) and the URL query that reproduces them. Load with numpy.load. "
            "Arrays that compress well (nan-filled gates, masks) are deflated; float64 noise "
            "does not compress, so the rest is stored as is."
        ),
    )
    box.download_button(
        _("Norms only (NPZ, about {size})").format(size=export.megabytes(export.norms_bytes(spec))),
        data=functools.partial(export.norms_npz, spec, query),
        file_name=f"{stem}_norms.npz",
        mime="application/octet-stream",
        on_click="ignore",
        key="download_norms",
        help=_(
            "|H_t^(l)|, |G_t^(l)| (L, T), their inf / nan masks, |X_t|, |O_t| and the "
            "per-layer parameter-gradient norms: what the figures draw."
        ),
    )
    box.download_button(
        _("Norms per (t, l) (CSV, about {size})").format(
            size=export.megabytes(export.csv_bytes(spec))
        ),
        data=functools.partial(export.norms_csv, spec),
        file_name=f"{stem}_norms.csv",
        mime="text/csv",
        on_click="ignore",
        key="download_csv",
        help=_("|H_t^(l)| and |G_t^(l)| for every cell, full precision."),
    )
    box.caption(_("Each figure's camera icon saves it as PNG."))
