"""The diffusion/autoencoder resnet block (diffusers' ResnetBlock2D, latent diffusion's
ResnetBlock): pre-activation group-norm/conv pairs, the time embedding added between them where
the block has a projection for it, and the input (projected by a 1x1 conv when the width changes)
added back:

    h = conv1(act(norm1(x)));  h = h + time_emb_proj(act(temb))[:, :, None, None]
    h = conv2(act(norm2(h)));  return shortcut(x) + h

A time projection twice conv1's width is a scale and a shift (diffusers'
resnet_time_scale_shift="scale_shift", the DDPM repositories' ResnetBlock): it modulates the
normalised map instead, `h = norm2(h) * (1 + scale) + shift`, before the activation.

Recognised from names and widths: norm1 normalises the input, conv1 takes it, norm2/conv2 keep
conv1's width, the time projection gives it, the shortcut maps input to output width.
"""

from __future__ import annotations

from codegen.ir import ExampleInput
from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import one_named, tensors
from codegen.patterns.blocks.padded_resnet_block import arg_pin

TIME_PROJ = r"time_emb_proj|temb_proj|emb_proj|time_proj|time_emb"  # labml.ai DDPM: time_emb
KEEPS = "a diffusion resnet block's convs keep the map's size"
SHORTCUT = r"conv_shortcut|nin_shortcut|shortcut|skip_connection"


class ResnetBlock(BlockPattern):
    role = "ResnetBlock"
    priority = 5  # over the post-activation BasicBlock: group norms before their convs
    synonyms = act.SYNONYMS

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        norm1, norm2 = one_named(members, r"norm1"), one_named(members, r"norm2")
        conv1, conv2 = one_named(members, r"conv1"), one_named(members, r"conv2")
        proj, short = one_named(members, TIME_PROJ), one_named(members, SHORTCUT)
        used = [m for m in (norm1, norm2, conv1, conv2, proj, short) if m is not None]
        if None in (norm1, norm2, conv1, conv2) or len(used) != len(members):
            return None
        if [family(m) for m in (norm1, norm2, conv1, conv2)] != ["norm", "norm", "conv", "conv"]:
            return None
        if not all(n.type_name == "nn.GroupNorm" for n in (norm1, norm2)):
            return None
        if proj is not None and family(proj) != "linear":
            return None
        if short is not None and family(short) != "conv":
            return None
        c_in, c_mid = conv1.io.in_width, conv1.io.out_width
        if norm1.io.in_width != c_in or norm2.io.in_width != c_mid:
            return None
        if conv2.io.in_width != c_mid or conv2.io.out_width != c_mid:
            return None
        scale_shift = proj is not None and proj.io.out_width == 2 * c_mid
        if proj is not None and proj.io.out_width != c_mid and not scale_shift:
            return None
        if scale_shift:  # the shapes say so; config.json's key agrees, or names another norm
            told = ctx.resolver.evidence("resnet_time_scale_shift", "time_embedding_norm")
            if told is not None and told[1] != "scale_shift":
                return None
        if short is None and c_in != c_mid:
            return None
        activation = ctx.choose(
            cls,
            norm1.attr,
            "activation",
            "silu",
            act.alternatives("silu", told=ctx.resolver),
            "after each norm",
        )
        found = (norm1.attr, conv1.attr, norm2.attr, conv2.attr, proj and proj.attr)
        found += (short and short.attr, scale_shift)
        # Its convs keep the size (a resampling block resizes the map itself: resampling_resnet)
        pins = [arg_pin(c, "stride", 1, KEEPS) for c in (conv1, conv2, short) if c is not None]
        return Match(self, len(members), found, [activation], pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        norm1, conv1, norm2, conv2, proj, short, scale_shift = match.found
        activation = match.choices[0].value
        norm1, conv1, norm2, conv2, proj, short = (
            p if p is None or isinstance(p, tuple) else (p,)
            for p in (norm1, conv1, norm2, conv2, proj, short)
        )  # member names, or paths into Sequentials (openai's in_layers.0)
        x = g.input("x")
        temb = g.input("temb") if proj else None
        h = g.call_module(norm1, x, name="h", inline=True)
        h = act.apply(g, activation, h, name="h", inline=True)
        h, x = self.resample(match, g, h, x)
        h = g.call_module(conv1, h, name="h")
        t = None
        if temb is not None:
            t = act.apply(g, activation, temb, name="t", inline=True)
            t = g.call_module(proj, t, name="t", inline=True)
            t = g.call_function("getitem", t, (Slice(), Slice(), None, None), name="t")
        if t is not None and not scale_shift:
            h = g.call_function("add", h, t, name="h", comment="the time embedding, per channel")
        h = g.call_module(norm2, h, name="h", inline=scale_shift is False)
        if t is not None and scale_shift:
            scale = g.call_method("chunk", t, 2, 1, name="scale", inline=True)
            scale = g.call_function("getitem", scale, 0, name="scale")
            shift = g.call_method("chunk", t, 2, 1, name="shift", inline=True)
            shift = g.call_function("getitem", shift, 1, name="shift")
            one_plus = g.call_function("add", scale, 1.0, inline=True)
            h = g.call_function("mul", h, one_plus, name="h", inline=True)
            h = g.call_function(
                "add", h, shift, name="h", comment="the time embedding scales and shifts"
            )
        h = act.apply(g, activation, h, name="h", inline=True)
        h = g.call_module(conv2, h, name="h")
        identity = g.call_module(short, x, inline=True) if short else x
        g.output(g.call_function("add", identity, h))

    def resample(self, match: Match, g: Graph, h, x):
        """The activated map and the input, where a resampling block (resampling_resnet.py)
        halves or doubles both before conv1; here unchanged."""
        return h, x

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        widths = {m.attr: m.io for m in modules(cls)}
        x = ExampleInput((2, widths[match.found[1]].in_width, 16, 16))
        proj = match.found[4]
        return [x, ExampleInput((2, widths[proj].in_width))] if proj else [x]

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()

        return [
            Example(z["holder"](z["resnet"](8, 16, 12)), z["with_temb"](8, 12), META),
            Example(z["holder"](z["resnet"](8, 8, None)), z["image"](8), META),
            Example(
                z["holder"](z["resnet"](8, 16, 12, scale_shift=True)), z["with_temb"](8, 12), META
            ),
        ]
