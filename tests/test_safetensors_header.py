"""The library-free safetensors header reader: what it accepts, the library accepts, with the same content."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.torch import save_file

from codegen.load.safetensors_file import _library_header
from codegen.load.safetensors_header import read_header

DTYPES = [
    torch.float64,
    torch.float32,
    torch.float16,
    torch.bfloat16,
    torch.float8_e4m3fn,
    torch.float8_e5m2,
    torch.int64,
    torch.int32,
    torch.int16,
    torch.int8,
    torch.uint8,
    torch.uint16,
    torch.uint32,
    torch.uint64,
    torch.bool,
]


def _library(path: Path):
    try:
        return _library_header(path)
    except Exception:
        return None


def test_files_written_by_the_library_are_read_without_it(tmp_path):
    state = {f"t{i}": torch.zeros(2, 3, dtype=d) for i, d in enumerate(DTYPES)}
    state |= {"empty": torch.zeros(0, 4), "scalar": torch.tensor(1.0)}
    save_file(state, tmp_path / "m.safetensors", metadata={"config": '{"a": 1}', "format": "pt"})
    got = read_header(tmp_path / "m.safetensors")
    assert got is not None and got == _library(tmp_path / "m.safetensors")
    assert got[1] == {"config": '{"a": 1}', "format": "pt"}


def _raw(path: Path, header: object, data: bytes = b"", text: str | None = None) -> Path:
    body = (text if text is not None else json.dumps(header)).encode("utf-8", "surrogatepass")
    path.write_bytes(struct.pack("<Q", len(body)) + body + data)
    return path


def test_unusual_headers_are_left_to_the_library(tmp_path):
    ok = {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}
    cases = {
        "rare dtype": ({"a": {**ok, "dtype": "C64", "data_offsets": [0, 8]}}, b"\0" * 8),
        "extra field": ({"a": {**ok, "extra": 1}}, b"\0" * 4),
        "gap in data": ({"a": {**ok, "data_offsets": [4, 8]}}, b"\0" * 8),
        "short data": ({"a": ok}, b"\0" * 3),
        "float dim": ({"a": {**ok, "shape": [1.0]}}, b"\0" * 4),
        "bool dim": ({"a": {**ok, "shape": [True]}}, b"\0" * 4),
        "number metadata": ({"__metadata__": {"x": 1}, "a": ok}, b"\0" * 4),
        "overflow": ({"a": {**ok, "shape": [2**40, 2**40]}}, b"\0" * 4),
    }
    for name, (header, data) in cases.items():
        assert read_header(_raw(tmp_path / f"{name}.safetensors", header, data)) is None, name
    entry = '"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}'
    dup = "{" + entry + ", " + entry + "}"
    assert read_header(_raw(tmp_path / "dup.safetensors", None, b"\0" * 4, dup)) is None
    surrogate = '{"\\ud800": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'
    assert read_header(_raw(tmp_path / "sur.safetensors", None, b"\0" * 4, surrogate)) is None


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_never_more_lenient_than_the_library(tmp_path, data):
    """Random headers near valid ones: whatever the fast reader accepts, the library accepts identically."""
    n = data.draw(st.integers(1, 3))
    header: dict = {}
    offset = 0
    for i in range(n):
        dtype = data.draw(st.sampled_from(["F32", "F16", "U8", "BOOL", "I64", "C64", "Q7"]))
        shape = data.draw(st.lists(st.integers(-1, 3), max_size=3))
        numel = 1
        for d in shape:
            numel *= d
        right = numel * {"F32": 4, "F16": 2, "I64": 8, "C64": 8}.get(dtype, 1)
        size = data.draw(st.sampled_from([right, right, right, right + 1, 0]))
        header[data.draw(st.sampled_from(["a", "b", "c", f"t{i}"]))] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [offset, offset + size],
        }
        offset += data.draw(st.sampled_from([size, size, size, size + 1, 0]))
    if data.draw(st.booleans()):
        values = st.one_of(st.text(max_size=3), st.integers())
        header["__metadata__"] = data.draw(st.dictionaries(st.text(max_size=3), values))
    extra = data.draw(st.sampled_from([0, 0, 0, -1, 1]))
    path = _raw(tmp_path / "h.safetensors", header, b"\0" * max(0, offset + extra))
    fast = read_header(path)
    if fast is not None:
        assert fast == _library(path)
        with safe_open(str(path), framework="numpy") as f:
            assert sorted(f.keys()) == sorted(fast[0])
