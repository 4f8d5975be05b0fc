"""Downloads: built from the spec when clicked, exact, deflated only where that pays, and sized
on the button before the click."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace

import numpy as np
from streamlit.testing.v1 import AppTest

from app.runs import compute, export
from app.settings import controls
from tests.test_app import APP, open_sections

DEFAULTS = controls.Settings(**{c.key: c.default for c in controls.CONTROLS})


def test_npz_is_exact_and_deflates_only_what_compresses():
    rng = np.random.default_rng(0)
    arrays = {"noise": rng.standard_normal((64, 64)), "gaps": np.full((64, 64), np.nan)}
    data = export.npz_bytes(arrays)
    kinds = {i.filename: i.compress_type for i in zipfile.ZipFile(io.BytesIO(data)).infolist()}
    assert kinds == {"noise.npy": zipfile.ZIP_STORED, "gaps.npy": zipfile.ZIP_DEFLATED}
    back = np.load(io.BytesIO(data))
    np.testing.assert_array_equal(back["noise"], arrays["noise"])
    assert np.isnan(back["gaps"]).all()


def test_trace_and_norm_downloads_come_from_the_spec():
    spec = compute.plan(replace(DEFAULTS, cell="per layer", cell_layers="rnn,gru,lstm")).spec
    _, tr = compute.get_trace(spec)
    data = np.load(io.BytesIO(export.trace_npz(spec, "L=4")))
    np.testing.assert_array_equal(data["grad_hidden"], tr.grad_hidden)
    np.testing.assert_array_equal(data["gate_f"], tr.gates["f"])  # nan on rnn / gru layers
    norms = np.load(io.BytesIO(export.norms_npz(spec, "L=4")))
    np.testing.assert_array_equal(
        norms["grad_hidden_norm"], compute.summarize(spec).grad_hidden_norm
    )
    assert len(export.norms_npz(spec, "L=4")) <= 2 * export.norms_bytes(spec)


def test_buttons_say_the_size_before_the_click():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"L": "3", "T": "20"})
    at.run()
    assert not at.exception
    assert not at.get("download_button"), "a closed section builds and sends nothing"
    at = open_sections(at, "open_downloads")
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert any(label.startswith("Trace, every array (NPZ, about ") for label in labels), labels
    assert any(label.startswith("Norms only (NPZ, about ") for label in labels), labels
