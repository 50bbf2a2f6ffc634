"""A U-Net block holding a resnet block and the attention after it (labml.ai's annotated DDPM
`DownBlock`/`UpBlock`: `res`, then `attn`, an identity where the level has none):

    x = res(x, t); return attn(x)

The resnet takes the time embedding; the attention (over the pixels) does not."""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    one_named,
)
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._unet_parts import PIXEL_ATTENTIONS


class ResnetAttentionBlock(BlockPattern):
    role = "UNetBlock"
    priority = 6

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        res, attn = one_named(members, r"res(net)?|block"), one_named(members, r"attn|attention")
        if res is None or attn is None:
            return None
        if ctx.role(res) != "ResnetBlock" or not ctx.takes(res, "temb"):
            return None
        if ctx.role(attn) not in PIXEL_ATTENTIONS or ctx.takes(attn, "context"):
            return None
        return Match(self, len(members), (res.attr, attn.attr))

    def forward(self, match: Match, g: Graph) -> None:
        res, attn = match.found
        x = g.call_module((res,), g.input("x"), g.input("temb"), name="x")
        g.output(g.call_module((attn,), x))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.families._skip_stack_examples import labml_block

        torch.manual_seed(1)
        return [Example(labml_block(32, 64, 16), (torch.randn(2, 32, 4, 4), torch.randn(2, 16)))]
