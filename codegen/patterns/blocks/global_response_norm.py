"""Global response norm (ConvNeXt V2): on channels-last features, each channel's L2 norm over the
image divided by the mean of those norms rescales the features, `weight * (x * nx) + bias + x`.

Recognised from shapes: a class with no submodules holding a scale and a shift of one shape
[1, ..., 1, C] (Hugging Face's `weight`/`bias`, the official code's `gamma`/`beta`): no torch.nn
norm stores its affine parameters so (layers/norms.py declines them). timm keeps them 1-D
(`weight`/`bias` [C]), the shape of a LayerNorm's: there the name (`grn`, a `response_norm`) breaks
the tie, as the layer pattern does. eps (1e-6) is fixed by every implementation's code.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    broadcast_vector,
    grn_named,
    modules,
    tensors,
)

PAIRS = (("weight", "bias"), ("gamma", "beta"))


class GlobalResponseNorm(BlockPattern):
    role = "GlobalResponseNorm"
    priority = 5

    accepts = Accepts(0, 0)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = {t.attr: t for t in tensors(cls)}
        if modules(cls) or len(found) != 2:
            return None
        pair = next((p for p in PAIRS if set(p) == set(found)), None)
        if pair is None:
            return None
        scale, shift = found[pair[0]], found[pair[1]]
        if scale.shape != shift.shape or scale.kind != "parameter":
            return None
        named = any(grn_named(path.rsplit(".", 1)[-1]) for path, _ in cls.instances)
        if not broadcast_vector(tuple(scale.shape)) and not (len(scale.shape) == 1 and named):
            return None
        return Match(self, 2, pair)

    def forward(self, match: Match, g: Graph) -> None:
        scale, shift = match.found
        x = g.input("x")
        weight, bias = g.getattr((scale,)), g.getattr((shift,))
        g.output(
            g.call_function(
                "global_response_norm", x, weight, bias, comment="[batch, height, width, channels]"
            )
        )

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._vision6_examples import modules as zoo

        grn = zoo()["global_response_norm"]
        inputs = (torch.randn(2, 5, 6, 8),)
        return [Example(grn(8, official=True), inputs), Example(grn(8, official=False), inputs)]
