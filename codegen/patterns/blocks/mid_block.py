"""The middle of a U-Net or an autoencoder (diffusers' UNetMidBlock2D): a resnet block, then each
attention followed by the next resnet block (without attentions, held as `mid_block`: the resnet
blocks in turn). Latent diffusion's `mid` holds them as numbered members instead of lists:
`block_1`, `attn_1`, `block_2`, run in that order (labml.ai's DDPM: `res1`, `attn`, `res2`). The resnets take the time embedding where they have
a projection for it.

diffusers divides each of the middle block's resnet outputs (and each plain attention's, not a
transformer's) by `output_scale_factor`, the U-Net's `mid_block_scale_factor` (score-SDE's
sqrt(2)); those divisions end their modules, so the middle block applies them after each call:
a choice, 1 unless config.json says otherwise."""

from __future__ import annotations

import re

from codegen.ir import ExampleInput
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
from codegen.patterns.blocks._unet_parts import ATTENTIONS, PIXEL_ATTENTIONS, RESNETS, items
from codegen.patterns.blocks._unet_parts import stage_examples
from codegen.patterns.blocks._unet_parts import takes_temb


def naming(cls) -> str:
    return cls.named


def _numbered_members(cls, ctx: BlockContext):
    """`block_1, attn_1, block_2, ...` (latent diffusion's mid): resnets numbered 1..n and
    attentions 1..n-1, nothing else; the found tuple MidBlock.forward reads, or None."""
    members = modules(cls)
    if tensors(cls) or not members:
        return None
    blocks, attns = {}, {}
    for m in members:
        # labml.ai's MiddleBlock: `res1`, `attn`, `res2` (its one attention unnumbered)
        found = re.fullmatch(r"(block|res|attn)_?(\d*)", m.attr)
        if found is None or m.kind != "class":
            return None
        number = int(found.group(2) or (1 if found.group(1) == "attn" else 0))
        (attns if found.group(1) == "attn" else blocks)[number] = m
    n = len(blocks)
    if sorted(blocks) != list(range(1, n + 1)) or sorted(attns) != list(range(1, len(attns) + 1)):
        return None
    if len(attns) not in (0, n - 1) or n < 1:
        return None
    if any(ctx.role(m) != "ResnetBlock" for m in blocks.values()):
        return None
    if any(ctx.role(m) not in PIXEL_ATTENTIONS for m in attns.values()):
        return None
    first = blocks[1]
    resnets = [(blocks[i].attr,) for i in range(1, n + 1)]
    attentions = [(attns[i].attr,) for i in range(1, len(attns) + 1)]
    context = bool(attns) and ctx.takes(attns[1], "context")
    return (resnets, attentions, ctx.takes(first, "temb"), context)


class MidBlock(BlockPattern):
    role = "MidBlock"
    named = r"mid_?block|mid|middle_?block"
    priority = 6  # over a stage: one resnet more than attentions
    synonyms = {"output_scale": ("mid_block_scale_factor",)}
    accepts = Accepts(1, tensors=False, names=(rf"(block|res|attn)_?\d*|{RESNETS}",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        numbered = _numbered_members(cls, ctx)
        if numbered is not None:
            return Match(self, len(members), (*numbered, 1.0, False))
        resnet_m, attn_m = one_named(members, RESNETS), one_named(members, ATTENTIONS)
        named = re.fullmatch(r"mid_?block|mid|middle_?block", naming(cls) or "", re.IGNORECASE)
        if tensors(cls) or resnet_m is None or len(members) != 1 + (attn_m is not None):
            return None
        if attn_m is None and not named:  # no attention: a middle block only where it is held
            return None
        resnets = items(cls, resnet_m, ctx, "ResnetBlock")
        attentions = items(cls, attn_m, ctx, PIXEL_ATTENTIONS) if attn_m else []
        if resnets is None or attentions is None:
            return None
        if attentions and len(resnets) != len(attentions) + 1:
            return None
        context = attn_m is not None and takes_temb(attn_m, ctx, "context")
        scale = ctx.choose(
            cls,
            resnet_m.attr,
            "output_scale",
            1.0,
            [2**0.5],
            "each resnet's (and plain attention's) output divided by this",
            accepts="positive_number",
        )
        held = attn_m.children[0] if attn_m is not None and attn_m.children else attn_m
        plain = bool(attentions) and ctx.role(held) == "SpatialAttention"  # not a transformer
        found = (resnets, attentions, takes_temb(resnet_m, ctx), context, float(scale.value), plain)
        return Match(self, len(members), found, [scale])

    def forward(self, match: Match, g: Graph) -> None:
        resnets, attentions, temb, takes_context, scale, plain = match.found
        x = g.input("x")
        extra = (g.input("temb"),) if temb else ()
        context = (g.input("context"),) if takes_context else ()

        def rescaled(x, divide: bool = True):
            if scale == 1.0 or not divide:
                return x
            return g.call_function("truediv", x, scale, name="x", comment="output_scale_factor")

        x = rescaled(g.call_module(resnets[0], x, *extra, name="x"))
        for i, resnet in enumerate(resnets[1:]):
            if attentions:
                x = rescaled(g.call_module(attentions[i], x, *context, name="x"), plain)
            x = rescaled(g.call_module(resnet, x, *extra, name="x"))
        g.output(x)

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        return stage_examples(cls)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()
        return [
            Example(z["mid"](12), z["with_temb"](8, 12), META),
            Example(z["mid"](None), z["image"](8), META),
        ]
