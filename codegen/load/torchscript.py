"""TorchScript archives (`torch.jit.save`): the module tree described, nothing loaded or run.

data.pkl holds one object per module, of a class named like `__torch__.torch.nn.modules.conv.Conv2d`
or `__torch__.mymodule.Block`, with its tensors, submodules and plain attributes; a restricted
unpickler reads it into stand-ins. The constants TorchScript folds into the code (`stride`,
`kernel_size`, `eps`...) and which tensors are parameters or buffers live in the class headers under
code/: those are parsed as text with `ast` and literal_eval, never compiled (no torch.jit.load). The
result is the ModuleDescription tree whole-model pickles give (codegen/load/module_pickle.py), so
codegen/analyze/evidence.py rebuilds each torch.nn layer the same way for both. Each custom class's
`forward` is translated into a forward graph (codegen/load/script_forward.py), kept on its
description.
"""

from __future__ import annotations

import ast
import math
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from codegen.errors import ModelgenError, first_line
from codegen.load.dtypes import DTYPE_BYTES, STORAGE_DTYPES
from codegen.load.table import Checkpoint, TensorEntry
from codegen.load.module_pickle import (
    _NOT_PLAIN,
    MAX_DEPTH,
    MAX_MODULES,
    ModuleDescription,
    _plain,
    attach_tree,
)
from codegen.load.script_forward import (
    TUPLE_MODULES,
    traced_attributes,
    traced_element,
    traced_transformer_attributes,
    translate,
)
from codegen.load.unwrap import _flat_checkpoint
from codegen.load.pickled import _zip_names
from codegen.load.restricted import RestrictedUnpickler, read_member
from codegen.load.torchzip import PickledTensor, read_views

# --------------------------------------------------------------------------- TorchScript archives


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
    return PickledTensor(str(key), dtype, int(offset), shape, stride)


_CLASS_LINE = re.compile(r"^class (\w+)\((\w*)\):", re.M)
_MANGLE = re.compile(r"___torch_mangle_\d+")
# A class header (its attribute lines, before the first method) is a few hundred bytes; parsing one
# with `ast` costs ~50x its size in memory, so a larger one is not read.
MAX_HEADER_BYTES = 2**20
MAX_CODE_BYTES = 2**22  # a class's whole code, forwards included


@dataclass(frozen=True)
class _ScriptClass:
    """What the archive's code/ says about one class, read as text: never compiled or run."""

    is_module: bool
    # None when the code cannot be read: then every tensor of the instance counts as a parameter
    parameters: tuple[str, ...] | None = None
    buffers: tuple[str, ...] = ()
    # `stride : Final[Tuple[int, int]] = (2, 2)`: the constants TorchScript keeps out of data.pkl
    constants: dict[str, Any] = field(default_factory=dict)
    unreadable: tuple[str, ...] = ()  # constants whose value is not a literal: never guessed
    # `forward` (and a scripted RNN's `forward__0`...), parsed, never compiled; None: not readable
    methods: dict[str, ast.FunctionDef] | None = None


_UNREAD = _ScriptClass(True)


class _Code:
    """The archive's code/ files, each read once (size-capped by read_member), as class headers."""

    def __init__(self, z: zipfile.ZipFile, root: str) -> None:
        self.z, self.root = z, root
        self.classes: dict[str, _ScriptClass] = {}
        self.texts: dict[str, str] = {}

    def _text(self, module: str) -> str:
        member = f"{self.root}/code/{module.replace('.', '/')}.py"
        if member not in self.texts:
            try:  # a damaged or oversized member is refused by read_member; a missing one says nothing
                raw = read_member(self.z, member) if member in self.z.NameToInfo else b""
                self.texts[member] = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.texts[member] = ""
        return self.texts[member]

    def script_class(self, qualified: str) -> _ScriptClass:
        if qualified not in self.classes:
            module, _, name = qualified.rpartition(".")
            self.classes[qualified] = _read_class(self._text(module), name)
        return self.classes[qualified]


def _read_class(text: str, name: str) -> _ScriptClass:
    """The class's header in TorchScript's printed code, parsed with `ast` (syntax only)."""
    classes = list(_CLASS_LINE.finditer(text))
    for i, m in enumerate(classes):
        if m.group(1) != name:
            continue
        if m.group(2) != "Module":
            return _ScriptClass(False, (), ())
        body = text[m.start() : classes[i + 1].start() if i + 1 < len(classes) else len(text)]
        header = body.split("\n  def ", 1)[0]  # attributes precede methods
        if len(header) > MAX_HEADER_BYTES:
            return _UNREAD
        try:
            tree = ast.parse(header + "\n  pass\n")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return _UNREAD
        if not tree.body:
            return _UNREAD
        info = _class_header(tree.body[0])
        if info is _UNREAD:
            return info
        return replace(info, methods=_forwards(body))
    return _UNREAD


def _forwards(body: str) -> dict[str, ast.FunctionDef] | None:
    """The class's forward methods, parsed as syntax; None: the code is too large or unreadable."""
    if len(body) > MAX_CODE_BYTES:
        return None
    try:
        tree = ast.parse(body)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    cls = tree.body[0] if tree.body else None
    return {
        f.name: f
        for f in getattr(cls, "body", ())
        if isinstance(f, ast.FunctionDef) and re.fullmatch(r"forward(__\d+)?", f.name)
    }


def _class_header(cls: ast.stmt) -> _ScriptClass:
    lists: dict[str, tuple[str, ...]] = {}
    constants: dict[str, Any] = {}
    unreadable: list[str] = []
    for stmt in getattr(cls, "body", ()):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name) and target.id in ("__parameters__", "__buffers__"):
                value = _literal(stmt.value)
                if isinstance(value, list) and all(type(v) is str for v in value):
                    lists[target.id] = tuple(value)
        elif (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.value is not None
            and isinstance(stmt.annotation, ast.Subscript)
            and isinstance(stmt.annotation.value, ast.Name)
            and stmt.annotation.value.id == "Final"
        ):
            value = _plain(_literal(stmt.value))
            if stmt.target.id.startswith("_"):
                continue
            if value is _NOT_PLAIN:
                unreadable.append(stmt.target.id)
            else:
                constants[stmt.target.id] = value
    if len(lists) != 2:
        return _UNREAD
    return _ScriptClass(
        True, lists["__parameters__"], lists["__buffers__"], constants, tuple(unreadable)
    )


def _literal(node: ast.expr) -> Any:
    """A literal's value (`ast.literal_eval`: evaluates no code); _NOT_PLAIN for anything else."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return _NOT_PLAIN


def _class_path(qualified: str) -> tuple[str, str]:
    """`__torch__.torch.nn.modules.conv.___torch_mangle_0.Conv2d` -> ("torch.nn.modules.conv",
    "Conv2d"): the Python class TorchScript compiled, as a whole-model pickle would name it."""
    parts = [p for p in qualified.split(".") if not _MANGLE.fullmatch(p)]
    if parts and parts[0] == "__torch__":
        parts = parts[1:]
    # TorchScript names a class of the script itself `__torch__.Name`
    return ".".join(parts[:-1]) or "__main__", parts[-1] if parts else ""


class _Describer:
    """data.pkl's script objects -> the ModuleDescription tree whole-model pickles give."""

    def __init__(self, code: _Code) -> None:
        self.code = code
        self.count = 0

    def module(self, obj: Any, depth: int) -> ModuleDescription | None:
        state = obj.state if isinstance(obj, _ScriptObject) else None
        if not isinstance(state, Mapping):
            return None
        info = self.code.script_class(type(obj).qualified_name)
        if not info.is_module:
            return None
        self.count += 1
        if self.count > MAX_MODULES or depth > MAX_DEPTH:
            raise ValueError("module tree too large or too deep")  # a cycle, or built to exhaust us
        desc = ModuleDescription(*_class_path(type(obj).qualified_name))
        if info.parameters is None:  # unreadable code: every tensor counts, as a parameter
            parameters = [k for k, v in state.items() if isinstance(v, PickledTensor)]
        else:
            parameters = list(info.parameters)
        for names, target in ((parameters, desc.parameters), (info.buffers, desc.buffers)):
            for n in names:
                value = state.get(n)
                target[n] = value if isinstance(value, PickledTensor) else None
        for attr, value in state.items():
            if not isinstance(attr, str) or attr in desc.parameters or attr in desc.buffers:
                continue
            if isinstance(value, _ScriptObject):
                child = self.module(value, depth + 1)
                if child is not None:
                    desc.children[attr] = child
                    continue
            if attr.startswith("_") or attr == "training":
                continue
            plain = _plain(value)
            if plain is _NOT_PLAIN:
                desc.other[attr] = _script_type_name(value)
            else:
                desc.attributes[attr] = plain
        for attr, value in info.constants.items():
            desc.attributes.setdefault(attr, value)
        for attr in info.unreadable:  # recorded, but not as a value: no default stands in for it
            desc.other.setdefault(attr, "constant that is not a literal")
        self._forward(desc, info)
        return desc

    def _forward(self, desc: ModuleDescription, info: _ScriptClass) -> None:
        """The class's own forward, translated (torch.nn classes keep theirs: they are rebuilt as
        nn calls); a TorchScript RNN also says which outputs a trace of it kept."""
        methods = info.methods
        if desc.torch_nn in TUPLE_MODULES:
            desc.traced_element = None if methods is None else traced_element(methods)
        if desc.torch_nn is not None:
            # A trace keeps no class constants: its one aten call holds them. Recorded ones win.
            if methods and desc.attributes.get("padding_mode", "zeros") == "zeros":
                for attr, value in traced_attributes(methods).items():
                    desc.attributes.setdefault(attr, value)
                _traced_sizes(desc)
                if "forward" in methods and not desc.attributes:  # traced: nothing recorded
                    found = traced_transformer_attributes(desc.name, methods["forward"], desc)
                    desc.attributes.update(found)
            return
        if methods is None or "forward" not in methods:
            desc.forward_note = "the archive's code for it could not be read"
            return
        desc.forward_graph, desc.forward_note, desc.forward_returns = translate(
            methods["forward"], desc
        )


def _traced_sizes(desc: ModuleDescription) -> None:
    """A trace records a layer's tensors but not the sizes its constructor took: their shapes
    give them (codegen/analyze/evidence.py proves the rebuilt call against the same shapes)."""
    weight = desc.parameters.get("weight")
    sizes: dict[str, Any] = {}
    if desc.name.startswith(("Conv", "ConvTranspose")) and weight is not None:
        groups = desc.attributes.get("groups")
        if type(groups) is not int:
            return
        transposed = desc.attributes.get("transposed") is True
        first, second = weight.shape[0], weight.shape[1] * groups
        sizes = {
            "in_channels": first if transposed else second,
            "out_channels": second if transposed else first,
            "kernel_size": tuple(weight.shape[2:]),
            "padding_mode": "zeros",
        }
    elif desc.name.startswith(("BatchNorm", "InstanceNorm")) and "eps" in desc.attributes:
        stats = desc.buffers.get("running_mean")
        width = weight if weight is not None else stats
        if width is None:
            return
        sizes = {
            "num_features": width.shape[0],
            "affine": weight is not None,
            "track_running_stats": stats is not None,
        }
    elif desc.name == "LayerNorm" and "eps" in desc.attributes and weight is not None:
        sizes = {"normalized_shape": weight.shape, "elementwise_affine": True}
    elif desc.name == "GroupNorm" and "num_groups" in desc.attributes and weight is not None:
        sizes = {"num_channels": weight.shape[0], "affine": True}
    for attr, value in sizes.items():
        desc.attributes.setdefault(attr, value)


def _script_type_name(value: Any) -> str:
    if isinstance(value, _ScriptObject):
        return ".".join(_class_path(type(value).qualified_name))
    return "Tensor" if isinstance(value, PickledTensor) else type(value).__name__


def _open_torchscript(
    path: Path, key: str | None, strip: bool, prefixes: tuple[str, ...]
) -> Checkpoint:
    names = _zip_names(path)
    data_pkl = next((n for n in names if n.endswith("/data.pkl") and n.count("/") == 1), None)
    if data_pkl is None:
        raise ModelgenError(f"{path.name}: TorchScript archive without data.pkl")
    root = data_pkl.split("/")[0]
    sizes: dict[str, int] = {}
    try:
        with zipfile.ZipFile(path) as z:
            sizes = {i.filename: i.file_size for i in z.infolist()}
            top = _ScriptUnpickler(read_member(z, data_pkl), path.name).load()
            tree = _Describer(_Code(z, root)).module(top, 0)
    except ModelgenError as e:
        raise ModelgenError(f"{path.name}: {str(e).removeprefix(f'{path.name}: ')}") from None
    except Exception as e:
        raise ModelgenError(f"{path.name}: corrupt TorchScript archive ({first_line(e)})") from None

    # TorchScript records no buffer persistence: non-persistent buffers count, as they do in
    # ScriptModule.state_dict(); plain tensor attributes do not.
    described = tree.state() if tree is not None else {}
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

    checkpoint = _flat_checkpoint(
        path.name, "torchscript", entries, {}, key, strip, prefixes, read_tensors
    )
    if tree is not None:
        attach_tree(checkpoint.table, tree)
    return checkpoint
