"""diffusers' Transformer2DModel (latent diffusion's SpatialTransformer): a feature map read as a
sequence of pixels, through transformer blocks that attend to `context`, and added back:

    h = proj_in(norm(x))                          # a 1x1 conv (or, after the reshape, a Linear)
    h = h.permute(0, 2, 3, 1).reshape(batch, height * width, inner)
    for block in transformer_blocks: h = block(h, context)
    return proj_out(h.reshape(batch, height, width, inner).permute(0, 3, 1, 2)) + x

Whether the projections are convs or Linears shows in their shapes (config.json's
use_linear_projection).
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
)
from codegen.patterns._kit import one_named, tensors
from codegen.patterns.blocks._unet_parts import items, takes_temb


class SpatialTransformer(BlockPattern):
    role = "SpatialTransformer"
    priority = 6

    accepts = Accepts(
        4, 4, tensors=False, names=("norm", "transformer_blocks", "proj_in", "proj_out")
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        norm, blocks = one_named(members, r"norm"), one_named(members, r"transformer_blocks")
        proj_in, proj_out = one_named(members, r"proj_in"), one_named(members, r"proj_out")
        if tensors(cls) or None in (norm, blocks, proj_in, proj_out) or len(members) != 4:
            return None
        if norm.type_name != "nn.GroupNorm":
            return None
        kinds = {family(proj_in), family(proj_out)}
        if kinds not in ({"conv"}, {"linear"}):
            return None
        paths = items(cls, blocks, ctx, "ContextTransformerBlock")
        if not paths:
            return None
        inner = proj_in.io.out_width
        if proj_out.io.in_width != inner or proj_out.io.out_width != norm.io.in_width:
            return None
        context = takes_temb(blocks, ctx, "context")
        found = (norm.attr, proj_in.attr, paths, proj_out.attr, kinds == {"linear"}, inner, context)
        return Match(self, 4, found)

    def forward(self, match: Match, g: Graph) -> None:
        norm, proj_in, paths, proj_out, linear, _, takes_context = match.found
        x = g.input("x")
        context = g.input("context") if takes_context else None
        batch = g.call_method("size", x, 0, name="batch")
        height = g.call_method("size", x, 2, name="height")
        width = g.call_method("size", x, 3, name="width")
        h = g.call_module((norm,), x, name="h", inline=True)
        if not linear:
            h = g.call_module((proj_in,), h, name="h", inline=True)
        h = g.call_method("permute", h, 0, 2, 3, 1, name="h", inline=True)
        pixels = g.call_function("mul", height, width, inline=True)
        h = g.call_method("reshape", h, batch, pixels, -1, name="h", comment="[batch, pixels, d]")
        if linear:
            h = g.call_module((proj_in,), h, name="h")
        for path in paths:
            args = (h, context) if context is not None else (h,)
            h = g.call_module(path, *args, name="h")
        if linear:
            h = g.call_module((proj_out,), h, name="h")
        h = g.call_method("reshape", h, batch, height, width, -1, name="h", inline=True)
        h = g.call_method("permute", h, 0, 3, 1, 2, name="h")
        if not linear:
            h = g.call_module((proj_out,), h, name="h", inline=True)
        g.output(g.call_function("add", h, x))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._transformer_examples import modules as zoo

        z = zoo()
        meta = {"num_attention_heads": 4, "norm_num_groups": 4}
        return [Example(z["transformer"](16, 4, 24), z["image_and_context"](16, 24), meta)]
