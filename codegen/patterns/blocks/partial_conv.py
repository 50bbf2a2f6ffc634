"""A spatial conv over some of the channels that reach it, the rest passed on untouched (issue 16):

    kept, rest = x.split([conv.in_channels, x.size(1) - conv.in_channels], 1)
    return cat([conv(kept), rest], 1)

FasterNet's partial convolution (Chen et al. 2023, `Partial_conv3`: a 3x3 conv over the first
quarter of the channels, both of its forward modes, `slicing` and `split_cat`), and the ports
that plug it into YOLO necks and other backbones. Proven by the block around it, not by its own
keys (layers/conv_groups.py's `partial_convs`: a sibling path keeps a wider width, and nothing
beside the conv reads or gives its width), so a class holding one conv reads it only where every
instance is proven partial. Which channels it convolves leaves no key: the first (FasterNet's,
the reading every port copies), or the last; the choice `partial_channels`, and the class says
guessed until evidence or calibration settles it.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import tensors
from codegen.patterns.layers.conv_groups import PARTIAL_CONV

ROLE = "PartialConv"
PLACES = ("first", "last")


class PartialConv(BlockPattern):
    role = ROLE
    priority = 9  # proven by the block around it: rather than the one conv's chain

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or family(members[0]) != "conv":
            return None
        told = [ctx.resolver.structural.get((path, PARTIAL_CONV)) for path, _ in cls.instances]
        if not told or None in told:
            return None
        conv = members[0]
        place = ctx.choose(
            cls,
            conv.attr,
            "partial_channels",
            "first",
            ["last"],
            "the channels the conv reads, the rest passed on (FasterNet's Partial_conv3: first)",
        )
        guessed = ""
        if place.source == "default":
            guessed = (
                f"{conv.attr} reads {told[0][0]} of the {told[0][1]} channels that reach it "
                "(proven by the widths beside it); which ones leaves no key: read as the first "
                "(FasterNet's partial convolution), the choice partial_channels"
            )
        return Match(self, 2, (conv.attr, place.value), [place], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        attr, place = match.found
        x = g.input("x")
        width = g.getattr((attr, "in_channels"), name="width")
        rest = g.call_function("sub", g.call_method("size", x, 1, inline=True), width, inline=True)
        widths = [width, rest] if place == "first" else [rest, width]
        parts = g.call_method("split", x, widths, kwargs={"dim": 1}, name="parts")
        on, kept = (0, 1) if place == "first" else (1, 0)
        mixed = g.call_module((attr,), g.call_function("getitem", parts, on, inline=True))
        untouched = g.call_function("getitem", parts, kept, inline=True)
        joined = [mixed, untouched] if place == "first" else [untouched, mixed]
        g.output(g.call_function("cat", joined, 1, comment="the other channels pass untouched"))

    @staticmethod
    def examples() -> list[Example]:
        return []  # tests/test_partial_conv.py: three layouts
