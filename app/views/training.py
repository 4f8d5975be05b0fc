"""Training: watch a deep RNN learn, or fail to, layer by layer (deeprnn_core.training.loop)."""

import streamlit as st

from app.figures import training as fig
from app.parts import code, layout
from app.runs import compute, training
from app.settings import state, upload
from app.words import core_text
from app.words import training as words
from app.words.i18n import N_, ngettext
from app.words.i18n import gettext as _

EXPLAIN = N_(  # words.i18n: the catalog's; {tutorial}: layout.header's link
    "Train the network of the sidebar (depth, cells, init, remedies; clipping and dropout "
    "included) on a task, with a torch.optim optimizer and learning-rate schedule driven by "
    "the core's exact gradients. Training starts on **Train**, not on every slider move: a "
    "run takes seconds, and a drag would restart it at every step. A finished run is kept, so "
    "coming back to the same settings shows it at once."
)
CONTROLS = (("task", "optimizer", "learning_rate", "schedule"), ("train_steps", "train_batch"))


def controls() -> None:
    for row in CONTROLS:
        for key, column in zip(row, st.columns(len(row))):
            state.widget(key, column)


def live_callback(bar, chart, baseline_rule: str):
    """Update the bar and the growing loss chart every few updates (at most twice a second)."""
    shown = [-1.0]

    def callback(p) -> None:
        if p.step == p.steps or p.elapsed - shown[0] >= 0.5:
            shown[0] = p.elapsed
            text = _("Update {step} of {steps}: loss {loss}").format(
                step=p.step, steps=p.steps, loss=f"{p.loss:.4g}"
            )
            bar.progress(p.step / p.steps, text=text)
            chart.plotly_chart(fig.loss_figure(p.history, baseline_rule), theme=None)

    return callback


def headline(h, spec) -> None:
    cols = st.columns(4)
    cols[0].metric(_("Training loss, last tenth"), f"{float(words.window(h.loss, True)):.4g}")
    if len(h.val_loss):
        cols[1].metric(_("Validation loss"), f"{h.val_loss[-1]:.4g}")
    if h.baseline is not None:
        cols[2].metric(_("Baseline"), f"{h.baseline:.4g}", help=_("The task's trivial predictor."))
    per_step = h.wall_time[-1] / max(1, h.steps) if h.steps else float("nan")
    cols[3].metric(_("Time per update"), f"{per_step * 1e3:.1f} ms", help="History.wall_time")


def results(h, spec, task) -> None:
    c = spec.config
    headline(h, spec)
    if h.stopped_early:
        st.warning(
            _("Stopped after {steps} of {updates} updates. {reason}").format(
                steps=h.steps, updates=spec.updates, reason=h.diverged or ""
            )
        )
    st.subheader(_("Loss"))
    st.markdown(words.loss_words(h))
    layout.chart(fig.loss_figure(h, task.baseline_rule), "train_loss")
    if h.metric == "perplexity" and h.model is not None:
        st.subheader(_("Text from the trained model"))
        prompt = st.text_input(_("Prompt"), training.PROMPT, key="sample_prompt", max_chars=80)
        st.code(training.sample(spec, h, prompt), language=None, wrap_lines=True)
        st.caption(
            _(
                "{n} characters drawn one at a time after the prompt, each from the model's "
                "softmax (temperature {temperature}, seed {seed}); only the 27 symbols of the "
                "task (a-z and space) exist for it."
            ).format(n=training.SAMPLED, temperature=f"{training.TEMPERATURE:g}", seed=spec.seed)
        )
    st.subheader(_("Gradient norm per layer"))
    st.markdown(
        _(
            "Before clipping, per layer: the weights on the path through depth (left) and "
            "through time (right)."
        )
        + " "
        + words.grad_words(h)
    )
    layout.chart(fig.param_grad_norm_figure(h), "train_grads")
    st.subheader(_("Update-to-weight ratio"))
    st.markdown(_("$|\\Delta W^{(l)}| / |W^{(l)}|$ of each update.") + " " + words.ratio_words(h))
    layout.chart(fig.update_ratio_figure(h), "train_ratio")
    st.subheader(_("Learning rate and clipping"))
    st.markdown(words.lr_words(h, spec.schedule, spec.clip_norm))
    layout.chart(fig.lr_clip_figure(h, spec.clip_norm), "train_lr")
    st.subheader(_("Largest singular value of $W_{hh}^{(l)}$ against $1/\\gamma$"))
    st.markdown(words.singular_words(h, c))
    layout.chart(fig.singular_figure(h, c), "train_sigma")
    st.subheader(_("$|G_t^{(l)}|$ over training"))
    st.markdown(
        ngettext(
            "The time x layer grid of the gradient on one fixed validation sequence, at {n} "
            "point of the run: drag the slider or press ▶ (it plays in your browser).",
            "The time x layer grid of the gradient on one fixed validation sequence, at {n} "
            "points of the run: drag the slider or press ▶ (it plays in your browser).",
            len(h.snapshot_steps),
        ).format(n=len(h.snapshot_steps))
        + " "
        + words.grid_words(h)
    )
    layout.chart(fig.grad_grid_scrub(h), "train_scrub")
    st.subheader(_("Attenuation over training"))
    st.markdown(words.attenuation_trend_words(h))
    layout.chart(fig.attenuation_figure(h), "train_attenuation")


@layout.guarded
def draw(settings) -> None:
    plan = training.plan(settings)
    if not layout.said(plan):
        return
    spec = plan.spec
    c, task = spec.config, training.task_of(spec)
    st.caption(
        _(
            "Training L = {L} ({cells}), h = {h}, T = {T}, d = {d} and q = {q} (the task's), "
            "batch {batch}, {updates} updates, {dtype}, seed {seed}, dropout {dropout} (training "
            "only), clip norm {clip} · data: {source} · baseline: {baseline} · {share}"
        ).format(
            L=c.num_layers,
            cells=", ".join(sorted(set(c.cells))),
            h=c.hidden_size,
            T=task.steps,
            d=task.input_size,
            q=task.output_size,
            batch=spec.batch_size,
            updates=spec.updates,
            dtype=spec.dtype,
            seed=spec.seed,
            dropout=f"{c.dropout:g}",
            clip=_("off") if spec.clip_norm is None else f"{spec.clip_norm:g}",
            source=_(task.source),
            baseline=_(task.baseline_rule),
            share=_(layout.SHARE),
        )  # fmt: skip
    )
    code.cell_code(c.cells)
    history = training.cached(spec)
    clicked = st.button(_("Train"), type="primary", key="train", icon=":material/play_arrow:")
    if history is None and clicked:
        bar = st.progress(
            0.0,
            text=_("Training: about {seconds} s").format(
                seconds=f"{training.estimate_seconds(spec):.0f}"
            ),
        )
        chart = st.empty()
        try:
            history = training.run(spec, live_callback(bar, chart, task.baseline_rule))
        except compute.CORE_ERRORS as err:
            st.error(
                _("The core could not train these settings: {error}").format(
                    error=core_text.error(err)
                )
            )
            return
        bar.empty()
        chart.empty()
    if history is None:
        st.info(
            _("Press **Train** to run these settings (about {seconds} s estimated).").format(
                seconds=f"{training.estimate_seconds(spec):.0f}"
            ),
            icon=":material/play_arrow:",
        )
        return
    st.caption(_("Every number below was recorded during this run, update by update."))
    results(history, spec, task)
    # the trained model leaves as the drawn and uploaded ones do: safetensors + torch code
    if (box := layout.downloads_section()) is not None:
        upload.export_section(
            history.model,
            f"deeprnn_trained_{spec.task}_L{c.num_layers}",
            lambda: training.cached(spec).model,
            box,
        )


COMPUTED = (
    N_(
        "The run: `deeprnn_core.training.loop.train` (the core's exact forward and adjoint for "
        "the gradients, torch.optim for the updates); its records: `training.history`."
    ),
)
layout.header("Training", EXPLAIN, COMPUTED)
controls()
draw(state.current())
