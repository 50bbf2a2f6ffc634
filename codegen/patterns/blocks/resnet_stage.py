"""A stage of an autoencoder's encoder or decoder (diffusers' DownEncoderBlock2D / UpDecoderBlock2D):
resnet blocks in turn, each followed by its attention where there are some, then a downsampler or
an upsampler. No time embedding: the resnets have no projection for one."""

from __future__ import annotations

from codegen.ir import ExampleInput
from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Example, Match
from codegen.patterns.blocks._unet_parts import STAGE_ACCEPTS, stage, stage_examples


class ResnetStage(BlockPattern):
    role = "ResnetStage"
    priority = 5
    accepts = STAGE_ACCEPTS

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = (
            stage(cls, ctx, "Downsample") or stage(cls, ctx, "Upsample") or stage(cls, ctx, None)
        )
        if found is None or found.temb:
            return None
        return Match(self, found.explains, found)

    def forward(self, match: Match, g: Graph) -> None:
        s = match.found
        x = g.input("x")
        for i, resnet in enumerate(s.resnets):
            x = g.call_module(resnet, x, name="x")
            if s.attentions:
                x = g.call_module(s.attentions[i], x, name="x")
        if s.sampler is not None:
            x = g.call_module(s.sampler, x, name="x")
        g.output(x)

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        return stage_examples(cls)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()
        return [Example(z["stage"](), z["image"](8), META)]
