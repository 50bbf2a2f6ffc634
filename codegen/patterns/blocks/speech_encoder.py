"""The parts of a speech encoder over raw audio (wav2vec2, HuBERT, Data2VecAudio, UniSpeech...):
a convolutional feature encoder, then a transformer whose positions come from a grouped conv.

- `FeatureConvLayer`: one 1-D conv, then (optionally) a norm, then config.json's
  `feat_extract_activation`. A GroupNorm normalises each channel over time; a LayerNorm each frame
  over the channels (transposed around it). Recognised only where config.json describes a
  feature encoder (its activation), as the keys of a lone conv say nothing about what follows it.
- `PositionalConvEmbedding`: `act(conv(x))` over the frames, cut back to as many frames as came in
  (an even kernel padded by half gives one more: wav2vec2 drops the last).
- `PositionalConvLayer` and `PositionalConvStack`: Data2VecAudio's positions, a stack of such
  convs (config.json `conv_pos_kernel_size` says so: wav2vec2's configs have no such key), each
  followed by a LayerNorm without parameters over the channels (no key shows it) and the
  activation; the stack transposes the frames in and out once.
- `ConvPositionEncoder`: `x + positions(x)`, the norm and the layers. Post-norm layers take the
  normalised sum (wav2vec2's base layout); pre-norm layers normalise the stack's output instead
  (`do_stable_layer_norm`): the layers' own residual choice says which, so both follow from it.
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
    free_layer_norm,
    modules,
    stack,
    tensors,
)

ACTIVATION = "feat_extract_activation"  # config.json's name, so the choice reads it directly
SEQUENCES = ("sequential", "modulelist", "repeat")
STACKED = "conv_pos_kernel_size"  # the kernel of each conv in a stack of positional convs


def _activation(cls, ctx: BlockContext, where: str):
    return ctx.choose(
        cls,
        where,
        ACTIVATION,
        "gelu",
        [a for a in act.TRANSFORMER if a != "gelu"],
        "the feature encoder's activation",
        aliases=act.ALIASES,
    )


class FeatureConvLayer(BlockPattern):
    role = "ConvLayer"
    priority = 20  # over the width-chaining fallback, which cannot see the activation

    accepts = Accepts(1, 2, tensors=False, families=("conv",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or ctx.resolver.evidence(ACTIVATION) is None:
            return None
        convs = [m for m in members if family(m) == "conv" and m.io.ndim == 1]
        norms = [m for m in members if family(m) == "norm"]
        if len(convs) != 1 or len(norms) > 1 or len(members) != 1 + len(norms):
            return None
        norm = norms[0] if norms else None
        channels_last = norm is not None and norm.type_name == "nn.LayerNorm"
        activation = _activation(cls, ctx, convs[0].attr)
        found = (convs[0].attr, norm.attr if norm else None, channels_last, activation.value)
        return Match(self, len(members), found, [activation])

    def forward(self, match: Match, g: Graph) -> None:
        conv, norm, channels_last, activation = match.found
        x = g.call_module((conv,), g.input("x"), comment="[batch, channels, frames]")
        if norm is not None and channels_last:
            x = g.call_method("transpose", x, 1, 2, inline=True)
            x = g.call_module((norm,), x, inline=True)
            x = g.call_method("transpose", x, 1, 2, comment="LayerNorm over the channels")
        elif norm is not None:
            x = g.call_module((norm,), x)
        g.output(act.apply(g, activation, x))

    @staticmethod
    def examples():
        return [speech_example("group"), speech_example("layer")]


class FeatureEncoder(BlockPattern):
    """The conv layers applied in turn: [batch, 1, samples] -> [batch, channels, frames]."""

    role = "FeatureEncoder"
    priority = 20  # over the width-chaining fallback: every item is a recognised conv layer

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or members[0].kind not in SEQUENCES:
            return None
        items = members[0].children
        if len(items) < 1 or any(ctx.role(m) != FeatureConvLayer.role for m in items):
            return None
        return Match(self, 1, (members[0].attr, members[0].kind != "sequential"))

    def forward(self, match: Match, g: Graph) -> None:
        layers, each = match.found
        x = g.call_module((layers,), g.input("x"), each=each)
        g.output(x, comment="[batch, channels, frames]")

    @staticmethod
    def examples():
        return [speech_example("group")]


class FeatureProjection(BlockPattern):
    """`projection(norm(x))` over each frame's features (the norm where there is one)."""

    role = "FeatureProjection"
    named = r"feature_?projection"
    priority = 20

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or ctx.resolver.evidence(ACTIVATION) is None:
            return None
        if not re.fullmatch(self.named, cls.named or "-", re.IGNORECASE):
            return None
        linears = [m for m in members if family(m) == "linear"]
        norms = [m for m in members if family(m) == "norm"]
        if len(linears) != 1 or len(norms) > 1 or len(members) != 1 + len(norms):
            return None
        if norms and norms[0].io.out_width != linears[0].io.in_width:
            return None
        return Match(self, len(members), (norms[0].attr if norms else None, linears[0].attr))

    def forward(self, match: Match, g: Graph) -> None:
        norm, projection = match.found
        x = g.input("x")
        if norm is not None:
            x = g.call_module((norm,), x, inline=True)
        g.output(g.call_module((projection,), x), comment="[batch, frames, d_model]")

    @staticmethod
    def examples():
        return [speech_example("group")]


class PositionalConvEmbedding(BlockPattern):
    role = "PositionalConvEmbedding"
    priority = 5

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or ctx.resolver.evidence(ACTIVATION) is None:
            return None
        if ctx.resolver.evidence(STACKED) is not None:
            return None  # the conv is one layer of a stack (PositionalConvLayer)
        conv = members[0]
        if ctx.role(conv) != "WeightNormConv" and not (
            family(conv) == "conv" and conv.io.ndim == 1
        ):
            return None
        activation = _activation(cls, ctx, conv.attr)
        return Match(self, 1, (conv.attr, activation.value), [activation])

    def forward(self, match: Match, g: Graph) -> None:
        conv, activation = match.found
        x = g.input("x")
        frames = g.call_method("size", x, 1, name="frames")
        y = g.call_module((conv,), g.call_method("transpose", x, 1, 2, inline=True), name="y")
        # padded by half the kernel: an even kernel gives one frame more, which is dropped
        y = g.call_function("torch.narrow", y, 2, 0, frames, name="y")
        y = act.apply(g, activation, y, name="y")
        g.output(g.call_method("transpose", y, 1, 2), comment="[batch, frames, d_model]")

    @staticmethod
    def examples():
        return [speech_example("group")]


class PositionalConvLayer(BlockPattern):
    """[batch, d_model, frames] -> the same: conv, cut to the frames that came in, a LayerNorm
    without parameters over the channels, the activation."""

    role = "PositionalConvLayer"
    priority = 25  # over FeatureConvLayer: where a stack is configured, a lone conv d -> d is one

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or ctx.resolver.evidence(ACTIVATION) is None:
            return None
        told = ctx.resolver.evidence(STACKED)
        conv = members[0]
        if told is None or family(conv) != "conv" or conv.io.ndim != 1:
            return None
        # d -> d, padded by half its kernel (the feature encoder's convs pad nothing)
        padded = any(a.keyword == "padding" and a.value not in (0, (0,)) for a in conv.args)
        if conv.io.in_width != conv.io.out_width or not padded:
            return None
        activation = _activation(cls, ctx, conv.attr)
        # torch's default eps: Data2VecAudio's code gives this norm no layer_norm_eps
        return Match(self, 1, (conv.attr, activation.value, 1e-5), [activation])

    def forward(self, match: Match, g: Graph) -> None:
        conv, activation, eps = match.found
        x = g.input("x")
        frames = g.call_method("size", x, 2, name="frames")
        y = g.call_module((conv,), x, name="y")
        y = g.call_function("torch.narrow", y, 2, 0, frames, name="y")
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = free_layer_norm(g, y, eps, inline=True)
        y = g.call_method("transpose", y, 1, 2, name="y", comment="normalised over the channels")
        g.output(act.apply(g, activation, y))

    @staticmethod
    def examples():
        return [speech_example("group", stacked=True)]


class PositionalConvStack(BlockPattern):
    role = "PositionalConvEmbedding"
    priority = 5

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1:
            return None
        found = stack(members[0])
        if found is None or ctx.role(found[0]) != "PositionalConvLayer":
            return None
        return Match(self, 1, members[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.call_method("transpose", g.input("x"), 1, 2, comment="[batch, d_model, frames]")
        x = g.call_module((match.found,), x, each=True)
        g.output(g.call_method("transpose", x, 1, 2), comment="[batch, frames, d_model]")

    @staticmethod
    def examples():
        return [speech_example("group", stacked=True)]


class ConvPositionEncoder(BlockPattern):
    role = "ConvPositionEncoder"
    priority = 5

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        positions = [m for m in members if ctx.role(m) == "PositionalConvEmbedding"]
        norms = [m for m in members if family(m) == "norm"]
        layers = [m for m in members if stack(m) and ctx.role(stack(m)[0]) == "Block"]
        if len(positions) != 1 or len(norms) != 1 or len(layers) != 1:
            return None
        block = ctx.classes.get(stack(layers[0])[0].type_name)
        residual = next(
            (c for c in (block.forward.choices if block else []) if c.name == "residual"), None
        )
        if residual is None or residual.value not in ("pre", "post"):
            return None
        found = (positions[0].attr, norms[0].attr, layers[0].attr, residual.value == "pre")
        return Match(self, 3, found)

    def forward(self, match: Match, g: Graph) -> None:
        positions, norm, layers, norm_last = match.found
        x = g.input("x")
        x = g.call_function("add", x, g.call_module((positions,), x, inline=True))
        if not norm_last:  # post-norm layers take a normalised input
            x = g.call_module((norm,), x)
        x = g.call_module((layers,), x, each=True)
        if norm_last:  # pre-norm layers leave the output to normalise
            x = g.call_module((norm,), x)
        g.output(x, comment="[batch, frames, d_model]")

    @staticmethod
    def examples():
        return [speech_example("group"), speech_example("layer")]


def speech_example(norm: str, stacked: bool = False) -> Example:
    """A tiny wav2vec2 laid out as Hugging Face's: feature encoder (a GroupNorm on the first conv,
    or a LayerNorm on each), feature projection, weight-normed positional conv, post- or pre-norm
    layers (`norm` "layer" gives wav2vec2's stable layout)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    d, heads, inner, depth, channels = 16, 2, 32, 2, 8
    kernels, strides, pos_kernel, pos_groups = (6, 3), (3, 2), 4, 2
    stable = norm == "layer"

    class ConvLayer(nn.Module):
        def __init__(self, i: int) -> None:
            super().__init__()
            c_in = 1 if i == 0 else channels
            self.conv = nn.Conv1d(c_in, channels, kernels[i], stride=strides[i], bias=False)
            self.layer_norm = None
            if norm == "layer":
                self.layer_norm = nn.LayerNorm(channels)
            elif i == 0:
                self.layer_norm = nn.GroupNorm(channels, channels)

        def forward(self, x):
            x = self.conv(x)
            if isinstance(self.layer_norm, nn.LayerNorm):
                x = self.layer_norm(x.transpose(1, 2)).transpose(1, 2)
            elif self.layer_norm is not None:
                x = self.layer_norm(x)
            return F.gelu(x)

    class FeatureEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv_layers = nn.ModuleList(ConvLayer(i) for i in range(len(kernels)))

        def forward(self, x):
            for layer in self.conv_layers:
                x = layer(x)
            return x

    class FeatureProjection(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer_norm, self.projection = nn.LayerNorm(channels), nn.Linear(channels, d)

        def forward(self, x):
            return self.projection(self.layer_norm(x))

    class PosConvEmbed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            conv = nn.Conv1d(d, d, pos_kernel, padding=pos_kernel // 2, groups=pos_groups)
            self.conv = nn.utils.parametrizations.weight_norm(conv, name="weight", dim=2)

        def forward(self, x):
            y = self.conv(x.transpose(1, 2))[:, :, : x.size(1)]
            return F.gelu(y).transpose(1, 2)

    class PosConvLayer(nn.Module):  # Data2VecAudio's: plain grouped convs, normed in between
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv1d(d, d, 3, padding=1, groups=pos_groups)

        def forward(self, x):
            y = F.layer_norm(self.conv(x).transpose(1, 2), [d]).transpose(1, 2)
            return F.gelu(y)

    class PosConvStack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(PosConvLayer() for _ in range(2))

        def forward(self, x):
            x = x.transpose(1, 2)
            for layer in self.layers:
                x = layer(x)
            return x.transpose(1, 2)

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
            self.intermediate_dense = nn.Linear(d, inner)
            self.output_dense = nn.Linear(inner, d)

        def forward(self, x):
            return self.output_dense(F.gelu(self.intermediate_dense(x)))

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention, self.layer_norm = Attention(), nn.LayerNorm(d)
            self.feed_forward, self.final_layer_norm = FeedForward(), nn.LayerNorm(d)

        def forward(self, x):
            if stable:
                x = x + self.attention(self.layer_norm(x))
                return x + self.feed_forward(self.final_layer_norm(x))
            x = self.layer_norm(x + self.attention(x))
            return self.final_layer_norm(x + self.feed_forward(x))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pos_conv_embed = PosConvStack() if stacked else PosConvEmbed()
            self.layer_norm = nn.LayerNorm(d)
            self.layers = nn.ModuleList(Layer() for _ in range(depth))

        def forward(self, x):
            x = x + self.pos_conv_embed(x)
            if not stable:
                x = self.layer_norm(x)
            for layer in self.layers:
                x = layer(x)
            return self.layer_norm(x) if stable else x

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.masked_spec_embed = nn.Parameter(torch.rand(d))
            self.feature_extractor, self.feature_projection = FeatureEncoder(), FeatureProjection()
            self.encoder = Encoder()

        def forward(self, input_values):
            x = self.feature_extractor(input_values[:, None]).transpose(1, 2)
            return self.encoder(self.feature_projection(x))

    config = {
        "model_type": "wav2vec2",
        "num_attention_heads": heads,
        "hidden_act": "gelu",
        "feat_extract_activation": "gelu",
        "feat_extract_norm": norm,
        "conv_kernel": list(kernels),
        "conv_stride": list(strides),
        "num_conv_pos_embeddings": 2 if stacked else pos_kernel,
        "num_conv_pos_embedding_groups": pos_groups,
        "do_stable_layer_norm": stable,
        "layer_norm_eps": 1e-5,
        "hidden_size": d,
    }
    if stacked:
        config.update(model_type="data2vec-audio", conv_pos_kernel_size=3)
    return Example(Model(), (torch.randn(2, 120),), config)
