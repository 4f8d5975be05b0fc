"""Reading untrusted files: a size cap checked before reading, the format read from the content,
and tensors out of safetensors or a weights-only torch checkpoint. Nothing in a file runs.

A file is refused with a ``ValueError`` that names the rule it breaks (and the key, for a
tensor). The only unpickling is ``torch.load(weights_only=True)``, and only after
``torch.serialization.get_unsafe_globals_in_checkpoint`` found no global beyond torch's
allowlist of tensors and plain containers.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile

import numpy as np

MAX_BYTES = 64 * 2**20  # default cap of an uploaded file
MAX_HEADER_BYTES = 2**20  # a safetensors JSON header: a few KB for a few hundred tensors
SAFETENSORS_FLOATS = {"F16": 2, "F32": 4, "F64": 8, "BF16": 2}  # dtype -> bytes per element
SAFETENSORS_OTHERS = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2,
                      "U16": 2, "I32": 4, "U32": 4, "I64": 8, "U64": 8, "C64": 8}  # fmt: skip
ZIP_MAGIC = b"PK\x03\x04"


def read_capped(source, max_bytes: int, what: str = "source") -> bytes:
    """The bytes of ``source`` (a path, or bytes), refused over ``max_bytes``: a path's size is
    checked with ``os.stat`` before anything is read, and never more than the cap + 1 is read."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)):
        raise TypeError(f"max_bytes must be an int, got {type(max_bytes).__name__}")
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be >= 1, got {max_bytes}")
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        size = os.stat(source).st_size
        if size > max_bytes:
            raise ValueError(f"{what} is {size} bytes, over the cap of max_bytes = {max_bytes}")
        with open(source, "rb") as f:
            data = f.read(max_bytes + 1)  # the file may have grown since the stat
    else:
        raise TypeError(f"{what} must be a path or bytes, got {type(source).__name__}")
    if len(data) > max_bytes:
        raise ValueError(f"{what} is {len(data)} bytes, over the cap of max_bytes = {max_bytes}")
    if not data:
        raise ValueError(f"{what} is empty (0 bytes)")
    return data


def sniff(data: bytes) -> str:
    """ "safetensors", "torch" (torch.save's zip), "npy", or "text" (anything else), from the
    first bytes; never from a file name."""
    if data.startswith(ZIP_MAGIC):
        return "torch"
    if data.startswith(b"\x93NUMPY"):
        return "npy"
    if len(data) >= 9 and data[8:9] == b"{":
        return "safetensors"
    return "text"


def safetensors_header(data: bytes) -> dict:
    """The checked JSON header of a safetensors file: every tensor's dtype, shape and offsets
    consistent with the buffer (no holes, no overlap, nothing past the end)."""
    if len(data) < 8:
        raise ValueError(f"safetensors file is truncated: {len(data)} bytes, no 8-byte header size")
    (size,) = struct.unpack("<Q", data[:8])
    if size > MAX_HEADER_BYTES:
        raise ValueError(
            f"safetensors header is {size} bytes, over the limit of {MAX_HEADER_BYTES}"
        )
    if 8 + size > len(data):
        raise ValueError(
            f"safetensors file is truncated: the header says {size} bytes, "
            f"the file has {len(data) - 8} after the size"
        )
    try:
        header = json.loads(data[8 : 8 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ValueError(f"safetensors header is not valid JSON ({err})") from None
    if not isinstance(header, dict):
        raise ValueError("safetensors header must be a JSON object")
    buffer = len(data) - 8 - size
    spans = []
    for key, info in header.items():
        if key == "__metadata__":
            continue
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"safetensors tensor {key!r} needs dtype, shape and data_offsets")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in SAFETENSORS_FLOATS and dtype not in SAFETENSORS_OTHERS:
            raise ValueError(f"safetensors tensor {key!r} has an unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(type(n) is int and 0 <= n < 2**40 for n in shape):
            raise ValueError(f"safetensors tensor {key!r} has a bad shape {shape!r}")
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(type(n) is int for n in offsets)
            and 0 <= offsets[0] <= offsets[1] <= buffer
        ):
            raise ValueError(
                f"safetensors tensor {key!r} has data_offsets {offsets!r} outside the "
                f"{buffer}-byte data buffer"
            )
        itemsize = SAFETENSORS_FLOATS.get(dtype) or SAFETENSORS_OTHERS[dtype]
        if offsets[1] - offsets[0] != int(np.prod(shape, dtype=object)) * itemsize:
            raise ValueError(
                f"safetensors tensor {key!r}: shape {shape} of {dtype} needs "
                f"{int(np.prod(shape, dtype=object)) * itemsize} bytes, its offsets span "
                f"{offsets[1] - offsets[0]}"
            )
        spans.append((offsets[0], offsets[1], key))
    end = 0
    for begin, stop, key in sorted(spans):
        if begin != end:
            raise ValueError(
                f"safetensors tensor {key!r} starts at byte {begin}, expected {end} "
                "(the data buffer must have no holes and no overlaps)"
            )
        end = stop
    if end != buffer:
        raise ValueError(f"safetensors data buffer is {buffer} bytes, the tensors cover {end}")
    return header


def read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as float64, after ``safetensors_header`` checked it;
    integer, boolean and complex tensors are refused by name."""
    header = safetensors_header(data)
    for key, info in header.items():
        if key != "__metadata__" and info["dtype"] not in SAFETENSORS_FLOATS:
            raise ValueError(
                f"tensor {key!r} has dtype {info['dtype']}: weights and sequences must be "
                "floating point (not integer, boolean or complex)"
            )
    try:
        if any(i["dtype"] == "BF16" for k, i in header.items() if k != "__metadata__"):
            # numpy has no bfloat16; torch loads lazily, for the files that need it only
            from safetensors.torch import load

            tensors = {k: v.double().numpy() for k, v in load(data).items()}
        else:
            from safetensors.numpy import load  # lazily: only an upload or a load reads one

            tensors = load(data)
    except Exception as err:  # noqa: BLE001 - the library's own refusal, reworded
        raise ValueError(f"safetensors could not read the file ({err})") from None
    return {k: np.asarray(v, dtype=np.float64) for k, v in tensors.items()}


def read_torch(data: bytes, max_bytes: int) -> dict[str, np.ndarray]:
    """The tensors of a ``torch.save`` zip checkpoint holding a state dict (str -> tensor; one
    level of nesting, as ``{"model": state_dict}``, is flattened with "."), as float64.

    Refused before anything is unpickled: a compressed or oversized zip, a TorchScript archive,
    and any global beyond torch's weights-only allowlist (listed in the message).
    """
    import torch  # lazily: a checkpoint upload is rare, and torch takes seconds to import

    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as err:
        raise ValueError(f"torch checkpoint is not a readable zip archive ({err})") from None
    packed = [e.filename for e in entries if e.compress_type != zipfile.ZIP_STORED]
    if packed:
        raise ValueError(f"torch checkpoint has compressed entries {packed[:3]}: torch.save "
                         "stores them uncompressed")  # fmt: skip
    if sum(e.file_size for e in entries) > max_bytes:
        raise ValueError(f"torch checkpoint unpacks to more than max_bytes = {max_bytes}")
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data))
    except Exception as err:  # noqa: BLE001 - not a torch.save checkpoint at all
        raise ValueError(f"not a torch.save checkpoint ({err})") from None
    if unsafe:
        raise ValueError(
            "torch checkpoint refused: it needs globals beyond tensors and plain containers "
            f"({', '.join(sorted(unsafe))}); save model.state_dict(), not the model, or "
            "use safetensors"
        )
    try:
        obj = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as err:  # noqa: BLE001 - weights-only unpickler refusal, reworded
        raise ValueError(f"torch.load(weights_only=True) refused the file ({err})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"torch checkpoint must hold a state dict, got {type(obj).__name__}")
    flat = {}
    for key, value in obj.items():
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for sub, tensor in items:
            name = key if sub is None else f"{key}.{sub}"
            if not isinstance(name, str) or not isinstance(tensor, torch.Tensor):
                raise ValueError(
                    f"state dict entry {name!r} must be a tensor under a str key, "
                    f"got {type(tensor).__name__}"
                )
            if not tensor.is_floating_point():
                raise ValueError(
                    f"tensor {name!r} has dtype {tensor.dtype}: weights must be floating point "
                    "(not integer, boolean or complex)"
                )
            if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16
                tensor = tensor.float()
            flat[name] = tensor.detach().cpu().numpy().astype(np.float64)
    return flat


def read_tensors(data: bytes, max_bytes: int) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file or a torch state dict, by content."""
    kind = sniff(data)
    if kind == "safetensors":
        return read_safetensors(data)
    if kind == "torch":
        return read_torch(data, max_bytes)
    if data[:1] == b"\x80":
        raise ValueError(
            "file is a bare pickle (or torch's legacy format): refused, it could run code; "
            "save with torch.save (zip format) or safetensors"
        )
    raise ValueError(
        "file is neither safetensors (8-byte size, then a JSON header) nor a torch.save zip "
        f"checkpoint; it starts with {data[:8]!r}"
    )
