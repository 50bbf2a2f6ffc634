"""Legacy (non-zip) whole-model pickles: `torch.save(model, f, _use_new_zipfile_serialization=False)`.

The legacy format is five pickles in a row (the magic number, the protocol version, a dict of
system information, the object itself, the list of storage keys), then each storage as an 8-byte
element count and its bytes, in the order of that list. The object pickle is read by the same
describe-only reader as zip whole-model pickles (codegen/load/module_pickle.py: stand-ins for every
global it does not know, nothing imported or called), with the restricted unpickler's budgets; the
pickle boundaries are found with pickletools (parsing only), and the storages are located from the
file's length before anything is read, so a truncated file is refused rather than half-read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen.errors import ModelgenError, first_line
from codegen.load.dtypes import DTYPE_BYTES
from codegen.load.module_pickle import _Converter, _ModelReader, _StandIn
from codegen.load.pickle_walk import pickle_ops
from codegen.load.restricted import MAX_PICKLE_BYTES, RestrictedUnpickler
from codegen.load.torchzip import GiveUp, _Storage, _StorageType, _is_size

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


@dataclass(frozen=True)
class LegacyStorages:
    """Where each storage's bytes lie in the file: key -> (byte offset, byte count, dtype)."""

    path: Path
    places: dict[str, tuple[int, int, str]]

    def read(self, views: dict[str, Any]) -> dict[str, Any]:
        """Real tensors for described views, each storage read once."""
        import torch

        out: dict[str, Any] = {}
        storages: dict[str, Any] = {}
        with self.path.open("rb") as f:
            for name, t in views.items():
                if t.storage not in storages:
                    offset, nbytes, dtype = self.places[t.storage]
                    f.seek(offset)
                    raw = bytearray(f.read(nbytes))
                    kind = getattr(torch, dtype)
                    storages[t.storage] = (
                        torch.frombuffer(raw, dtype=kind) if raw else torch.empty(0, dtype=kind)
                    )
                out[name] = storages[t.storage].as_strided(t.shape, t.stride, t.offset)
        return out


class _LegacyReader(_ModelReader):
    """The whole-model reader, with the legacy persistent ids (one more field: a view of it)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data, {}, "")
        self.storages: dict[str, tuple[str, int]] = {}  # key -> (dtype, element count)

    def persistent_load(self, pid: Any) -> Any:
        # ("module", class, source file, source): the class's source, kept to warn when it changed;
        # the class is our stand-in, the source text is never looked at
        if isinstance(pid, tuple) and len(pid) == 4 and pid[0] == "module":
            if isinstance(pid[1], type) and issubclass(pid[1], _StandIn):
                return pid[1]
            raise GiveUp("module record")
        # ("storage", storage type, key, location, numel, view metadata)
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise GiveUp("persistent id")
        _, kind, key, location, numel, view = pid
        if not (
            isinstance(kind, _StorageType)
            and isinstance(key, str)
            and isinstance(location, str)
            and _is_size(numel)
            and view is None
        ):
            raise GiveUp("persistent id")
        if self.storages.setdefault(key, (kind.dtype, numel)) != (kind.dtype, numel):
            raise GiveUp("one storage, two types")
        return _Storage(key, kind.dtype, numel * DTYPE_BYTES[kind.dtype])


def describe_legacy_model(path: Path, size: int) -> tuple[Any, LegacyStorages] | None:
    """(the described object, where its storages lie), or None when the file is not a legacy
    whole-model pickle (a legacy state dict: torch.load reads it as before)."""
    bounds = _pickle_bounds(path)
    if bounds is None:
        return None
    with path.open("rb") as f:
        pieces = []
        for start, end in bounds:
            if end - start > MAX_PICKLE_BYTES:
                raise ModelgenError(f"the pickle is larger than {MAX_PICKLE_BYTES:,} bytes")
            f.seek(start)
            pieces.append(f.read(end - start))
    try:
        magic = RestrictedUnpickler(pieces[0]).load()
        protocol = RestrictedUnpickler(pieces[1]).load()
    except ModelgenError:
        raise
    except Exception:
        return None
    if magic != MAGIC_NUMBER or protocol != PROTOCOL_VERSION:
        return None
    reader = _LegacyReader(pieces[3])
    try:
        raw = reader.load()
        keys = RestrictedUnpickler(pieces[4]).load()
    except ModelgenError:
        raise
    except Exception:  # GiveUp (a quantized tensor...) or a damaged pickle: torch.load decides
        return None
    converted = _Converter().convert(raw, 0)
    if not isinstance(keys, list) or not all(type(k) is str for k in keys):
        raise ModelgenError(f"corrupt legacy checkpoint (storage keys)")
    places = _storage_places(path, size, bounds[-1][1], keys, reader.storages)
    return converted, LegacyStorages(path, places)


def _pickle_bounds(path: Path) -> list[tuple[int, int]] | None:
    """Byte ranges of the five pickles; None when the file does not parse as five of them."""
    bounds = []
    try:
        with path.open("rb") as f:
            for _ in range(5):
                start = f.tell()
                for op, _arg, pos in pickle_ops(f):
                    if pos - start > MAX_PICKLE_BYTES:
                        return None
                bounds.append((start, f.tell()))
    except (OSError, ValueError, EOFError, UnicodeDecodeError):
        return None
    return bounds


def _storage_places(
    path: Path, size: int, start: int, keys: list[str], used: dict[str, tuple[str, int]]
) -> dict[str, tuple[int, int, str]]:
    """Walk the storage section: each key's 8-byte element count must match what the object
    pickle said, and the bytes must lie inside the file."""
    places: dict[str, tuple[int, int, str]] = {}
    offset = start
    with path.open("rb") as f:
        for key in keys:
            if key not in used:
                raise ModelgenError(f"corrupt legacy checkpoint (unknown storage)")
            dtype, numel = used[key]
            f.seek(offset)
            count = f.read(8)
            if len(count) != 8 or int.from_bytes(count, "little") != numel:
                raise ModelgenError(f"corrupt or truncated checkpoint (storage {key!r:.20} size)")
            nbytes = numel * DTYPE_BYTES[dtype]
            places[key] = (offset + 8, nbytes, dtype)
            offset += 8 + nbytes
    if offset > size:
        raise ModelgenError(
            f"corrupt or truncated checkpoint (it ends {offset - size} bytes before "
            "its tensor data does)"
        )
    missing = set(used) - set(places)
    if missing:
        raise ModelgenError(f"corrupt legacy checkpoint (a storage has no data)")
    return places
