"""The parts of a pyramid vision transformer's stage (PVTv2, SegFormer, GLPN), on channels-last
maps x [batch, height, width, channels]:

- `OverlapPatchEmbedding`: a conv whose kernel overlaps its stride (7 over 4, 3 over 2), padded by
  half its kernel, then a LayerNorm over the channels: image or map -> a normalised map;
- `PyramidLayer`: pre-norm residual attention and feed-forward, the attention told the stage's
  head count: `x = x + attention(norm1(x), nhead); x = x + mlp(norm2(x))`;
- `PyramidStage` (PVTv2 keeps each stage in a class): embed, the layers, a final norm, and the
  map back channels-first [batch, channels, height, width] for the next stage.
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
    one_named,
    stack,
    tensors,
)
from codegen.patterns.blocks.encoder_layer import AFTER, BEFORE

ATTENTION = ("ReducedAttention", "ReducedAttentionBlock")
FEED_FORWARD = ("MixFeedForward", "MLP")
NORM_BEFORE = BEFORE + r"|layer_norm_?1|norm_1"
NORM_AFTER = AFTER + r"|layer_norm_?2|norm_2"


def overlap_patch(cls) -> tuple[str, str] | None:
    """(conv, norm) attributes of a class holding a conv whose kernel overlaps its stride, padded
    by half the kernel, and a LayerNorm over its output channels; nothing else."""
    members = modules(cls)
    if tensors(cls) or len(members) != 2:
        return None
    convs = [m for m in members if family(m) == "conv" and m.io is not None]
    norms = [m for m in members if m.type_name == "nn.LayerNorm" and m.io is not None]
    if len(convs) != 1 or len(norms) != 1 or convs[0].io.ndim != 2:
        return None
    args = {a.keyword: a.value for a in convs[0].args}
    kernel, stride = args.get("kernel_size"), args.get("stride", 1)
    if not isinstance(kernel, int) or not isinstance(stride, int) or kernel <= stride:
        return None
    if args.get("padding", 0) != kernel // 2 or args.get("groups", 1) != 1:
        return None
    if norms[0].io.in_width != convs[0].io.out_width:
        return None
    return convs[0].attr, norms[0].attr


class OverlapPatchEmbedding(BlockPattern):
    role = "OverlapPatchEmbedding"
    priority = 20

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = overlap_patch(cls)
        return Match(self, 3, found) if found is not None else None

    def forward(self, match: Match, g: Graph) -> None:
        conv, norm = match.found
        x = g.input("x")  # [batch, channels, height, width]
        x = g.call_module((conv,), x, inline=True)
        x = g.call_method("permute", x, 0, 2, 3, 1, name="x", comment="[batch, height, width, C]")
        g.output(g.call_module((norm,), x))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._pyramid_examples import modules as zoo

        embed = zoo()["OverlapPatchEmbedding"](3, 8, 3, 1)
        return [Example(embed, (torch.randn(2, 3, 20, 18),))]


class PyramidLayer(BlockPattern):
    role = "PyramidLayer"
    priority = 25

    accepts = Accepts(
        4,
        4,
        tensors=False,
        names=(NORM_BEFORE, NORM_AFTER),
        families=("norm",),
        roles=(ATTENTION, FEED_FORWARD),
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 4:
            return None
        attention = [m for m in members if ctx.role(m) in ATTENTION]
        mlp = [m for m in members if ctx.role(m) in FEED_FORWARD]
        before, after = one_named(members, NORM_BEFORE), one_named(members, NORM_AFTER)
        if len(attention) != 1 or len(mlp) != 1 or before is None or after is None:
            return None
        if family(before) != "norm" or family(after) != "norm" or before is after:
            return None
        found = (before.attr, attention[0].attr, after.attr, mlp[0].attr)
        return Match(self, 5, found)

    def forward(self, match: Match, g: Graph) -> None:
        before, attention, after, mlp = match.found
        x = g.input("x")  # [batch, height, width, channels]
        nhead = g.input("nhead", "int")
        h = g.call_module(
            (attention,), g.call_module((before,), x, inline=True), nhead, inline=True
        )
        x = g.call_function("add", x, h, name="x")
        h = g.call_module((mlp,), g.call_module((after,), x, inline=True), inline=True)
        g.output(g.call_function("add", x, h))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._pyramid_examples import modules as zoo

        layer = zoo()["PyramidLayer"](8, ratio=2)
        return [Example(layer, (torch.randn(2, 6, 4, 8), 2), {"hidden_act": "gelu"})]


def layer_stack(ctx: BlockContext, m) -> bool:
    """A container whose items are all pyramid layers, applied in turn."""
    if m is None or m.kind not in ("modulelist", "sequential", "repeat") or not m.children:
        return False
    if stack(m) is not None:
        return ctx.role(stack(m)[0]) == "PyramidLayer"
    return all(ctx.role(c) == "PyramidLayer" for c in m.children)


def run_stage(g: Graph, x, embed: tuple, layers: tuple, norm: tuple, nhead, last_map: bool):
    """Nodes for one stage: x [batch, C, height, width] -> the next stage's input (or, where
    `last_map` is False, the normalised tokens [batch, height * width, C])."""
    h = g.call_module(embed, x, name="x", comment="[batch, height, width, C]")
    h = g.call_module(layers, h, nhead, each=True, name="x")
    h = g.call_module(norm, h, name="x")
    if not last_map:
        return g.call_method("flatten", h, 1, 2, name="x")
    return g.call_method("permute", h, 0, 3, 1, 2, name="x")


class PyramidStage(BlockPattern):
    role = "PyramidStage"
    priority = 25

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        embed = [m for m in members if ctx.role(m) == "OverlapPatchEmbedding"]
        layers = [m for m in members if layer_stack(ctx, m)]
        norms = [m for m in members if family(m) == "norm"]
        if len(embed) != 1 or len(layers) != 1 or len(norms) != 1:
            return None
        return Match(self, 4, (embed[0].attr, layers[0].attr, norms[0].attr))

    def forward(self, match: Match, g: Graph) -> None:
        embed, layers, norm = match.found
        x = g.input("x")  # [batch, channels, height, width]
        nhead = g.input("nhead", "int")
        g.output(run_stage(g, x, (embed,), (layers,), (norm,), nhead, True))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._pyramid_examples import modules as zoo

        stage = zoo()["PyramidStage"](3, 8, patch=3, stride=1, ratio=2, depth=2)
        return [Example(stage, (torch.randn(2, 3, 10, 8), 2), {"hidden_act": "gelu"})]
