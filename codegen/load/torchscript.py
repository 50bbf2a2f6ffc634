"""TorchScript archives: parameters and buffers described by a restricted unpickler."""

from __future__ import annotations

import ast
import math
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from codegen.errors import ModelgenError, first_line
from codegen.load.dtypes import DTYPE_BYTES, STORAGE_DTYPES
from codegen.load.table import Checkpoint, TensorEntry
from codegen.load.unwrap import MAX_DEPTH, _flat_checkpoint
from codegen.load.pickled import _zip_names
from codegen.load.restricted import RestrictedUnpickler, read_member
from codegen.load.torchzip import read_views

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


class _ScriptUnpickler(RestrictedUnpickler):
    """Reads a TorchScript ``data.pkl`` into stand-ins. Any global it does not know is refused."""

    def __init__(self, data: bytes, source: str) -> None:
        super().__init__(data)
        self.source = source
        self.script_classes: dict[str, type] = (
            {}
        )  # one stand-in class per name, however often named

    def builder(self, inst: Any) -> Callable[[Any, Any], None] | None:
        if isinstance(inst, _ScriptObject):
            return _ScriptObject.__setstate__  # keeps the attributes, runs nothing
        return super().builder(inst)

    def find_class(self, module: str, name: str) -> Any:
        if module == "__torch__" or module.startswith("__torch__."):
            qualified = f"{module}.{name}"
            if qualified not in self.script_classes:
                self.script_classes[qualified] = type(
                    name, (_ScriptObject,), {"qualified_name": qualified}
                )
            return self.script_classes[qualified]
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
    if (
        len(shape) != len(stride)
        or any(d < 0 for d in shape)
        or any(s < 0 for s in stride)
        or offset < 0
    ):
        raise ValueError("inconsistent tensor shape/stride")
    return _ScriptTensor(str(key), dtype, int(offset), shape, stride)


_CLASS_LINE = re.compile(r"^class (\w+)\((\w*)\):", re.M)
_ATTR_LIST = re.compile(r"^  (__parameters__|__buffers__) = (\[.*\])\s*$", re.M)


def _script_module_tensors(
    z: zipfile.ZipFile, root: str, qualified: str, cache: dict
) -> tuple[bool, list[str] | None]:
    """(is a Module, its parameter + buffer names) from the archive's code/, as TorchScript's own
    state_dict() sees them. (True, None) when the code cannot be read: then every tensor counts.

    TorchScript records no buffer persistence, so non-persistent buffers are included, as they are in
    ScriptModule.state_dict(); plain tensor attributes are not.
    """
    if qualified in cache:
        return cache[qualified]
    module, _, cls = qualified.rpartition(".")
    result: tuple[bool, list[str] | None] = (True, None)
    code = f"{root}/code/{module.replace('.', '/')}.py"
    try:  # a damaged or oversized member is refused by read_member; a missing one says nothing
        text = read_member(z, code).decode("utf-8") if code in z.NameToInfo else ""
    except UnicodeDecodeError:
        text = ""
    classes = list(_CLASS_LINE.finditer(text))
    for i, m in enumerate(classes):
        if m.group(1) != cls:
            continue
        body = text[m.end() : classes[i + 1].start() if i + 1 < len(classes) else len(text)]
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


def _open_torchscript(
    path: Path, key: str | None, strip: bool, prefixes: tuple[str, ...]
) -> Checkpoint:
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
            top = _ScriptUnpickler(read_member(z, data_pkl), path.name).load()
            _walk_script_module(z, root, top, "", described, {}, [0])
    except ModelgenError as e:
        raise ModelgenError(f"{path.name}: {str(e).removeprefix(f'{path.name}: ')}") from None
    except Exception as e:
        raise ModelgenError(f"{path.name}: corrupt TorchScript archive ({first_line(e)})") from None

    entries: dict[str, TensorEntry] = {}
    first_view: dict[tuple, str] = {}
    for n, t in described.items():
        # Checked from the zip directory alone: a view must fit in its storage's bytes.
        size = sizes.get(f"{root}/data/{t.storage}")
        if size is None:
            raise ModelgenError(
                f"{path.name}: tensor {n!r} refers to missing storage {t.storage!r}"
            )
        numel = math.prod(t.shape)
        last = t.offset + sum((d - 1) * s for d, s in zip(t.shape, t.stride)) if numel else -1
        if (last + 1) * DTYPE_BYTES[t.dtype] > size:
            raise ModelgenError(f"{path.name}: tensor {n!r} points past the end of its storage")
        sig = (t.storage, t.offset, t.shape, t.stride)
        tied = first_view.get(sig) if numel else None
        first_view.setdefault(sig, n)
        entries[n] = TensorEntry(n, t.shape, t.dtype, tied)

    def read_tensors() -> dict[str, Any]:
        return read_views(path, root, described)

    return _flat_checkpoint(
        path.name, "torchscript", entries, {}, key, strip, prefixes, read_tensors
    )


def _walk_script_module(
    z: zipfile.ZipFile,
    root: str,
    obj: Any,
    prefix: str,
    out: dict[str, _ScriptTensor],
    cache: dict,
    budget: list[int],
) -> None:
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
