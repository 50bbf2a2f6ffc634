"""Read a well-formed safetensors header without the safetensors library.

The library's `safe_open` imports numpy before it reads a byte, whatever the framework: a quarter of a
second, more than the rest of `modelgen inspect`. This reader applies the library's validation rules
(header size and start, UTF-8 JSON, known dtypes, offsets that tile the data exactly, sizes that match
shapes, string metadata), and more strictly: for anything it does not accept it returns None, and the
caller asks the library, whose verdict and message stand. So it can only be faster, never more lenient.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

MAX_HEADER = 100_000_000  # the library's limit
USIZE = 2**64  # the library computes sizes in u64 and rejects overflow
# dtypes every safetensors release since 0.4 accepts, in bits; newer or rarer ones go to the library
CORE_BITS = {
    "F64": 64,
    "F32": 32,
    "F16": 16,
    "BF16": 16,
    "F8_E4M3": 8,
    "F8_E5M2": 8,
    "I64": 64,
    "I32": 32,
    "I16": 16,
    "I8": 8,
    "U64": 64,
    "U32": 32,
    "U16": 16,
    "U8": 8,
    "BOOL": 8,
}
FIELDS = {"dtype", "shape", "data_offsets"}


class _Unusual(Exception):
    pass


def read_header(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, str]] | None:
    """(tensor infos by name, metadata), or None to let the library decide."""
    try:
        with path.open("rb") as f:
            size = path.stat().st_size
            (n,) = struct.unpack("<Q", f.read(8))
            if not 0 < n <= MAX_HEADER or 8 + n > size:
                return None
            raw = f.read(n)
        if raw[:1] != b"{":
            return None
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_strict_object)
        if not isinstance(header, dict):
            return None
        metadata = header.pop("__metadata__", {})
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            return None
        for v in metadata.values():
            v.encode("utf-8")  # see _strict_object
        return (header, metadata) if _data_end(header) + 8 + n == size else None
    except (OSError, ValueError, struct.error, RecursionError, _Unusual):
        return None


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _Unusual("duplicate key")
    for k in keys:
        k.encode("utf-8")  # a lone surrogate escape: Python's json allows it, the library does not
    return dict(pairs)


def _data_end(header: dict[str, Any]) -> int:
    """Where the last tensor ends, once every tensor is checked to start where the previous ended."""
    infos = list(header.values())
    for info in infos:
        if not (
            isinstance(info, dict)
            and info.keys() == FIELDS
            and info["dtype"] in CORE_BITS
            and _uints(info["shape"])
            and _uints(info["data_offsets"])
            and len(info["data_offsets"]) == 2
        ):
            raise _Unusual("tensor info")
    end = 0
    for info in sorted(infos, key=lambda i: tuple(i["data_offsets"])):
        start, stop = info["data_offsets"]
        numel = 1
        for d in info["shape"]:
            numel *= d
        nbytes = numel * CORE_BITS[info["dtype"]] // 8
        if start != end or numel * CORE_BITS[info["dtype"]] >= USIZE or stop - start != nbytes:
            raise _Unusual("offsets")
        end = stop
    return end


def _uints(v: Any) -> bool:
    return isinstance(v, list) and all(type(x) is int and 0 <= x < USIZE for x in v)
