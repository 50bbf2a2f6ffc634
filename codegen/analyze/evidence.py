"""Evidence from a whole-model pickle's module tree: the exact torch.nn type and constructor arguments
of every module it recorded, parameter-free ones included.

The pickle records each module's attributes (`stride`, `eps`, `inplace`...), not the call that made
it. A call is rebuilt from the constructor's signature (a parameter is taken from the attribute of
the same name; `bias` from whether the module has one), then proven: the module it builds on the
meta device must hold the same attributes and the same tensor shapes. A module whose call cannot be
proven that way (its constructor stores its arguments under other names) is left to the catalogue,
with its recorded type checked against what the catalogue built.

Recorded text reaches code only as checked identifiers (the torch.nn class name, which must be an
attribute of torch.nn) and repr() literals of plain values (ints, floats, bools, strings, tuples).
"""

from __future__ import annotations

import inspect
import math
from functools import lru_cache
from typing import Any

from codegen.ir import Arg, Call, IOSpec, Module
from codegen.load.module_pickle import GlobalRef
from codegen.safetext import is_index

RECORDED = "recorded in the pickled model"
# Values the renderer writes as literals.
_LITERAL = (bool, int, float, str, type(None))


@lru_cache(maxsize=None)
def _signature(name: str) -> tuple[tuple[str, Any], ...] | None:
    """(parameter, default) pairs of torch.nn.<name>'s constructor; None when it is not a module."""
    import torch.nn as nn

    cls = getattr(nn, name, None)
    if not (inspect.isclass(cls) and issubclass(cls, nn.Module)) or name.startswith("_"):
        return None
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    out = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("device", "dtype"):
            continue
        out.append((p.name, p.default))
    return tuple(out)


def nn_call(desc: Any) -> Call | None:
    """The torch.nn constructor call that rebuilds `desc` exactly (attributes and tensor shapes),
    or None when the recorded attributes do not determine one."""
    name = desc.torch_nn
    signature = _signature(name) if name else None
    if signature is None:
        return None
    values: dict[str, Any] = {}
    for param, default in signature:
        if param == "bias" and "bias" not in desc.attributes and not isinstance(default, type):
            values[param] = desc.parameters.get("bias") is not None
        elif param in desc.attributes and _literal(desc.attributes[param]):
            values[param] = desc.attributes[param]
        elif param in desc.other or param in desc.attributes:
            return None  # recorded, but not as a value the file can write (-inf): no default for it
        elif default is inspect.Parameter.empty:
            return None  # a required argument the module does not record under its own name
    args: list[Arg] = []
    for param, default in signature:
        if param not in values:
            continue
        value = _compact(values[param])
        required = default is inspect.Parameter.empty
        if not required and _equal(value, default):
            continue
        args.append(Arg(None if required and not args_keyworded(args) else param, value))
    call = Call(f"nn.{name}", args)
    return call if _reproduces(call, desc) else _full(call, signature, values, desc)


def args_keyworded(args: list[Arg]) -> bool:
    return any(a.keyword is not None for a in args)


def _full(call: Call, signature: tuple, values: dict, desc: Any) -> Call | None:
    """Every recorded argument spelled out (the compact form lost something): proven, or None."""
    full = Call(call.type_name, [Arg(p, values[p]) for p, _ in signature if p in values])
    return full if _reproduces(full, desc) else None


def _compact(value: Any) -> Any:
    """(3, 3) -> 3 where torch.nn expands an int the same way; `_reproduces` proves it."""
    if isinstance(value, tuple) and value and all(v == value[0] for v in value):
        if type(value[0]) is int:
            return value[0]
    return value


def _literal(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_literal(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return type(value) in _LITERAL


def _equal(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _reproduces(call: Call, desc: Any) -> bool:
    """The call builds a module with the description's attributes and tensor shapes."""
    from codegen.analyze.verify import build_meta

    try:
        built = build_meta(call)
    except Exception:  # torch rejects the arguments: not this call
        return False
    state = vars(built)
    for attr, value in desc.attributes.items():
        if not _literal(value):
            continue
        if attr not in state or _normal(state[attr]) != _normal(value):
            return False
    for kind, recorded in (("_parameters", desc.parameters), ("_buffers", desc.buffers)):
        # A traced archive lists only the tensors a module has (no `bias: None`): compare those.
        made = {n: t for n, t in state.get(kind, {}).items() if t is not None}
        if set(made) != {n for n, t in recorded.items() if t is not None}:
            return False
        for n, t in made.items():
            if tuple(t.shape) != recorded[n].shape:
                return False
    return not desc.children and not any(vars(built)["_modules"])


def _normal(v: Any) -> Any:
    if isinstance(v, list):
        v = tuple(v)
    if isinstance(v, tuple):
        return tuple(_normal(x) for x in v)
    return v


def io_of(call: Call, desc: Any) -> IOSpec:
    """What the layer consumes and gives, from its recorded widths (parameter-free: passes through)."""
    a = desc.attributes
    for i, o in (("in_features", "out_features"), ("in_channels", "out_channels")):
        if isinstance(a.get(i), int) and isinstance(a.get(o), int):
            family = "linear" if i == "in_features" else "conv"
            ndim = int(desc.name[-2]) if family == "conv" and desc.name[-2:-1].isdigit() else None
            return IOSpec(family, a[i], a[o], ndim)
    if desc.name.startswith("Adaptive") and desc.name[-2:-1].isdigit():
        return IOSpec("pool", ndim=int(desc.name[-2]))  # keeps its dims (to a size it records)
    if desc.name == "Flatten":
        return IOSpec("flatten")  # no spatial dims after it
    return IOSpec("activation")  # the rest keep the width: activations, dropout, pooling


def merge_args(recognised: list[Arg], call: Call, type_name: str) -> list[Arg]:
    """The proven call's arguments, keeping the catalogue's Arg (its role: width, kernel...; its
    provenance: which key) wherever it says the same, so sizes are still lifted into parameters."""
    signature = _signature(type_name.removeprefix("nn.")) or ()
    names = [p for p, _ in signature]
    by_name: dict[str, Arg] = {}
    for i, a in enumerate(recognised):
        key = a.keyword if a.keyword is not None else (names[i] if i < len(names) else None)
        if key is not None:
            by_name[key] = a
    out = []
    for i, a in enumerate(call.args):
        key = a.keyword if a.keyword is not None else names[i]
        known = by_name.get(key)
        if known is not None and known.choice is None and _same(known.value, a.value):
            out.append(Arg(a.keyword, known.value, known.role, known.provenance))
        else:
            out.append(Arg(a.keyword, a.value, "other", RECORDED))
    return out


def _same(a: Any, b: Any) -> bool:
    return _normal(_compact(a)) == _normal(_compact(b)) and type(_compact(a)) is type(_compact(b))


def evidence_module(attr: str, desc: Any) -> Module | None:
    """A parameter-free module the keys do not show (ReLU, MaxPool2d, Dropout, Flatten), or a
    container of them, as recorded; None when the description does not determine it."""
    if desc is None or desc.state():
        return None
    if desc.torch_nn in ("Sequential", "ModuleList") and desc.children:
        items = [evidence_module(n, c) for n, c in desc.children.items()]
        if any(i is None for i in items) or not all(is_index(n) for n in desc.children):
            return None
        kind = "sequential" if desc.torch_nn == "Sequential" else "modulelist"
        return Module(attr, kind, f"nn.{desc.torch_nn}", children=items, io=IOSpec("activation"))
    call = nn_call(desc)
    if call is None:
        return None
    return Module(attr, "builtin", call.type_name, call.args, io=io_of(call, desc), comment="")


# TransformerEncoderLayer stores its activation as a function, or as this code.
_ACTIVATION_CODES = {1: "relu", 2: "gelu"}


def recorded_choices(tree: Any) -> dict[tuple[str, str], Any]:
    """What the catalogue would otherwise choose, as the pickle recorded it, by (path, choice name):
    every plain attribute under its own name, plus the names the catalogue's built-ins use for what
    their constructors store elsewhere (heads, activation, norm eps of a transformer layer)."""
    out: dict[tuple[str, str], Any] = {}
    if tree is None:
        return out
    for path, desc in tree.walk():
        a = desc.attributes
        for name, value in a.items():
            if _literal(value):
                out[path, name] = value
        if isinstance(a.get("num_heads"), int):
            out[path, "nhead"] = a["num_heads"]
        attn = desc.children.get("self_attn")
        if attn is not None and desc.torch_nn and desc.torch_nn.startswith("Transformer"):
            for name in ("batch_first",):
                if name in attn.attributes:
                    out[path, name] = attn.attributes[name]
            act = a.get("activation")
            if isinstance(act, GlobalRef) and act.module == "torch.nn.functional":
                out[path, "activation"] = act.name
            elif a.get("activation_relu_or_gelu") in _ACTIVATION_CODES:
                out[path, "activation"] = _ACTIVATION_CODES[a["activation_relu_or_gelu"]]
            norm = desc.children.get("norm1")
            if norm is not None and isinstance(norm.attributes.get("eps"), float):
                out[path, "eps"] = norm.attributes["eps"]
    return out
