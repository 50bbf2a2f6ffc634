"""A diffusion U-Net's up block (diffusers' UpBlock2D / AttnUpBlock2D): before each resnet block
the map is concatenated with one skip connection from the down path, the latest first; the resnet
is given the time embedding, its attention follows where there are some; an upsampler ends it.
`skips` are the down path's maps this block consumes, in the order they were made."""

from __future__ import annotations

from codegen.ir import ExampleInput
from codegen.ir.graph import Graph
from codegen.patterns._kit import Example, Match
from codegen.patterns.blocks.unet_down_block import UNetDownBlock


class UNetUpBlock(UNetDownBlock):
    role = "UNetUpBlock"
    # Where a U-Net holds it: a stage with no sampler could be either.
    named = r"up_blocks|up|output_blocks"
    sampler = "Upsample"

    def forward(self, match: Match, g: Graph) -> None:
        s = match.found
        x, temb = g.input("x"), g.input("temb")
        skips = g.input("skips", "list[torch.Tensor]")
        context = (g.input("context"),) if s.context else ()
        for i, resnet in enumerate(s.resnets):
            skip = g.call_function("getitem", skips, -1 - i, inline=True)
            x = g.call_function("cat", [x, skip], kwargs={"dim": 1}, name="x", inline=True)
            x = g.call_module(resnet, x, temb, name="x")
            if s.attentions:
                x = g.call_module(s.attentions[i], x, *context, name="x")
        if s.sampler is not None:
            extra = (temb,) if s.sampler_temb else ()
            x = g.call_module(s.sampler, x, *extra, name="x")
        g.output(x)

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        return []  # the skips are a list: no smoke-test inputs

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()
        return [Example(z["unet_up"](), z["up_inputs"](), META)]
