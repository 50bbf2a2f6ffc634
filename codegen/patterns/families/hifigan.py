"""HiFi-GAN's generator (Kong et al. 2020; jik876/hifi-gan models.py `Generator`, and the ports
that keep its names: transformers' SpeechT5HifiGan `upsampler`, Coqui TTS, NeMo): a mel
spectrogram [batch, mels, frames] to a waveform [batch, 1, samples].

    x = conv_pre(x)
    for i, up in enumerate(ups):
        x = up(leaky_relu(x, 0.1))
        x = mean(resblocks[i * k + j](x) for j in range(k))   # k blocks per upsampling
    return tanh(conv_post(leaky_relu(x)))                      # torch's slope, 0.01

No key records an upsampling conv's stride: every HiFi-GAN configuration pairs an upsample rate
u with a kernel of 2u (V1: rates 8, 8, 2, 2 and kernels 16, 16, 4, 4; SpeechT5: 4 and 8; BigVGAN
alike), padded (k - u) / 2: pinned so. The slopes are the code's; all are choices, the forward
says guessed.
"""

from __future__ import annotations

import re

from codegen.ir import ExampleInput
from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Example, Match
from codegen.patterns._kit import family, modules, tensors
from codegen.patterns.blocks.hifigan_resblock import list_items

PRE, POST = r"conv_pre|input_conv", r"conv_post|output_conv"
UPS, BLOCKS = r"ups|upsampler|upsamples", r"resblocks|blocks"
GEOMETRY = "HiFi-GAN's upsampling: stride half the kernel, padding (kernel - stride) / 2"
GUESS = (
    "the upsampling strides, the LeakyReLU slopes (0.1, then torch's 0.01 before conv_post) and "
    "the tanh leave no keys: HiFi-GAN's by convention"
)


def _named(members, pattern: str):
    found = [m for m in members if re.fullmatch(pattern, m.attr)]
    return found[0] if len(found) == 1 else None


def _conv1d(m) -> bool:
    return m is not None and m.kind == "builtin" and family(m) == "conv" and m.io.ndim == 1


def _kernel(m) -> int | None:
    kernel = {a.keyword: a.value for a in m.args}.get("kernel_size")
    return kernel if isinstance(kernel, int) else None


class HifiGanGenerator(BlockPattern):
    role = "Generator"
    priority = 10

    accepts = Accepts(4, 4, names=(PRE, POST, UPS, BLOCKS))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if len(members) != 4 or not cls.is_top:
            return None
        stats = {t.attr: t for t in tensors(cls)}
        if stats and (set(stats) != {"mean", "scale"} or len(stats["mean"].shape) != 1):
            return None
        pre, post = _named(members, PRE), _named(members, POST)
        ups, blocks = _named(members, UPS), _named(members, BLOCKS)
        if None in (pre, post, ups, blocks) or not (_conv1d(pre) and _conv1d(post)):
            return None
        upsamplers, resblocks = list_items(ups), list_items(blocks)
        if not upsamplers or not all(_conv1d(u) and "Transpose" in u.type_name for u in upsamplers):
            return None
        if len(resblocks) % len(upsamplers) or any(ctx.role(b) != "ResBlock" for b in resblocks):
            return None
        per = len(resblocks) // len(upsamplers)
        width = pre.io.out_width
        for i, up in enumerate(upsamplers):
            if up.io.in_width != width or _kernel(up) is None:
                return None
            width = up.io.out_width
            if any(
                b.io is None or b.io.in_width != width for b in resblocks[i * per : i * per + per]
            ):
                return None
        if post.io.in_width != width:
            return None
        choices = []
        if stats:
            # transformers' SpeechT5HifiGan: a spectrogram [batch, frames, mels], normalised by its
            # `mean` and `scale` where config.json's normalize_before says (the class's default:
            # true); the waveform [batch, samples]
            if tuple(stats["mean"].shape) != tuple(stats["scale"].shape):
                return None  # (their sizes, lifted to the constructor's, are what conv_pre reads)
            choices.append(
                ctx.resolver.choose(
                    cls.name,
                    "normalize_before",
                    True,
                    [False],
                    "the spectrogram normalised by mean and scale first (SpeechT5HifiGanConfig)",
                )
            )
        prefix = cls.instances[0][0] if cls.instances else ""
        pins = []
        for i, up in enumerate(upsamplers):
            k = _kernel(up)
            stride = k // 2
            path = f"{prefix}.{ups.attr}.{i}" if prefix else f"{ups.attr}.{i}"
            pins.append((path, "geometry", (stride, (k - stride) // 2, 0), GEOMETRY))
        slope = ctx.choose(
            cls,
            ups.attr,
            "activation",
            "leaky_relu_0.1",
            act.alternatives("leaky_relu_0.1", conv=True),
            "before each upsampling (HiFi-GAN's LRELU_SLOPE)",
        )
        last = ctx.choose(
            cls,
            post.attr,
            "activation",
            "leaky_relu_0.01",
            act.alternatives("leaky_relu_0.01", conv=True),
            f"before {post.attr} (HiFi-GAN's F.leaky_relu, torch's slope)",
        )
        output = ctx.choose(
            cls, post.attr, "output_activation", "tanh", ["identity"], "the waveform in [-1, 1]"
        )
        found = (pre.attr, ups.attr, len(upsamplers), blocks.attr, per, post.attr)
        found = found + (pre.io.in_width if stats else None,)
        choices = [slope, last, output] + choices
        explains = len(members) + len(stats)
        return Match(self, explains, found, choices, guessed=GUESS, pins=pins)

    def example_inputs(self, match: Match, cls) -> list[ExampleInput] | None:
        """A spectrogram [batch, frames, mels] where the model reads it so (SpeechT5's)."""
        mels = match.found[-1]
        return [ExampleInput((2, 32, mels))] if mels else None

    def forward(self, match: Match, g: Graph) -> None:
        pre, ups, count, blocks, per, post, _ = match.found
        slope, last, output, *normalize = (c.value for c in match.choices)
        if normalize:
            x = g.input("spectrogram")
            if normalize[0]:
                shifted = g.call_function("sub", x, g.getattr(("mean",)), inline=True)
                x = g.call_function("truediv", shifted, g.getattr(("scale",)), name="x")
            x = g.call_method("transpose", x, 1, 2, name="x", comment="[batch, mels, frames]")
        else:
            x = g.input("x")
        x = g.call_module((pre,), x, comment="[batch, channels, frames]")
        for i in range(count):
            x = act.apply(g, slope, x, inline=True)
            x = g.call_module((ups, str(i)), x, name="x")
            total = None
            for j in range(per):
                y = g.call_module((blocks, str(i * per + j)), x, inline=True)
                total = y if total is None else g.call_function("add", total, y, inline=True)
            x = g.call_function("truediv", total, per, name="x", comment="the blocks' mean")
        x = act.apply(g, last, x, inline=True)
        x = g.call_module((post,), x, name="x")
        if normalize:
            x = act.apply(g, output, x, name="x")
            g.output(g.call_method("squeeze", x, 1), comment="[batch, samples]")
        else:
            g.output(act.apply(g, output, x, inline=True), comment="[batch, 1, samples]")

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        from codegen.patterns.blocks.hifigan_resblock import HifiGanResBlock

        block1 = type(HifiGanResBlock.examples()[0].module)

        class Generator(nn.Module):  # transformers' SpeechT5HifiGan, without its mel buffers
            def __init__(self, mels: int = 5, c: int = 8, rates=(4, 2), kernels=(3, 5)):
                super().__init__()
                self.conv_pre = nn.Conv1d(mels, c, 7, 1, padding=3)
                self.upsampler = nn.ModuleList(
                    nn.ConvTranspose1d(c // 2**i, c // 2 ** (i + 1), 2 * u, u, padding=u // 2)
                    for i, u in enumerate(rates)
                )
                self.resblocks = nn.ModuleList(
                    block1(c // 2 ** (i + 1), k) for i in range(len(rates)) for k in kernels
                )
                self.conv_post = nn.Conv1d(c // 2 ** len(rates), 1, 7, 1, padding=3)
                self.k = len(kernels)

            def forward(self, x):
                x = self.conv_pre(x)
                for i, up in enumerate(self.upsampler):
                    x = up(F.leaky_relu(x, 0.1))
                    xs = sum(self.resblocks[i * self.k + j](x) for j in range(self.k))
                    x = xs / self.k
                return torch.tanh(self.conv_post(F.leaky_relu(x)))

        torch.manual_seed(0)
        return [Example(Generator().eval(), (torch.randn(2, 5, 6),))]
