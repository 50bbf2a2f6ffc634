"""A speech encoder that runs its layers on a squeezed sequence (SEW): the frames pooled by the
squeeze factor s, the positional conv strided by s, the layers, then an upsampling projection
giving each squeezed frame s frames back, padded with zeros to the length that came in.

- `SqueezeUpsample`: one Linear d -> s * d, the feature encoder's activation, each output row
  split into s frames: [batch, t, d] -> [batch, t * s, d]. s is the projection's width ratio.
- `StridedPositionalConv`: the positional conv (a weight-normed grouped conv padded by half its
  kernel) with stride s, then the activation: [batch, d, frames] -> [batch, d, squeezed]. The
  conv's class computes stride 1: every s-th of its outputs is the strided conv's. Where
  config.json gives squeeze_factor above 1 (the conv's weights do not show its stride).
- `SqueezedPositionEncoder`: `norm(pool(x) + positions(x))`, the post-norm layers, upsampled,
  padded back to the input's frames.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    stack,
    tensors,
)
from codegen.patterns.blocks.speech_encoder import ACTIVATION, _activation
from codegen.patterns import _activations as act

SQUEEZE = "squeeze_factor"
UPSAMPLE = r"up_?sampl"  # the name SEW's upsampling is held under (SEW-D's intermediate is not)


def _squeeze(ctx: BlockContext) -> int | None:
    said = ctx.resolver.evidence(SQUEEZE)
    return said[1] if said is not None and type(said[1]) is int and said[1] > 1 else None


class SqueezeUpsample(BlockPattern):
    role = "SqueezeUpsample"
    priority = 20  # over the width-chaining fallback, which cannot see the split into frames

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or family(members[0]) != "linear":
            return None
        if not re.search(UPSAMPLE, cls.named or "", re.IGNORECASE):
            return None  # a lone widening Linear held as a layer's intermediate is not this
        io = members[0].io
        if ctx.resolver.evidence(ACTIVATION) is None or io is None:
            return None
        wide, narrow = io.out_width, io.in_width
        if not (type(wide) is int and type(narrow) is int) or wide % narrow or wide == narrow:
            return None
        factor = wide // narrow
        if _squeeze(ctx) != factor:
            return None
        activation = _activation(cls, ctx, members[0].attr)
        return Match(self, 1, (members[0].attr, factor, activation.value), [activation])

    def forward(self, match: Match, g: Graph) -> None:
        projection, factor, activation = match.found
        x = g.input("x")
        y = act.apply(g, activation, g.call_module((projection,), x, inline=True), name="y")
        batch = g.call_method("size", x, 0, inline=True)
        width = g.call_method("size", x, 2, inline=True)
        g.output(
            g.call_method("reshape", y, batch, -1, width),
            comment=f"each frame's {factor} slices as {factor} frames: [batch, frames * {factor}, d]",
        )

    @staticmethod
    def examples():
        return [_example()]


class StridedPositionalConv(BlockPattern):
    role = "StridedPositionalConv"
    priority = 6  # over PositionalConvEmbedding where config.json says the sequence is squeezed

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or ctx.resolver.evidence(ACTIVATION) is None:
            return None
        factor = _squeeze(ctx)
        if factor is None or ctx.role(members[0]) != "WeightNormConv":
            return None
        activation = _activation(cls, ctx, members[0].attr)
        return Match(self, 1, (members[0].attr, factor, activation.value), [activation])

    def forward(self, match: Match, g: Graph) -> None:
        conv, factor, activation = match.found
        x = g.input("x")  # [batch, d_model, frames]
        squeezed = g.input("squeezed", "int")
        y = g.call_module((conv,), x, name="y", comment="stride 1")
        kept = g.call_function("mul", squeezed, factor, inline=True)
        y = g.call_function("torch.narrow", y, 2, 0, kept, inline=True)
        batch = g.call_method("size", y, 0, inline=True)
        width = g.call_method("size", y, 1, inline=True)
        y = g.call_method("view", y, batch, width, squeezed, factor, inline=True)
        y = g.call_function(
            "torch.select", y, -1, 0, name="y", comment=f"every {factor}th: stride {factor}"
        )
        g.output(act.apply(g, activation, y), comment="[batch, d_model, squeezed]")

    @staticmethod
    def examples():
        return [_example()]


class SqueezedPositionEncoder(BlockPattern):
    role = "ConvPositionEncoder"  # what a speech encoder model holds (families/speech_encoder.py)
    priority = 6

    accepts = Accepts(3, 4, tensors=False, roles=("StridedPositionalConv", "SqueezeUpsample"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (3, 4):
            return None
        positions = [m for m in members if ctx.role(m) == "StridedPositionalConv"]
        upsample = [m for m in members if ctx.role(m) == "SqueezeUpsample"]
        norms = [m for m in members if family(m) == "norm"]
        layers = [m for m in members if stack(m) and ctx.role(stack(m)[0]) == "Block"]
        # SEW-D's: a whole encoder (DeBERTa-v2's, its own norm and table inside) in their place
        inner = [m for m in members if m.kind == "class" and ctx.role(m) == "Encoder"]
        if len(positions) != 1 or len(upsample) != 1:
            return None
        if len(members) == 3 and len(inner) == 1:
            found = (positions[0].attr, None, inner[0].attr, upsample[0].attr, _squeeze(ctx))
            return Match(self, 3, found)
        if not (len(norms) == len(layers) == 1 and len(members) == 4):
            return None
        block = ctx.classes.get(stack(layers[0])[0].type_name)
        residual = next(
            (c for c in (block.forward.choices if block else []) if c.name == "residual"), None
        )
        if residual is None or residual.value != "post":
            return None  # SEW's layers are post-norm: the norm comes before them
        factor = _squeeze(ctx)
        found = (positions[0].attr, norms[0].attr, layers[0].attr, upsample[0].attr, factor)
        return Match(self, 4, found)

    def forward(self, match: Match, g: Graph) -> None:
        positions, norm, layers, upsample, factor = match.found
        x = g.input("x")
        frames = g.call_method("size", x, 1, name="frames")
        h = g.call_method("transpose", x, 1, 2, name="h", comment="[batch, d_model, frames]")
        pooled = g.call_function(
            "avg_pool1d", h, factor, factor, name="pooled", comment=f"frames / {factor}"
        )
        squeezed = g.call_method("size", pooled, 2, name="squeezed")
        summed = g.call_function(
            "add", pooled, g.call_module((positions,), h, squeezed, inline=True), inline=True
        )
        x = g.call_method("transpose", summed, 1, 2, inline=norm is not None)
        if norm is None:  # an encoder of its own: it is given the sum
            x = g.call_module((layers,), x)
        else:
            x = g.call_module((layers,), g.call_module((norm,), x), each=True)
        x = g.call_module((upsample,), x, name="x")
        short = g.call_function(
            "sub", frames, g.call_method("size", x, 1, inline=True), inline=True
        )
        g.output(
            g.call_function("pad", x, [0, 0, 0, short]),
            comment="zeros for the frames the squeeze left over: [batch, frames, d_model]",
        )

    @staticmethod
    def examples():
        return [_example()]


def _example():
    """A tiny SEW laid out as Hugging Face's: conv features (a GroupNorm on the first conv), a
    LayerNorm over them, a projection, then the squeezed encoder over post-norm layers."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    d, heads, channels, squeeze, pos_kernel = 16, 2, 8, 2, 4

    class ConvLayer(nn.Module):
        def __init__(self, i: int) -> None:
            super().__init__()
            self.conv = nn.Conv1d(1 if i == 0 else channels, channels, (6, 3)[i], (3, 2)[i])
            self.layer_norm = nn.GroupNorm(channels, channels) if i == 0 else None

        def forward(self, x):
            x = self.conv(x)
            return F.gelu(self.layer_norm(x) if self.layer_norm is not None else x)

    class FeatureEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv_layers = nn.ModuleList(ConvLayer(i) for i in range(2))

        def forward(self, x):
            for layer in self.conv_layers:
                x = layer(x)
            return x

    class PosConvEmbed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            conv = nn.Conv1d(d, d, pos_kernel, padding=pos_kernel // 2, groups=2, stride=squeeze)
            self.conv = nn.utils.parametrizations.weight_norm(conv, name="weight", dim=2)

        def forward(self, x):  # [batch, d, frames]; an even kernel's extra frame dropped
            return F.gelu(self.conv(x)[:, :, :-1])

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q_proj, self.k_proj = nn.Linear(d, d), nn.Linear(d, d)
            self.v_proj, self.out_proj = nn.Linear(d, d), nn.Linear(d, d)

        def forward(self, x):
            b, t = x.size(0), x.size(1)
            q, k, v = (
                p(x).view(b, t, heads, -1).transpose(1, 2)
                for p in (self.q_proj, self.k_proj, self.v_proj)
            )
            y = F.scaled_dot_product_attention(q, k, v)
            return self.out_proj(y.transpose(1, 2).reshape(b, t, d))

    class FeedForward(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.intermediate_dense = nn.Linear(d, 2 * d)
            self.output_dense = nn.Linear(2 * d, d)

        def forward(self, x):
            return self.output_dense(F.gelu(self.intermediate_dense(x)))

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention, self.layer_norm = Attention(), nn.LayerNorm(d)
            self.feed_forward, self.final_layer_norm = FeedForward(), nn.LayerNorm(d)

        def forward(self, x):
            x = self.layer_norm(x + self.attention(x))
            return self.final_layer_norm(x + self.feed_forward(x))

    class Upsample(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.projection = nn.Linear(d, d * squeeze)

        def forward(self, x):
            y = F.gelu(self.projection(x))
            return y.reshape(x.size(0), x.size(1) * squeeze, d)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pos_conv_embed = PosConvEmbed()
            self.layer_norm = nn.LayerNorm(d)
            self.layers = nn.ModuleList(Layer() for _ in range(2))
            self.upsample = Upsample()

        def forward(self, x):
            frames, h = x.size(1), x.transpose(1, 2)
            positions, pooled = self.pos_conv_embed(h), F.avg_pool1d(h, squeeze, squeeze)
            short = min(positions.size(-1), pooled.size(-1))
            x = self.layer_norm((pooled[..., :short] + positions[..., :short]).transpose(1, 2))
            for layer in self.layers:
                x = layer(x)
            x = self.upsample(x)
            return F.pad(x, (0, 0, 0, frames - x.size(1)))

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.feature_extractor, self.layer_norm = FeatureEncoder(), nn.LayerNorm(channels)
            self.feature_projection, self.encoder = nn.Linear(channels, d), Encoder()

        def forward(self, input_values):
            x = self.feature_extractor(input_values[:, None]).transpose(1, 2)
            return self.encoder(self.feature_projection(self.layer_norm(x)))

    config = {
        "model_type": "sew",
        "num_attention_heads": heads,
        "hidden_act": "gelu",
        "feat_extract_activation": "gelu",
        "feat_extract_norm": "group",
        "conv_kernel": [6, 3],
        "conv_stride": [3, 2],
        "conv_bias": True,
        "num_conv_pos_embeddings": pos_kernel,
        "num_conv_pos_embedding_groups": 2,
        "squeeze_factor": squeeze,
        "layer_norm_eps": 1e-5,
        "hidden_size": d,
    }
    return Example(Model(), (torch.randn(2, 125),), config)
