"""A transformer encoder layer computed channels-first with pointwise (1x1) Conv1d projections in
place of Linear ones, often grouped (SqueezeBERT): hidden states [batch, d_model, seq].

- `ChannelsFirstAttention`: query/key/value as 1x1 convs, heads split from the channels
  (channel h * head_dim + i is head h's i-th), scaled dot-product attention; no output projection.
- `ChannelsFirstAddNorm`: `norm(conv(h) + x)`, the LayerNorm taken over the channels.
- `ChannelsFirstIntermediate`: `act(conv(x))`, the widening half of the feed-forward.
- `ChannelsFirstLayer`: attention, its projection-residual-norm, the feed-forward; the layer takes
  and returns [batch, seq, d_model] as every other encoder layer does, transposing inside.

A 1x1 conv over channels is a Linear on each position; what its weight cannot show is its groups
(config.json's `<name>_groups`, layers/conv.py) and the layout, which the 1-D weights fix.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
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
from codegen.patterns.blocks.attention import (
    KEY,
    QUERY,
    SYNONYMS,
    UNKNOWN_HEADS,
    VALUE,
    head_counts,
)


def _pointwise(m) -> bool:
    """An nn.Conv1d with kernel size 1 (any groups): a per-position projection of channels. A
    stride left at a default (a residual-block convention) is pinned to 1 by `_stride_pins`."""
    if m is None or m.type_name != "nn.Conv1d" or family(m) != "conv":
        return False
    kernel = next((a.value for a in m.args if a.keyword == "kernel_size"), None)
    for a in m.args:
        if a.keyword in ("padding", "dilation") and a.value not in (1, 0, (1,), (0,), "valid"):
            return False
        if a.keyword == "stride" and a.value not in (1, (1,)):
            if a.choice is None or a.choice.source != "default":
                return False
    return kernel in (1, (1,))


def _stride_pins(members: list) -> list[tuple[str, str, object, str]]:
    """Stride 1 for pointwise convs whose stride was left at a conventional default: each
    position is projected, and the residual added after has the input's length."""
    why = "a pointwise projection in a channels-first transformer layer"
    return [
        (a.choice.path, "stride", 1, why)
        for m in members
        if _pointwise(m)
        for a in m.args
        if a.keyword == "stride" and a.value not in (1, (1,))
    ]


def _widths(m) -> tuple[int | None, int | None]:
    return (m.io.in_width, m.io.out_width) if m.io is not None else (None, None)


class ChannelsFirstAttention(BlockPattern):
    """`attend(query(x), key(x), value(x))` on x [batch, d_model, seq], heads from the channels."""

    role = "ChannelsFirstAttention"
    priority = 4
    synonyms = SYNONYMS

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        qkv = [one_named(members, p) for p in (QUERY, KEY, VALUE)]
        if any(not _pointwise(m) for m in qkv):
            return None
        widths = {w for m in qkv for w in _widths(m)}
        if len(widths) != 1 or None in widths:
            return None  # a square projection each, of the layer's width
        (d_model,) = widths
        nhead = ctx.choose(
            cls,
            qkv[0].attr,
            "nhead",
            None,
            head_counts(d_model, None),
            "unknown: calibrate or hint",
            accepts="positive_int",
        )
        if nhead.value is None:
            return Match(self, 3, missing=UNKNOWN_HEADS, choices=[nhead])
        if nhead.value <= 0 or d_model % nhead.value:
            return None
        found = (tuple(m.attr for m in qkv), nhead.value)
        return Match(self, 3, found, [nhead], pins=_stride_pins(qkv))

    def forward(self, match: Match, g: Graph) -> None:
        (query, key, value), nhead = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 2, name="seq")

        def split(path: str, name: str):
            h = g.call_module((path,), x, inline=True)
            h = g.call_method("view", h, batch, nhead, -1, seq, inline=True)
            return g.call_method("transpose", h, 2, 3, name=name)

        q, k, v = split(query, "q"), split(key, "k"), split(value, "v")
        comment = "[batch, heads, seq, head_dim]"
        y = g.call_function(
            "scaled_dot_product_attention", q, k, v, kwargs={"attn_mask": mask}, comment=comment
        )
        y = g.call_method("transpose", y, 2, 3, inline=True)
        g.output(g.call_method("reshape", y, batch, -1, seq), comment="[batch, d_model, seq]")

    @staticmethod
    def examples():
        return [_example(48, 3, groups=(4, 2, 1, 1, 3, 2))]


class ChannelsFirstAddNorm(BlockPattern):
    """`norm(conv(h) + x)` on [batch, channels, seq]: the LayerNorm over the channels."""

    role = "ChannelsFirstAddNorm"

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        conv = [m for m in members if _pointwise(m)]
        norm = [m for m in members if m.type_name == "nn.LayerNorm"]
        if len(conv) != 1 or len(norm) != 1 or _widths(conv[0])[1] != _widths(norm[0])[0]:
            return None
        return Match(self, 2, (conv[0].attr, norm[0].attr), pins=_stride_pins(conv))

    def forward(self, match: Match, g: Graph) -> None:
        conv, norm = match.found
        h, x = g.input("h"), g.input("x")
        y = g.call_function("add", g.call_module((conv,), h, inline=True), x, inline=True)
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_module((norm,), y, inline=True, comment="over the channels")
        g.output(g.call_method("transpose", y, 1, 2))

    @staticmethod
    def examples():
        return [_example(48, 3, groups=(4, 2, 1, 1, 3, 2))]


class ChannelsFirstIntermediate(BlockPattern):
    """`act(conv(x))` on [batch, channels, seq]: the widening half of the feed-forward."""

    role = "ChannelsFirstIntermediate"
    named = r"intermediate"
    synonyms = act.SYNONYMS

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or not _pointwise(members[0]):
            return None
        if not re.fullmatch(self.named, cls.named or "-", re.IGNORECASE):
            return None
        activation = ctx.choose(
            cls,
            members[0].attr,
            "activation",
            "gelu",
            act.feed_forward("gelu", ctx.resolver),
            "the feed-forward activation",
            aliases=act.ALIASES,
        )
        found = (members[0].attr, activation.value)
        return Match(self, 1, found, [activation], pins=_stride_pins(members))

    def forward(self, match: Match, g: Graph) -> None:
        conv, activation = match.found
        y = g.call_module((conv,), g.input("x"), inline=True)
        g.output(act.apply(g, activation, y))

    @staticmethod
    def examples():
        return [_example(48, 3, groups=(4, 2, 1, 1, 3, 2))]


class ChannelsFirstLayer(BlockPattern):
    """`a = post_attention(attention(x, mask), x)`, then `output(intermediate(a), a)`, computed on
    x transposed to [batch, d_model, seq]."""

    role = "Block"
    priority = 4

    accepts = Accepts(4, 4, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 4:
            return None
        by_role: dict[str, list] = {}
        for m in members:
            by_role.setdefault(ctx.role(m), []).append(m)
        attn = by_role.get("ChannelsFirstAttention", [])
        inter = by_role.get("ChannelsFirstIntermediate", [])
        add_norms = by_role.get("ChannelsFirstAddNorm", [])
        if len(attn) != 1 or len(inter) != 1 or len(add_norms) != 2:
            return None
        # the one reading the feed-forward's widened channels is its output; the other follows
        # the attention (told by the widths the classes were built with, never by order)
        widened = _class_in_width(ctx, inter[0], out=True)
        reads = [_class_in_width(ctx, m) for m in add_norms]
        if widened is None or reads.count(widened) != 1 or None in reads:
            return None
        out = add_norms[reads.index(widened)]
        post = add_norms[1 - reads.index(widened)]
        return Match(self, 4, (attn[0].attr, post.attr, inter[0].attr, out.attr))

    def forward(self, match: Match, g: Graph) -> None:
        attn, post, inter, out = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        x = g.call_method("transpose", x, 1, 2, comment="[batch, d_model, seq]: channels first")
        a = g.call_module((post,), g.call_module((attn,), x, mask, inline=True), x, name="x")
        h = g.call_module((inter,), a, inline=True)
        y = g.call_module((out,), h, a, inline=True)
        g.output(g.call_method("transpose", y, 1, 2), comment="[batch, seq, d_model]")

    @staticmethod
    def examples():
        return [_example(48, 3, groups=(4, 2, 1, 1, 3, 2)), _example(32, 4, groups=(1,) * 6)]


def _class_in_width(ctx: BlockContext, m, out: bool = False) -> int | None:
    """The input (or output) width of the one pointwise conv of a member's generated class."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    convs = [c for c in modules(cls) if _pointwise(c)] if cls is not None else []
    if len(convs) != 1:
        return None
    return _widths(convs[0])[1 if out else 0]


def _example(hidden: int, nhead: int, groups: tuple[int, ...]) -> Example:
    """A channels-first layer with the given groups for q, k, v, the attention's projection, the
    feed-forward's widening and narrowing convs (names unlike any library's)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    wide = 2 * hidden

    def pointwise(cin: int, cout: int, groups: int) -> nn.Conv1d:
        return nn.Conv1d(cin, cout, 1, groups=groups)

    class Mixer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q = pointwise(hidden, hidden, groups[0])
            self.k = pointwise(hidden, hidden, groups[1])
            self.v = pointwise(hidden, hidden, groups[2])

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            b, c, s = x.shape
            q, k, v = (p(x).view(b, nhead, c // nhead, s) for p in (self.q, self.k, self.v))
            scores = q.transpose(2, 3) @ k / (c // nhead) ** 0.5
            scores = scores + (1.0 - mask[:, None, None, :].float()) * -1e9
            return (v @ scores.softmax(-1).transpose(2, 3)).reshape(b, c, s)

    class Merge(nn.Module):
        def __init__(self, cin: int, g: int) -> None:
            super().__init__()
            self.proj = pointwise(cin, hidden, g)
            self.ln = nn.LayerNorm(hidden)

        def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            return self.ln((self.proj(h) + x).transpose(1, 2)).transpose(1, 2)

    class Widen(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = pointwise(hidden, wide, groups[4])

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.relu(self.conv(x))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mixer = Mixer()
            self.after_mixer = Merge(hidden, groups[3])
            self.intermediate = Widen()
            self.after_ffn = Merge(wide, groups[5])

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            x = x.transpose(1, 2)
            a = self.after_mixer(self.mixer(x, mask), x)
            return self.after_ffn(self.intermediate(a), a).transpose(1, 2)

    class Embeddings(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word_embeddings = nn.Embedding(50, hidden)
            self.position_embeddings = nn.Embedding(16, hidden)
            self.LayerNorm = nn.LayerNorm(hidden)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            positions = self.position_embeddings(torch.arange(ids.size(1)))
            return self.LayerNorm(self.word_embeddings(ids) + positions)

    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList(Block() for _ in range(2))

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            for block in self.blocks:
                x = block(x, mask)
            return x

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings = Embeddings()
            self.encoder = Stack()

        def forward(self, ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.encoder(self.embeddings(ids), attention_mask)

    ids = torch.randint(0, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    config = {
        "num_attention_heads": nhead,
        "hidden_act": "relu",
        "q_groups": groups[0],
        "k_groups": groups[1],
        "v_groups": groups[2],
        "after_mixer_groups": groups[3],
        "intermediate_groups": groups[4],
        "after_ffn_groups": groups[5],
    }
    return Example(Model(), (ids, mask), config)
