"""A TorchScript class's `forward`, read from the archive's code/ as text, as a forward graph.

The code TorchScript prints (`torch.jit.script` and `torch.jit.trace` alike) is a small, regular
language: one assignment a line, aten calls (`torch.relu(x)`), submodule calls
(`(self.conv1).forward(x, )`), `getattr(blocks, "0")` for container items, literals. It is parsed
with `ast` (syntax only: nothing is compiled or run) and translated node by node into a
codegen.ir.graph.Graph over a CLOSED vocabulary (codegen.ir.graph.TORCH_OPS, F_OPS, TENSOR_METHODS):
aten ops named there, `self.<attr>` submodules, parameters and buffers, arithmetic, tuple returns.
Anything else (`if`, loops, tensor constants of a trace, an op outside the vocabulary, an attribute
the module does not have) stops the translation with a one-line reason: the class then keeps the
catalogue's forward, flagged, rather than a forward half-translated. Names from the code reach the
graph only as checked identifiers or literal values; the printer checks them again.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from codegen.safetext import is_plain_attr
from codegen.ir.graph import (
    F_OPS,
    OPERATOR_OPS,
    TENSOR_METHODS,
    TORCH_OPS,
    Graph,
    Slice,
    Value,
)

MAX_STATEMENTS = 20_000  # a forward longer than this is not a model's forward: not translated
_BIG = 2**62  # `torch.slice(x, 0, 0, 9223372036854775807)`: the end of the dimension
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# aten ops printed as tensor methods (no `torch.view` in eager PyTorch)
_AS_METHOD = {"view", "size", "contiguous", "expand", "dim", "type_as", "expand_as", "view_as"}
# aten ops with no `torch.<name>` in eager PyTorch, whose torch.nn.functional twin takes the same
# positional arguments
_AS_F = {"gelu", "silu", "linear", "avg_pool2d", "adaptive_avg_pool2d", "hardtanh", "hardswish"}
_AS_F |= {"mish", "leaky_relu", "glu", "softplus", "scaled_dot_product_attention"}
# keyword arguments a trace bakes in that say where a tensor lives, not what it holds
_PLACEMENT = {"layout", "device", "pin_memory"}
# torch.nn modules whose forward returns a tuple; a trace keeps only the elements it used
TUPLE_MODULES = {"LSTM", "GRU", "RNN", "MultiheadAttention"}
_ANNOTATIONS = {"Tensor": "torch.Tensor", "int": "int", "float": "float", "bool": "bool"}


class Untranslatable(Exception):
    """The forward uses something outside the vocabulary: the message says what."""


@dataclass(frozen=True)
class _Module:
    path: tuple[str, ...]  # a submodule (or self when empty)


@dataclass(frozen=True)
class _Function:
    target: str  # a vocabulary function bound to a name (`_0 = __torch__.torch.nn.functional.x`)


@dataclass(frozen=True)
class _Int:
    value: Any  # an int from `ops.prim.NumToTensor` / `int(...)`: the value itself


def translate(
    fn: ast.FunctionDef, desc: Any, calls_only: bool = False
) -> tuple[Graph | None, str, str]:
    """(graph, "", what it returns) or (None, why it is not translated, ""). `calls_only`: the
    graph is read for the order of its calls, never printed (a traced torch.nn layer's)."""
    translator = _Translator(desc, calls_only)
    try:
        return translator.run(fn), "", translator.returns
    except Untranslatable as e:
        return None, str(e), ""
    except RecursionError:
        return None, "the forward nests too deeply", ""


class _Translator:
    def __init__(self, desc: Any, calls_only: bool = False) -> None:
        self.desc, self.calls_only = desc, calls_only
        self.g = Graph()
        self.env: dict[str, Any] = {}
        self.returns = "torch.Tensor"

    # ---------------------------------------------------------------------------- statements

    def run(self, fn: ast.FunctionDef) -> Graph:
        if len(fn.body) > MAX_STATEMENTS:
            raise Untranslatable("the forward is too long")
        args = fn.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or not args.args:
            raise Untranslatable("its arguments are not plain positional ones")
        self.env[args.args[0].arg] = _Module(())
        inputs = args.args[1:]
        defaults = [None] * (len(inputs) - len(args.defaults)) + list(args.defaults)
        arguments = [a.arg for a in inputs]
        for i, (a, default) in enumerate(zip(inputs, defaults)):
            annotation, optional = _annotation(a.annotation)
            if default is not None and not (optional and _is_none(default)):
                raise Untranslatable(f"argument {i + 1} has a default other than None")
            name = _input_name(a.arg, i, len(inputs))
            if name in arguments[:i] or not is_plain_attr(name) or name == "self":
                raise Untranslatable(f"argument {i + 1} has an unusual name")
            self.env[a.arg] = self.g.input(name, annotation, optional=default is not None)
        self.returns = _return_annotation(fn.returns)
        for stmt in fn.body:
            if isinstance(stmt, ast.Return):
                if stmt is not fn.body[-1] or stmt.value is None:
                    raise Untranslatable("it returns early")
                self.g.output(self._result(self._expr(stmt.value, top=True)))
                return self.g
            self._statement(stmt)
        raise Untranslatable("it does not end with a return")

    def _statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            return  # a docstring
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            kind = type(stmt).__name__.lower()
            raise Untranslatable(f"it uses a statement the translation does not cover ({kind})")
        target = stmt.targets[0]
        if isinstance(target, ast.Name):
            self.env[target.id] = self._named(self._expr(stmt.value, top=True), target.id)
        elif isinstance(target, ast.Tuple) and all(isinstance(t, ast.Name) for t in target.elts):
            value = self._expr(stmt.value, top=True)
            for i, t in enumerate(target.elts):
                item = (
                    value[i]
                    if isinstance(value, tuple) and len(value) == len(target.elts)
                    else None
                )
                if item is None:
                    item = self.g.call_function("getitem", self._result(value), i, inline=True)
                self.env[t.id] = self._named(item, t.id)  # type: ignore[attr-defined]
        else:
            raise Untranslatable("it assigns to something other than names")

    def _named(self, value: Any, var: str) -> Any:
        """A value assigned to a variable is printed on its own line, under the variable's name."""
        if isinstance(value, Value):
            node = self.g[value]
            if node.op not in ("input", "getattr", "constant") and not var.startswith("_"):
                node.inline, node.name = False, _variable_name(var)
        return value

    def _result(self, value: Any) -> Any:
        """A value the graph can hold: a Value, a literal, or a tuple / list of these."""
        if isinstance(value, _Int):
            return self._result(value.value)
        if isinstance(value, (_Module, _Function)):
            raise Untranslatable("it uses a module or function as a value")
        if isinstance(value, (tuple, list)):
            return type(value)(self._result(v) for v in value)
        return value

    # --------------------------------------------------------------------------- expressions

    def _expr(self, node: ast.expr, top: bool = False) -> Any:
        if isinstance(node, ast.Name):
            if node.id not in self.env:
                raise Untranslatable(f"it reads a name it never assigned ({_short(node.id)})")
            return self.env[node.id]
        if isinstance(node, ast.Constant):
            if node.value is None or type(node.value) in (bool, int, float, str):
                return node.value
            raise Untranslatable("it uses a constant of an unsupported type")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = self._expr(node.operand)
            if type(value) in (int, float):
                return -value
            return self.g.call_function("torch.neg", self._result(value), inline=True)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self._expr(e) for e in node.elts]
            return list(items) if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Attribute):
            return self._attribute(node)
        if isinstance(node, ast.Subscript):
            obj = self._result(self._expr(node.value))
            index = self._expr(node.slice)
            if type(index) is not int:
                raise Untranslatable("it indexes with something other than an int")
            if isinstance(obj, (tuple, list)):
                return obj[index]
            return self.g.call_function("getitem", obj, index, inline=not top)
        if isinstance(node, ast.Call):
            return self._call(node, top)
        raise Untranslatable(f"it uses an expression the translation does not cover")

    def _attribute(self, node: ast.Attribute) -> Any:
        dotted = _dotted(node)
        if dotted is not None and dotted.startswith(("torch.", "__torch__.", "ops.", "CONSTANTS.")):
            if dotted.startswith("CONSTANTS."):
                raise Untranslatable("it uses tensor constants the trace recorded")
            return _Function(dotted)
        owner = self._expr(node.value)
        if not isinstance(owner, _Module):
            raise Untranslatable("it reads an attribute of a value")
        return self._member(owner, node.attr)

    def _member(self, owner: _Module, attr: str) -> Any:
        desc = self.desc.find(".".join(owner.path)) if owner.path else self.desc
        if desc is None:
            raise Untranslatable("it reads an attribute of a module it does not record")
        path = owner.path + (attr,)
        if attr in desc.children and desc.children[attr] is not None:
            return _Module(path)
        if attr in desc.parameters or attr in desc.buffers or attr == "training":
            return self.g.getattr(path)
        raise Untranslatable(f"it reads self.{_short(attr)}, which the archive does not record")

    def _call(self, node: ast.Call, top: bool) -> Any:
        func = node.func
        if isinstance(func, ast.Name) and func.id in (
            "getattr",
            "annotate",
            "unchecked_cast",
            "int",
            "float",
        ):
            return self._builtin(func.id, node)
        dotted = _dotted(func)
        is_function = dotted is not None and dotted.startswith(("torch.", "__torch__.", "ops."))
        if isinstance(func, ast.Attribute) and not is_function:
            owner = self._expr(func.value)
            if isinstance(owner, _Module) and re.fullmatch(r"forward(__\d+|\d+)?", func.attr):
                return self._module_call(owner, node, top)
            raise Untranslatable(f"it calls a method ({_short(func.attr)})")
        callee = self._expr(func)
        if not isinstance(callee, _Function):
            raise Untranslatable("it calls something that is not a function")
        args = [self._expr(a) for a in node.args]
        kwargs = {}
        for k in node.keywords:
            if k.arg is None:
                raise Untranslatable("it passes **keywords")
            if k.arg in _PLACEMENT:
                continue
            value = self._expr(k.value)
            if k.arg == "dtype" and value is None:
                continue
            if k.arg == "dtype":
                raise Untranslatable("it names a dtype by its number")
            kwargs[k.arg] = value
        return self._function(callee.target, args, kwargs, top)

    def _builtin(self, name: str, node: ast.Call) -> Any:
        if node.keywords:
            raise Untranslatable(f"it calls {name} with keywords")
        if name == "getattr":
            if len(node.args) != 2:
                raise Untranslatable("it calls getattr oddly")
            owner, attr = self._expr(node.args[0]), self._expr(node.args[1])
            if not isinstance(owner, _Module) or type(attr) is not str:
                raise Untranslatable("it calls getattr on a value")
            return self._member(owner, attr)
        if name in ("annotate", "unchecked_cast") and len(node.args) == 2:
            return self._expr(node.args[1])  # a type annotation: no computation
        if name in ("int", "float") and len(node.args) == 1:
            value = self._expr(node.args[0])
            if isinstance(value, _Int) or (name == "int" and type(value) is int):
                return value
            if name == "float" and type(value) in (int, float):
                return float(value)
        raise Untranslatable(f"it calls {name} on a tensor")

    def _module_call(self, owner: _Module, node: ast.Call, top: bool) -> Any:
        if node.keywords or not owner.path:
            raise Untranslatable("it calls a submodule with keywords, or itself")
        args = [self._result(self._expr(a)) for a in node.args]
        child = self.desc.find(".".join(owner.path))
        if child is not None and child.torch_nn in TUPLE_MODULES and not self.calls_only:
            if (
                child.torch_nn == "MultiheadAttention"
                and len(args) < 3
                and child.traced_element == 0
            ):
                raise Untranslatable("a trace merged the query, key and value of an attention call")
            # A traced LSTM keeps only what the caller used: its code says which element.
            element = child.traced_element
            if element is None:
                raise Untranslatable(
                    f"it calls a traced {child.torch_nn} whose outputs it cannot map"
                )
            if element >= 0:
                call = self.g.call_module(owner.path, *args, inline=True)
                return self.g.call_function("getitem", call, element, inline=not top)
        if child is not None and child.torch_nn is not None:
            args = _without_defaults(child.torch_nn, args)
        return self.g.call_module(owner.path, *args, inline=not top)

    def _function(self, target: str, args: list, kwargs: dict, top: bool) -> Any:
        name = _aten_name(target)
        if target == "ops.prim.NumToTensor" and len(args) == 1 and not kwargs:
            return _Int(args[0])
        if name is None:
            raise Untranslatable(f"it calls {_short(target)}, outside the translated vocabulary")
        args = [self._result(a) for a in args]
        kwargs = {k: self._result(v) for k, v in kwargs.items()}
        if not all(is_plain_attr(k) for k in kwargs):
            raise Untranslatable("a keyword is not a plain name")
        inline = not top
        if target.rsplit(".", 1)[-1] in _DISPATCHED and name in TORCH_OPS and len(args) == 7:
            if args[6] is not False:
                raise Untranslatable(f"it calls F.{name} returning indices")
            # the aten op takes the same arguments but return_indices
            return self.g.call_function(f"torch.{name}", *args[:6], inline=inline)
        if target.startswith("__torch__.torch.nn.functional."):
            if name not in F_OPS:
                raise Untranslatable(
                    f"it calls F.{_short(name)}, outside the translated vocabulary"
                )
            return self.g.call_function(f"F.{name}", *args, kwargs=kwargs, inline=inline)
        if name in OPERATOR_OPS and len(args) == 2 and not kwargs:
            return self.g.call_function(OPERATOR_OPS[name], *args, inline=inline)
        if name in ("slice", "select"):
            return self._index(name, args, kwargs, inline)
        if name in _AS_METHOD and args and name in TENSOR_METHODS:
            return self.g.call_method(name, args[0], *args[1:], kwargs=kwargs, inline=inline)
        if name in _AS_F and name in F_OPS:
            return self.g.call_function(f"F.{name}", *args, kwargs=kwargs, inline=inline)
        if name in TORCH_OPS:
            return self.g.call_function(f"torch.{name}", *args, kwargs=kwargs, inline=inline)
        raise Untranslatable(f"it calls torch.{_short(name)}, outside the translated vocabulary")

    def _index(self, name: str, args: list, kwargs: dict, inline: bool) -> Any:
        """`torch.slice(x, dim, start, end)` / `torch.select(x, dim, i)` -> `x[:, start:end]`."""
        if kwargs or not args:
            raise Untranslatable(f"it calls torch.{name} with keywords")
        obj, rest = args[0], list(args[1:])
        if name == "slice":
            dim, start, end, step = (rest + [0, None, None, 1][len(rest) :])[:4]
            if step != 1 or type(dim) is not int or dim < 0:
                raise Untranslatable("it slices with a step, or from the end")
            start = None if start == 0 else start
            end = None if type(end) is int and end >= _BIG else end
            if start is None and end is None:
                return obj  # `x[:]`: the whole tensor
            item: Any = Slice(start, end)
        else:
            if len(rest) != 2 or type(rest[0]) is not int or rest[0] < 0:
                raise Untranslatable("it selects along a dimension counted from the end")
            dim, item = rest
        index = (Slice(),) * dim + (item,)
        return self.g.call_function(
            "getitem", obj, index if len(index) > 1 else index[0], inline=inline
        )


# ------------------------------------------------------------------------------------ helpers


def _without_defaults(nn_name: str, args: list) -> list:
    """`self.blocks[0](x, None, None, False)` -> `self.blocks[0](x)`: TorchScript spells out the
    trailing arguments a torch.nn forward defaults to; literals equal to those defaults go."""
    import inspect

    import torch.nn as nn

    try:
        params = list(inspect.signature(getattr(nn, nn_name).forward).parameters.values())[1:]
    except (AttributeError, TypeError, ValueError):
        return args
    while args and len(args) <= len(params):
        default = params[len(args) - 1].default
        last = args[-1]
        if isinstance(last, Value) or default is inspect.Parameter.empty:
            break
        if type(last) is not type(default) or last != default:
            break
        args = args[:-1]
    return args


_DISPATCHED = {"_max_pool1d", "_max_pool2d", "_max_pool3d"}


def _aten_name(target: str) -> str | None:
    for prefix in (
        "torch._C._nn.",
        "torch.nn.functional.",
        "__torch__.torch.nn.functional.",
        "torch.",
    ):
        if target.startswith(prefix):
            name = target[len(prefix) :]
            if prefix == "__torch__.torch.nn.functional." and name in _DISPATCHED:
                return name[1:]  # F.max_pool2d scripts as its no-indices half, `_max_pool2d`
            return name if _NAME.match(name) and not name.startswith("_") else None
    return None


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _annotation(node: ast.expr | None) -> tuple[str, bool]:
    if isinstance(node, ast.Name) and node.id in _ANNOTATIONS:
        return _ANNOTATIONS[node.id], False
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Optional"
        and isinstance(node.slice, ast.Name)
        and node.slice.id in _ANNOTATIONS
    ):
        return _ANNOTATIONS[node.slice.id], True
    raise Untranslatable("an argument has a type the translation does not cover")


def _return_annotation(node: ast.expr | None) -> str:
    if isinstance(node, ast.Name) and node.id in _ANNOTATIONS:
        return _ANNOTATIONS[node.id]
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Tuple"
    ):
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if all(isinstance(i, ast.Name) and i.id in _ANNOTATIONS for i in items):
            return "tuple[" + ", ".join(_ANNOTATIONS[i.id] for i in items) + "]"  # type: ignore
    raise Untranslatable("it returns a type the translation does not cover")


def _input_name(name: str, i: int, count: int) -> str:
    """A trace names its arguments `argument_1`...: the generated forward says `x`."""
    if re.fullmatch(r"argument_\d+", name) or name == "input":
        return "x" if count == 1 else f"x{i + 1}"
    return name


def _variable_name(var: str) -> str:
    """TorchScript numbers reassigned names (`out0`, `x1`): the printer numbers its own."""
    base = var.rstrip("0123456789") or "x"
    return "x" if base in ("input", "argument_") else base


def _short(text: str) -> str:
    return text[:40]


def traced_element(methods: dict[str, ast.FunctionDef]) -> int | None:
    """Which element of its nn forward's tuple a TorchScript RNN returns: -1 for the whole tuple
    (scripted, or a trace that kept it all), 0 when a trace kept only the output, else None."""
    fn = methods.get("forward")
    if fn is None:
        return -1 if methods else None  # scripted: overloads `forward__0`... return the tuple
    if isinstance(fn.returns, ast.Subscript):
        return -1
    if isinstance(fn.returns, ast.Name) and fn.returns.id == "Tensor":
        # the trace kept one tensor of the tuple: the output, unless it is named after another
        unpacked = _unpacked_index(fn)
        return 0 if unpacked in (None, 0) else None
    return None


def _unpacked_index(fn: ast.FunctionDef) -> int | None:
    """The position of the returned name in a tuple assignment, or None when it is not one."""
    if not fn.body or not isinstance(fn.body[-1], ast.Return):
        return None
    value = fn.body[-1].value
    if not isinstance(value, ast.Name):
        return None
    for stmt in fn.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Tuple):
            names = [getattr(t, "id", None) for t in stmt.targets[0].elts]
            if value.id in names:
                return names.index(value.id)
    return None


# A traced torch.nn module's forward is one aten call with its constructor's values inlined
# (`torch._convolution(x, weight, bias, [2, 2], [1, 1], ...)`): argument position -> attribute.
_TRACED_ARGUMENTS: dict[str, tuple[tuple[int, str], ...]] = {
    "_convolution": (
        (3, "stride"),
        (4, "padding"),
        (5, "dilation"),
        (6, "transposed"),
        (7, "output_padding"),
        (8, "groups"),
    ),
    "avg_pool1d": ((1, "kernel_size"), (2, "stride"), (3, "padding"), (4, "ceil_mode")),
    "avg_pool2d": ((1, "kernel_size"), (2, "stride"), (3, "padding"), (4, "ceil_mode")),
    "batch_norm": ((6, "momentum"), (7, "eps")),
    "layer_norm": ((4, "eps"),),
    "group_norm": ((1, "num_groups"), (4, "eps")),
    "dropout": ((1, "p"),),
    "hardtanh": ((1, "min_val"), (2, "max_val")),
    "elu": ((1, "alpha"),),
    "leaky_relu": ((1, "negative_slope"),),
    "softmax": ((1, "dim"),),
    "log_softmax": ((1, "dim"),),
    "flatten": ((1, "start_dim"), (2, "end_dim")),
}
# What a trace leaves out: trailing arguments equal to the aten schema's defaults (a LayerNorm at
# eps 1e-5 is printed `torch.layer_norm(x, [24], weight, bias)`).
_ATEN_DEFAULTS: dict[str, dict[str, Any]] = {
    "layer_norm": {"eps": 1e-5},
    "group_norm": {"eps": 1e-5},
}
for _n in ("max_pool1d", "max_pool2d", "max_pool3d"):
    _TRACED_ARGUMENTS[_n] = (
        (1, "kernel_size"),
        (2, "stride"),
        (3, "padding"),
        (4, "dilation"),
        (5, "ceil_mode"),
    )
for _n in ("lstm", "gru", "rnn_tanh", "rnn_relu"):
    _TRACED_ARGUMENTS[_n] = (
        (3, "bias"),
        (4, "num_layers"),
        (5, "dropout"),
        (7, "bidirectional"),
        (8, "batch_first"),
    )


def _traced_op(dotted: str) -> str | None:
    """`torch.max_pool2d` -> "max_pool2d" when it is one of _TRACED_ARGUMENTS (or its `_` form)."""
    name = dotted.removeprefix("torch.")
    if name == dotted:
        return None
    base = name.rstrip("_") if not name.startswith("_") else name
    return name if base in _TRACED_ARGUMENTS else None


def traced_attributes(methods: dict[str, ast.FunctionDef]) -> dict[str, Any]:
    """The constructor values a traced torch.nn module's forward inlines, by attribute name; {}
    unless the forward is exactly one call of a known aten op with literal arguments."""
    fn = methods.get("forward")
    if fn is None:
        return {}
    calls = [
        (n, name)
        for n in ast.walk(fn)
        if isinstance(n, ast.Call) and (name := _traced_op(_dotted(n.func) or "")) is not None
    ]
    if len(calls) != 1:
        return {}
    call, name = calls[0]
    # Any other op changes what the constructor values mean (a reflect pad before a conv with
    # padding 0): only an RNN's zero initial states may stand beside its call.
    others = [
        d
        for n in ast.walk(fn)
        if isinstance(n, ast.Call)
        and n is not call
        and (d := _dotted(n.func) or "").startswith("torch.")
        and d not in ("torch.device",)
    ]
    rnn = name in ("lstm", "gru", "rnn_tanh", "rnn_relu")
    if any(not (rnn and d in ("torch.zeros", "torch.size")) for d in others):
        return {}
    inplace = name.endswith("_") and not name.startswith("_")
    op = name.rstrip("_") if inplace else name
    positions = _TRACED_ARGUMENTS[op]
    out: dict[str, Any] = {"inplace": True} if inplace else {}
    for i, attr in positions:
        if i >= len(call.args):
            if attr in _ATEN_DEFAULTS.get(op, {}) and not call.keywords:
                out[attr] = _ATEN_DEFAULTS[op][attr]
            continue
        try:
            value = ast.literal_eval(call.args[i])
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            continue
        if isinstance(value, list):
            if not all(type(v) is int for v in value):
                continue
            value = tuple(value)
            if name.rstrip("_") != "_convolution" and len(set(value)) == 1:
                value = value[0]  # nn.MaxPool2d(2) keeps 2, where nn.Conv2d keeps (2, 2)
        if value is None or type(value) in (bool, int, float, tuple):
            out[attr] = value
    return out


def traced_transformer_attributes(name: str, fn: ast.FunctionDef, desc: Any) -> dict[str, Any]:
    """What a traced transformer layer or attention's code shows of the values its constructor
    kept (a trace records no attributes): a layer's norm placement and activation, from the
    order of its calls; attention's head count (the literal head axis of the view that feeds
    scaled_dot_product_attention) and batch_first (whether it first transposes its input)."""
    out: dict[str, Any] = {}
    if name in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
        graph, _, _ = translate(fn, desc, calls_only=True)
        if graph is None:
            return out
        calls = [n for n in graph.nodes if n.op == "call_module"]
        if calls and calls[0].target in (("norm1",), ("self_attn",)):
            out["norm_first"] = calls[0].target == ("norm1",)
        for n in graph.nodes:
            fed = [graph[a] for a in n.args if isinstance(a, Value)]
            if n.op == "call_function" and any(f.target == ("linear1",) for f in fed):
                codes = {"torch.relu": 1, "F.relu": 1, "F.gelu": 2}
                if n.target in codes and not n.kwargs and len(n.args) == 1:
                    out["activation_relu_or_gelu"] = codes[n.target]
    elif name == "MultiheadAttention":
        body = [s for s in fn.body if isinstance(s, ast.Assign) and len(s.targets) == 1]
        args = [a.arg for a in fn.args.args[1:]]
        views: dict[str, int] = {}
        for s in body:
            call = s.value
            if not isinstance(call, ast.Call) or not isinstance(s.targets[0], ast.Name):
                continue
            op = _dotted(call.func)
            if op == "torch.transpose" and not out and args and _names(call.args[:1]) == args[:1]:
                out["batch_first"] = [_int(a) for a in call.args[1:]] == [1, 0]
            if op == "torch.view" and len(call.args) == 2 and isinstance(call.args[1], ast.List):
                dims = call.args[1].elts
                if len(dims) == 4 and _int(dims[1]) is not None:
                    views[s.targets[0].id] = _int(dims[1])  # type: ignore[assignment]
        for n in ast.walk(fn):
            if isinstance(n, ast.Call) and _dotted(n.func) == "torch.scaled_dot_product_attention":
                heads = {views.get(a.id) for a in n.args[:3] if isinstance(a, ast.Name)}
                if len(heads) == 1 and None not in heads:
                    out["num_heads"] = heads.pop()
        if "batch_first" not in out and args:
            out["batch_first"] = False
    return out


def _names(nodes: list) -> list[str]:
    return [n.id for n in nodes if isinstance(n, ast.Name)]


def _int(node: ast.expr) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None
