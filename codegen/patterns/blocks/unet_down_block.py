"""A diffusion U-Net's down block (diffusers' DownBlock2D / AttnDownBlock2D / CrossAttnDownBlock2D):
resnet blocks given the time embedding, each followed by its attention where there are some (a
transformer given `context` in a conditional U-Net), then a downsampler. It
returns every intermediate map, the last being the block's output: the up path concatenates them
back (skip connections)."""

from __future__ import annotations

import re

from codegen.ir import ExampleInput
from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Example, Match
from codegen.patterns.blocks._unet_parts import STAGE_ACCEPTS, stage, stage_examples


class UNetDownBlock(BlockPattern):
    role = "UNetDownBlock"
    priority = 5
    # Where a U-Net holds it: a stage with no sampler could be either.
    named = r"down_blocks|down|input_blocks"
    sampler = "Downsample"  # the up block (unet_up_block.py) matches the same way, with its own
    accepts = STAGE_ACCEPTS

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = stage(cls, ctx, self.sampler) or stage(cls, ctx, None)
        if found is None or not found.temb or not re.fullmatch(self.named, cls.named):
            return None
        return Match(self, found.explains, found)

    def forward(self, match: Match, g: Graph) -> None:
        s = match.found
        x, temb = g.input("x"), g.input("temb")
        context = (g.input("context"),) if s.context else ()
        states = []
        for i, resnet in enumerate(s.resnets):
            x = g.call_module(resnet, x, temb, name="x")
            if s.attentions:
                x = g.call_module(s.attentions[i], x, *context, name="x")
            states.append(x)
        if s.sampler is not None:
            extra = (temb,) if s.sampler_temb else ()
            states.append(g.call_module(s.sampler, x, *extra, name="x"))
        g.returns = "list[torch.Tensor]"
        g.output(states, comment="every map, for the skip connections; the last goes on")

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        return stage_examples(cls)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()
        return [Example(z["unet_down"](), z["with_temb"](8, 12), META)]
