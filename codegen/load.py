"""Open a checkpoint safely and describe its tensors without reading their bytes.

Every pickle goes through ``torch.load(weights_only=True)`` (or, for TorchScript archives, a restricted
unpickler of our own that only knows how to describe tensors), so a checkpoint never runs code. Zip
checkpoints are memory-mapped and safetensors files are read header-only, so opening a multi-GB file
costs what its key list costs. Plain zip checkpoints are described by our own restricted unpickler
(codegen/torchzip.py) without importing torch; anything unusual in them goes to torch.load. Legacy
(pre-zip) torch.save files cannot be memory-mapped: torch reads their bytes.

Every failure on bad input is a one-line ``ModelgenError`` that starts with the file's name.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import pickle
import re
import struct
import sys
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Callable, Iterator

from codegen.dtypes import DTYPE_BYTES, STORAGE_DTYPES
from codegen.errors import ModelgenError
from codegen.safetensors_header import read_header
from codegen.torchzip import PickledTensor, describe

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
    "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "F8_E4M3FNUZ": "float8_e4m3fnuz",
    "F8_E5M2FNUZ": "float8_e5m2fnuz", "F8_E8M0": "float8_e8m0fnu",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
    "U16": "uint16", "U32": "uint32", "U64": "uint64", "BOOL": "bool",
    "C64": "complex64", "C128": "complex128",
}

# Hostile pickles can nest containers deeply or share them exponentially often; real trainer dicts
# are a few levels deep and a few thousand containers wide.
MAX_DEPTH = 32
MAX_CONTAINERS = 50_000
MAX_MESSAGE = 400
# Real module trees are a few dozen levels deep at most; the tree code downstream is recursive.
MAX_KEY_DEPTH = 100


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
    # key paths that hold tensors which are not model weights (optimizer, scheduler...)
    ignored: list[str] = field(default_factory=list)

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
            "ignored": self.ignored,
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
        return dict(self._materialize())


# ----------------------------------------------------------------------------------------- entry


def open_checkpoint(
    path: str | Path,
    key: str | None = None,
    strip: bool = True,
    strip_prefixes: tuple[str, ...] = (),
) -> Checkpoint:
    """Open any supported checkpoint. Raises ModelgenError with a one-line message on bad input."""
    try:
        return _open(Path(path), key, strip, tuple(strip_prefixes))
    except ModelgenError as e:
        # Key names and library messages can hold newlines; the contract is one line on stderr.
        text = str(e)
        one_line = " ".join(text.splitlines())
        if one_line != text or len(one_line) > MAX_MESSAGE:
            raise type(e)(one_line[:MAX_MESSAGE]) from None
        raise


def _open(path: Path, key: str | None, strip: bool, prefixes: tuple[str, ...]) -> Checkpoint:
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as e:
        raise ModelgenError(f"{path}: cannot read ({e.strerror or e})") from None
    if not exists:
        raise ModelgenError(f"{path}: no such file")
    if is_dir:
        path = _checkpoint_in_directory(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as e:
        raise ModelgenError(f"{path.name}: cannot read ({e.strerror or e})") from None
    if size == 0:
        raise ModelgenError(f"{path.name}: empty file, not a checkpoint")

    lazy = False  # True when raw holds descriptions and state_dict() must read the file with torch
    if head.startswith(b"PK\x03\x04"):
        with _open_zip(path) as z:  # one read of the directory: 10,000 keys are 10,000 entries
            names = z.namelist()
            raw = None if _is_torchscript(names) else _describe_zip(z, names)
        if _is_torchscript(names):
            return _open_torchscript(path, key, strip, prefixes)
        fmt = "torch-zip"
        lazy = raw is not None
        raw = raw if lazy else _torch_load_zip(path, names)
    elif _looks_like_safetensors(head, size):
        return _finish_safetensors(path, key, strip, prefixes)
    elif _looks_like_truncated_safetensors(head, size):
        raise ModelgenError(f"{path.name}: truncated safetensors file (header runs past the end)")
    elif head.lstrip().startswith(b"{"):
        return _open_shard_index(path, key, strip, prefixes)
    elif head[:1] == b"\x80":
        # Legacy files cannot be memory-mapped: describe them without their bytes (skip_data), and
        # read them for real only when state_dict() asks.
        raw, fmt = _torch_load(path, mmap=False, skip_data=True), "torch-legacy"
        lazy = _can_skip_data()
    elif head.startswith(b"PK"):
        raise ModelgenError(f"{path.name}: corrupt or truncated zip archive (bad local header)")
    else:
        raise ModelgenError(
            f"{path.name}: unknown format (not a PyTorch zip/pickle, safetensors or shard index file)"
        )
    state, info = _in_file(path.name, _unwrap, raw, key, strip, prefixes)
    table = TensorTable(
        source=path.name, format=fmt, tensors=_in_file(path.name, _entries_from_tensors, state), **info
    )
    _check_names(table)

    def materialize() -> dict[str, Any]:
        if not lazy:
            return state
        try:
            full = _torch_load(path, mmap=fmt == "torch-zip")
            return _in_file(path.name, _unwrap, full, key, strip, prefixes)[0]
        except ModelgenError as e:  # the pickle was fine but its data was not (a truncated file)
            reason = str(e).removeprefix(f"{path.name}: ")
            raise ModelgenError(f"{path.name}: cannot read tensor data ({reason})") from None

    return Checkpoint(table, materialize)


def _check_names(table: TensorTable) -> None:
    for name in table.tensors:
        if name.count(".") >= MAX_KEY_DEPTH:
            raise ModelgenError(
                f"{table.source}: key {name[:60]!r}... nests {name.count('.') + 1} levels deep "
                f"(more than {MAX_KEY_DEPTH}); not a module tree"
            )


def _in_file(source: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run a step that raises context-free ModelgenErrors, prefixing them with the file name."""
    try:
        return fn(*args)
    except ModelgenError as e:
        raise ModelgenError(f"{source}: {e}") from None
    except RecursionError:
        raise ModelgenError(f"{source}: containers nested too deeply") from None


def _checkpoint_in_directory(directory: Path) -> Path:
    """Accept a Hugging Face style folder when it holds one index or one weights file.

    Hub folders often carry the same weights twice (safetensors and .bin); safetensors wins.
    """
    try:
        files = sorted(p for p in directory.iterdir() if p.is_file())
    except OSError as e:
        raise ModelgenError(f"{directory}: cannot list directory ({e.strerror or e})") from None
    indexes = [p for p in files if p.name.endswith(".index.json")]
    weights = [p for p in files if p.suffix in {".safetensors", ".bin", ".pt", ".pth", ".ckpt"}]
    for group in (indexes, weights):
        if len(group) == 1:
            return group[0]
        preferred = [p for p in group if ".safetensors" in p.name]
        if len(preferred) == 1:
            return preferred[0]
        if group:
            names = ", ".join(p.name for p in group[:6]) + (", ..." if len(group) > 6 else "")
            raise ModelgenError(f"{directory}: is a directory with several checkpoints ({names}); pass one")
    raise ModelgenError(f"{directory}: is a directory with no checkpoint file; pass the checkpoint file")


# ------------------------------------------------------------------------------ pickled formats


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except Exception as e:  # BadZipFile, but also UnicodeDecodeError, EOFError... on damaged directories
        raise ModelgenError(f"{path.name}: corrupt or truncated zip archive ({_first_line(e)})") from None


def _zip_names(path: Path) -> list[str]:
    with _open_zip(path) as z:
        return z.namelist()


def _is_torchscript(names: list[str]) -> bool:
    return any(n.endswith("/constants.pkl") for n in names) and any("/code/" in n for n in names)


def _describe_zip(z: zipfile.ZipFile, names: list[str]) -> Any | None:
    """Plain zip checkpoints, without torch; None when torch.load must read the file."""
    if not any(n.endswith("data.pkl") for n in names):
        return None  # _torch_load_zip says why
    data_classes = {name: g for name in EXTRA_SAFE_GLOBALS if (g := _resolve_global(name)) is not None}
    return describe(z, data_classes)  # damaged archives: None, and torch.load's message


def _torch_load_zip(path: Path, names: list[str] | None = None) -> Any:
    if not any(n.endswith("data.pkl") for n in (names if names is not None else _zip_names(path))):
        raise ModelgenError(f"{path.name}: a zip archive, but not a PyTorch checkpoint (no data.pkl)")
    return _torch_load(path, mmap=True)


def _torch_load(path: Path, mmap: bool, skip_data: bool = False) -> Any:
    import contextlib

    import torch

    safe = [g for g in (_resolve_global(name) for name in EXTRA_SAFE_GLOBALS) if g is not None]
    # skip_data (torch >= 2.5) allocates storages without reading them; ties survive, unlike with
    # map_location="meta", which gives every view its own storage.
    skip = torch.serialization.skip_data() if skip_data and _can_skip_data() else contextlib.nullcontext()
    try:
        # torch warns about pickle protocols and TypedStorage; the CLI promises one line on stderr.
        with warnings.catch_warnings(), torch.serialization.safe_globals(safe), skip:
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as e:
        raise ModelgenError(f"{path.name}: {_unpickling_reason(e)}") from None
    except Exception as e:  # torch raises RuntimeError/EOFError/ValueError... for damaged files
        raise ModelgenError(f"{path.name}: corrupt or truncated checkpoint ({_first_line(e)})") from None


def _can_skip_data() -> bool:
    import torch

    return hasattr(torch.serialization, "skip_data")


def _unpickling_reason(e: BaseException) -> str:
    text = str(e)
    blocked = re.search(r"GLOBAL ([\w.]+)", text)
    if blocked:
        name = blocked.group(1)
        hint = ""
        if name.startswith("torch.nn.modules."):
            hint = " (a whole pickled model? re-save its state_dict())"
        return (f"refused to unpickle: it needs the global {name}, which is not a plain tensor or "
                f"container and could run code{hint}")
    # torch's message is a paragraph; the useful part follows "WeightsUnpickler error:".
    detail = text.split("WeightsUnpickler error:", 1)[-1]
    lines = [ln.strip() for ln in detail.splitlines() if ln.strip()]
    return f"unsafe or corrupt pickle ({lines[0][:200] if lines else type(e).__name__})"


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

    qualified_name = ""

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
            return type(name, (_ScriptObject,), {"qualified_name": f"{module}.{name}"})
        if module == "collections" and name == "OrderedDict":
            from collections import OrderedDict

            return OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _describe_script_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda data, requires_grad, hooks: data
        if module == "torch" and name.endswith("Storage"):
            return name
        if module == "torch.jit._pickle" and name in _SCRIPT_TYPE_TAGS:
            return _SCRIPT_TYPE_TAGS[name]
        raise ModelgenError(
            f"{self.source}: refused to unpickle: it needs the global {module}.{name}, "
            "which is not a plain tensor or container and could run code"
        )

    def persistent_load(self, pid: Any) -> Any:
        # ('storage', storage_type, key, location, numel)
        return (pid[2], _storage_dtype(pid[1]))


# TorchScript tags typed containers (an LSTM's List[Tensor] of weights...): our own identity
# stand-ins, mirroring torch.jit._pickle, so nothing of torch's is called.
_SCRIPT_TYPE_TAGS: dict[str, Callable[..., Any]] = {
    "restore_type_tag": lambda value, type_str: value,
    "build_intlist": lambda data: data,
    "build_tensorlist": lambda data: data,
    "build_doublelist": lambda data: data,
    "build_boollist": lambda data: data,
}



def _storage_dtype(storage_type: Any) -> str:
    name = storage_type if isinstance(storage_type, str) else getattr(storage_type, "__name__", "")
    if name not in STORAGE_DTYPES:
        raise ValueError(f"unsupported storage type {name!r}")
    return STORAGE_DTYPES[name]


def _describe_script_tensor(storage: Any, offset: int, shape: Any, stride: Any, *rest: Any) -> Any:
    key, dtype = storage
    shape, stride = tuple(int(d) for d in shape), tuple(int(s) for s in stride)
    if len(shape) != len(stride) or any(d < 0 for d in shape) or any(s < 0 for s in stride) or offset < 0:
        raise ValueError("inconsistent tensor shape/stride")
    return _ScriptTensor(str(key), dtype, int(offset), shape, stride)


_CLASS_LINE = re.compile(r"^class (\w+)\((\w*)\):", re.M)
_ATTR_LIST = re.compile(r"^  (__parameters__|__buffers__) = (\[.*\])\s*$", re.M)


def _script_module_tensors(z: zipfile.ZipFile, root: str, qualified: str, cache: dict) -> tuple[bool, list[str] | None]:
    """(is a Module, its parameter + buffer names) from the archive's code/, as TorchScript's own
    state_dict() sees them. (True, None) when the code cannot be read: then every tensor counts.

    TorchScript records no buffer persistence, so non-persistent buffers are included, as they are in
    ScriptModule.state_dict(); plain tensor attributes are not.
    """
    if qualified in cache:
        return cache[qualified]
    module, _, cls = qualified.rpartition(".")
    result: tuple[bool, list[str] | None] = (True, None)
    try:
        text = z.read(f"{root}/code/{module.replace('.', '/')}.py").decode("utf-8")
    except Exception:
        text = ""
    classes = list(_CLASS_LINE.finditer(text))
    for i, m in enumerate(classes):
        if m.group(1) != cls:
            continue
        body = text[m.end(): classes[i + 1].start() if i + 1 < len(classes) else len(text)]
        if m.group(2) != "Module":
            result = (False, [])
            break
        lists: dict[str, list[str]] = {}
        for kind, literal in _ATTR_LIST.findall(body):
            try:
                value = ast.literal_eval(literal)  # a literal list of strings: evaluates no code
            except (ValueError, SyntaxError):
                continue
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                lists[kind] = value
        if len(lists) == 2:
            result = (True, lists["__parameters__"] + lists["__buffers__"])
        break
    cache[qualified] = result
    return result


def _open_torchscript(path: Path, key: str | None, strip: bool, prefixes: tuple[str, ...]) -> Checkpoint:
    names = _zip_names(path)
    data_pkl = next((n for n in names if n.endswith("/data.pkl") and n.count("/") == 1), None)
    if data_pkl is None:
        raise ModelgenError(f"{path.name}: TorchScript archive without data.pkl")
    root = data_pkl.split("/")[0]
    sizes: dict[str, int] = {}
    described: dict[str, _ScriptTensor] = {}
    try:
        with zipfile.ZipFile(path) as z:
            sizes = {i.filename: i.file_size for i in z.infolist()}
            top = _ScriptUnpickler(z.read(data_pkl), path.name).load()
            _walk_script_module(z, root, top, "", described, {}, [0])
    except ModelgenError:
        raise
    except Exception as e:
        raise ModelgenError(f"{path.name}: corrupt TorchScript archive ({_first_line(e)})") from None

    entries: dict[str, TensorEntry] = {}
    first_view: dict[tuple, str] = {}
    for n, t in described.items():
        # Checked from the zip directory alone: a view must fit in its storage's bytes.
        size = sizes.get(f"{root}/data/{t.storage}")
        if size is None:
            raise ModelgenError(f"{path.name}: tensor {n!r} refers to missing storage {t.storage!r}")
        numel = math.prod(t.shape)
        last = t.offset + sum((d - 1) * s for d, s in zip(t.shape, t.stride)) if numel else -1
        if (last + 1) * DTYPE_BYTES[t.dtype] > size:
            raise ModelgenError(f"{path.name}: tensor {n!r} points past the end of its storage")
        sig = (t.storage, t.offset, t.shape, t.stride)
        tied = first_view.get(sig) if numel else None
        first_view.setdefault(sig, n)
        entries[n] = TensorEntry(n, t.shape, t.dtype, tied)

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


def _walk_script_module(z: zipfile.ZipFile, root: str, obj: Any, prefix: str,
                        out: dict[str, _ScriptTensor], cache: dict, budget: list[int]) -> None:
    """Collect parameters and buffers in nn.Module.state_dict() order: own tensors, then children."""
    budget[0] += 1
    if budget[0] > 100_000 or prefix.count(".") > MAX_DEPTH:
        raise ValueError("module tree too large or too deep")  # a cycle, or built to exhaust us
    state = obj.state if isinstance(obj, _ScriptObject) else None
    if not isinstance(state, Mapping):
        return
    is_module, names = _script_module_tensors(z, root, type(obj).qualified_name, cache)
    if not is_module:
        return
    own = names if names is not None else list(state)
    for attr in own:
        value = state.get(attr)
        if isinstance(value, _ScriptTensor):
            out[prefix + str(attr)] = value
    for attr, value in state.items():
        if isinstance(value, _ScriptObject):
            _walk_script_module(z, root, value, f"{prefix}{attr}.", out, cache, budget)


# ------------------------------------------------------------------------------------ safetensors


def _is_index(part: str) -> bool:
    # str.isdigit() accepts "²", which int() rejects
    return part.isascii() and part.isdigit()


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if _is_index(p) else (1, p) for p in name.split("."))


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
            raise ModelgenError(f"{path.name}: tensor {name!r} has unsupported dtype {info['dtype']}")
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
        reason = _first_line(e).removeprefix("Error while deserializing header: ")
        raise ModelgenError(f"{path.name}: invalid safetensors file ({reason})") from None
    return {k: header[k] for k in keys}, metadata


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
            out[k] = _json_safe(json.loads(v)) if isinstance(v, str) and v[:1] in "{[" else v
        except (ValueError, RecursionError):
            out[k] = v
    return out


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


def _open_shard_index(path: Path, key: str | None, strip: bool, prefixes: tuple[str, ...]) -> Checkpoint:
    try:
        index = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as e:
        raise ModelgenError(f"{path.name}: starts like JSON but is not valid JSON ({_first_line(e)})") from None
    except OSError as e:
        raise ModelgenError(f"{path.name}: cannot read ({e.strerror or e})") from None
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict):
        raise ModelgenError(f"{path.name}: a JSON file but not a shard index (no \"weight_map\" object)")

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
            raise ModelgenError(f"{path.name}: cannot read shard {shard!r} ({e.strerror or e})") from None
        if _looks_like_safetensors(head, shard_path.stat().st_size):
            shard_entries, _ = _read_safetensors_header(shard_path)
        elif head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
            fmt = "sharded-bin"
            raw = _torch_load_zip(shard_path) if head.startswith(b"PK") else _torch_load(shard_path, False)
            state = _in_file(shard_path.name, lambda r: _select(r, None)[0], raw)
            loaded[shard] = state
            shard_entries = _in_file(shard_path.name, _entries_from_tensors,
                                     {k: v for k, v in state.items() if _is_tensor(v)})
        else:
            raise ModelgenError(f"{path.name}: shard {shard!r} is neither safetensors nor a torch file")
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
    renames, stripped = _in_file(source, _strip_plan, list(entries), strip, prefixes)
    tensors = {renames[n]: _rename(e, renames) for n, e in entries.items()}
    table = TensorTable(source, fmt, tensors, metadata=metadata, stripped_prefixes=stripped)
    _check_names(table)

    def materialize() -> dict[str, Any]:
        try:
            data = read_tensors()
        except ModelgenError:
            raise
        except Exception as e:  # the header was fine but the data is not (a later truncation...)
            raise ModelgenError(f"{source}: cannot read tensor data ({_first_line(e)})") from None
        return {renames[n]: data[n] for n in entries}

    return Checkpoint(table, materialize)


def _rename(e: TensorEntry, renames: dict[str, str]) -> TensorEntry:
    return TensorEntry(renames[e.name], e.shape, e.dtype, renames.get(e.tied_to) if e.tied_to else None)


# ------------------------------------------------------------------------------------ unwrapping


def _is_tensor(v: Any) -> bool:
    if isinstance(v, PickledTensor):
        return True
    torch = sys.modules.get("torch")  # real tensors exist only once torch.load has imported it
    return torch is not None and isinstance(v, torch.Tensor)


def _items(obj: Any) -> Iterator[tuple[str, Any]]:
    """(path segment, value) of a container: mapping keys, or list/tuple indices as "0", "1"..."""
    if isinstance(obj, Mapping):
        yield from ((k, v) for k, v in obj.items() if isinstance(k, str))
    elif isinstance(obj, (list, tuple)):
        yield from ((str(i), v) for i, v in enumerate(obj))


class _Walk:
    """Shared state of one look through an unpickled object: a memo and a budget, so that a pickle
    that references one container from everywhere (or nests them deeply) stays cheap."""

    def __init__(self) -> None:
        self.holds: dict[int, bool] = {}
        self.visited = 0

    def tick(self) -> None:
        self.visited += 1
        if self.visited > MAX_CONTAINERS:
            raise ModelgenError("too many nested containers to search for a state dict")

    def has_tensors(self, obj: Any, depth: int = 0) -> bool:
        if _is_tensor(obj):
            return True
        if not isinstance(obj, (Mapping, list, tuple)):
            return False
        if depth > MAX_DEPTH:
            raise ModelgenError(f"containers nested more than {MAX_DEPTH} levels deep")
        if id(obj) not in self.holds:
            self.tick()
            self.holds[id(obj)] = False  # a cycle counts as "no"
            values = obj.values() if isinstance(obj, Mapping) else obj  # any keys: Adam's state is by int
            self.holds[id(obj)] = any(self.has_tensors(v, depth + 1) for v in values)
        return self.holds[id(obj)]

    def is_state_dict(self, obj: Any) -> bool:
        """A mapping of names to tensors. Non-tensor scalars (an `epoch` saved beside the weights) are
        tolerated; nested containers holding tensors are not: those make it a trainer dict."""
        if not isinstance(obj, Mapping) or not obj or not all(isinstance(k, str) for k in obj):
            return False
        has_tensor = False
        for k, v in obj.items():
            if _is_tensor(v):
                has_tensor = True
            elif not k.endswith("_extra_state") and self.has_tensors(v):
                return False
        return has_tensor

    def candidates(self, obj: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        """Key paths of every container below obj that looks like a state dict."""
        if self.is_state_dict(obj):
            return [path]
        if not isinstance(obj, (Mapping, list, tuple)) or len(path) > MAX_DEPTH or not self.has_tensors(obj):
            return []
        self.tick()
        found: list[tuple[str, ...]] = []
        for k, v in _items(obj):
            if k not in NOT_MODEL_KEYS:
                found += self.candidates(v, path + (k,))
        return found


def _rank(path: tuple[str, ...], obj: Any) -> tuple[int, int, int, int]:
    known = [STATE_DICT_KEYS.index(p) for p in path if p in STATE_DICT_KEYS]
    state = _get(obj, path)
    mixed = sum(1 for v in state.values() if not _is_tensor(v))
    return (min(known) if known else len(STATE_DICT_KEYS), int(mixed > 0), len(path), -len(state))


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for p in path:
        obj = obj[int(p)] if isinstance(obj, (list, tuple)) else obj[p]
    return obj


def _describe(obj: Any) -> str:
    """A short description of an object and its keys, for error messages."""
    if isinstance(obj, Mapping):
        keys = [repr(k) if not isinstance(k, str) or not k.isprintable() else k for k in list(obj)[:8]]
        more = ", ..." if len(obj) > 8 else ""
        return f"a dict with keys {', '.join(keys)}{more}" if obj else "an empty dict"
    if isinstance(obj, (list, tuple)):
        return f"a {type(obj).__name__} of {len(obj)}"
    if _is_tensor(obj):
        return f"a single tensor of shape {list(obj.shape)}"
    return f"a {type(obj).__name__}"


def _select(raw: Any, key: str | None) -> tuple[Any, tuple[str, ...], list[tuple[str, ...]]]:
    walk = _Walk()
    found = walk.candidates(raw)
    found.sort(key=lambda p: _rank(p, raw))
    paths = ", ".join("/".join(p) or "(top level)" for p in found[:8])
    if key:
        base = _parse_key(raw, key)
        below = [p for p in found if p[: len(base)] == base]
        if not below:
            where = f"; state dicts are at: {paths}" if found else ""
            raise ModelgenError(f"--key {key}: no state dict (a dict of named tensors) there{where}")
        return _get(raw, below[0]), below[0], [p for p in found if p != below[0]]
    if found:
        return _get(raw, found[0]), found[0], found[1:]
    if _is_tensor(raw):
        raise ModelgenError(f"holds {_describe(raw)}, not a state dict (a dict of named tensors)")
    if not walk.has_tensors(raw):
        raise ModelgenError(f"holds no tensors ({_describe(raw)})")
    training = [k for k, v in _items(raw) if k in NOT_MODEL_KEYS and walk.has_tensors(v)]
    if training:
        raise ModelgenError(f"no model state dict found: tensors only under {', '.join(training)}")
    raise ModelgenError(f"no state dict (a dict of named tensors) found in {_describe(raw)}")


def _parse_key(raw: Any, key: str) -> tuple[str, ...]:
    """`--key` takes `a/b` (or `a.b` when no key of that exact name exists)."""
    tries = [tuple(key.split("/"))] + ([tuple(key.split("."))] if "." in key and "/" not in key else [])
    for path in tries:
        obj, ok = raw, True
        for i, part in enumerate(path):
            children = dict(_items(obj))
            if part not in children:
                ok = False
                if path is tries[-1]:
                    at = f" under {'/'.join(path[:i])}" if i else ""
                    raise ModelgenError(f"--key {key}: {part!r} not found{at} ({_describe(obj)})")
                break
            obj = children[part]
        if ok:
            return path
    raise ModelgenError(f"--key {key}: not found")  # unreachable: the last try raises


def _strip_plan(names: list[str], strip: bool, extra: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """Prefixes every key shares (DataParallel `module.`, torch.compile `_orig_mod.`, in any nesting).

    An explicit prefix is stripped once, from every key that has it, whenever it shows up between
    wrapper prefixes (`module.` + `backbone.` + `_orig_mod.` works in any order).
    """
    current = {n: n for n in names}
    stripped: list[str] = []
    pending = list(extra)
    progress = True
    while progress and current:
        progress = False
        for prefix in list(pending):
            if any(v.startswith(prefix) for v in current.values()):
                current = {k: v[len(prefix):] if v.startswith(prefix) else v for k, v in current.items()}
                stripped.append(prefix)
                pending.remove(prefix)
                progress = True
        if strip:
            for prefix in WRAPPER_PREFIXES:
                # never strip a key down to nothing: `module.` alone is a real (odd) name
                if all(v.startswith(prefix) and len(v) > len(prefix) for v in current.values()):
                    current = {k: v[len(prefix):] for k, v in current.items()}
                    stripped.append(prefix)
                    progress = True
    if pending:
        raise ModelgenError(f"--strip-prefix {pending[0]!r}: no key starts with it")
    if stripped and (len(set(current.values())) != len(current) or "" in current.values()):
        seen: dict[str, str] = {}
        for k, v in current.items():
            other = seen.setdefault(v, k)
            if other != k or not v:
                renamed = k if k != v else other  # name the key that stripping changed
                what = "an empty name" if not v else f"{v!r}, which another key already is"
                raise ModelgenError(
                    f"stripping {', '.join(stripped)} would turn {renamed!r} into {what}; "
                    "use --no-strip or another --strip-prefix"
                )
    return current, stripped


def _unwrap(raw: Any, key: str | None, strip: bool, strip_prefixes: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    state, path, other_paths = _select(raw, key)
    names = [k for k in state if _is_tensor(state[k])]
    renames, stripped = _strip_plan(names, strip, strip_prefixes)
    metadata, ignored = _metadata(raw, path, other_paths)
    info = {
        "metadata": metadata,
        "container": "/".join(path) or None,
        "other_containers": ["/".join(p) for p in other_paths],
        "stripped_prefixes": stripped,
        "ignored": ignored,
    }
    return {renames[n]: state[n] for n in names}, info


def _entries_from_tensors(state: Mapping[str, Any]) -> dict[str, TensorEntry]:
    entries: dict[str, TensorEntry] = {}
    seen: dict[tuple, str] = {}
    for name, t in state.items():
        if isinstance(t, PickledTensor):
            sig: tuple | None = t.view_signature
            shape, dtype, numel = t.shape, t.dtype, math.prod(t.shape)
        else:
            try:
                sig = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), tuple(t.stride()))
            except (RuntimeError, NotImplementedError):  # sparse and other layouts have no plain storage
                sig = None
            shape, dtype, numel = tuple(t.shape), str(t.dtype).removeprefix("torch."), t.numel()
        tied = seen.get(sig) if sig is not None and numel else None
        if sig is not None:
            seen.setdefault(sig, name)
        entries[name] = TensorEntry(name, shape, dtype, tied)
    return entries


def _metadata(raw: Any, path: tuple[str, ...], others: list[tuple[str, ...]]) -> tuple[dict[str, Any], list[str]]:
    """Non-tensor entries around the state dict (epoch, config, hyper_parameters...), JSON-safe, and
    the key paths of tensors that are not the model (optimizer...).

    Entries at every level of the path count (`{"ckpt": {"config": ..., "model": sd}}`); an outer key
    wins over an inner one of the same name. Entries that lead to the other state dicts are left out:
    they are listed as other containers already.
    """
    walk = _Walk()
    out: dict[str, Any] = {}
    ignored: list[str] = []
    for i in range(len(path) + 1):
        at = path[:i]
        for k, v in _items(_get(raw, at)):
            full = at + (k,)
            if i < len(path) and k == path[i]:
                continue
            if any(o[: len(full)] == full for o in others):
                continue
            if walk.has_tensors(v):
                if i < len(path):  # tensors in the chosen state dict itself are the model
                    ignored.append("/".join(full))
            elif not k.endswith("_extra_state"):
                out.setdefault(k, _json_safe(v))
    return out, ignored


def _json_safe(v: Any, depth: int = 0) -> Any:
    """Plain JSON values: `json.dumps` must produce valid JSON (no NaN) and finish quickly."""
    if depth > 6:
        return "..."
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if isinstance(v, Mapping):
        return {str(k): _json_safe(x, depth + 1) for k, x in list(v.items())[:1000]}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x, depth + 1) for x in v[:1000]]
    if hasattr(v, "__dict__") and not callable(v):  # argparse.Namespace and friends
        return {str(k): _json_safe(x, depth + 1) for k, x in list(vars(v).items())[:1000]}
    return str(v)[:200]
