"""A resnet block held as a U-Net's downsampler or upsampler (diffusers' ResnetBlock2D with
down=True or up=True: downsample_type/upsample_type "resnet", ResnetDownsampleBlock2D, BigGAN's
resampling blocks). The same tensors as a resnet block (resnet_block.py); after the first norm
and activation both the map and the input are resampled, then the block runs as usual:

    h = act(norm1(x));  h, x = resample(h), resample(x)
    ... conv1, the time embedding, norm2, conv2 ...;  return shortcut(x) + h

Halving is a 2x2 average pool, doubling nearest-neighbour interpolation: neither leaves tensors,
so each is a choice; a FIR kernel (diffusers' kernel="fir") is not computed here and is
another pattern's (a skip block's `resnet_down` is not held as a sampler).
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, Example, Match
from codegen.patterns.blocks.downsample import NAMES as DOWN_NAMES
from codegen.patterns.blocks.resnet_block import ResnetBlock
from codegen.patterns.blocks.upsample import NAMES as UP_NAMES


class ResnetDownsample(ResnetBlock):
    role = "Downsample"
    named = DOWN_NAMES
    priority = 7  # over the plain resnet block: held where a downsampler is
    names_class = False  # "ResnetDownsample" says more than the role
    modes = ["avg_pool", "max_pool"]

    def match(self, cls, ctx: BlockContext) -> Match | None:
        if not cls.named or not re.fullmatch(self.named, cls.named, re.IGNORECASE):
            return None
        found = super().match(cls, ctx)
        if found is None:
            return None
        key = "downsample_type" if self.role == "Downsample" else "upsample_type"
        told = ctx.resolver.evidence(key)
        if self.role == "Downsample":  # a conv downsampler's padding: none acts in this one
            ctx.resolver.evidence("downsample_padding")  # (a conv downsampler reads its own)
        if told is not None and told[1] not in ("resnet", "sde_vp"):
            return None  # a FIR kernel, or a conv sampler: not this block
        mode = ctx.choose(
            cls, found.found[0], "resample", self.modes[0], self.modes[1:], "before conv1"
        )
        if told is not None and mode.source == "default":
            mode.source, mode.note = "metadata", f"{told[0]} {told[1]!r}"
        found.choices.append(mode)
        return found

    def resample(self, match: Match, g: Graph, h, x):
        mode = match.choices[-1].value
        if mode == "avg_pool":
            pool = dict(kernel_size=2, stride=2)
            h = g.call_function("avg_pool2d", h, kwargs=pool, name="h", comment="half the size")
            x = g.call_function("avg_pool2d", x, kwargs=pool, name="x")
            return h, x
        if mode == "max_pool":
            h = g.call_function("torch.max_pool2d", h, 2, 2, name="h", comment="half the size")
            return h, g.call_function("torch.max_pool2d", x, 2, 2, name="x")
        twice = {"scale_factor": 2.0, "mode": mode}
        h = g.call_function("interpolate", h, kwargs=twice, name="h", comment="twice the size")
        return h, g.call_function("interpolate", x, kwargs=twice, name="x")

    def example_inputs(self, match: Match, cls):
        return []  # a sampler inside a U-Net: what it takes depends on its neighbours

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()
        block = z["resnet"](8, 8, 12, resample="down")
        return [Example(z["holder"](block, "downsamplers"), z["with_temb"](8, 12), META)]


class ResnetUpsample(ResnetDownsample):
    role = "Upsample"
    named = UP_NAMES
    modes = ["nearest", "bilinear"]

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()
        block = z["resnet"](8, 8, 12, resample="up")
        return [Example(z["holder"](block, "upsamplers"), z["with_temb"](8, 12), META)]
