"""Describe a `torch.save` zip checkpoint without torch: its containers, and tensors as storage views.

`torch.load(weights_only=True)` unpickles in Python and builds every tensor: about a second for a
10,000-key file, on top of importing torch. This reader covers the common case only. The pickle may use
plain containers and the globals `torch.save` writes for dense tensors; anything else (a global torch
would refuse, a quantized or sparse tensor, an odd argument, a missing or compressed record, a damaged
byte) makes `describe` return None, and the caller hands the file to `torch.load`, which decides with
its own checks and messages. Like the TorchScript reader, it calls nothing but its own stand-ins and
the safe constructors of codegen/load/restricted.py, so a pickle cannot run code; what is plainly an
attack (a BUILD on a class, a budget blown) is refused outright, before torch ever sees the file.
"""

from __future__ import annotations

import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from codegen.errors import ModelgenError
from codegen.load.dtypes import DTYPE_BYTES, STORAGE_DTYPES
from codegen.load.restricted import SAFE_CONSTRUCTORS, RestrictedUnpickler, read_member

MAX_DIM = 2**63  # torch sizes, strides and offsets are int64
EXACT_DTYPES = {"bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64"}


class GiveUp(Exception):
    """Not the common case: let torch.load read the file."""


@dataclass(frozen=True, slots=True)
class PickledTensor:
    """A tensor of a zip checkpoint, described but not read: a view of storage `data/<storage>`."""

    storage: str
    dtype: str  # torch dtype name without "torch."
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    @property
    def view_signature(self) -> tuple:
        """Equal for views torch would load as the same tensor (one storage per record)."""
        return (self.storage, self.offset, self.shape, self.stride)


@dataclass(frozen=True, slots=True)
class _StorageType:
    dtype: str  # uint8 for UntypedStorage, whose numel counts bytes


@dataclass(frozen=True, slots=True)
class _Dtype:
    name: str


@dataclass(frozen=True, slots=True)
class _Storage:
    key: str
    dtype: str
    nbytes: int


def describe(z: zipfile.ZipFile) -> Any | None:
    """The unpickled data.pkl with PickledTensor stand-ins, or None when torch.load must decide.

    Raises ModelgenError (no file name) for what torch must not be handed either: an oversized or
    damaged data.pkl, a tampering BUILD, a blown memo budget.
    """
    infos = {i.filename: i for i in z.infolist()}
    root = next(iter(infos)).split("/")[0]
    if f"{root}/data.pkl" not in infos:
        return None
    data = read_member(z, f"{root}/data.pkl")
    try:
        return _Reader(data, infos, root).load()
    except ModelgenError:
        raise
    except Exception:  # GiveUp, but also anything a damaged pickle raises
        return None


class _Reader(RestrictedUnpickler):
    def __init__(self, data: bytes, infos: dict[str, zipfile.ZipInfo], root: str) -> None:
        super().__init__(data)
        self.infos = infos
        self.root = root
        self.dtypes: dict[str, str] = {}

    def unsupported(self, what: str) -> None:
        raise GiveUp(what)  # torch decides: it fills in tensors and parameters, for one

    def find_class(self, module: str, name: str) -> Any:
        qualified = f"{module}.{name}"
        if qualified == "collections.OrderedDict":
            return OrderedDict
        if qualified in _REBUILDERS:
            return _REBUILDERS[qualified]
        if qualified in SAFE_CONSTRUCTORS:
            return SAFE_CONSTRUCTORS[qualified]
        if qualified == "torch.storage.UntypedStorage":
            return _StorageType("uint8")
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(STORAGE_DTYPES[name])
        if module == "torch" and name in DTYPE_BYTES:
            return _Dtype(name)
        raise GiveUp(qualified)

    def persistent_load(self, pid: Any) -> _Storage:
        # ("storage", storage type, record key, location, numel), as torch.save writes it
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise GiveUp("persistent id")
        _, kind, key, location, numel = pid
        if not (
            isinstance(kind, _StorageType)
            and isinstance(key, str)
            and isinstance(location, str)
            and _is_size(numel)
        ):
            raise GiveUp("persistent id")
        # torch loads each record once, with the dtype it first sees
        if self.dtypes.setdefault(key, kind.dtype) != kind.dtype:
            raise GiveUp("one record, two dtypes")
        info = self.infos.get(f"{self.root}/data/{key}")
        nbytes = numel * DTYPE_BYTES[kind.dtype]
        if info is None or info.compress_type != zipfile.ZIP_STORED or info.file_size < nbytes:
            raise GiveUp("storage record")  # torch reports it better
        return _Storage(key, kind.dtype, nbytes)


def _is_size(v: Any) -> bool:
    return type(v) is int and 0 <= v < MAX_DIM


def _view(
    storage: Any,
    dtype: str,
    offset: Any,
    shape: Any,
    stride: Any,
    requires_grad: Any,
    hooks: Any,
    metadata: Any,
) -> PickledTensor:
    """The checks torch's `Tensor.set_` makes, plus the plain-case ones: else torch decides."""
    if not (
        isinstance(storage, _Storage)
        and _is_size(offset)
        and isinstance(shape, tuple)
        and isinstance(stride, tuple)
        and len(shape) == len(stride)
        and all(map(_is_size, shape))
        and all(map(_is_size, stride))
    ):
        raise GiveUp("tensor arguments")
    if type(requires_grad) is not bool or (requires_grad and dtype in EXACT_DTYPES):
        raise GiveUp("requires_grad")
    if not isinstance(hooks, dict) or hooks or metadata:  # hooks and conj/neg bits: rare, torch's
        raise GiveUp("hooks or metadata")
    if all(shape):  # torch checks bounds only for non-empty views
        last = offset + sum((d - 1) * s for d, s in zip(shape, stride))
        if (last + 1) * DTYPE_BYTES[dtype] > storage.nbytes:
            raise GiveUp("view past the end of its storage")
    return PickledTensor(storage.key, dtype, offset, shape, stride)


def _rebuild_v2(
    storage: Any,
    offset: Any,
    shape: Any,
    stride: Any,
    requires_grad: Any,
    hooks: Any,
    metadata: Any = None,
) -> PickledTensor:
    if not isinstance(storage, _Storage):
        raise GiveUp("storage")
    return _view(storage, storage.dtype, offset, shape, stride, requires_grad, hooks, metadata)


def _rebuild_v3(
    storage: Any,
    offset: Any,
    shape: Any,
    stride: Any,
    requires_grad: Any,
    hooks: Any,
    dtype: Any,
    metadata: Any = None,
) -> PickledTensor:
    if not isinstance(dtype, _Dtype):
        raise GiveUp("dtype")
    return _view(storage, dtype.name, offset, shape, stride, requires_grad, hooks, metadata)


def _rebuild_parameter(data: Any, requires_grad: Any, hooks: Any) -> PickledTensor:
    if not isinstance(data, PickledTensor) or type(requires_grad) is not bool or hooks:
        raise GiveUp("parameter")
    if requires_grad and data.dtype in EXACT_DTYPES:
        raise GiveUp("requires_grad")
    return data


_REBUILDERS: dict[str, Callable[..., PickledTensor]] = {
    "torch._utils._rebuild_tensor_v2": _rebuild_v2,
    "torch._utils._rebuild_tensor_v3": _rebuild_v3,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
}


def read_views(path: Any, root: str, views: dict[str, Any]) -> dict[str, Any]:
    """Real tensors for described views (`storage`, `dtype`, `offset`, `shape`, `stride`), each record
    read once, for readers whose files torch.load must not open (TorchScript, whole models)."""
    import torch

    out: dict[str, Any] = {}
    storages: dict[str, Any] = {}
    with zipfile.ZipFile(path) as z:
        for name, t in views.items():
            if t.storage not in storages:
                raw = bytearray(z.read(f"{root}/data/{t.storage}"))
                dtype = getattr(torch, t.dtype)
                storages[t.storage] = (
                    torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
                )
            out[name] = storages[t.storage].as_strided(t.shape, t.stride, t.offset)
    return out
