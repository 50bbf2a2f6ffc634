"""Build a recognised constructor call on the meta device and compare its state dict with the keys.

This is what makes every emitted built-in trustworthy: a call is only used when the module it builds
has exactly the checkpoint's tensor names and shapes (dtype conversion is left to load_state_dict).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from codegen.ir import Arg, Call, Ref
from codegen.ir.layer_classes import layer_class
from codegen.keytree import KeyNode


def build_meta(call: Call) -> Any:
    import torch
    import torch.nn as nn

    positional, keywords = [], {}
    for arg in call.args:
        value = _evaluate(arg.value)
        if arg.keyword is None:
            positional.append(value)
        else:
            keywords[arg.keyword] = value
    cls = layer_class(call.type_name) or getattr(nn, call.type_name.removeprefix("nn."))
    with torch.device("meta"):
        return cls(*positional, **keywords)


def _evaluate(value: Any) -> Any:
    if isinstance(value, Call):
        return build_meta(value)
    if isinstance(value, Ref):
        raise ValueError("references are resolved after verification")
    return value


def state_shapes(call: Call) -> dict[str, tuple[int, ...]]:
    return _cached_shapes(_freeze(call))


@lru_cache(maxsize=4096)
def _cached_shapes(frozen: tuple) -> dict[str, tuple[int, ...]]:
    module = build_meta(_thaw(frozen))
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def matches(call: Call, node: KeyNode) -> bool:
    """True when `call` builds a module whose state dict is exactly the node's subtree."""
    try:
        shapes = state_shapes(call)
    except Exception:  # a recogniser proposed arguments torch rejects: not a match
        return False
    expected = {
        t.name[len(node.path) + 1 :] if node.path else t.name: t.shape for t in node.all_tensors()
    }
    if "num_batches_tracked" in shapes and "num_batches_tracked" not in expected:
        # Checkpoints from before num_batches_tracked existed load fine: BatchNorm fills it in.
        shapes = {k: v for k, v in shapes.items() if k != "num_batches_tracked"}
    return shapes == expected


def _freeze(value: Any) -> Any:
    if isinstance(value, Call):
        return ("call", value.type_name, tuple((a.keyword, _freeze(a.value)) for a in value.args))
    if isinstance(value, tuple):
        return ("tuple", tuple(_freeze(v) for v in value))
    return ("lit", value)


def _thaw(frozen: Any) -> Any:
    tag = frozen[0]
    if tag == "call":
        return Call(frozen[1], [Arg(k, _thaw(v)) for k, v in frozen[2]])
    if tag == "tuple":
        return tuple(_thaw(v) for v in frozen[1])
    return frozen[1]
