"""Whole-model pickles (`torch.save(model)`): the module tree described, nothing imported or called.

Such a pickle names the model's own classes (`make_a.SmallCNN`) and torch.nn's, and rebuilds each
module by creating an empty instance and filling in its `__dict__`: `_parameters`, `_buffers`,
`_modules` (registration order) and plain attributes (`stride`, `eps`...). `torch.load` would import
and run those classes. This reader hands the unpickler a stand-in type for every global it does not
know (a fresh class that only records its name), so NEWOBJ makes a stand-in, REDUCE records its
arguments and BUILD fills in a dict: the same rules as the other readers (codegen/load/restricted.py:
BUILD only on objects this unpickler made, memo cap, sizes budgeted before reading), plus the dense
tensor rebuilders of torchzip.py. The result is a `ModuleDescription` tree: evidence for the
analysis, and the state dict, in `state_dict()` order, as storage views read on demand.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable

from codegen.errors import ModelgenError
from codegen.load.restricted import read_member
from codegen.load.torchzip import GiveUp, PickledTensor, _Reader

MAX_MODULES = 100_000
MAX_DEPTH = 100
# The plain values kept as attributes; anything else is recorded by its type name only.
PLAIN = (bool, int, float, str, type(None))


@dataclass(frozen=True)
class GlobalRef:
    """A global the pickle names as a value (`activation = torch.nn.functional.relu`): never resolved."""

    module: str
    name: str

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass
class ModuleDescription:
    """One module of a whole-model pickle, as recorded: what it is, never what it does."""

    module: str  # the class's Python module ("torch.nn.modules.conv", "make_a")
    name: str  # the class name ("Conv2d", "SmallCNN")
    attributes: dict[str, Any] = field(default_factory=dict)  # plain values, tuples, GlobalRefs
    children: dict[str, ModuleDescription | None] = field(default_factory=dict)  # `_modules` order
    parameters: dict[str, PickledTensor | None] = field(default_factory=dict)
    buffers: dict[str, PickledTensor | None] = field(default_factory=dict)
    non_persistent: frozenset[str] = frozenset()
    other: dict[str, str] = field(default_factory=dict)  # attributes that are not plain: type names
    # TorchScript archives only: the class's forward translated from code/ (codegen.ir.graph), or
    # why not; whole-model pickles record no code (both empty)
    forward_graph: Any = None
    forward_note: str = ""
    forward_returns: str = "torch.Tensor"  # the translated forward's return annotation
    traced_element: int | None = None  # a TorchScript RNN: script_forward.traced_element

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def torch_nn(self) -> str | None:
        """`Conv2d` for a class of torch.nn itself (`torch.nn.modules.*`), else None."""
        if self.module.startswith("torch.nn.modules.") and self.name.isidentifier():
            return self.name
        return None

    def find(self, path: str) -> ModuleDescription | None:
        """The description at a dotted key path ('' is this one)."""
        node: ModuleDescription | None = self
        for part in path.split(".") if path else ():
            node = node.children.get(part) if node is not None else None
        return node

    def walk(self, prefix: str = "") -> list[tuple[str, ModuleDescription]]:
        out = [(prefix, self)]
        for name, child in self.children.items():
            if child is not None:
                out += child.walk(f"{prefix}.{name}" if prefix else name)
        return out

    def state(self, prefix: str = "") -> dict[str, PickledTensor]:
        """Parameters and persistent buffers in `nn.Module.state_dict()` order."""
        out: dict[str, PickledTensor] = {}
        for name, t in [*self.parameters.items(), *self.buffers.items()]:
            if t is not None and name not in self.non_persistent:
                out[prefix + name] = t
        for name, child in self.children.items():
            if child is not None:
                out.update(child.state(f"{prefix}{name}."))
        return out


def revealed(tree: ModuleDescription | None) -> dict[str, Any] | None:
    """What a module tree records beyond the tensors, for `inspect`: the modules it types, the
    attributes it records, and (TorchScript) which classes' forward code was translated."""
    if tree is None:
        return None
    walk = tree.walk()
    torch_nn = [d for _, d in walk if d.torch_nn is not None]
    own = [(p, d) for p, d in walk if d.torch_nn is None]
    out: dict[str, Any] = {
        "modules": len(walk),
        "torch_nn_modules": len(torch_nn),
        "parameter_free_modules": sum(1 for _, d in walk if not d.state()),
        "own_classes": sorted({d.name for _, d in own}),
        "attributes": sum(len(d.attributes) for _, d in walk),
        "unreadable_attributes": sum(len(d.other) for _, d in walk),
    }
    translated = sorted({d.name for _, d in own if d.forward_graph is not None})
    not_translated = {d.name: d.forward_note for _, d in own if d.forward_note}
    if translated or not_translated:
        out["forward_code_translated"] = translated
        out["forward_code_not_translated"] = not_translated
    return out


class _StandIn:
    """An instance of a class the pickle names: keeps what it was given, runs nothing."""

    module = ""
    name = ""

    def __init__(self, *args: Any) -> None:
        self.args = args
        self.state: Any = None

    def __hash__(self) -> int:  # members of `_non_persistent_buffers_set` are strings; be safe
        return id(self)


def _fill(inst: Any, state: Any) -> None:
    inst.state = state


def _safe_set(items: Any = ()) -> frozenset:
    if not isinstance(items, (list, tuple)) or not all(type(i) is str for i in items):
        raise ModelgenError("refused to unpickle: a set of anything but text")
    return frozenset(items)


class _ModelReader(_Reader):
    """torchzip's reader (dense tensors, storages, safe constructors), with stand-ins for the rest."""

    def __init__(self, data: bytes, infos: dict[str, zipfile.ZipInfo], root: str) -> None:
        super().__init__(data, infos, root)
        self.stand_ins: dict[str, type] = {}

    def builder(self, inst: Any) -> Callable[[Any, Any], None] | None:
        if isinstance(inst, _StandIn):  # only this reader makes them
            return _fill
        return super().builder(inst)

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in (("__builtin__", "set"), ("builtins", "set")):
            return _safe_set
        try:
            return super().find_class(module, name)
        except GiveUp:
            pass
        qualified = f"{module}.{name}"
        if qualified not in self.stand_ins:
            self.stand_ins[qualified] = type(
                "StandIn", (_StandIn,), {"module": str(module), "name": str(name)}
            )
        return self.stand_ins[qualified]


def describe_model(z: zipfile.ZipFile) -> Any | None:
    """The unpickled data.pkl with stand-ins, converted: a ModuleDescription where the pickle holds
    a module, or None when it holds none (then it is not a whole-model pickle)."""
    infos = {i.filename: i for i in z.infolist()}
    root = next(iter(infos)).split("/")[0]
    if f"{root}/data.pkl" not in infos:
        return None
    data = read_member(z, f"{root}/data.pkl")
    try:
        raw = _ModelReader(data, infos, root).load()
    except ModelgenError:
        raise
    except Exception:  # GiveUp (a quantized tensor...) or a damaged pickle: torch.load decides
        return None
    return _Converter().convert(raw, 0)


class _Converter:
    def __init__(self) -> None:
        self.count = 0

    def convert(self, obj: Any, depth: int) -> Any:
        """Stand-in modules become ModuleDescriptions; dicts and lists are kept (a trainer dict
        holding a model); anything else that is not plain becomes its type name."""
        if depth > MAX_DEPTH:
            raise ModelgenError("module tree nested more than 100 levels deep")
        if _is_module(obj):
            return self.module(obj, depth)
        if isinstance(obj, dict):
            return {k: self.convert(v, depth + 1) for k, v in obj.items() if isinstance(k, str)}
        return obj

    def module(self, obj: _StandIn, depth: int) -> ModuleDescription:
        self.count += 1
        if self.count > MAX_MODULES:
            raise ModelgenError(f"more than {MAX_MODULES:,} modules: not a model")
        state: dict = obj.state
        desc = ModuleDescription(obj.module, obj.name)
        for kind in ("_parameters", "_buffers"):
            tensors = state.get(kind)
            target = desc.parameters if kind == "_parameters" else desc.buffers
            for name, t in (tensors or {}).items() if isinstance(tensors, dict) else ():
                if not isinstance(name, str) or not (t is None or isinstance(t, PickledTensor)):
                    raise ModelgenError(
                        f"{obj.name} {kind[1:-1]} {str(name)[:40]!r} is not a dense tensor "
                        "(a parametrization or a tensor subclass); not supported"
                    )
                target[name] = t
        np = state.get("_non_persistent_buffers_set")
        desc.non_persistent = np if isinstance(np, frozenset) else frozenset()
        modules = state.get("_modules")
        for name, child in modules.items() if isinstance(modules, dict) else ():
            if not isinstance(name, str) or not (child is None or _is_module(child)):
                raise ModelgenError(f"{obj.name}: submodule {str(name)[:40]!r} is not a module")
            desc.children[name] = None if child is None else self.module(child, depth + 1)
        for name, value in state.items():
            if not isinstance(name, str) or name.startswith("_") or name == "training":
                continue
            plain = _plain(value)
            if plain is _NOT_PLAIN:
                desc.other[name] = _type_name(value)
            else:
                desc.attributes[name] = plain
        return desc


_NOT_PLAIN = object()


def _plain(value: Any, depth: int = 0) -> Any:
    """The value as kept in `attributes` (lists as tuples), or _NOT_PLAIN."""
    if type(value) in PLAIN:
        return value
    if isinstance(value, (tuple, list)) and depth < 4 and len(value) <= 64:
        items = [_plain(v, depth + 1) for v in value]
        return _NOT_PLAIN if _NOT_PLAIN in items else tuple(items)
    if isinstance(value, type) and issubclass(value, _StandIn):
        return GlobalRef(value.module, value.name)
    return _NOT_PLAIN


def _type_name(value: Any) -> str:
    if isinstance(value, _StandIn):
        return f"{type(value).module}.{type(value).name}"
    return type(value).__name__


def _is_module(obj: Any) -> bool:
    """A stand-in filled from a dict the way nn.Module pickles itself."""
    return (
        isinstance(obj, _StandIn)
        and isinstance(obj.state, dict)
        and isinstance(obj.state.get("_modules"), dict)
        and isinstance(obj.state.get("_parameters"), dict)
    )


def select_model(raw: Any, key: str | None) -> tuple[ModuleDescription, str | None] | None:
    """The model a whole-model pickle holds: the top object, or the one module among a dict's
    values (`{"model": model, "epoch": 3}`), or the one `key` names. None: no module at all."""
    if isinstance(raw, ModuleDescription):
        if key:
            raise ModelgenError("--key selects inside a trainer dict; this file holds one model")
        return raw, None
    if not isinstance(raw, dict):
        return None
    found = {k: v for k, v in raw.items() if isinstance(v, ModuleDescription)}
    if not found:
        return None  # no model in it: the plain readers decide
    if key is not None:
        if key not in found:
            names = ", ".join(repr(k)[:40] for k in list(found)[:6])
            raise ModelgenError(f"--key {key!r}: no pickled model under that key (models: {names})")
        return found[key], key
    if len(found) == 1:
        return next(iter(found.values())), next(iter(found))
    if found:
        names = ", ".join(repr(k)[:40] for k in list(found)[:6])
        raise ModelgenError(f"holds several pickled models ({names}); pick one with --key")
    return None


def open_whole_model(
    path: Any,
    root: str,
    raw: Any,
    key: str | None,
    strip: bool,
    prefixes: tuple[str, ...],
    read: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    fmt: str = "torch-model",
) -> Any | None:
    """A Checkpoint for a whole-model pickle (its table carries the module tree as evidence), or
    None when the pickle holds no module. `read` gives real tensors for the described views (by
    default from the zip's data/ records)."""
    from codegen.load.table import _in_file
    from codegen.load.torchzip import read_views
    from codegen.load.unwrap import _entries_from_tensors, _flat_checkpoint

    selected = _in_file(path.name, select_model, raw, key)
    if selected is None:
        return None
    model, container = selected
    state = model.state()
    entries = _in_file(path.name, _entries_from_tensors, state)
    checkpoint = _flat_checkpoint(
        path.name,
        fmt,
        entries,
        {},
        None,
        strip,
        prefixes,
        lambda: read(state) if read is not None else read_views(path, root, state),
    )
    checkpoint.table.container = container
    attach_tree(checkpoint.table, model)
    return checkpoint


def attach_tree(table: Any, model: ModuleDescription) -> None:
    """Give the table its module tree as evidence (whole-model pickles, TorchScript archives). A
    stripped wrapper prefix (`module.` of DataParallel) is a module of the tree: descend into it."""
    tree: ModuleDescription | None = model
    for prefix in table.stripped_prefixes:
        tree = tree.find(prefix.rstrip(".")) if tree is not None else None
    table.modules = tree
