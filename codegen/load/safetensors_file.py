"""safetensors files, read header-only."""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from pathlib import Path

from codegen.safetext import is_index
from typing import Any

from codegen.errors import ModelgenError, first_line
from codegen.load.safetensors_header import read_header
from codegen.load.table import Checkpoint, TensorEntry
from codegen.load.unwrap import _flat_checkpoint, _json_safe

SAFETENSORS_DTYPES = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2",
    "F8_E4M3FNUZ": "float8_e4m3fnuz",
    "F8_E5M2FNUZ": "float8_e5m2fnuz",
    "F8_E8M0": "float8_e8m0fnu",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U8": "uint8",
    "U16": "uint16",
    "U32": "uint32",
    "U64": "uint64",
    "BOOL": "bool",
    "C64": "complex64",
    "C128": "complex128",
}

# ------------------------------------------------------------------------------------ safetensors


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if is_index(p) else (1, p) for p in name.split("."))


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 0 < n <= size - 8 and head[8:9] == b"{"


def _looks_like_truncated_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return size - 8 < n <= 100_000_000 and head[8:9] == b"{"  # safetensors caps headers at 100 MB


def _read_safetensors_header(path: Path) -> tuple[dict[str, TensorEntry], dict[str, str]]:
    """Header only, validated by the safetensors library's rules (offsets, dtypes, sizes)."""
    header, metadata = read_header(path) or _library_header(path)
    entries: dict[str, TensorEntry] = {}
    by_offsets: dict[tuple[int, int], str] = {}
    # Writers order safetensors data by dtype and size, so registration order is lost; numeric-aware
    # name order at least keeps `layers.2` before `layers.10`.
    for name in sorted(header, key=natural_key):
        info = header[name]
        dtype = SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ModelgenError(
                f"{path.name}: tensor {name!r} has unsupported dtype {info['dtype']}"
            )
        offsets = tuple(info["data_offsets"])
        tied = by_offsets.get(offsets) if offsets[1] > offsets[0] else None
        by_offsets.setdefault(offsets, name)
        entries[name] = TensorEntry(name, tuple(int(d) for d in info["shape"]), dtype, tied)
    return entries, metadata


def _library_header(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The safetensors library's verdict, for headers codegen/safetensors_header.py left to it."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = dict(f.metadata() or {})
            keys = list(f.keys())
        with path.open("rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(n))
    except (SafetensorError, OSError, ValueError, struct.error) as e:
        reason = first_line(e).removeprefix("Error while deserializing header: ")
        raise ModelgenError(f"{path.name}: invalid safetensors file ({reason})") from None
    return {k: header[k] for k in keys}, metadata


def _finish_safetensors(
    path: Path, key: str | None, strip: bool, prefixes: tuple[str, ...]
) -> Checkpoint:
    entries, metadata = _read_safetensors_header(path)

    def read_tensors() -> dict[str, Any]:
        from safetensors.torch import load_file

        return load_file(str(path))

    return _flat_checkpoint(
        path.name,
        "safetensors",
        entries,
        _decode_metadata(metadata),
        key,
        strip,
        prefixes,
        read_tensors,
    )


def _decode_metadata(metadata: Mapping[str, str]) -> dict[str, Any]:
    """safetensors metadata values are strings; many are JSON (configs), so decode those."""
    out: dict[str, Any] = {}
    for k, v in metadata.items():
        try:
            out[k] = _json_safe(json.loads(v)) if isinstance(v, str) and v[:1] in "{[" else v
        except (ValueError, RecursionError):
            out[k] = v
    return out
