"""Cross-covariance attention over tokens: XCiT's `XCA` (El-Nouby et al. 2021,
facebookresearch/xcit; EdgeNeXt's SDTA encoder keeps it as written), the token spelling of
Restormer's channel attention (blocks/transposed_attention.py, whose core it shares):

    q, k, v = qkv(x) -> 3 x [batch, heads, C / heads, tokens]; q, k = F.normalize(q / k, dim=-1)
    attn = softmax((q @ k^T) * temperature)     # [heads, C / heads, C / heads]: channels attend
    return proj((attn @ v) -> [batch, tokens, C])

The shapes give the wiring: a fused Linear(C, 3C), a Linear(C, C) and a [heads, 1, 1] scale (its
head count, read when called). The same members could hold a cosine attention over the tokens
scaled by exp(the scale) (Swin V2's `logit_scale`, which also holds a position-bias MLP): the
scale's name tells them apart, so a scale not named as a temperature leaves the class guessed.

Forward: x [batch, tokens, C] -> [batch, tokens, C].
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
    tensors,
)
from codegen.patterns._kit import _named
from codegen.patterns.blocks.transposed_attention import attend_across_channels

TEMPERATURE = r".*temp.*|tau"


def _linear(m) -> bool:
    return m.kind == "builtin" and family(m) == "linear" and m.io is not None


class CrossCovarianceAttention(BlockPattern):
    role = "CrossCovarianceAttention"
    priority = 8

    accepts = Accepts(2, 2, tensors=True, families=("linear",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        scales, members = tensors(cls), modules(cls)
        if len(scales) != 1 or len(members) != 2 or not all(_linear(m) for m in members):
            return None
        temperature = scales[0]
        if len(temperature.shape) != 3 or tuple(temperature.shape[1:]) != (1, 1):
            return None
        qkv = [m for m in members if m.io.out_width == 3 * m.io.in_width]
        proj = [m for m in members if m.io.in_width == m.io.out_width]
        if len(qkv) != 1 or len(proj) != 1 or qkv[0].io.in_width != proj[0].io.in_width:
            return None
        heads, width = temperature.shape[0], proj[0].io.in_width
        if isinstance(heads, int) and isinstance(width, int) and width % heads:
            return None
        guessed = ""
        if not _named(TEMPERATURE, temperature.attr):
            guessed = (
                f"{temperature.attr} [heads, 1, 1] read as XCiT's temperature on channel "
                "attention; a cosine attention over the tokens (Swin V2's exp(logit_scale)) holds "
                "the same shapes"
            )
        found = (temperature.attr, qkv[0].attr, proj[0].attr)
        return Match(self, len(members) + 1, found, [], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        temperature, qkv, proj = match.found
        x = g.input("x")
        # (read from the temperature: instances of one class may differ in their head count)
        heads = g.call_method("size", g.getattr((temperature,)), 0, name="heads")
        batch = g.call_method("size", x, 0, name="batch")
        tokens = g.call_method("size", x, 1, name="tokens")
        channels = g.call_method("size", x, 2, name="channels")
        parts = g.call_method(
            "chunk", g.call_module((qkv,), x, inline=True), 3, kwargs={"dim": -1}, name="parts"
        )

        def split(t, name: str):  # [batch, tokens, C] -> [batch, heads, C / heads, tokens]
            t = g.call_method("reshape", t, batch, tokens, heads, -1, inline=True)
            return g.call_method("permute", t, 0, 2, 3, 1, name=name)

        out = attend_across_channels(g, parts, split, temperature)
        out = g.call_method("permute", out, 0, 3, 1, 2, inline=True)
        out = g.call_method("reshape", out, batch, tokens, channels, name="out")
        g.output(g.call_module((proj,), out))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class ChannelMixer(nn.Module):  # XCiT's spelling: one reshape to (3, heads, d), no qkv bias
            def __init__(self, dim: int, heads: int) -> None:
                super().__init__()
                self.heads = heads
                self.temp = nn.Parameter(torch.rand(heads, 1, 1) + 0.5)
                self.to_qkv = nn.Linear(dim, dim * 3, bias=False)
                self.out = nn.Linear(dim, dim)

            def forward(self, x):
                b, n, c = x.shape
                qkv = self.to_qkv(x).reshape(b, n, 3, self.heads, c // self.heads)
                q, k, v = qkv.permute(2, 0, 3, 4, 1)
                q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
                attn = ((q @ k.transpose(-2, -1)) * self.temp).softmax(dim=-1)
                return self.out((attn @ v).permute(0, 3, 1, 2).reshape(b, n, c))

        from codegen.patterns.families._examples import modules as refs

        torch.manual_seed(0)
        holder = refs()["holder"](ChannelMixer(12, 3))  # a generated class is its member
        return [Example(holder.eval(), (torch.randn(2, 7, 12),))]
