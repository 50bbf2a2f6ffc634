"""A super-resolution net that is one plain stack of convolutions (Real-ESRGAN's SRVGGNetCompact,
ESPCN): the stack's last conv gives r*r times the input's channels, a pixel shuffle by r turns them
into an r-times larger image, and the input, upsampled to that size, may be added back.

    out = pixel_shuffle(body(x), r)
    return out + interpolate(x, scale_factor=r, mode="nearest")     # SRVGGNetCompact; ESPCN: none

The ratio of widths shows the shuffle; the residual leaves no tensor, so it is a choice, and the
forward is marked guessed until calibration (or --hints) settles it: Real-ESRGAN's compact net
adds the nearest-upsampled input, ESPCN adds nothing.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import tensors
from codegen.patterns.families.super_resolution import add_input_residual

RATIOS = (2, 3, 4)


class CompactSuperResolution(BlockPattern):
    role = "SuperResolution"
    priority = 10

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1:
            return None
        body = members[0]
        if body.kind not in ("sequential", "modulelist"):
            return None
        items = [c for c in body.children if c.kind != "placeholder"]
        convs = [c for c in items if family(c) == "conv"]
        if not convs or any(c.kind != "builtin" for c in items):
            return None
        if any(family(c) not in ("conv", "activation") for c in items):
            return None
        if any(c.type_name != "nn.Conv2d" for c in convs):
            return None
        width = convs[0].io.in_width
        for a, b in zip(convs, convs[1:]):
            if a.io.out_width != b.io.in_width:
                return None
        out = convs[-1].io.out_width
        r = next((r for r in RATIOS if width and out == width * r * r), None)
        if r is None or len(convs) < 2:
            return None
        residual = ctx.choose(
            cls,
            body.attr,
            "input_residual",
            "nearest",
            ["none", "bilinear", "bicubic"],
            "the input upsampled to the output's size and added (Real-ESRGAN's compact net)",
        )
        guessed = ""
        if residual.source == "default":
            guessed = (
                "whether the upsampled input is added at the end leaves no tensor (Real-ESRGAN's "
                "compact net adds it, ESPCN does not): the choice input_residual"
            )
        found = (body.attr, body.kind, r)
        return Match(self, len(members), found, [residual], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        attr, kind, r = match.found
        x = g.input("x")
        out = g.call_module((attr,), x, name="out", each=kind == "modulelist")
        out = g.call_function(
            "pixel_shuffle", out, r, name="out", comment=f"{r * r}x channels -> {r}x size"
        )
        g.output(add_input_residual(g, out, x, match.choices[0].value, r))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._sr_examples import modules as zoo

        z = zoo()
        return [Example(z["compact"](), z["image"](3, 6))]
