"""Open a checkpoint safely and describe its tensors without reading their bytes.

Every pickle goes through ``torch.load(weights_only=True)`` (or, for TorchScript archives, a restricted
unpickler of our own that only knows how to describe tensors), so a checkpoint never runs code. Zip
checkpoints are memory-mapped and safetensors files are read header-only, so opening a multi-GB file
costs what its key list costs. torch is imported only when a pickle has to be read.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from codegen.errors import ModelgenError

# Trainer dicts keep the weights under one of these keys; earlier names win when several are present.
STATE_DICT_KEYS = (
    "state_dict",
    "model_state_dict",
    "model",
    "module",
    "net",
    "network",
    "params",
    "weights",
    "ema",
    "model_ema",
    "ema_state_dict",
)
# Tensors under these keys belong to the training run, not to the model.
NOT_MODEL_KEYS = frozenset(
    {"optimizer", "optimizer_state_dict", "optimizer_states", "optim", "lr_scheduler", "scheduler",
     "lr_schedulers", "scaler", "grad_scaler", "loops", "callbacks", "rng_state"}
)
WRAPPER_PREFIXES = ("module.", "_orig_mod.")

# Harmless types that trainers put into checkpoints, allowed on top of torch's weights_only defaults.
# Each one only holds data: none of them can call anything while it is unpickled.
EXTRA_SAFE_GLOBALS = ("argparse.Namespace", "pathlib.PosixPath", "pathlib.WindowsPath")

SAFETENSORS_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
    "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
    "U16": "uint16", "U32": "uint32", "U64": "uint64", "BOOL": "bool",
    "C64": "complex64", "C128": "complex128",
}
DTYPE_BYTES = {
    "float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "float8_e4m3fn": 1, "float8_e5m2": 1,
    "int64": 8, "int32": 4, "int16": 2, "int8": 1, "uint8": 1, "uint16": 2, "uint32": 4,
    "uint64": 8, "bool": 1, "complex64": 8, "complex128": 16,
}


@dataclass(frozen=True)
class TensorEntry:
    name: str
    shape: tuple[int, ...]
    dtype: str  # torch dtype name without the "torch." prefix
    tied_to: str | None = None  # first key that shares this tensor's storage, shape and offset

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.numel * DTYPE_BYTES.get(self.dtype, 4)


@dataclass
class TensorTable:
    """What a checkpoint holds, as names, shapes and dtypes, plus how it was found."""

    source: str  # file name only: no absolute paths end up in generated files
    format: str
    tensors: dict[str, TensorEntry]
    metadata: dict[str, Any] = field(default_factory=dict)
    container: str | None = None  # key path of the state dict inside a trainer dict ("a/b")
    other_containers: list[str] = field(default_factory=list)
    stripped_prefixes: list[str] = field(default_factory=list)

    def fingerprint(self) -> str:
        """Stable hash of names, shapes and dtypes: what the generated file depends on."""
        h = hashlib.sha256()
        for e in self.tensors.values():
            h.update(f"{e.name}\0{','.join(map(str, e.shape))}\0{e.dtype}\n".encode())
        return h.hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "container": self.container,
            "other_containers": self.other_containers,
            "stripped_prefixes": self.stripped_prefixes,
            "fingerprint": self.fingerprint(),
            "metadata": self.metadata,
            "tensors": [
                {"name": e.name, "shape": list(e.shape), "dtype": e.dtype}
                | ({"tied_to": e.tied_to} if e.tied_to else {})
                for e in self.tensors.values()
            ],
        }


@dataclass
class Checkpoint:
    """An opened checkpoint: the table for analysis, and the real tensors on request."""

    table: TensorTable
    _materialize: Callable[[], dict[str, Any]]

    def state_dict(self) -> dict[str, Any]:
        """The unwrapped, prefix-stripped state dict as CPU tensors (memory-mapped where possible)."""
        return self._materialize()


# ----------------------------------------------------------------------------------------- entry


def open_checkpoint(
    path: str | Path,
    key: str | None = None,
    strip: bool = True,
    strip_prefixes: tuple[str, ...] = (),
) -> Checkpoint:
    """Open any supported checkpoint. Raises ModelgenError with a one-line message on bad input."""
    path = Path(path)
    if not path.exists():
        raise ModelgenError(f"{path}: no such file")
    if path.is_dir():
        path = _checkpoint_in_directory(path)
    size = path.stat().st_size
    if size == 0:
        raise ModelgenError(f"{path.name}: empty file, not a checkpoint")
    with path.open("rb") as f:
        head = f.read(16)

    if head.startswith(b"PK\x03\x04"):
        if _is_torchscript(path):
            return _open_torchscript(path, key, strip, strip_prefixes)
        raw, fmt = _torch_load_zip(path), "torch-zip"
    elif _looks_like_safetensors(head, size):
        return _finish_safetensors(path, key, strip, strip_prefixes)
    elif head.lstrip().startswith(b"{"):
        return _open_shard_index(path, key, strip, strip_prefixes)
    elif head[:1] == b"\x80":
        raw, fmt = _torch_load(path, mmap=False), "torch-legacy"
    else:
        raise ModelgenError(
            f"{path.name}: unknown format (not a PyTorch zip/pickle, safetensors or shard index file)"
        )
    try:
        state, table_info = _unwrap(raw, key, strip, strip_prefixes)
    except ModelgenError as e:
        raise ModelgenError(f"{path.name}: {e}") from None
    table = TensorTable(source=path.name, format=fmt, tensors=_entries_from_tensors(state), **table_info)
    return Checkpoint(table, lambda: state)


def _checkpoint_in_directory(directory: Path) -> Path:
    """Accept a Hugging Face style folder when it holds exactly one index or one weights file."""
    indexes = sorted(directory.glob("*.index.json"))
    if len(indexes) == 1:
        return indexes[0]
    weights = sorted(
        p for p in directory.iterdir()
        if p.is_file() and p.suffix in {".safetensors", ".bin", ".pt", ".pth", ".ckpt"}
    )
    if not indexes and len(weights) == 1:
        return weights[0]
    raise ModelgenError(f"{directory}: is a directory; pass the checkpoint file inside it")


# ------------------------------------------------------------------------------ pickled formats


def _zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as z:
            return z.namelist()
    except (zipfile.BadZipFile, OSError) as e:
        raise ModelgenError(f"{path.name}: corrupt or truncated zip archive ({e})") from None


def _is_torchscript(path: Path) -> bool:
    names = _zip_names(path)
    return any(n.endswith("/constants.pkl") for n in names) and any("/code/" in n for n in names)


def _torch_load_zip(path: Path) -> Any:
    if not any(n.endswith("data.pkl") for n in _zip_names(path)):
        raise ModelgenError(f"{path.name}: a zip archive, but not a PyTorch checkpoint (no data.pkl)")
    return _torch_load(path, mmap=True)


def _torch_load(path: Path, mmap: bool) -> Any:
    import torch

    safe = [g for g in (_resolve_global(name) for name in EXTRA_SAFE_GLOBALS) if g is not None]
    try:
        with torch.serialization.safe_globals(safe):
            return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as e:
        blocked = re.search(r"GLOBAL ([\w.]+)", str(e))
        if blocked:
            raise ModelgenError(
                f"{path.name}: refused to unpickle: it needs the global {blocked.group(1)}, "
                "which is not a plain tensor or container and could run code"
            ) from None
        raise ModelgenError(f"{path.name}: unsafe or corrupt pickle ({_first_line(e)})") from None
    except Exception as e:  # torch raises RuntimeError/EOFError/ValueError... for damaged files
        raise ModelgenError(f"{path.name}: corrupt or truncated checkpoint ({_first_line(e)})") from None


def _resolve_global(dotted: str) -> Any:
    import importlib

    module, _, name = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]


# --------------------------------------------------------------------------- TorchScript archives


@dataclass(frozen=True)
class _ScriptTensor:
    """A tensor inside a TorchScript archive, described but not read."""

    storage: str
    dtype: str
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


class _ScriptObject:
    """Stand-in for a TorchScript class instance: keeps its attributes, runs nothing."""

    def __init__(self, *args: Any) -> None:
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _ScriptUnpickler(pickle.Unpickler):
    """Reads a TorchScript ``data.pkl`` into stand-ins. Any global it does not know is refused."""

    def __init__(self, data: bytes, source: str) -> None:
        import io

        super().__init__(io.BytesIO(data))
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        if module == "__torch__" or module.startswith("__torch__."):
            return type(name, (_ScriptObject,), {})
        if module == "collections" and name == "OrderedDict":
            from collections import OrderedDict

            return OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _describe_script_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda data, requires_grad, hooks: data
        if module == "torch" and name.endswith("Storage"):
            return name
        raise ModelgenError(
            f"{self.source}: refused to unpickle: it needs the global {module}.{name}, "
            "which is not a plain tensor or container and could run code"
        )

    def persistent_load(self, pid: Any) -> Any:
        # ('storage', storage_type, key, location, numel)
        return (pid[2], _storage_dtype(pid[1]))


def _storage_dtype(storage_type: Any) -> str:
    name = storage_type if isinstance(storage_type, str) else getattr(storage_type, "__name__", "")
    table = {
        "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
        "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
        "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
        "BoolStorage": "bool", "ComplexFloatStorage": "complex64",
        "ComplexDoubleStorage": "complex128",
    }
    return table.get(name, "float32")


def _describe_script_tensor(storage: Any, offset: int, shape: Any, stride: Any, *rest: Any) -> Any:
    key, dtype = storage
    return _ScriptTensor(str(key), dtype, int(offset), tuple(shape), tuple(stride))


def _open_torchscript(path: Path, key: str | None, strip: bool, prefixes: tuple[str, ...]) -> Checkpoint:
    names = _zip_names(path)
    data_pkl = next((n for n in names if n.endswith("/data.pkl") and n.count("/") == 1), None)
    if data_pkl is None:
        raise ModelgenError(f"{path.name}: TorchScript archive without data.pkl")
    root = data_pkl.split("/")[0]
    with zipfile.ZipFile(path) as z:
        data = z.read(data_pkl)
    try:
        top = _ScriptUnpickler(data, path.name).load()
    except ModelgenError:
        raise
    except Exception as e:
        raise ModelgenError(f"{path.name}: corrupt TorchScript archive ({_first_line(e)})") from None

    described: dict[str, _ScriptTensor] = {}

    def walk(obj: Any, prefix: str) -> None:
        state = obj.state if isinstance(obj, _ScriptObject) else None
        if not isinstance(state, Mapping):
            return
        for attr, value in state.items():
            if isinstance(value, _ScriptTensor):
                described[prefix + attr] = value
            elif isinstance(value, _ScriptObject):
                walk(value, f"{prefix}{attr}.")

    walk(top, "")
    entries = {n: TensorEntry(n, t.shape, t.dtype) for n, t in described.items()}

    def read_tensors() -> dict[str, Any]:
        import torch

        out: dict[str, Any] = {}
        storages: dict[str, Any] = {}
        with zipfile.ZipFile(path) as z:
            for name, t in described.items():
                if t.storage not in storages:
                    raw = bytearray(z.read(f"{root}/data/{t.storage}"))
                    dtype = getattr(torch, t.dtype)
                    storages[t.storage] = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
                out[name] = storages[t.storage].as_strided(t.shape, t.stride, t.offset)
        return out

    return _flat_checkpoint(path.name, "torchscript", entries, {}, key, strip, prefixes, read_tensors)


# ------------------------------------------------------------------------------------ safetensors


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in name.split("."))


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 0 < n <= size - 8 and head[8:9] == b"{"


def _read_safetensors_header(path: Path) -> tuple[dict[str, TensorEntry], dict[str, str]]:
    """Header only, validated by the safetensors library itself (offsets, dtypes, sizes)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = dict(f.metadata() or {})
            keys = list(f.keys())
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelgenError(f"{path.name}: invalid safetensors file ({_first_line(e)})") from None
    with path.open("rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n))
    header.pop("__metadata__", None)
    entries: dict[str, TensorEntry] = {}
    by_offsets: dict[tuple[int, int], str] = {}
    # Writers order safetensors data by dtype and size, so registration order is lost; numeric-aware
    # name order at least keeps `layers.2` before `layers.10`.
    for name in sorted(keys, key=natural_key):
        info = header[name]
        dtype = SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ModelgenError(f"{path.name}: tensor {name!r} has unsupported dtype {info['dtype']}")
        offsets = tuple(info["data_offsets"])
        tied = by_offsets.get(offsets) if offsets[1] > offsets[0] else None
        by_offsets.setdefault(offsets, name)
        entries[name] = TensorEntry(name, tuple(int(d) for d in info["shape"]), dtype, tied)
    return entries, metadata


def _finish_safetensors(path: Path, key: str | None, strip: bool, prefixes: tuple[str, ...]) -> Checkpoint:
    entries, metadata = _read_safetensors_header(path)

    def read_tensors() -> dict[str, Any]:
        from safetensors.torch import load_file

        return load_file(str(path))

    return _flat_checkpoint(path.name, "safetensors", entries, _decode_metadata(metadata), key, strip,
                            prefixes, read_tensors)


def _decode_metadata(metadata: Mapping[str, str]) -> dict[str, Any]:
    """safetensors metadata values are strings; many are JSON (configs), so decode those."""
    out: dict[str, Any] = {}
    for k, v in metadata.items():
        try:
            out[k] = json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v
        except ValueError:
            out[k] = v
    return out


# -------------------------------------------------------------------------------- sharded sets


def _open_shard_index(path: Path, key: str | None, strip: bool, prefixes: tuple[str, ...]) -> Checkpoint:
    try:
        index = json.loads(path.read_text())
        weight_map = index["weight_map"]
        if not isinstance(weight_map, dict):
            raise TypeError("weight_map is not an object")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise ModelgenError(f"{path.name}: not a shard index (expected JSON with a weight_map: {e})") from None

    folder = path.parent.resolve()
    shards: dict[str, list[str]] = {}
    for name, shard in weight_map.items():
        shard_path = (folder / str(shard)).resolve()
        if shard_path.parent != folder:
            raise ModelgenError(f"{path.name}: shard {shard!r} points outside the index's folder")
        if not shard_path.is_file():
            raise ModelgenError(f"{path.name}: shard {shard!r} is missing (needed for {name!r})")
        shards.setdefault(str(shard), []).append(name)

    entries: dict[str, TensorEntry] = {}
    metadata: dict[str, Any] = dict(index.get("metadata") or {})
    loaded: dict[str, dict[str, Any]] = {}
    fmt = "sharded-safetensors"
    for shard, names in sorted(shards.items()):
        shard_path = folder / shard
        with shard_path.open("rb") as f:
            head = f.read(16)
        if _looks_like_safetensors(head, shard_path.stat().st_size):
            shard_entries, _ = _read_safetensors_header(shard_path)
        else:
            fmt = "sharded-bin"
            raw = _torch_load_zip(shard_path) if head.startswith(b"PK") else _torch_load(shard_path, False)
            state, _, _ = _select(raw, None)
            loaded[shard] = state
            shard_entries = _entries_from_tensors(state)
        for name in names:
            if name not in shard_entries:
                raise ModelgenError(f"{path.name}: {name!r} is listed in {shard!r} but is not in that shard")
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


def _flat_checkpoint(
    source: str,
    fmt: str,
    entries: dict[str, TensorEntry],
    metadata: dict[str, Any],
    key: str | None,
    strip: bool,
    prefixes: tuple[str, ...],
    read_tensors: Callable[[], dict[str, Any]],
) -> Checkpoint:
    """Finish a checkpoint described without unpickling: same prefix handling, tensors read on demand."""
    if key:
        raise ModelgenError(f"{source}: --key selects inside a trainer dict; {fmt} files hold one flat state dict")
    if not entries:
        raise ModelgenError(f"{source}: holds no tensors")
    renames, stripped = _strip_plan(list(entries), strip, prefixes)
    tensors = {renames[n]: _rename(e, renames) for n, e in entries.items()}
    table = TensorTable(source, fmt, tensors, metadata=metadata, stripped_prefixes=stripped)

    def materialize() -> dict[str, Any]:
        data = read_tensors()
        return {renames[n]: data[n] for n in entries}

    return Checkpoint(table, materialize)


def _rename(e: TensorEntry, renames: dict[str, str]) -> TensorEntry:
    return TensorEntry(renames[e.name], e.shape, e.dtype, renames.get(e.tied_to) if e.tied_to else None)


# ------------------------------------------------------------------------------------ unwrapping


def _is_tensor(v: Any) -> bool:
    import torch

    return isinstance(v, torch.Tensor)


def _is_state_dict(obj: Any) -> bool:
    if not isinstance(obj, Mapping) or not obj:
        return False
    if not all(isinstance(k, str) for k in obj):
        return False
    tensors = sum(1 for v in obj.values() if _is_tensor(v))
    # `_extra_state` entries may hold anything; everything else must be a tensor.
    others = [k for k, v in obj.items() if not _is_tensor(v) and not k.endswith("_extra_state")]
    return tensors > 0 and not others


def _candidates(obj: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Key paths of every mapping below obj that looks like a state dict."""
    if _is_state_dict(obj):
        return [path]
    found: list[tuple[str, ...]] = []
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            if isinstance(k, str) and k not in NOT_MODEL_KEYS:
                found += _candidates(v, path + (k,))
    return found


def _rank(path: tuple[str, ...], obj: Any) -> tuple[int, int, int]:
    known = [STATE_DICT_KEYS.index(p) for p in path if p in STATE_DICT_KEYS]
    return (min(known) if known else len(STATE_DICT_KEYS), len(path), -len(_get(obj, path)))


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def _select(raw: Any, key: str | None) -> tuple[Any, tuple[str, ...], list[tuple[str, ...]]]:
    if key:
        path = _parse_key(raw, key)
        found = _candidates(_get(raw, path))
        if not found:
            raise ModelgenError(f"--key {key}: no state dict (a dict of tensors) under that key")
        return _get(raw, path + found[0]), path + found[0], []
    found = _candidates(raw)
    if not found:
        raise ModelgenError("holds no tensors" if not _has_tensors(raw) else
                            "no state dict found (tensors only under optimizer/scheduler keys)")
    found.sort(key=lambda p: _rank(p, raw))
    return _get(raw, found[0]), found[0], found[1:]


def _has_tensors(obj: Any) -> bool:
    if _is_tensor(obj):
        return True
    if isinstance(obj, Mapping):
        return any(_has_tensors(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_has_tensors(v) for v in obj)
    return False


def _parse_key(raw: Any, key: str) -> tuple[str, ...]:
    """`--key` takes `a/b` (or `a.b` when no key of that exact name exists)."""
    for sep in ("/", "."):
        path = tuple(key.split(sep)) if sep in key else (key,)
        try:
            _get(raw, path)
            return path
        except (KeyError, TypeError):
            continue
    top = ", ".join(sorted(str(k) for k in raw)) if isinstance(raw, Mapping) else type(raw).__name__
    raise ModelgenError(f"--key {key}: not found (top-level keys: {top})")


def _strip_plan(names: list[str], strip: bool, extra: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """Prefixes every key shares (DataParallel `module.`, torch.compile `_orig_mod.`, in any nesting)."""
    current = {n: n for n in names}
    stripped: list[str] = []
    for prefix in extra:  # explicit --strip-prefix: from every key that has it
        if any(v.startswith(prefix) for v in current.values()):
            current = {k: v[len(prefix):] if v.startswith(prefix) else v for k, v in current.items()}
            stripped.append(prefix)
    while strip and current:
        prefix = next((p for p in WRAPPER_PREFIXES if all(v.startswith(p) for v in current.values())), None)
        if prefix is None:
            break
        current = {k: v[len(prefix):] for k, v in current.items()}
        stripped.append(prefix)
    if len(set(current.values())) != len(current):
        raise ModelgenError("stripping prefixes would merge two keys; use --no-strip")
    return current, stripped


def _unwrap(raw: Any, key: str | None, strip: bool, strip_prefixes: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    state, path, other_paths = _select(raw, key)
    names = [k for k in state if _is_tensor(state[k])]
    renames, stripped = _strip_plan(names, strip, strip_prefixes)
    info = {
        "metadata": _metadata(raw, path),
        "container": "/".join(path) or None,
        "other_containers": ["/".join(p) for p in other_paths],
        "stripped_prefixes": stripped,
    }
    return {renames[n]: state[n] for n in names}, info


def _entries_from_tensors(state: Mapping[str, Any]) -> dict[str, TensorEntry]:
    entries: dict[str, TensorEntry] = {}
    seen: dict[tuple[int, int, tuple[int, ...], tuple[int, ...]], str] = {}
    for name, t in state.items():
        sig = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), tuple(t.stride()))
        tied = seen.get(sig) if t.numel() else None
        seen.setdefault(sig, name)
        entries[name] = TensorEntry(name, tuple(t.shape), str(t.dtype).removeprefix("torch."), tied)
    return entries


def _metadata(raw: Any, path: tuple[str, ...]) -> dict[str, Any]:
    """Non-tensor entries beside the state dict (epoch, config, hyper_parameters...), JSON-safe."""
    if not isinstance(raw, Mapping) or not path:
        return {}
    out: dict[str, Any] = {}
    for k, v in raw.items():
        if k == path[0] or not isinstance(k, str):
            continue
        if _has_tensors(v):
            out[k] = "<holds tensors, not part of the model>"
        else:
            out[k] = _json_safe(v)
    return out


def _json_safe(v: Any, depth: int = 0) -> Any:
    if depth > 6:
        return "..."
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, Mapping):
        return {str(k): _json_safe(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x, depth + 1) for x in v]
    if hasattr(v, "__dict__") and not callable(v):  # argparse.Namespace and friends
        return {str(k): _json_safe(x, depth + 1) for k, x in vars(v).items()}
    return str(v)[:200]
