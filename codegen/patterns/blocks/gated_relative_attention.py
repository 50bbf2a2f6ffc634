"""Attention whose relative position bias is gated by each head's own input (WavLM's "gated
relative position bias"), and the speech encoder that computes that bias once for its layers.

- `GatedRelativeAttention`: q, k, v and output projections as attention.py finds them,
  bidirectional, plus a Linear over one head's slice of the input (head_dim -> 2 * r) and one
  tensor shaped [1, heads, 1, 1] (`c`). The gate of each head and frame is
  `a * (b * c - 1) + 2`, with `a` and `b` the sigmoids of the Linear's two halves, each summed
  over its r outputs; the bias the caller gives ([1, heads, frames, frames], ungated) is multiplied
  by it and added to the scaled scores. The first layer's attention also holds the bias table
  ([buckets, heads], an Embedding with one column per head): the encoder reads it.
- `GatedBiasPositionEncoder`: a wav2vec2-like encoder (blocks/speech_encoder.py's
  ConvPositionEncoder: the positional conv, the norm, post- or pre-norm layers) whose layers take
  that bias: computed once from the first layer's table with T5's bidirectional log buckets
  (WavLMAttention._relative_positions_bucket is T5's) and given, ungated, to every layer.

The shapes show the gate (a Linear whose input is the model width over the heads) and the heads
(the [1, heads, 1, 1] tensor, the table's columns); the distance the last bucket starts at is
config.json's (`max_bucket_distance`), else a choice.
"""

from __future__ import annotations

import dataclasses

from codegen.ir.graph import Graph, Slice
from codegen.patterns._kit import Accepts, BlockContext, Example, Match, family, modules, tensors
from codegen.patterns.blocks._attention_parts import heads as split_heads
from codegen.patterns.blocks._attention_parts import attend, merge_heads, plain_bidirectional
from codegen.patterns.blocks.attention import Attention
from codegen.patterns.blocks.speech_encoder import ConvPositionEncoder
from codegen.patterns.blocks.sublayer import as_module_list

SEQUENCES = ("sequential", "modulelist", "repeat")


def _int(value) -> int | None:
    return value if type(value) is int else None


def _gate_parts(cls) -> tuple | None:
    """(gate Linear, [1, heads, 1, 1] tensor, table or None, heads) where the class holds them."""
    params = tensors(cls)
    if len(params) != 1 or len(params[0].shape) != 4:
        return None
    tables = [m for m in modules(cls) if family(m) == "embedding" and m.io is not None]
    shape = [_int(s) for s in params[0].shape]
    if shape[1] is None and len(tables) == 1:  # a parameter it shares with the table's columns
        shape[1] = _int(tables[0].io.out_width)
    if shape[0] != 1 or shape[2] != 1 or shape[3] != 1 or not shape[1]:
        return None
    nhead = shape[1]
    linears = [m for m in modules(cls) if family(m) == "linear" and m.io is not None]
    widths = {_int(m.io.in_width) for m in linears} - {None}
    gates = [
        m
        for m in linears
        if _int(m.io.in_width)
        and _int(m.io.out_width)
        and m.io.out_width % 2 == 0
        and m.io.in_width * nhead in widths
    ]
    if len(gates) != 1 or len(tables) > 1 or (tables and tables[0].io.out_width != nhead):
        return None
    return gates[0], params[0], tables[0] if tables else None, nhead


class GatedRelativeAttention(Attention):
    role = "Attention"
    priority = 12  # over Attention, which refuses the extra tensor anyway

    def match(self, cls, ctx: BlockContext) -> Match | None:
        parts = _gate_parts(cls)
        if parts is None:
            return None
        gate, const, table, nhead = parts
        plain = dataclasses.replace(
            cls, members=[m for m in cls.members if m not in (gate, const, table)]
        )
        found = super().match(plain, ctx)
        if found is None or found.missing:
            return found
        p = found.found
        if not plain_bidirectional(p):
            return None
        if p.nhead != nhead or p.kv_heads != nhead:
            return None  # the gate's tensor shows the heads: a count that disagrees is not this
        inner = (p, gate.attr, const.attr, table.attr if table else None, gate.io.out_width // 2)
        return dataclasses.replace(
            found, pattern=self, explains=found.explains + 2 + bool(table), found=inner
        )

    def forward(self, match: Match, g: Graph) -> None:
        plan, gate, const, _table, half = match.found
        x = g.input("x")
        bias = g.input("bias")  # [1, heads, frames, frames]: the relative positions, ungated
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        q, k, v = split_heads(g, x, batch, seq, plan)
        # each head's gate from its own slice of the input: [batch, heads, frames, 2]
        h = g.call_method("view", x, batch, seq, plan.nhead, -1, inline=True)
        h = g.call_method("transpose", h, 1, 2, inline=True)
        h = g.call_module((gate,), h, inline=True)
        h = g.call_method("view", h, batch, plan.nhead, seq, 2, half, inline=True)
        h = g.call_method("sum", h, -1, inline=True)
        gates = g.call_function(
            "torch.sigmoid", h, name="gates", comment="[batch, heads, frames, 2]"
        )
        a = g.call_function("getitem", gates, (Slice(), Slice(), Slice(), Slice(0, 1)), inline=True)
        b = g.call_function("getitem", gates, (Slice(), Slice(), Slice(), Slice(1, 2)), name="b")
        scaled = g.call_function("mul", b, g.getattr((const,)), inline=True)
        scaled = g.call_function("sub", scaled, 1.0, inline=True)
        gated = g.call_function("mul", a, scaled, inline=True)
        gated = g.call_function("add", gated, 2.0, name="gate", comment="[batch, heads, frames, 1]")
        bias = g.call_function("mul", gated, bias, name="bias", comment="the gated bias")
        comment = f"{plan.nhead} heads, every position sees all, the gated bias added"
        y = attend(g, q, k, v, plan.nhead, plan.nhead, bias, comment)
        y = merge_heads(g, y, batch, seq)
        g.output(g.call_module((plan.out,), y))

    @staticmethod
    def examples():
        return [gated_bias_example(stable=False), gated_bias_example(stable=True)]


def _table_path(ctx: BlockContext, type_name: str) -> tuple[str, ...] | None:
    """Where, inside a layer class, the gated attention's bias table is; None if none."""
    cls = ctx.classes.get(type_name)
    if cls is None:
        return None
    for m in modules(cls):
        inner = ctx.classes.get(m.type_name) if m.kind == "class" else None
        if inner is None:
            continue
        if inner.forward.pattern == GatedRelativeAttention.__name__:
            parts = _gate_parts(inner)
            if parts is not None and parts[2] is not None:
                return (m.attr, parts[2].attr, "weight")
        else:
            found = _table_path(ctx, m.type_name)
            if found:
                return (m.attr, *found)
    return None


class GatedBiasPositionEncoder(ConvPositionEncoder):
    role = "ConvPositionEncoder"
    priority = 6  # over ConvPositionEncoder: its layers take the bias
    synonyms = {"max_distance": ("max_bucket_distance",)}

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        positions = [m for m in members if ctx.role(m) == "PositionalConvEmbedding"]
        norms = [m for m in members if family(m) == "norm"]
        layers = [m for m in members if m.kind in SEQUENCES and m.children]
        if len(positions) != 1 or len(norms) != 1 or len(layers) != 1:
            return None
        items = layers[0].children
        if any(it.kind != "class" or ctx.role(it) != "Block" for it in items):
            return None
        if not all(ctx.takes(it, "bias") for it in items):
            return None
        table = _table_path(ctx, items[0].type_name)
        if table is None or any(_table_path(ctx, it.type_name) for it in items[1:]):
            return None  # the first layer's table only (each layer's own: not met yet)
        block = ctx.classes.get(items[0].type_name)
        residual = next((c for c in block.forward.choices if c.name == "residual"), None)
        if residual is None or residual.value not in ("pre", "post"):
            return None
        said = ctx.resolver.evidence(*self.synonyms["max_distance"])
        distance = ctx.choose(
            cls,
            layers[0].attr,
            "max_distance",
            800,  # WavLMConfig's default
            [128, 256] + ([said[1]] if said and isinstance(said[1], int) else []),
            "the relative distance the last bucket starts at",
            accepts="positive_int",
        )
        ctx.resolver.evidence("num_buckets")  # the table's rows show it
        as_module_list(layers[0])
        path = (layers[0].attr, items[0].attr, *table)
        found = (
            positions[0].attr,
            norms[0].attr,
            layers[0].attr,
            residual.value == "pre",
            path,
            int(distance.value),
        )
        return Match(self, 3, found, [distance])

    def forward(self, match: Match, g: Graph) -> None:
        positions, norm, layers, norm_last, table, max_distance = match.found
        x = g.input("x")
        x = g.call_function("add", x, g.call_module((positions,), x, inline=True))
        if not norm_last:  # post-norm layers take a normalised input
            x = g.call_module((norm,), x)
        frames = g.call_method("size", x, 1, inline=True)
        bias = g.call_function(
            "relative_position_bias",
            g.getattr(table),
            frames,
            True,
            max_distance,
            name="bias",
            comment="[1, heads, frames, frames]: the first layer's table, for every layer",
        )
        x = g.call_module((layers,), x, bias, each=True)
        if norm_last:  # pre-norm layers leave the output to normalise
            x = g.call_module((norm,), x)
        g.output(x, comment="[batch, frames, d_model]")

    @staticmethod
    def examples():
        return [gated_bias_example(stable=False), gated_bias_example(stable=True)]


def gated_bias_example(stable: bool) -> Example:
    """A tiny WavLM laid out as Hugging Face's, written here from its description: the speech
    encoder's parts (blocks/speech_encoder.py's example) with gated relative attention."""
    import math

    import torch
    import torch.nn as nn

    from codegen.patterns.blocks.speech_encoder import speech_example

    base = speech_example("layer" if stable else "group")
    d, nhead, buckets, distance, rank = 16, 2, 10, 20, 3

    def bucket(relative: torch.Tensor) -> torch.Tensor:
        half = buckets // 2
        out = (relative > 0).long() * half
        relative = relative.abs()
        exact = half // 2
        far = (
            exact
            + (
                torch.log(relative.float() / exact) / math.log(distance / exact) * (half - exact)
            ).long()
        )
        far = torch.min(far, torch.full_like(far, half - 1))
        return out + torch.where(relative < exact, relative, far)

    class GatedAttention(nn.Module):
        def __init__(self, first: bool) -> None:
            super().__init__()
            self.q_proj, self.k_proj = nn.Linear(d, d), nn.Linear(d, d)
            self.v_proj, self.out_proj = nn.Linear(d, d), nn.Linear(d, d)
            self.gru_rel_pos_const = nn.Parameter(torch.rand(1, nhead, 1, 1) + 0.5)
            self.gru_rel_pos_linear = nn.Linear(d // nhead, 2 * rank)
            if first:
                self.rel_attn_embed = nn.Embedding(buckets, nhead)

        def forward(self, x, bias):
            b, t = x.size(0), x.size(1)
            q, k, v = (
                p(x).view(b, t, nhead, -1).transpose(1, 2)
                for p in (self.q_proj, self.k_proj, self.v_proj)
            )
            h = self.gru_rel_pos_linear(x.view(b, t, nhead, -1).permute(0, 2, 1, 3))
            gate_a, gate_b = torch.sigmoid(h.view(b, nhead, t, 2, rank).sum(-1)).chunk(2, -1)
            gate = gate_a * (gate_b * self.gru_rel_pos_const - 1.0) + 2.0
            scores = q @ k.transpose(-1, -2) / math.sqrt(d // nhead) + gate * bias
            y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
            return self.out_proj(y)

    class Layer(nn.Module):
        def __init__(self, first: bool) -> None:
            super().__init__()
            self.attention, self.layer_norm = GatedAttention(first), nn.LayerNorm(d)
            self.feed_forward = base.module.encoder.layers[0].feed_forward.__class__()
            self.final_layer_norm = nn.LayerNorm(d)

        def forward(self, x, bias):
            if stable:
                x = x + self.attention(self.layer_norm(x), bias)
                return x + self.feed_forward(self.final_layer_norm(x))
            x = self.layer_norm(x + self.attention(x, bias))
            return self.final_layer_norm(x + self.feed_forward(x))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pos_conv_embed = base.module.encoder.pos_conv_embed.__class__()
            self.layer_norm = nn.LayerNorm(d)
            self.layers = nn.ModuleList(Layer(i == 0) for i in range(2))

        def forward(self, x):
            x = x + self.pos_conv_embed(x)
            if not stable:
                x = self.layer_norm(x)
            t = torch.arange(x.size(1))
            table = self.layers[0].attention.rel_attn_embed
            bias = table(bucket(t[None, :] - t[:, None])).permute(2, 0, 1)[None]
            for layer in self.layers:
                x = layer(x, bias)
            return self.layer_norm(x) if stable else x

    model = base.module
    model.encoder = Encoder()
    config = dict(base.metadata, model_type="wavlm", num_buckets=buckets)
    config["max_bucket_distance"] = distance
    return Example(model, base.inputs, config)
