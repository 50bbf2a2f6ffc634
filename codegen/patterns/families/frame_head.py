"""A task model around a speech encoder that takes mel frames itself (a Conformer with its own
subsampler: Lasr's `LasrForCTC`): the encoder, then a head reading every frame, a Linear or a
Conv1d of kernel 1 (Lasr's `LasrEncoderCTCHead`) over the frames moved to the last axis and back:
[batch, frames, mel bins] -> [batch, fewer frames, vocab_size].

A kernel-1 conv computes a Linear's per frame; its stride and padding, which no key records, are
the ones that keep every frame (a CTC head scores each)."""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks.selective_scan import _kernel, conv_pins

HEAD = r"lm_head|ctc_head|head|ctc|classifier"
ENCODER_ROLES = ("ConvPositionEncoder",)
FEATURES = "input_features"
WHY = "a CTC head scores every frame"


class FrameHeadModel(BlockPattern):
    role = "FrameHeadModel"
    priority = 5

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        encoder = [m for m in members if ctx.role(m) in ENCODER_ROLES]
        if len(encoder) != 1 or not ctx.takes(encoder[0], FEATURES):
            return None  # an encoder of its own front end (it reads the mel frames)
        head = next(m for m in members if m is not encoder[0])
        if not re.fullmatch(HEAD, head.attr) or head.io is None:
            return None
        pins = []
        if family(head) == "conv":
            if head.io.ndim != 1 or _kernel(head) != 1:
                return None
            pins = conv_pins(head, {"stride": 1, "padding": 0}, WHY)
        elif family(head) != "linear":
            return None
        found = (encoder[0].attr, head.attr, family(head) == "conv")
        return Match(self, 2, found, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        encoder, head, conv = match.found
        x = g.input(FEATURES)  # [batch, frames, mel bins]
        x = g.call_module((encoder,), x, comment="[batch, frames, d]")
        if conv:
            x = g.call_method("transpose", x, 1, 2, inline=True)
            x = g.call_module((head,), x, inline=True)
            x = g.call_method("transpose", x, 1, 2, inline=True)
        else:
            x = g.call_module((head,), x, inline=True)
        g.output(x, comment="[batch, frames, vocab_size]")

    @staticmethod
    def examples():
        import torch
        import transformers

        from codegen.patterns._kit import Example
        from codegen.patterns.blocks.linear_conv_subsampler import TINY_LASR

        class Logits(transformers.LasrForCTC):
            def forward(self, input_features):
                return super().forward(input_features).logits

        config = transformers.LasrCTCConfig(encoder_config=TINY_LASR, vocab_size=20)
        torch.manual_seed(0)
        model = lasr_statistics(Logits(config).eval())
        return [Example(model, (torch.randn(2, 23, 10),), config.to_dict())]


def lasr_statistics(model):
    """`model` with its batch norms' statistics away from their initial values."""
    import torch

    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    return model
