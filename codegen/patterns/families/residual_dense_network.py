"""RDN, the residual dense network for super-resolution (Zhang et al. 2018; yjn870/RDN-pytorch,
and the SR repositories that copy its layout): two shallow convs, residual dense blocks
(blocks/dense_fusion_block.py) whose every output is kept, a global feature fusion over all of them
concatenated, the first shallow conv's output added back, then the pixel-shuffle upsampler and the
last conv:

    shallow = sfe1(x);  x = sfe2(shallow)
    features = [x := block(x) for block in rdbs]
    x = gff(cat(features)) + shallow              # global residual learning
    each upscale conv: x = pixel_shuffle(conv(x), r);  return output(x)

The widths prove the layout: the fusion's first conv reads as many channels as all the blocks give
together, and gives what the shallow convs give; each upscale conv gives r*r times what it reads.
The two shallow convs are told apart by what they read (the image, or their own width); the global
residual leaves no tensors: a choice (the paper's network always adds it).
"""

from __future__ import annotations

from codegen.ir import ExampleInput
from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import tensors


def _conv(m) -> bool:
    return m is not None and m.kind == "builtin" and family(m) == "conv" and m.io.ndim == 2


def _convs(m) -> list | None:
    """A Sequential's convs (its keyless slots set aside), or None where it holds anything else."""
    if m.kind != "sequential":
        return None
    real = [c for c in m.children if c.kind != "placeholder"]
    return real if real and all(_conv(c) for c in real) else None


def _blocks(m, ctx: BlockContext) -> tuple[int, int] | None:
    """(count, width) of a list of residual dense blocks."""
    if m.kind == "repeat" and m.children:
        items, count = m.children[:1], m.copies
    elif m.kind in ("modulelist", "sequential"):
        items, count = m.children, len(m.children)
    else:
        return None
    if not items or any(ctx.role(c) != "DenseFusionBlock" or c.io is None for c in items):
        return None
    widths = {(c.io.in_width, c.io.out_width) for c in items}
    if len(widths) != 1 or len({*widths.pop()}) != 1:
        return None
    return count, items[0].io.out_width


class ResidualDenseNetwork(BlockPattern):
    role = "ResidualDenseNetwork"
    priority = 10

    accepts = Accepts(6, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) != 6:
            return None
        lists = [(m, _blocks(m, ctx)) for m in members]
        lists = [(m, found) for m, found in lists if found is not None]
        if len(lists) != 1:
            return None
        blocks, (count, width) = lists[0]
        rest = [m for m in members if m is not blocks]
        fusions = [m for m in rest if (c := _convs(m)) and c[0].io.in_width == count * width]
        if len(fusions) != 1 or _convs(fusions[0])[-1].io.out_width != width:
            return None
        fusion = fusions[0]
        rest = [m for m in rest if m is not fusion]
        upscale = [m for m in rest if _convs(m) is not None]
        convs = [m for m in rest if _conv(m)]
        if len(upscale) != 1 or len(convs) != 3:
            return None
        steps, at = [], width
        for conv in _convs(upscale[0]):
            ratio, kept = divmod(conv.io.out_width, at) if conv.io.in_width == at else (0, 1)
            r = next((r for r in (2, 3, 4) if ratio == r * r and not kept), None)
            if r is None:
                return None
            steps.append((str(upscale[0].children.index(conv)), r))
        image = [m for m in convs if m.io.in_width != width and m.io.out_width == width]
        output = [m for m in convs if m.io.in_width == width and m.io.out_width != width]
        second = [m for m in convs if m.io.in_width == m.io.out_width == width]
        if len(image) != 1 or len(output) != 1 or len(second) != 1:
            return None
        if output[0].io.out_width != image[0].io.in_width:
            return None
        residual = ctx.choose(
            cls,
            fusion.attr,
            "global_residual",
            "add",
            ["none"],
            "the first shallow conv's output added to the fused features",
        )
        found = dict(
            shallow=(image[0].attr, second[0].attr),
            blocks=blocks.attr,
            fusion=fusion.attr,
            upscale=(upscale[0].attr, steps),
            output=output[0].attr,
            channels=image[0].io.in_width,
        )
        return Match(self, len(modules(cls)), found, [residual])

    def forward(self, match: Match, g: Graph) -> None:
        f = match.found
        x = g.input("x")
        first, second = f["shallow"]
        shallow = g.call_module((first,), x, name="shallow")
        h = g.call_module((second,), shallow, name="x")
        features = g.call_module(
            (f["blocks"],), h, each_keep=True, name="features", comment="every block's output"
        )
        joined = g.call_function("cat", features, 1, inline=True)
        h = g.call_module((f["fusion"],), joined, name="x", comment="global feature fusion")
        if match.choices[0].value == "add":
            h = g.call_function("add", h, shallow, name="x", comment="global residual learning")
        attr, steps = f["upscale"]
        for index, r in steps:
            h = g.call_module((attr, index), h, name="x", inline=True)
            h = g.call_function(
                "pixel_shuffle", h, r, name="x", comment=f"{r * r}x channels -> {r}x size"
            )
        g.output(g.call_module((f["output"],), h))

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        return [ExampleInput((2, match.found["channels"], 16, 16))]

    @staticmethod
    def examples():
        from codegen.patterns.blocks._sr_examples import modules as zoo

        z = zoo()
        return [Example(z["rdn"](), z["image"](1, 5))]
