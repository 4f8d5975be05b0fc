"""Your model and your data: uploads held per browser session, and the export of the model shown.

An upload lives in ``st.session_state`` only: never in a cache shared between users, never on
disk, never in the URL. The caches of runs.compute see only its sha256 (``TraceSpec.model_key``
/ ``data_key``): content-addressed, so a cached trace is reachable only by a session that holds
the same bytes. The files are untrusted: deeprnn_core.load_model / load_sequence check them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import streamlit as st

from app.settings import language, state
from app.settings.controls import BY_KEY
from app.words import core_text
from app.words.i18n import N_, sentences
from app.words.i18n import gettext as _
from deeprnn_core import Model, load_model, load_sequence, save_model, torch_code
from deeprnn_core.config import activation_applies
from deeprnn_core.data.signals import standardized
from deeprnn_core.weights.model import expected_shapes

MODEL, DATA = "upload:model", "upload:data"  # session-state keys of the Upload in use
ERROR = "upload:error:"  # + "model" / "data": the last refusal, as text
MODEL_CAP_MB, DATA_CAP_MB = 16, 8  # per-widget caps, checked again on the bytes
MAX_LAYERS, MAX_HIDDEN = 32, 256  # the sidebar's own ranges of L and h
MAX_STEPS, MAX_BATCH = 2000, 64  # of uploaded data (the trace budget may then lower T and B)
# The settings an uploaded model fixes (its weights decide them), back to their defaults so that
# moving their disabled sliders does not make new cache entries.
MODEL_FIXES = ("num_layers", "hidden_size", "input_size", "cell", "cell_layers", "scheme",
               "recurrent_gain", "input_gain", "bias_scale", "layer_norm")  # fmt: skip
DATA_FIXES = ("steps", "batch", "signal")
# the browser refuses a file over an uploader's cap before sending it (it marks the file with a
# red icon and says why only on hover): say it where it can be read, before and after
TOO_BIG = N_(
    "A model over {model_mb} MB or data over {data_mb} MB is refused by the browser before it is "
    "sent (the file then shows a red icon): the model in use stays."
)
HEADS = {"probe": N_("probe: dLoss/dH_T^(L) = 1"),
         "random": N_("random head (torch default, seed 0)")}  # fmt: skip


def too_big() -> str:
    """TOO_BIG in the current language, with the caps."""
    return _(TOO_BIG).format(model_mb=MODEL_CAP_MB, data_mb=DATA_CAP_MB)


@dataclass(frozen=True, eq=False)
class Upload:
    """One uploaded file: what the user sees of it and what the core read from it."""

    name: str
    size: int  # bytes
    sha256: str  # hex digest of the bytes: the cache key
    model: Model | None = None
    raw: bytes = b""  # a data file's bytes, read again when the model's d changes
    parsed: dict = field(default_factory=dict)  # input_size -> (x, y) or the refusal

    def label(self) -> str:
        return f"{self.name} · {self.size / 1024:,.1f} KB · sha256 {self.sha256[:12]}"


def plain(text: str) -> str:
    """``text`` with every markdown / LaTeX character escaped: user text shows as typed."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>$~:])", r"\\\1", str(text))


def model_upload() -> Upload | None:
    return st.session_state.get(MODEL)


def data_upload() -> Upload | None:
    return st.session_state.get(DATA)


def _sequence(up: Upload, input_size: int | None):
    """(x, y) of a data upload for a model of width ``input_size`` (None: the file's), or the
    core's refusal as a string; parsed once per width."""
    if input_size not in up.parsed:
        try:
            up.parsed[input_size] = load_sequence(
                up.raw, input_size=input_size, max_bytes=DATA_CAP_MB << 20,
                max_steps=MAX_STEPS, max_batch=MAX_BATCH,
            )  # fmt: skip
        except (ValueError, TypeError) as err:
            up.parsed[input_size] = core_text.error(err)
    return up.parsed[input_size]


def adjust(s) -> tuple[object, list[str], dict[str, str]]:
    """The Settings as the uploads fix them, a notice per upload, and the TraceSpec's keys."""
    notices, keys, changes = [], {}, {}
    up, data = model_upload(), data_upload()
    if up is not None:
        c = up.model.config
        changes.update({k: _default(k) for k in MODEL_FIXES})
        changes.update(num_layers=c.num_layers, hidden_size=c.hidden_size,
                       input_size=c.input_size, cell=c.cell)  # fmt: skip
        head = _("trained head")
        if up.model.random_head:
            probe = kept("upload_head", "probe") == "probe"
            head = _("probe dLoss/dH_T^(L) = 1") if probe else _("random head (seed 0)")
            changes["loss_kind"] = "probe" if probe else s.loss_kind
        phi = (
            _(", φ = {activation} (weights cannot tell: the sidebar's Activation)").format(
                activation=s.activation
            )
            if any(map(activation_applies, c.cells))
            else ""
        )
        cells = c.cell if isinstance(c.cell, str) else ", ".join(dict.fromkeys(c.cell))
        notices.append(sentences(
            _(
                "Your model {name} is the network of every page that runs one: L = {L}, {cells} "
                "cells, h = {h}, d = {d}, {head}{phi}. The sidebar's architecture and "
                "initialization controls do not apply. The Depth sweep, Phase diagram and "
                "Training pages draw fresh weights with its depth, cells and width."
            ).format(
                name=plain(up.name),
                L=c.num_layers,
                cells=cells,
                h=c.hidden_size,
                d=c.input_size,
                head=plain(head),
                phi=phi,
            ),  # fmt: skip
            _("Layer norm is off: the file has no LayerNorm weights.") if s.layer_norm else "",
        ))  # fmt: skip
        keys["model_key"] = up.sha256
    if data is not None:
        parsed = _sequence(data, up.model.config.input_size if up else None)
        if isinstance(parsed, str):
            notices.append(
                _("Your data {name} is not used: {reason}").format(
                    name=plain(data.name), reason=plain(parsed)
                )
            )
        else:
            x, y = parsed
            std = bool(kept("upload_standardize", False))
            changes.update(steps=x.shape[0], batch=x.shape[1], signal=_default("signal"))
            changes["input_size"] = x.shape[2]
            keys["data_key"] = f"{data.sha256}:d{x.shape[2]}" + (":std" if std else "")
            extras = [_("standardized")] * std + [_("with targets")] * (y is not None)
            notices.append(
                _(
                    "Input X_t: your data {name} (T = {T}, B = {B}, d = {d}{extras}). The depth "
                    "sweep draws its own noise input."
                ).format(
                    name=plain(data.name),
                    T=x.shape[0],
                    B=x.shape[1],
                    d=x.shape[2],
                    extras="".join(_(", ") + e for e in extras),
                )  # fmt: skip
            )
    return replace(s, **changes), notices, keys


def _default(key: str):
    return BY_KEY[key].default


def shown_settings(s):
    """Settings ``s`` as the sidebar shows them: what the uploads fix at their values (the
    model's L, h, d and cells; the data's T and B), a mixed stack as its per-layer list."""
    fixed = adjust(s)[0]
    if not isinstance(fixed.cell, str):  # one cell per layer
        fixed = replace(fixed, cell="per layer", cell_layers=",".join(fixed.cell))
    return fixed


def fixed_reasons() -> dict[str, str]:
    """Why each control an upload fixes is greyed out (a sentence, shared by its group)."""
    up, data, why = model_upload(), data_upload(), {}
    if up is not None:
        c, name = up.model.config, plain(up.name)
        net = _("Set by your model {name}: L = {L}, h = {h}, d = {d}, {cells} cells.").format(
            name=name, L=c.num_layers, h=c.hidden_size, d=c.input_size,
            cells=", ".join(dict.fromkeys(c.cells)),
        )  # fmt: skip
        init = _("Not used: the weights are your model's ({name}), not drawn.").format(name=name)
        why |= {k: net for k in ("num_layers", "hidden_size", "input_size", "cell", "cell_layers")}
        why |= {k: init for k in ("scheme", "recurrent_gain", "input_gain", "bias_scale")}
        why["layer_norm"] = _("Off: your model {name} has no LayerNorm weights.").format(name=name)
    if data is not None and not isinstance(_sequence(data, _width(up)), str):
        said = _("Set by your data {name}.").format(name=plain(data.name))
        why |= dict.fromkeys(DATA_FIXES, said)
    if data is not None and up is None:
        why["input_size"] = _("Set by your data {name}: its columns.").format(name=plain(data.name))
    return why


def _width(up: Upload | None) -> int | None:
    return up.model.config.input_size if up else None


def fixed_keys() -> set[str]:
    """The sidebar controls the uploads fix (drawn disabled)."""
    up, data = model_upload(), data_upload()
    fixed = set(MODEL_FIXES) if up else set()
    if data is not None and not isinstance(_sequence(data, _width(up)), str):
        fixed |= {*DATA_FIXES, "input_size"}  # the data's T, B and d (d: the model's, if any)
    return fixed


def model(spec) -> Model:
    """The uploaded model with the spec's config (its remedies, activation, or one layer only)."""
    up = model_upload()
    if up is None or up.sha256 != spec.model_key:
        raise ValueError("the uploaded model is no longer in this session: upload it again")
    config = replace(spec.config, output_size=up.model.config.output_size)  # q of its head
    if config == up.model.config:
        return up.model  # as loaded (its engine layout is kept with it)
    names = expected_shapes(config)
    return Model(config, {k: v for k, v in up.model.params.items() if k in names},
                 random_head=up.model.random_head)  # fmt: skip


def sequence(spec) -> tuple[np.ndarray, np.ndarray | None]:
    """(x (T, B, d), y or None) of the uploaded data, cut to the spec's T and B."""
    up = data_upload()
    if up is None or not spec.data_key.startswith(up.sha256):
        raise ValueError("the uploaded data is no longer in this session: upload it again")
    x, y = _sequence(up, None if spec.model_key is None else spec.config.input_size)
    x = standardized(x) if spec.data_key.endswith(":std") else x
    cut = (slice(spec.steps), slice(spec.batch))
    return x[cut], None if y is None else y[cut]


def kept(key: str, default):
    """The value of an upload option. It is kept apart from its widget, whose own state is
    dropped on another page (the widget there is a new one)."""
    return st.session_state.get("kept:" + key, default)


def _kept(key: str, default, then=None) -> dict:
    """Widget arguments for option ``key``: its kept value copied in before it is drawn, and
    copied back (then ``then("model")``) when the user changes it."""
    if st.session_state.get(key) != kept(key, default):
        st.session_state[key] = kept(key, default)

    def changed() -> None:
        st.session_state["kept:" + key] = st.session_state[key]
        if then is not None:
            then("model")

    return dict(key=key, on_change=changed)


def _read(kind: str) -> None:
    """Callback of an uploader (or of the prefixes): load its file, keeping what was there if
    the file is refused. An emptied uploader keeps the upload in use: the browser empties it
    on its way to the next file too, and a refused next file must leave the model as it was.
    The Remove button removes it."""
    language.load()  # a callback runs before the router sets this run's language
    file = st.session_state.get(uploader_key(kind))
    st.session_state.pop(ERROR + kind, None)
    if file is None:
        return
    cap = (MODEL_CAP_MB if kind == "model" else DATA_CAP_MB) << 20
    try:
        if file.size > cap:
            raise ValueError(f"{file.size} bytes, over the cap of {cap} bytes")
        raw = file.getvalue()
        digest = hashlib.sha256(raw).hexdigest()
        if kind == "data":
            new = Upload(file.name, len(raw), digest, raw=raw)
            parsed = _sequence(new, None)
            if isinstance(parsed, str):
                raise ValueError(parsed)
        else:
            prefix = kept("upload_prefix", "") or None
            head = kept("upload_head_prefix", "") or None
            loaded = load_model(raw, prefix=prefix, head_prefix=head, max_bytes=cap,
                                max_layers=MAX_LAYERS, max_hidden=MAX_HIDDEN)  # fmt: skip
            key = f"{digest}:{prefix or ''}:{head or ''}"  # the same bytes, another sub-model
            new = Upload(file.name, len(raw), key, model=loaded)
    except Exception as err:  # noqa: BLE001 - hostile input: any failure is a refusal
        st.session_state[ERROR + kind] = _("{name} was refused: {reason}").format(
            name=file.name, reason=core_text.error(err)
        )
        return
    st.session_state[MODEL if kind == "model" else DATA] = new
    for other in ("model", "data"):  # a refusal said before is old news now
        st.session_state.pop(ERROR + other, None)


def uploader_key(kind: str) -> str:
    """The key of the ``kind`` uploader: a new one (empty) after each Remove."""
    generation = st.session_state.get(f"upload:generation:{kind}", 0)
    return f"upload_{kind}" + (f"_{generation}" if generation else "")


def _remove(kind: str) -> None:
    """Remove button: back to the sidebar's own model / signal, with an empty uploader."""
    st.session_state.pop(MODEL if kind == "model" else DATA, None)
    st.session_state.pop(ERROR + kind, None)
    generation = f"upload:generation:{kind}"
    st.session_state[generation] = st.session_state.get(generation, 0) + 1


def sidebar_section(container=None) -> None:
    """The sidebar's "Your model and data" section, the same on every page (in ``container``,
    a container in the sidebar, if given)."""
    up, data = model_upload(), data_upload()
    errors = [st.session_state.get(ERROR + k) for k in ("model", "data")]
    in_use = bool(up or data or any(errors))  # opens by itself while something is in use
    box = state.section(_("Your model and data"), "open_upload", in_use, container)
    if box is None:
        return
    box.caption(
        sentences(
            _(
                "Kept in this browser tab's session only: never on disk, never shared with other "
                "users. A shared link cannot carry an upload: it opens the sidebar's own model."
            ),
            too_big(),
        )
    )
    box.container(key="upload_model_box").file_uploader(
        _("Model (up to {mb} MB): .safetensors, or a .pt / .pth state dict").format(
            mb=MODEL_CAP_MB),
        key=uploader_key("model"),
        max_upload_size=MODEL_CAP_MB, on_change=_read, args=("model",),
        help=_("An nn.RNN / GRU / LSTM state dict (any prefix), optionally with an nn.Linear "
               "head. Read with safetensors or torch.load(weights_only=True); nothing in it "
               "runs."),
    )  # fmt: skip
    cols = box.columns(2)
    cols[0].text_input(_("RNN prefix"),
                       help=_("When the file holds several RNNs, e.g. encoder."),
                       max_chars=200, **_kept("upload_prefix", "", then=_read))  # fmt: skip
    cols[1].text_input(_("Head prefix"), help=_("e.g. fc. when several Linear heads fit."),
                       max_chars=200, **_kept("upload_head_prefix", "", then=_read))  # fmt: skip
    if errors[0]:
        box.error(plain(errors[0]), icon=":material/block:")
    if up is not None:
        box.caption(_("**Model in use:** {label}").format(label=plain(up.label())))
        if up.model.random_head:
            heads = {k: _(v) for k, v in HEADS.items()}  # (worded in this run)
            box.radio(_("The file has no head"), tuple(heads), format_func=heads.get,
                      **_kept("upload_head", "probe"))  # fmt: skip
        box.button(_("Remove the model"), key="upload_remove_model", on_click=_remove,
                   args=("model",))  # fmt: skip
    box.container(key="upload_data_box").file_uploader(
        _("Data (up to {mb} MB): .csv (T rows x d columns), .npy (T, d) / (T, B, d), "
          ".safetensors (x, y)").format(mb=DATA_CAP_MB),
        key=uploader_key("data"), max_upload_size=DATA_CAP_MB, on_change=_read, args=("data",),
        help=_("Columns beyond the uploaded model's d are the targets Y_t; without an uploaded "
               "model every column is an input and sets d."),
    )  # fmt: skip
    if errors[1]:
        box.error(plain(errors[1]), icon=":material/block:")
    if data is not None:
        box.caption(_("**Data in use:** {label}").format(label=plain(data.label())))
        box.checkbox(_("Standardize each input unit (mean 0, std 1)"),
                     **_kept("upload_standardize", False))  # fmt: skip
        box.button(_("Remove the data"), key="upload_remove_data", on_click=_remove,
                   args=("data",))  # fmt: skip


def export_section(model: Model, stem: str, load: Callable[[], Model], box) -> None:
    """Download the model shown (drawn, uploaded or trained) as safetensors, with torch code
    for it, into the container ``box``. ``load`` fetches the model again when the button is
    clicked: the deferred download keeps only that small callable (Streamlit holds it for the
    session), never the weights."""
    box.markdown(_("**Export this model**"))
    name = f"{stem}.safetensors"
    box.download_button(
        _("Weights (.safetensors, torch names)"), data=lambda: save_model(load()),
        file_name=name, mime="application/octet-stream", on_click="ignore", key="download_model",
        help=_("weight_ih_l{k}, weight_hh_l{k}, bias_* as nn.RNN / GRU / LSTM name them; the "
               "head as head.weight / head.bias. minGRU / minLSTM layers: weight_ih_l{k} and "
               "bias_ih_l{k} only (their gates read the input alone). LRU layers: weight_ih_l{k} "
               "(B), nu_log_l{k}, theta_log_l{k}, gamma_log_l{k}, weight_c_re_l{k}, "
               "weight_c_im_l{k} (C), weight_d_l{k} (D), as the paper names them."),
    )  # fmt: skip
    try:
        code = torch_code(model, name)
    except ValueError as err:
        box.caption(
            _("No torch module rebuilds this model: {reason}.").format(
                reason=plain(core_text.error(err))
            )
        )
        return
    box.caption(_("torch code that loads it:"))
    box.code(code, language="python")
