"""Griffin's recurrent block (arXiv 2402.19427; RecurrentGemma, Hawk): a real-gated linear
recurrent unit (RG-LRU) between a causal depthwise conv and a gate, in place of attention.

    y = act(linear_y(h))                         # the gate branch
    x = causal depthwise conv1d(linear_x(h))     # [batch, seq, width]
    gate_x, gate_a = sigmoid(x W_x + b_x), sigmoid(x W_a + b_a)   # W block-diagonal, per head
    log_a = -8 * gate_a * softplus(Lambda)       # a_t = exp(log_a) in (0, 1)
    state_t = a_t * state_(t-1) + sqrt(1 - a_t^2) * gate_x * x_t   (no sqrt at the first token)
    linear_out(state * y)

`RgLru` is recognised from its tensors: a 1-D parameter [width] (Lambda) beside two pairs of a
block-diagonal weight [heads, width / heads, width / heads] and its bias [heads, width / heads];
the shapes cannot tell the input gate from the recurrence gate: names can (input/x, recurrent/a).
The constant 8 is the paper's c (fixed in the architecture, not a setting).

`RecurrentBlock` is recognised from one `RgLru` beside a depthwise Conv1d over `width` channels,
two Linears d -> width and one width -> d: which of the two feeds the conv (x) and which is the
gate (y) the widths leave open, names decide (or nothing matches). The conv is causal: the pattern
pins stride 1 and padding k - 1 where the shapes left them at a default. The library's block
ignores padding (it takes the mask and leaves it unused), so does this one: it takes the mask
only to be called as its stack's attention layers are.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks.selective_scan import _kernel, _width, conv_pins

LRU_ROLE = "RgLru"
ROLE = "RecurrentBlock"
GATE_EXPONENT = 8.0  # the paper's c: a_t = a ** (c r_t), with a = sigmoid(Lambda)
INPUT_GATE = r"input|(^|_)x($|_)|gate_x"
RECURRENCE_GATE = r"recurren|(^|_)a($|_)|gate_a|forget"
X_BRANCH = r"(^|_)x($|_)|x_proj|in_x|linear_x"
Y_BRANCH = r"(^|_)y($|_)|y_proj|gate|linear_y"
OUT = r"out|o_proj"


def _one(items: list, pattern: str, exclude: str | None = None):
    found = [t for t in items if re.search(pattern, t.attr, re.I)]
    if exclude is not None:
        found = [t for t in found if not re.search(exclude, t.attr, re.I)]
    return found[0] if len(found) == 1 else None


class RgLru(BlockPattern):
    role = LRU_ROLE
    priority = 10

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if modules(cls) or len(params) != 5:
            return None
        lam = [t for t in params if len(t.shape) == 1]
        weights = [t for t in params if len(t.shape) == 3]
        biases = [t for t in params if len(t.shape) == 2]
        if len(lam) != 1 or len(weights) != 2 or len(biases) != 2:
            return None
        shape = list(weights[0].shape)
        if list(weights[1].shape) != shape or any(list(t.shape) != shape[:2] for t in biases):
            return None
        heads, block, square = weights[0].shape
        width = lam[0].shape[0]
        numbers = all(isinstance(v, int) for v in (heads, block, square, width))
        if numbers and (block != square or heads * block != width):
            return None
        # the input gate and the recurrence gate: the same shapes, told apart by their names
        w_x = _one(weights, INPUT_GATE, RECURRENCE_GATE)
        w_a = _one(weights, RECURRENCE_GATE, INPUT_GATE)
        b_x = _one(biases, INPUT_GATE, RECURRENCE_GATE)
        b_a = _one(biases, RECURRENCE_GATE, INPUT_GATE)
        if None in (w_x, w_a, b_x, b_a) or w_x is w_a or b_x is b_a:
            return None
        found = (lam[0].attr, (w_x.attr, b_x.attr), (w_a.attr, b_a.attr))
        return Match(self, len(params), found)

    def forward(self, match: Match, g: Graph) -> None:
        lam, (w_x, b_x), (w_a, b_a) = match.found
        x = g.input("x")  # [batch, seq, width]
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        heads = g.call_method("size", g.getattr((w_x,)), 0, name="heads")
        blocks = g.call_method(
            "view", x, batch, seq, heads, -1, name="blocks", comment="[b, s, heads, width/heads]"
        )

        def gate(weight: str, bias: str, name: str):
            h = g.getattr((weight,))
            h = g.call_function("torch.einsum", "bshi,hij->bshj", blocks, h, inline=True)
            h = g.call_function("add", h, g.getattr((bias,)), inline=True)
            h = g.call_function("torch.sigmoid", h, inline=True)
            return g.call_method("reshape", h, batch, seq, -1, name=name)

        gate_x = gate(w_x, b_x, "gate_x")
        gate_a = gate(w_a, b_a, "gate_a")
        rate = g.call_function("F.softplus", g.getattr((lam,)), inline=True)
        log_a = g.call_function("mul", -GATE_EXPONENT, gate_a, inline=True)
        log_a = g.call_function("mul", log_a, rate, name="log_a", comment="log of a_t: [b, s, w]")
        a = g.call_function("torch.exp", log_a, name="a")
        squared = g.call_function("mul", 2.0, log_a, inline=True)
        squared = g.call_function("torch.exp", squared, inline=True)
        norm = g.call_function(
            "torch.sqrt",
            g.call_function("sub", 1.0, squared, inline=True),
            name="norm",
            comment="sqrt(1 - a_t^2); 1 at the first token, below",
        )
        first = g.call_function("getitem", norm, (Slice(), Slice(None, 1)), inline=True)
        first = g.call_function("torch.ones_like", first, inline=True)
        rest = g.call_function("getitem", norm, (Slice(), Slice(1, None)), inline=True)
        norm = g.call_function("cat", [first, rest], 1, name="norm")
        drive = g.call_function("mul", x, gate_x, inline=True)
        drive = g.call_function("mul", drive, norm, name="drive")
        g.output(g.call_function("linear_recurrence", a, drive))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._recurrence_examples import example

        return [example()]


class RecurrentBlock(BlockPattern):
    role = ROLE
    priority = 10
    synonyms = act.SYNONYMS

    accepts = Accepts(5, 5, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 5:
            return None
        lru = [m for m in members if ctx.role(m) == LRU_ROLE]
        convs = [m for m in members if family(m) == "conv"]
        linears = [m for m in members if family(m) == "linear"]
        if len(lru) != 1 or len(convs) != 1 or len(linears) != 3:
            return None
        conv = convs[0]
        width, k = _width(conv, "out_width"), _kernel(conv)
        if width is None or k is None or _width(conv, "in_width") not in (1, width):
            return None
        outs = [m for m in linears if _width(m, "in_width") == width]
        ins = [m for m in linears if _width(m, "out_width") == width]
        if len(outs) != 1 or len(ins) != 2:  # d == width: every Linear fits both, names decide
            out = _one(linears, OUT)
            ins = [m for m in linears if m is not out]
            if out is None or _width(out, "in_width") != width or len(ins) != 2:
                return None
        else:
            out = outs[0]
        d = _width(out, "out_width")
        if any(_width(m, "in_width") != d or _width(m, "out_width") != width for m in ins):
            return None
        x_branch, y_branch = _one(ins, X_BRANCH, Y_BRANCH), _one(ins, Y_BRANCH, X_BRANCH)
        if x_branch is None or y_branch is None or x_branch is y_branch:
            return None
        with ctx.resolver.within(act.SYNONYMS):
            activation = ctx.choose(
                cls,
                y_branch.attr,
                "activation",
                "gelu_tanh",
                act.alternatives("gelu_tanh", told=ctx.resolver),
                "on the gate branch",
                aliases=act.ALIASES,
            )
        why = "the recurrent block's conv is causal (k - 1 steps of the past), one per channel"
        pins = conv_pins(conv, {"stride": 1, "padding": k - 1, "depthwise": True}, why)
        found = (x_branch.attr, y_branch.attr, conv.attr, lru[0].attr, out.attr, activation.value)
        return Match(self, len(members), found, [activation], pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        x_branch, y_branch, conv, lru, out, activation = match.found
        h = g.input("x")  # [batch, seq, d_model]
        g.input("mask", optional=True)  # unused: the library's block ignores padding too
        seq = g.call_method("size", h, 1, inline=True)
        y = act.apply(g, activation, g.call_module((y_branch,), h, inline=True), name="y")
        x = g.call_module((x_branch,), h, inline=True)
        # the conv runs over time: channels first, padded on both sides, the first seq kept
        x = g.call_method("transpose", x, 1, 2, inline=True)
        x = g.call_module((conv,), x, inline=True)
        x = g.call_function("getitem", x, (Slice(), Slice(), Slice(None, seq)), inline=True)
        x = g.call_method("transpose", x, 1, 2, name="x", comment="causal conv: [b, s, width]")
        x = g.call_module((lru,), x, name="x")
        g.output(g.call_module((out,), g.call_function("mul", x, y, inline=True)))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._recurrence_examples import example

        return [example()]
