"""Sharded sets: a `*.index.json` weight_map over safetensors or .bin shards."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from codegen.errors import ModelgenError, first_line
from codegen.load.table import Checkpoint, TensorEntry
from codegen.load.table import _in_file
from codegen.load.unwrap import (
    _entries_from_tensors,
    _flat_checkpoint,
    _is_tensor,
    _json_safe,
    _select,
)
from codegen.load.pickled import _torch_load_zip, _torch_load
from codegen.files import regular_file_size
from codegen.load.restricted import MAX_PICKLE_BYTES
from codegen.load.safetensors_file import _looks_like_safetensors, _read_safetensors_header

# -------------------------------------------------------------------------------- sharded sets


def _unsafe_shard_name(shard: str) -> bool:
    """Shards must lie inside the index's folder. Checked on the name, not the resolved path, so
    Hugging Face cache folders (whose files are symlinks into a blob store) still open."""
    if not shard or "\0" in shard:
        return True
    for flavour in (PurePosixPath, PureWindowsPath):
        p = flavour(shard)
        if p.is_absolute() or p.anchor or ".." in p.parts:
            return True
    return False


def _open_shard_index(
    path: Path, key: str | None, strip: bool, prefixes: tuple[str, ...]
) -> Checkpoint:
    if regular_file_size(path) > MAX_PICKLE_BYTES:  # a key list, not weights
        raise ModelgenError(
            f"{path.name}: a shard index over the {MAX_PICKLE_BYTES // 2**20} MiB budget for a key list"
        )
    try:
        index = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as e:
        raise ModelgenError(
            f"{path.name}: starts like JSON but is not valid JSON ({first_line(e)})"
        ) from None
    except OSError as e:
        raise ModelgenError(f"{path.name}: cannot read ({e.strerror or e})") from None
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict):
        raise ModelgenError(
            f'{path.name}: a JSON file but not a shard index (no "weight_map" object)'
        )

    folder = path.parent
    shards: dict[str, list[str]] = {}
    for name, shard in weight_map.items():
        if not isinstance(shard, str) or _unsafe_shard_name(shard):
            raise ModelgenError(f"{path.name}: shard {shard!r} points outside the index's folder")
        if not (folder / shard).is_file():
            raise ModelgenError(f"{path.name}: shard {shard!r} is missing (needed for {name!r})")
        shards.setdefault(shard, []).append(name)

    entries: dict[str, TensorEntry] = {}
    meta = index.get("metadata")
    metadata: dict[str, Any] = _json_safe(meta) if isinstance(meta, dict) else {}
    loaded: dict[str, dict[str, Any]] = {}
    fmt = "sharded-safetensors"
    for shard, names in sorted(shards.items()):
        shard_path = folder / shard
        try:
            with shard_path.open("rb") as f:
                head = f.read(16)
        except OSError as e:
            raise ModelgenError(
                f"{path.name}: cannot read shard {shard!r} ({e.strerror or e})"
            ) from None
        if _looks_like_safetensors(head, shard_path.stat().st_size):
            shard_entries, _ = _read_safetensors_header(shard_path)
        elif head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
            fmt = "sharded-bin"
            raw = (
                _torch_load_zip(shard_path)
                if head.startswith(b"PK")
                else _torch_load(shard_path, False)
            )
            state = _in_file(shard_path.name, lambda r: _select(r, None)[0], raw)
            loaded[shard] = state
            shard_entries = _in_file(
                shard_path.name,
                _entries_from_tensors,
                {k: v for k, v in state.items() if _is_tensor(v)},
            )
        else:
            raise ModelgenError(
                f"{path.name}: shard {shard!r} is neither safetensors nor a torch file"
            )
        for name in names:
            if name not in shard_entries:
                raise ModelgenError(
                    f"{path.name}: {name!r} is listed in {shard!r} but is not in that shard"
                )
            entries[name] = shard_entries[name]
    ordered = {n: entries[n] for n in weight_map}  # the index's order

    def read_tensors() -> dict[str, Any]:
        from safetensors.torch import load_file

        out: dict[str, Any] = {}
        for shard, names in shards.items():
            data = loaded.get(shard)
            if data is None:
                data = load_file(str(folder / shard))
            out.update((n, data[n]) for n in names)
        return out

    return _flat_checkpoint(path.name, fmt, ordered, metadata, key, strip, prefixes, read_tensors)
