"""Hostile files: each is refused with a ValueError that names the rule, and nothing in it runs
(the payloads would create a marker file; the tests check it is still absent)."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import tracemalloc

import numpy as np
import pytest
import torch
from safetensors.numpy import save as save_numpy

import deeprnn_core as dc
from deeprnn_core.data import files

SEQ = dict(input_size=3, max_bytes=2**20, max_steps=500, max_batch=8)


class Payload:
    """Unpickling this calls ``Path.touch(marker)``: the side effect a test looks for."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        import pathlib

        return pathlib.Path.touch, (pathlib.Path(self.marker),)


def torch_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def valid_safetensors() -> bytes:
    rnn = torch.nn.RNN(3, 4).double()
    return save_numpy({k: v.detach().numpy() for k, v in rnn.state_dict().items()})


def with_header(header: dict, buffer: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + buffer


@pytest.mark.parametrize("how", ["torch.save", "inside a state dict", "bare pickle"])
def test_a_pickle_whose_reduce_runs_code_is_refused_and_does_not_run(how, tmp_path):
    marker = tmp_path / "pwned"
    payload = Payload(str(marker))
    weights = {"weight_ih_l0": torch.zeros(4, 3), "weight_hh_l0": torch.zeros(4, 4)}
    data = {
        "torch.save": lambda: torch_bytes(payload),
        "inside a state dict": lambda: torch_bytes({**weights, "x": payload}),
        "bare pickle": lambda: pickle.dumps(payload),
    }[how]()
    match = "bare pickle" if how == "bare pickle" else r"needs globals .*pathlib.*Path"
    with pytest.raises(ValueError, match=match):
        dc.load_model(data)
    assert not marker.exists(), "the payload ran"


def test_the_payload_is_real(tmp_path):
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(Payload(str(marker))))  # noqa: S301 - our own payload
    assert marker.exists(), "unpickled without care, the payload runs"


def test_a_whole_pickled_module_is_refused_with_the_globals_it_asks_for():
    data = torch_bytes(torch.nn.LSTM(3, 4))
    with pytest.raises(ValueError, match=r"torch\.nn\.modules\.rnn\.LSTM.*state_dict\(\)"):
        dc.load_model(data)


def test_a_compressed_zip_is_refused_before_unpickling():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", b"\0" * 10_000)
    with pytest.raises(ValueError, match="compressed entries"):
        dc.load_model(buffer.getvalue())


def test_safetensors_headers_that_lie_are_refused():
    good = valid_safetensors()
    (size,) = struct.unpack("<Q", good[:8])
    header, buffer = json.loads(good[8 : 8 + size]), good[8 + size :]
    key = "weight_hh_l0"  # (4, 4) float64: 128 bytes
    start = header[key]["data_offsets"][0]
    lies = {
        r"needs 256 bytes, its offsets span 128": {"shape": [8, 4]},
        r"outside the \d+-byte data buffer": {"data_offsets": [start, start + 10**9]},
        r"needs 128 bytes, its offsets span 0": {"data_offsets": [start, start]},
    }
    for match, change in lies.items():
        with pytest.raises(ValueError, match=match):
            dc.load_model(with_header({**header, key: {**header[key], **change}}, buffer))
    overlap = {**header, key: {**header[key], "data_offsets": [0, 128]}}
    with pytest.raises(ValueError, match=r"no holes and no overlaps|starts at byte"):
        dc.load_model(with_header(overlap, buffer))
    with pytest.raises(ValueError, match=r"data buffer is \d+ bytes, the tensors cover"):
        dc.load_model(with_header(header, buffer + b"\0" * 64))
    with pytest.raises(ValueError, match=r"unknown dtype 'F128'"):
        dc.load_model(with_header({**header, key: {**header[key], "dtype": "F128"}}, buffer))


def test_safetensors_header_over_the_limit_or_claiming_too_much():
    huge = struct.pack("<Q", files.MAX_HEADER_BYTES + 1) + b"{" + b" " * files.MAX_HEADER_BYTES
    with pytest.raises(ValueError, match=r"header is \d+ bytes, over the limit"):
        dc.load_model(huge)
    with pytest.raises(ValueError, match=r"over the limit"):
        dc.load_model(struct.pack("<Q", 2**62) + b'{"a": 1}')
    with pytest.raises(ValueError, match=r"not valid JSON"):
        dc.load_model(struct.pack("<Q", 6) + b"{oops}")


def test_truncated_random_and_empty_files():
    good, pt = valid_safetensors(), torch_bytes(torch.nn.RNN(3, 4).state_dict())
    with pytest.raises(ValueError, match=r"truncated|data buffer"):
        dc.load_model(good[: len(good) // 2])
    with pytest.raises(ValueError, match=r"truncated"):
        dc.load_model(good[:40])
    with pytest.raises(ValueError, match=r"zip|torch"):
        dc.load_model(pt[: len(pt) // 2])
    random = np.random.default_rng(0).bytes(4096)
    with pytest.raises(ValueError, match=r"neither safetensors .* nor a torch\.save"):
        dc.load_model(random)
    with pytest.raises(ValueError, match=r"empty \(0 bytes\)"):
        dc.load_model(b"")
    with pytest.raises(TypeError, match=r"source must be a path or bytes, got int"):
        dc.load_model(3)


def test_a_1_gb_file_is_refused_by_the_cap_without_being_read(tmp_path, monkeypatch):
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as f:
        f.truncate(2**30)  # sparse: 1 GB on paper, nothing on disk
    opened = []
    monkeypatch.setattr(files, "open", lambda *a, **k: opened.append(a), raising=False)
    tracemalloc.start()
    try:
        for call in (dc.load_model, lambda p: dc.load_sequence(p, **SEQ)):
            with pytest.raises(ValueError, match=r"1073741824 bytes, over the cap"):
                call(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not opened, "the file was opened"
    assert peak < 2**20, f"peak Python allocation {peak} bytes while refusing a 1 GB file"
    os.remove(path)


@pytest.mark.parametrize(
    "text,match",
    [
        ("a,b,c\n1,2,3\n4,x,6\n", r"data row 2, column 2 is not a number: 'x'"),
        ("1,2,3\n4,nan,6\n", r"1 inf/nan values \(first at step 2\)"),
        ("1,2,3\n4,5\n", r"ragged: data row 2 has 2 columns, not 3"),
        (",".join(["1"] * 10**6) + "\n", r"1000000 columns, over the limit of 4096"),
        ("1,2\n3,4\n", r"Expected 3, got 2"),
        ("x,y,z\n", r"no rows of numbers"),
        ("1,2,3\n" * 501, r"T = 501 steps, over max_steps = 500"),
    ],
)
def test_bad_csv_sequences_are_refused_by_name(text, match):
    with pytest.raises(ValueError, match=match):
        dc.load_sequence(text.encode(), **{**SEQ, "max_bytes": 2**24})


def test_npy_with_objects_and_binary_junk_are_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"could not be read.*allow_pickle"):
        dc.load_sequence(buffer.getvalue(), **SEQ)
    with pytest.raises(ValueError, match=r"not UTF-8 text"):
        dc.load_sequence(b"\xff\xfe\x00junk", **SEQ)


def test_good_sequences_load_from_csv_npy_and_safetensors():
    x = np.random.default_rng(1).standard_normal((20, 2, 3))
    y = x[..., :1] * 2
    csv = "u1,u2,u3,target\n" + "\n".join(",".join(repr(float(v)) for v in r) for r in
                                          np.concatenate([x[:, 0], y[:, 0]], 1))  # fmt: skip
    got_x, got_y = dc.load_sequence(csv.encode(), **SEQ)
    np.testing.assert_array_equal(got_x, x[:, :1])
    np.testing.assert_array_equal(got_y, y[:, :1])
    buffer = io.BytesIO()
    np.save(buffer, x)
    got_x, got_y = dc.load_sequence(buffer.getvalue(), **SEQ)
    np.testing.assert_array_equal(got_x, x)
    assert got_y is None
    got_x, got_y = dc.load_sequence(save_numpy({"x": x, "y": y}), **SEQ, standardize=True)
    np.testing.assert_allclose(got_x.mean(axis=(0, 1)), 0, atol=1e-12)
    np.testing.assert_allclose(got_x.std(axis=(0, 1)), 1, rtol=1e-12)
    np.testing.assert_array_equal(got_y, y)
    with pytest.raises(ValueError, match=r"B = 2 samples, over max_batch = 1"):
        dc.load_sequence(buffer.getvalue(), **{**SEQ, "max_batch": 1})
