"""Uploads in AppTest, through the real st.file_uploader (AppTest's ``set_value`` feeds it the
bytes as a browser would): the uploaded model is the network of every page, with the core's
numbers; a refused upload leaves the previous model and shows the refusal as text; data and
export."""

from __future__ import annotations

import io
import re

import numpy as np
import torch
from safetensors.torch import save as save_safetensors

from app.settings import upload
from deeprnn_core import from_torch, trace
from deeprnn_core.analysis.summaries import cell_norms
from deeprnn_core.data.signals import make_signal, standardized
from tests.figure_data import by_name, values
from tests.test_app import PAGES, assert_clean, chart_with, open_app, open_sections

OCTET = "application/octet-stream"


def lstm_file(layers: int = 3, hidden: int = 6, d: int = 5, seed: int = 0):
    torch.manual_seed(seed)
    rnn = torch.nn.LSTM(d, hidden, num_layers=layers).double()
    head = torch.nn.Linear(hidden, 2).double()
    sd = {f"encoder.{k}": v for k, v in rnn.state_dict().items()}
    sd |= {f"fc.{k}": v for k, v in head.state_dict().items()}
    return save_safetensors(sd), from_torch(rnn, head)


def send(at, key: str, name: str, data: bytes):
    if not at.get("file_uploader"):  # the section is closed: open it, as a user does
        at = open_sections(at, "open_upload")
    uploader = next(u for u in at.get("file_uploader") if u.key.startswith(key))
    return uploader.set_value((name, data, OCTET)).run()


def shown(markdown: str) -> str:
    """The text a reader sees of markdown whose punctuation is backslash-escaped."""
    return re.sub(r"\\(.)", r"\1", markdown)


def infos(at) -> str:
    return shown(" ".join(i.value for i in at.info))


def test_an_uploaded_model_runs_on_every_page_with_the_cores_numbers():
    data, model = lstm_file()
    at = send(open_app(), "upload_model", "my_lstm.safetensors", data)
    assert_clean(at)
    assert "my_lstm.safetensors is the network of every page" in infos(at)
    assert any("Model in use" in c.value for c in at.sidebar.caption)
    grid = chart_with(at, "cell picker")
    z = values(by_name(grid, "cells")["z"])
    assert z.shape == (3, 50), "L = 3 from the file, T = 50 from the sidebar"
    spec = at.session_state[upload.MODEL]  # the Upload, for its key
    assert spec.model.config == model.config
    x = make_signal("noise", 50, 1, 5, 0)
    expected = np.log10(cell_norms(trace(model, x))[1])
    np.testing.assert_allclose(z, expected, rtol=0, atol=1e-6)
    assert at.slider(key="num_layers").disabled and at.slider(key="hidden_size").disabled
    for page in [*PAGES, "views/phase_diagram.py", "views/training.py"]:
        at.switch_page(page).run()
        assert_clean(at)
        assert "my_lstm.safetensors is the network of every page" in infos(at), page
        if page != "views/ab_compare.py":  # the A/B page states L in its own caption
            assert any("L = 3" in c.value and "h = 6" in c.value for c in at.caption), page


def test_a_refused_upload_keeps_the_previous_model_and_says_why_as_text():
    data, _ = lstm_file()
    at = send(open_app(), "upload_model", "good.safetensors", data)
    evil = io.BytesIO()
    torch.save(torch.nn.GRU(3, 4), evil)
    at = send(at, "upload_model", "**bold** [x](http://e).pt", evil.getvalue())
    assert not at.exception
    refusal = [e.value for e in at.sidebar.error]
    assert refusal and "(torch.nn.modules.rnn.GRU)" in shown(refusal[0])
    assert shown(refusal[0]).startswith("**bold** [x](http://e).pt was refused")
    assert "\\*\\*bold\\*\\* \\[x\\]\\(http" in refusal[0], "markdown escaped"
    assert "good.safetensors is the network of every page" in infos(at), "the previous model stays"
    assert values(by_name(chart_with(at, "cell picker"), "cells")["z"]).shape[0] == 3
    at.button(key="upload_remove_model").click().run()
    assert_clean(at)
    assert "is the network of every page" not in infos(at)
    assert values(by_name(chart_with(at, "cell picker"), "cells")["z"]).shape[0] == 4
    keys = [u.key for u in at.get("file_uploader")]
    assert "upload_model_1" in keys, "Remove also empties the file box (a new uploader)"
    at = send(at, "upload_model", "again.safetensors", data)
    assert "again.safetensors is the network of every page" in infos(at)


def test_a_headless_model_offers_the_probe_and_uploaded_data_sets_the_input():
    torch.manual_seed(1)
    rnn = torch.nn.RNN(3, 4, num_layers=2, nonlinearity="relu").double()
    at = send(open_app({"act": "relu"}), "upload_model", "bare.safetensors",
              save_safetensors(rnn.state_dict()))  # fmt: skip
    assert "probe dLoss/dH_T^(L) = 1" in infos(at)
    for page in [
        *PAGES,
        "views/phase_diagram.py",
        "views/training.py",
    ]:  # the probe loss everywhere
        at.switch_page(page).run()
        assert_clean(at)
    at.switch_page("views/information_flow.py").run()
    x = np.random.default_rng(2).standard_normal((12, 2, 3))
    buffer = io.BytesIO()
    np.save(buffer, x)
    at = send(at, "upload_data", "seq.npy", buffer.getvalue())
    assert_clean(at)
    assert "T = 12, B = 2, d = 3" in infos(at)
    tr = trace(from_torch(rnn), x, loss_kind="probe")
    grid = values(by_name(chart_with(at, "cell picker"), "cells")["z"])
    np.testing.assert_allclose(grid, np.log10(cell_norms(tr)[1]), rtol=0, atol=1e-6)
    at.radio(key="upload_head").set_value("random").run()
    assert_clean(at)
    assert "random head" in infos(at)
    at.switch_page("views/gradient_flow.py").run()
    assert_clean(at)
    assert "random head" in infos(at), "the choice outlives the page's widget"
    at.checkbox(key="upload_standardize").check().run()
    assert "d = 3, standardized" in infos(at)
    at.switch_page("views/information_flow.py").run()
    tr = trace(
        from_torch(rnn), standardized(x), loss_kind="last"
    )  # the sidebar's loss, random head
    grid = values(by_name(chart_with(at, "cell picker"), "cells")["z"])
    np.testing.assert_allclose(grid, np.log10(cell_norms(tr)[1]), rtol=0, atol=1e-6)
    uploader = next(u for u in at.get("file_uploader") if u.key.startswith("upload_data"))
    uploader.set_value(None).run()  # as the browser does between two files: the data stays
    assert "d = 3, standardized" in infos(at)
    at.button(key="upload_remove_data").click().run()  # back to the sidebar's signal
    assert_clean(at)
    assert "your data" not in infos(at)


def test_bad_data_is_refused_with_the_rule():
    at = send(open_app(), "upload_data", "bad.csv", b"1,2,3\n4,nan,6\n")
    assert not at.exception
    assert "inf/nan" in at.sidebar.error[0].value
    assert values(by_name(chart_with(at, "cell picker"), "cells")["z"]).shape == (4, 50)


def test_export_offers_the_safetensors_and_the_torch_code():
    at = open_sections(open_app({"cell": "gru"}), "open_downloads")
    assert_clean(at)
    code = [c.value for c in at.sidebar.code if "torch.nn.GRU" in c.value]
    assert code and "load_file('deeprnn_model_L4.safetensors')" in code[0]


def test_the_sidebar_shows_the_uploaded_model_and_greys_what_does_not_apply():
    """Issue 17: with a 2-layer h = 16 LSTM loaded, the greyed sidebar showed L = 4, h = 32,
    cell rnn and an enabled Activation. It shows the model's L, h, d and cells now, says why
    each is greyed, and gives the setting back when the model is removed."""
    data, model = lstm_file(layers=2, hidden=16, d=7)
    at = send(open_app({"L": "5"}), "upload_model", "small.safetensors", data)
    assert_clean(at)
    for key, value in (("num_layers", 2), ("hidden_size", 16), ("input_size", 7)):
        assert at.slider(key=key).value == value and at.slider(key=key).disabled, key
    assert at.selectbox(key="cell").value == "lstm" and at.selectbox(key="cell").disabled
    assert at.selectbox(key="activation").disabled, "no plain rnn layer: φ does nothing"
    captions = [shown(c.value) for c in at.sidebar.caption]
    assert any("Set by your model small.safetensors: L = 2, h = 16, d = 7, lstm" in c
               for c in captions), captions  # fmt: skip
    assert any("Every layer here is gated" in c for c in captions), captions
    at.button(key="upload_remove_model").click().run()
    assert_clean(at)
    assert at.slider(key="num_layers").value == 5 and not at.slider(key="num_layers").disabled
    assert at.slider(key="hidden_size").value == 32 and at.selectbox(key="cell").value == "rnn"
    assert not at.selectbox(key="activation").disabled


def test_the_size_limit_is_readable_and_old_refusals_go_after_a_success():
    at = open_sections(open_app(), "open_upload")
    labels = {u.key: u.label for u in at.get("file_uploader")}
    assert f"up to {upload.MODEL_CAP_MB} MB" in labels["upload_model"], labels
    assert f"up to {upload.DATA_CAP_MB} MB" in labels["upload_data"], labels
    assert any("refused by the browser before it is sent" in c.value for c in at.sidebar.caption)
    bad = np.array([[1.0, np.inf]])
    buffer = io.BytesIO()
    np.save(buffer, bad)
    at = send(at, "upload_data", "bad.npy", buffer.getvalue())
    assert at.sidebar.error and "bad.npy was refused" in shown(at.sidebar.error[0].value)
    data, _ = lstm_file()
    at = send(at, "upload_model", "good.safetensors", data)  # a later upload succeeds
    assert_clean(at)
    assert not at.sidebar.error, "the old refusal is gone"
    labels = {u.key: u.label for u in at.get("file_uploader")}
    assert f"up to {upload.MODEL_CAP_MB} MB" in labels["upload_model"], "and after the attempt"
