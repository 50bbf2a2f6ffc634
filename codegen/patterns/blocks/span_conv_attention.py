"""Mixed attention with span-based dynamic convolution (ConvBERT): half the heads attend, the other
half mix each position's window of values by a kernel computed from that position.

- `SeparableConv`: `pointwise(depthwise(x)) + bias` on [batch, channels, seq] (the bias a
  [channels, 1] parameter of the class).
- `SpanConvAttention`: queries, keys and values as usual; a separable conv of the input, times
  the queries, gives each position's kernel logits (`conv_kernel_layer`: heads x kernel size);
  `conv_out_layer`'s values are mixed over the centred window by those kernels (softmaxed). The
  attention's heads and the convolution's are concatenated per position, attention first.
The head count and kernel size are read from the weights: the depthwise conv's kernel is the
window, and the kernel layer's width is heads x window.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    one_named,
    tensors,
)
from codegen.patterns.blocks.attention import KEY, QUERY, VALUE

KERNEL_LAYER = r"conv_kernel(_layer)?|kernel_(proj|layer)"
CONV_VALUES = r"conv_out(_layer)?|conv_values?"
SPAN_CONV = r"key_conv_attn_layer|key_conv|span_conv"


def _kernel(m) -> int | None:
    value = next((a.value for a in m.args if a.keyword == "kernel_size"), None)
    value = value[0] if isinstance(value, tuple) and len(value) == 1 else value
    return value if isinstance(value, int) else None


def _groups(m) -> object:
    return next((a.value for a in m.args if a.keyword == "groups"), 1)


class SeparableConv(BlockPattern):
    """`pointwise(depthwise(x)) + bias`: a depthwise conv over the sequence, then a 1x1 conv."""

    role = "SeparableConv"
    priority = 5

    accepts = Accepts(2, 2, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, held = modules(cls), tensors(cls)
        if len(members) != 2 or len(held) != 1 or held[0].kind != "parameter":
            return None
        if len(held[0].shape) != 2 or held[0].shape[1] != 1:
            return None  # a [channels, 1] bias, broadcast over the sequence
        convs = [m for m in members if m.type_name == "nn.Conv1d" and family(m) == "conv"]
        if len(convs) != 2:
            return None
        pointwise = [m for m in convs if _kernel(m) == 1]
        depthwise = [m for m in convs if m not in pointwise and _groups(m) != 1]
        if len(pointwise) != 1 or len(depthwise) != 1:
            return None
        return Match(self, 3, (depthwise[0].attr, pointwise[0].attr, held[0].attr))

    def forward(self, match: Match, g: Graph) -> None:
        depthwise, pointwise, bias = match.found
        y = g.call_module((pointwise,), g.call_module((depthwise,), g.input("x"), inline=True))
        g.output(g.call_function("add", y, g.getattr((bias,))))

    @staticmethod
    def examples():
        return [_example(32, 2, 9)]


class SpanConvAttention(BlockPattern):
    """`cat(attend(q, k, v), span_conv(conv_out(x), kernel(sep(x) * q))` per position."""

    role = "SelfAttention"
    priority = 12

    accepts = Accepts(6, 6, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 6:
            return None
        qkv = [one_named(members, p) for p in (QUERY, KEY, VALUE)]
        kernel_layer = one_named(members, KERNEL_LAYER)
        conv_values = one_named(members, CONV_VALUES)
        span = one_named(members, SPAN_CONV)
        linears = qkv + [kernel_layer, conv_values]
        if any(m is None or family(m) != "linear" or m.io is None for m in linears):
            return None
        if span is None or ctx.role(span) != "SeparableConv":
            return None
        width = qkv[0].io.out_width
        d_model = qkv[0].io.in_width
        if any(m.io.out_width != width or m.io.in_width != d_model for m in qkv + [conv_values]):
            return None
        if kernel_layer.io.in_width != width:
            return None
        window = _window(ctx, span)
        if window is None or window % 2 == 0 or kernel_layer.io.out_width % window:
            return None
        nhead = kernel_layer.io.out_width // window
        if width % nhead:
            return None
        if not _config_agrees(ctx, nhead, window):
            return None
        names = tuple(m.attr for m in qkv) + (span.attr, kernel_layer.attr, conv_values.attr)
        return Match(self, 6, (names, nhead, window))

    def forward(self, match: Match, g: Graph) -> None:
        (query, key, value, span, kernel_layer, conv_values), nhead, window = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        mixed = g.call_module((query,), x, name="queries")

        def heads(h, name: str, inline: bool = False):
            h = g.call_method("view", h, batch, seq, nhead, -1, inline=True)
            return g.call_method("transpose", h, 1, 2, name=name, inline=inline)

        q = heads(mixed, "q")
        k = heads(g.call_module((key,), x, inline=True), "k")
        v = heads(g.call_module((value,), x, inline=True), "v")
        y = g.call_function(
            "scaled_dot_product_attention",
            q,
            k,
            v,
            kwargs={"attn_mask": mask},
            inline=True,
        )
        y = g.call_method(
            "transpose", y, 1, 2, name="y", comment=f"[batch, seq, {nhead} heads, head_dim]"
        )
        channels = g.call_method("transpose", x, 1, 2, inline=True)
        keyed = g.call_method(
            "transpose", g.call_module((span,), channels, inline=True), 1, 2, name="keyed"
        )
        logits = g.call_module(
            (kernel_layer,),
            g.call_function("mul", keyed, mixed, inline=True),
            name="kernels",
            comment=f"{window} taps per head at each position",
        )
        spans = g.call_function(
            "span_dynamic_conv",
            g.call_module((conv_values,), x, inline=True),
            logits,
            nhead,
            window,
            name="spans",
            comment="[batch, seq, heads, head_dim]",
        )
        both = g.call_function("cat", [y, spans], 2, inline=True)
        g.output(
            g.call_method("reshape", both, batch, seq, -1),
            comment="attention's heads, then the convolution's",
        )

    @staticmethod
    def examples():
        return [_example(32, 2, 9), _example(24, 3, 5)]


def _config_agrees(ctx: BlockContext, nhead: int, window: int) -> bool:
    """config.json's settings (ConvBERT's names), where given, agree with what the weights show:
    the attention heads are num_attention_heads / head_ratio (at least one), the window is
    conv_kernel_size; num_groups 1 leaves the feed-forwards plain Linear layers (grouped ones
    hold 3-D weights, which no Linear loads)."""
    said = {k: ctx.resolver.metadata.get(k) for k in ("num_attention_heads", "head_ratio")}
    said.update({k: ctx.resolver.metadata.get(k) for k in ("conv_kernel_size", "num_groups")})
    told = {k: v[1] for k, v in said.items() if v is not None}
    if "conv_kernel_size" in told and told["conv_kernel_size"] != window:
        return False
    if "num_groups" in told and told["num_groups"] != 1:
        return False
    if "num_attention_heads" in told:
        if max(1, told["num_attention_heads"] // told.get("head_ratio", 1)) != nhead:
            return False
    for key in told:
        ctx.resolver.evidence(key)
    return True


def _window(ctx: BlockContext, span) -> int | None:
    """The depthwise conv's kernel size inside a SeparableConv member."""
    cls = ctx.classes.get(span.type_name) if span.kind == "class" else None
    convs = [m for m in modules(cls) if m.type_name == "nn.Conv1d"] if cls is not None else []
    sizes = [_kernel(m) for m in convs if _kernel(m) not in (None, 1)]
    return sizes[0] if len(sizes) == 1 else None


def _example(hidden: int, nhead: int, window: int) -> Example:
    """A BERT-style encoder whose attention is ConvBERT's mixed attention (its names), written
    from the paper's description: `nhead` attention heads and as many convolution heads."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    width = hidden // 2
    head = width // nhead

    class Separable(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.depthwise = nn.Conv1d(
                hidden, hidden, window, groups=hidden, padding=window // 2, bias=False
            )
            self.pointwise = nn.Conv1d(hidden, width, 1, bias=False)
            self.bias = nn.Parameter(torch.randn(width, 1))

        def forward(self, x):
            return self.pointwise(self.depthwise(x)) + self.bias

    class Mixed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.query, self.key = nn.Linear(hidden, width), nn.Linear(hidden, width)
            self.value = nn.Linear(hidden, width)
            self.key_conv_attn_layer = Separable()
            self.conv_kernel_layer = nn.Linear(width, nhead * window)
            self.conv_out_layer = nn.Linear(hidden, width)

        def forward(self, x, mask=None):
            b, t = x.shape[:2]
            mixed = self.query(x)
            q, k, v = (
                p.view(b, t, nhead, head).transpose(1, 2)
                for p in (mixed, self.key(x), self.value(x))
            )
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2)
            keyed = self.key_conv_attn_layer(x.transpose(1, 2)).transpose(1, 2)
            kernel = self.conv_kernel_layer(keyed * mixed).view(b, t, nhead, window).softmax(-1)
            values = F.pad(self.conv_out_layer(x), [0, 0, window // 2, window // 2])
            spans = torch.stack([values[:, i : i + t] for i in range(window)], -1)
            spans = (spans.view(b, t, nhead, head, window) * kernel[:, :, :, None]).sum(-1)
            return torch.cat([y, spans], 2).reshape(b, t, -1)

    class AddNorm(nn.Module):
        def __init__(self, n_in: int) -> None:
            super().__init__()
            self.dense, self.LayerNorm = nn.Linear(n_in, hidden), nn.LayerNorm(hidden)

        def forward(self, h, x):
            return self.LayerNorm(self.dense(h) + x)

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.add_module("self", Mixed())
            self.output = AddNorm(hidden)

        def forward(self, x, mask=None):
            return self.output(getattr(self, "self")(x, mask), x)

    class Intermediate(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dense = nn.Linear(hidden, 2 * hidden)

        def forward(self, x):
            return F.gelu(self.dense(x))

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention, self.intermediate = Attention(), Intermediate()
            self.output = AddNorm(2 * hidden)

        def forward(self, x, mask=None):
            a = self.attention(x, mask)
            return self.output(self.intermediate(a), a)

    class Embeddings(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word_embeddings = nn.Embedding(50, hidden)
            self.position_embeddings = nn.Embedding(16, hidden)
            self.LayerNorm = nn.LayerNorm(hidden)

        def forward(self, ids):
            positions = self.position_embeddings(torch.arange(ids.size(1)))
            return self.LayerNorm(self.word_embeddings(ids) + positions)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.ModuleList(Layer() for _ in range(2))

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings, self.encoder = Embeddings(), Encoder()

        def forward(self, ids, attention_mask):
            x, mask = self.embeddings(ids), attention_mask[:, None, None, :] != 0
            for layer in self.encoder.layer:
                x = layer(x, mask)
            return x

    ids = torch.randint(0, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    config = {"num_attention_heads": 2 * nhead, "head_ratio": 2, "hidden_act": "gelu"}
    return Example(Model(), (ids, mask), config)
