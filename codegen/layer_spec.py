"""A parameter-free layer named in a hint (`module_type = "nn.MaxPool2d(3, stride=2)"`), parsed
into a closed vocabulary and printed back canonically: hint text is never evaluated or pasted.

Only these torch.nn classes can fill a slot that holds no tensors; arguments must be literals.
"""

from __future__ import annotations

import ast
from typing import Any

from codegen.errors import ModelgenError

PARAMETER_FREE = frozenset("""
    Identity ReLU ReLU6 LeakyReLU GELU SiLU Mish Tanh Sigmoid Hardswish Hardsigmoid Hardtanh
    ELU SELU CELU Softplus Softsign Tanhshrink Softmax LogSoftmax GLU
    Dropout Dropout1d Dropout2d Dropout3d AlphaDropout Flatten Unflatten
    MaxPool1d MaxPool2d MaxPool3d AvgPool1d AvgPool2d AvgPool3d
    AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d
    AdaptiveMaxPool1d AdaptiveMaxPool2d AdaptiveMaxPool3d
    Upsample PixelShuffle PixelUnshuffle ChannelShuffle
    ZeroPad1d ZeroPad2d ZeroPad3d ConstantPad1d ConstantPad2d ConstantPad3d
    ReflectionPad1d ReflectionPad2d ReplicationPad1d ReplicationPad2d ReplicationPad3d
    InstanceNorm1d InstanceNorm2d InstanceNorm3d
    """.split())

MAX_TEXT = 200


def canonical_layer(text: Any) -> str:
    """`"MaxPool2d(3, stride=2)"` or `"nn.MaxPool2d(3, stride=2)"` -> `"nn.MaxPool2d(3, stride=2)"`.

    Raises ModelgenError (one line) for anything but a listed class called with literal arguments,
    or arguments the class does not accept.
    """
    name, args, kwargs = parse_layer(text)
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs]
    return f"nn.{name}({', '.join(parts)})"


def parse_layer(text: Any) -> tuple[str, tuple, tuple[tuple[str, Any], ...]]:
    if not isinstance(text, str):
        raise ModelgenError(f"must be a string like 'nn.ReLU()', not {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise ModelgenError(f"{len(text)} characters long; at most {MAX_TEXT}")
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ModelgenError("not a layer like 'nn.MaxPool2d(2)'") from None
    if not isinstance(node, ast.Call):  # a bare name: "ReLU" or "nn.ReLU"
        node = ast.Call(func=node, args=[], keywords=[])
    name = _class_name(node.func)
    if name not in PARAMETER_FREE:
        raise ModelgenError(
            f"{'nn.' + name if name else 'that'} is not a parameter-free torch.nn layer "
            f"(allowed: {', '.join(sorted(PARAMETER_FREE))})"
        )
    try:
        args = tuple(_literal(a) for a in node.args)
        kwargs = tuple((k.arg, _literal(k.value)) for k in node.keywords if k.arg is not None)
    except ValueError:
        raise ModelgenError("arguments must be literal values") from None
    if any(k.arg is None for k in node.keywords):
        raise ModelgenError("arguments must be literal values")
    _check_constructs(name, args, dict(kwargs))
    return name, args, kwargs


def _class_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        if func.value.id == "nn":
            return func.attr
    return ""


def _literal(node: ast.expr) -> Any:
    value = ast.literal_eval(node)
    if not _plain(value):
        raise ValueError(value)
    return value


def _plain(value: Any) -> bool:
    if isinstance(value, tuple):
        return len(value) <= 8 and all(_plain(v) for v in value)
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    if isinstance(value, str):
        return len(value) <= 32 and value.isprintable()
    return value is None or isinstance(value, (bool, int))


def _check_constructs(name: str, args: tuple, kwargs: dict[str, Any]) -> None:
    """The listed classes are cheap and parameter-free to build: building one checks the arguments."""
    import torch.nn as nn

    try:
        layer = getattr(nn, name)(*args, **kwargs)
    except (TypeError, ValueError, RuntimeError, OverflowError) as e:
        message = str(e).strip().splitlines()[0][:120] if str(e).strip() else type(e).__name__
        raise ModelgenError(f"nn.{name} does not accept these arguments ({message})") from None
    if any(True for _ in layer.parameters()) or any(True for _ in layer.buffers()):
        raise ModelgenError(f"nn.{name} holds tensors the checkpoint lacks")
