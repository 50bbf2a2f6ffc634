"""The forward of a generated class as a dataflow graph: what is computed from what, never code text.

Nodes are appended in execution order and refer to earlier nodes through `Value`s, as in torch.fx:

- `input`: a forward argument (`name`, `annotation`; `optional` ones default to None).
- `call_module`: a child module called on values (an `optional` one may be None: then its
  first argument passes through); `path` is a tuple of key segments (`("layers",
  "0")`), so a key is data here and becomes code only through the printer's checks. `each=True`
  applies every item of a container in turn to the first argument, passing the others unchanged
  (`for layer in self.blocks: x = layer(x, mask)`); `each_activation` (a function-table name) wraps
  each call, `each_residual` adds what entered it (`x = x + F.relu(layer(x))`) and `each_index`
  passes each item its position, last (Swin's blocks alternate their windows); `times=N` applies
  the module (or each item) N times in a row, for layers shared across depth (ALBERT);
  `given=v` calls it only when the optional input `v` is given, else its first argument passes
  through (a cross-attention sublayer run only when the encoder's states are passed); a
  `call_function` takes `given` alike (`x + cross(norm(x), memory)` only when memory is given).
- `call_function`: a function from the printer's closed table (`"relu"`, `"add"`, `"cat"`...).
- `call_method`: a tensor method from the printer's closed table (`"mean"`, `"size"`...).
- `getattr`: a parameter or buffer of the class (`path` as above).
- `constant`: a literal; `output`: what forward returns.

Arguments are Values, literals (int, float, bool, str, None), `Slice`s, or tuples and lists of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union


@dataclass(frozen=True)
class Value:
    """The result of one node, by its index in the graph."""

    index: int


@dataclass(frozen=True)
class Slice:
    """`start:stop` inside an index expression; either end may be a Value or an int."""

    start: Any = None
    stop: Any = None


# The torch vocabulary a graph may call beyond the catalogue's own function names: aten ops that
# eager PyTorch spells `torch.<name>` with the same positional arguments, torch.nn.functional ones
# (`F.<name>`), tensor methods, and aten ops printed as operators. Closed: the printer refuses the
# rest, and the TorchScript translation (codegen/load/script_forward.py) stops at anything else.
TORCH_OPS = frozenset(
    "relu sigmoid tanh add sub mul div matmul bmm mm cat stack flatten transpose permute reshape "
    "softmax log_softmax layer_norm mean sum exp log sqrt rsqrt pow neg abs select narrow chunk "
    "split unsqueeze squeeze arange zeros ones zeros_like ones_like where clamp maximum minimum "
    "max_pool2d max_pool1d adaptive_avg_pool1d conv2d conv1d batch_norm embedding dropout t "
    "baddbmm addmm erf sin cos tril triu masked_fill floor_divide remainder einsum group_norm "
    "instance_norm amax argmax logsumexp cumsum repeat_interleave outer unbind roll flip eq ne lt "
    "gt le ge numel square reciprocal cdist norm_except_dim round".split()
)
F_OPS = frozenset(
    "relu relu6 gelu silu linear avg_pool2d adaptive_avg_pool2d hardtanh hardswish hardsigmoid "
    "mish leaky_relu glu softplus scaled_dot_product_attention softmax log_softmax layer_norm "
    "dropout group_norm batch_norm embedding normalize elu pad".split()
)
TENSOR_METHODS = frozenset(
    "view size contiguous expand dim type_as expand_as view_as argmin new_zeros".split()
)
# aten name -> the graph's operator function ("add" prints `a + b`)
OPERATOR_OPS = {
    "add": "add",
    "sub": "sub",
    "mul": "mul",
    "div": "truediv",
    "matmul": "matmul",
    "floordiv": "floordiv",
}

Arg = Union[Value, Slice, int, float, bool, str, None, tuple, list]

OPS = ("input", "call_module", "call_function", "call_method", "getattr", "constant", "output")


@dataclass
class Node:
    op: str
    target: Any = (
        None  # key-segment tuple (call_module, getattr), function or method name, input name
    )
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    name: str = "x"  # the variable the printer prefers for the result
    comment: str = ""  # plain prose, escaped by the printer (a shape, why a step is there)
    annotation: str = "torch.Tensor"  # input nodes
    each: bool = False  # call_module over every item of a container, in order
    each_activation: str = ""  # each item's output through this function ("" for none)
    each_residual: bool = False  # each item's output added to its input
    # each item applied to the same input, their outputs collected in a list (a mixture's experts)
    each_collect: bool = False
    # each item applied to what the one before gave, every output kept in a list, the node's
    # value (RDN's blocks, whose outputs the global fusion concatenates)
    each_keep: bool = False
    # each item also given its own value, as its second argument: (loop variable, one int per
    # item), e.g. ("window", (4, 0)) for layers alternating windowed and full attention
    each_paired: tuple = ()
    each_index: bool = False  # each item also given its position in the container, last
    each_values: bool = False  # the container is an nn.ModuleDict: over its values, in order
    inline: bool = False  # printed inside its single consumer: `F.relu(self.bn1(self.conv1(x)))`
    unpack: int = 0  # call_module returning a tuple: keep element 0 of `unpack` (`x, _ = rnn(x)`)
    # call_module applied this many times in a row to its own output (a shared layer, ALBERT).
    times: int = 0
    # call_module over several containers in step (XLM's parallel lists attentions, ffns, ...):
    # ((loop variable, container path), ...), and the body: a Graph whose inputs are this node's
    # arguments (the first carried from step to step) and whose call_module paths start with a
    # loop variable. Its output is the first argument of the next step. See Graph.loop.
    loop: tuple = ()
    body: Any = field(default=None, repr=False)
    # input nodes: may be None, and is None unless the caller passes it. call_module nodes: the
    # module may be None (an optional member), and then the node's value is its first argument.
    optional: bool = False
    # call_module: run only when this Value (an optional input) is not None; else the node's
    # value is its first argument (`a if memory is None else self.cross(a, memory)`).
    given: Any = None


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    returns: str = "torch.Tensor"  # the annotation of what the output node returns
    # Called as `prepare(graph, path, args)` before each call_module is added: it may add nodes
    # that prepare the arguments (a conv's padding that its constructor cannot express) and
    # returns them. codegen.analyze.dataflow sets it, so no pattern has to remember the padding.
    prepare: Any = field(default=None, repr=False, compare=False)
    # Called as `substitute(graph, path, args, options)` in place of adding a call_module: it may
    # add the nodes that compute the call another way (a conv whose weight is standardised first)
    # and return their value, or None to call the module. codegen.analyze.dataflow sets it.
    substitute: Any = field(default=None, repr=False, compare=False)

    def _add(self, node: Node) -> Value:
        if node.op not in OPS:
            raise ValueError(f"unknown graph op {node.op!r}")
        self.nodes.append(node)
        return Value(len(self.nodes) - 1)

    def input(self, name: str, annotation: str = "torch.Tensor", optional: bool = False) -> Value:
        """A forward argument; an optional one comes after the required ones and defaults to None."""
        if not optional and any(n.optional for n in self.inputs):
            raise ValueError(f"required input {name!r} after an optional one")
        if optional:
            annotation = f"{annotation} | None"
        node = Node("input", name, name=name, annotation=annotation, optional=optional)
        return self._add(node)

    def call_module(self, path: tuple[str, ...], *args: Arg, **options: Any) -> Value:
        if self.prepare is not None:
            args = tuple(self.prepare(self, tuple(path), args))
        if self.substitute is not None:
            made = self.substitute(self, tuple(path), args, options)
            if made is not None:
                return made
        return self._add(Node("call_module", tuple(path), args, **_node_options(options)))

    def loop(self, items: tuple, body: Graph, *args: Arg, **options: Any) -> Value:
        """`for a, b in zip(self.a_list, self.b_list): x = body(x, ...)`: `items` pairs each loop
        variable with its container's path; `args` feed the body's inputs in order."""
        if not items or len(args) != len(body.inputs):
            raise ValueError("a loop needs containers and one argument per body input")
        node = Node("call_module", tuple(items[0][1]), args, **_node_options(options))
        node.loop, node.body = tuple((v, tuple(p)) for v, p in items), body
        return self._add(node)

    def repeat(self, times: int, body: Graph, *args: Arg, **options: Any) -> Value:
        """`for _ in range(times): x = body(x, ...)`: the same modules applied again and again
        (a recursive block sharing its weights, DRRN); `args` feed the body's inputs in order."""
        called = [n.target for n in body.nodes if n.op == "call_module"]
        if times < 1 or not called or len(args) != len(body.inputs):
            raise ValueError("a repeat needs a count, a body calling modules and its arguments")
        node = Node("call_module", tuple(called[0]), args, **_node_options(options))
        node.body, node.times = body, int(times)
        return self._add(node)

    def call_function(self, fn: str, *args: Arg, **options: Any) -> Value:
        kwargs = options.pop("kwargs", {})
        return self._add(Node("call_function", fn, args, dict(kwargs), **_node_options(options)))

    def call_method(self, method: str, obj: Value, *args: Arg, **options: Any) -> Value:
        kwargs = options.pop("kwargs", {})
        return self._add(
            Node("call_method", method, (obj, *args), dict(kwargs), **_node_options(options))
        )

    def getattr(self, path: tuple[str, ...], **options: Any) -> Value:
        return self._add(Node("getattr", tuple(path), **_node_options({"inline": True, **options})))

    def constant(self, value: Any, **options: Any) -> Value:
        return self._add(Node("constant", value, **_node_options({"inline": True, **options})))

    def output(self, value: Value, **options: Any) -> Value:
        return self._add(Node("output", None, (value,), **_node_options(options)))

    # ------------------------------------------------------------------------------ queries

    def __getitem__(self, value: Value) -> Node:
        return self.nodes[value.index]

    @property
    def inputs(self) -> list[Node]:
        return [n for n in self.nodes if n.op == "input"]

    def modules_called(self) -> list[tuple[str, ...]]:
        called = [n.target for n in self.nodes if n.op == "call_module"]
        return called + [p for n in self.nodes for _, p in n.loop[1:]]

    def uses(self) -> dict[int, int]:
        """How many times each node's value is used by later nodes."""
        counts: dict[int, int] = {}
        for node in self.nodes:
            for v in values_in((node.args, tuple(node.kwargs.values()), node.given)):
                counts[v.index] = counts.get(v.index, 0) + 1
        return counts


def values_in(arg: Any) -> list[Value]:
    """Every Value inside an argument, in order."""
    if isinstance(arg, Value):
        return [arg]
    if isinstance(arg, Slice):
        return values_in((arg.start, arg.stop))
    if isinstance(arg, (tuple, list)):
        return [v for a in arg for v in values_in(a)]
    return []


def _node_options(options: dict[str, Any]) -> dict[str, Any]:
    allowed = {
        "name",
        "comment",
        "each",
        "each_activation",
        "each_residual",
        "each_collect",
        "each_keep",
        "each_paired",
        "each_index",
        "each_values",
        "inline",
        "unpack",
        "times",
        "given",
    }
    unknown = set(options) - allowed
    if unknown:
        raise TypeError(f"unknown node options {sorted(unknown)}")
    return options
