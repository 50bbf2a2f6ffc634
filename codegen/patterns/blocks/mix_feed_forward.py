"""The feed-forward of the pyramid vision transformers (SegFormer's Mix-FFN, PVTv2's and GLPN's):
a 3x3 depthwise conv between the two layers gives each token its neighbours (it replaces the
position table), on a channels-last map x [batch, height, width, channels]:

    h = fc1(x)                                     # widen
    h = act(dwconv(h.permute(0, 3, 1, 2)))         # depthwise, shape-preserving, on the map
    return fc2(h.permute(0, 2, 3, 1))              # narrow back

The depthwise conv is a member of its own or held alone in a class (`dwconv.dwconv`): that class
is `DepthwiseConv`, which applies its one conv. The activation is the class's choice
(config.json's `hidden_act`).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
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
from codegen.patterns.blocks._conv_parts import unit


def _shape_preserving_depthwise(m) -> bool:
    """A 2-d conv with one input channel per group, stride 1, an odd kernel padded by its half."""
    if m is None or m.kind != "builtin" or family(m) != "conv" or m.io is None:
        return False
    if m.io.ndim != 2 or m.io.in_width != m.io.out_width:
        return False
    args = {a.keyword: a.value for a in m.args}
    kernel, groups = args.get("kernel_size"), args.get("groups", 1)
    if not isinstance(kernel, int) or kernel % 2 == 0 or args.get("stride", 1) != 1:
        return False
    if args.get("padding", 0) != kernel // 2 or args.get("dilation", 1) != 1:
        return False
    return groups != 1 and (not isinstance(groups, int) or groups == m.io.in_width)


class DepthwiseConv(BlockPattern):
    """A class that holds one shape-preserving depthwise 2-d conv and nothing else: it applies it
    to a channels-first map."""

    role = "DepthwiseConv"
    priority = 10

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or not _shape_preserving_depthwise(members[0]):
            return None
        return Match(self, 2, (members[0].attr,))

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")  # [batch, channels, height, width]
        g.output(g.call_module(match.found, x))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._pyramid_examples import modules as zoo

        # alone, a [C, 1, 3, 3] weight may be a one-channel conv: the feed-forward shows depthwise
        mix = zoo()["MixFeedForward"](8, 16)
        return [Example(mix, (torch.randn(2, 5, 6, 8),), {"hidden_act": "gelu"})]


class MixFeedForward(BlockPattern):
    role = "MixFeedForward"
    priority = 20  # two linears and a depthwise conv: not the width chain's
    synonyms = act.SYNONYMS

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        linears = [m for m in members if family(m) == "linear" and m.io is not None]
        rest = [m for m in members if m not in linears]
        if len(linears) != 2 or len(rest) != 1:
            return None
        conv = rest[0]
        if conv.kind == "class":
            if ctx.role(conv) != "DepthwiseConv":
                return None
            held = unit(conv, ctx)
            width = held.in_width if held is not None else None
        elif _shape_preserving_depthwise(conv):
            width = conv.io.in_width
        else:
            return None
        up = [m for m in linears if m.io.out_width == width]
        down = [m for m in linears if m.io.in_width == width]
        if len(up) != 1 or len(down) != 1 or up[0] is down[0]:
            return None
        activation = ctx.choose(
            cls,
            up[0].attr,
            "activation",
            "gelu",
            act.feed_forward("", ctx.resolver, common=True),
            "the feed-forward activation, after the depthwise conv",
            aliases=act.ALIASES,
        )
        act.fixed_by_model_type(ctx.resolver, activation)
        found = (up[0].attr, conv.attr, down[0].attr, activation.value)
        return Match(self, len(members) + 1, found, [activation])

    def forward(self, match: Match, g: Graph) -> None:
        up, conv, down, activation = match.found
        x = g.input("x")  # [batch, height, width, channels]
        h = g.call_module((up,), x, name="h")
        h = g.call_method("permute", h, 0, 3, 1, 2, inline=True)
        h = g.call_module((conv,), h, inline=True)
        h = g.call_method("permute", h, 0, 2, 3, 1, inline=True)
        h = act.apply(g, activation, h, name="h", comment="depthwise on the map, then activated")
        g.output(g.call_module((down,), h))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._pyramid_examples import modules as zoo

        mix = zoo()["MixFeedForward"](8, 16)
        return [Example(mix, (torch.randn(2, 5, 6, 8),), {"hidden_act": "gelu"})]
