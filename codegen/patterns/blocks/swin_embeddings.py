"""Swin's patch embedding as a channels-last map: the image zero-padded at the bottom and right to
whole patches, a patchifying conv (kernel = stride = patch), [batch, height / patch, width /
patch, channels], normalised, plus a learned position table where there is one
(`use_absolute_embeddings`). Hugging Face keeps the conv in a class of its own
(`embeddings.patch_embeddings.projection`, `embeddings.norm`); timm and the official code hold the
conv and the norm together (`patch_embed.proj`, `patch_embed.norm`). `patchify` reads either."""

from __future__ import annotations

from codegen.ir import ExampleInput
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

POSITIONS = r"position_embeddings|absolute_pos_embed|pos_embed"


def patch_conv(cls, ctx: BlockContext) -> tuple[tuple[str, ...], int, str | None] | None:
    """(path to the conv, patch size, the norm's attribute or None) for a class holding one
    patchifying 2-d conv and at most one norm, the conv directly or in a class of its own."""
    members = modules(cls)
    convs = [m for m in members if family(m) == "conv"]
    norms = [m for m in members if family(m) == "norm"]
    inner = [m for m in members if m.kind == "class"]
    if tensors(cls) or len(members) != len(convs) + len(norms) + len(inner) or len(norms) > 1:
        return None
    norm = norms[0].attr if norms else None
    if len(convs) == 1 and not inner:
        args = {a.keyword: a.value for a in convs[0].args}
        kernel, stride = args.get("kernel_size"), args.get("stride", 1)
        if not isinstance(kernel, int) or stride != kernel or args.get("padding", 0) != 0:
            return None
        if convs[0].io is None or convs[0].io.ndim != 2:
            return None
        return (convs[0].attr,), kernel, norm
    if len(inner) == 1 and not convs and norm is None:
        held = ctx.classes.get(inner[0].type_name)
        found = patch_conv(held, ctx) if held is not None else None
        if found is not None and found[2] is None:
            return (inner[0].attr, *found[0]), found[1], None
    return None


def in_channels(cls, ctx: BlockContext, depth: int = 4) -> int | None:
    """The image channels: the input width of the first conv in `cls` or the classes it holds."""
    for m in modules(cls):
        if family(m) == "conv" and m.io is not None:
            return m.io.in_width
        held = ctx.classes.get(m.type_name) if m.kind == "class" and depth else None
        found = in_channels(held, ctx, depth - 1) if held is not None else None
        if found:
            return found
    return None


def images(channels: int | None) -> list[ExampleInput]:
    """A smoke test's input: two images of 32 x 32 pixels."""
    return [ExampleInput((2, channels, 32, 32))] if channels else []


def patch_grid(g: Graph, x, conv: tuple[str, ...], patch: int, norm: tuple[str, ...] | None):
    """Nodes for pixels -> a normalised channels-last map of patches."""
    x = g.call_function("pad_to_multiple", x, patch, inline=True)
    x = g.call_module(conv, x, inline=True)
    x = g.call_method(
        "permute", x, 0, 2, 3, 1, name="x", comment="[batch, height, width, channels]"
    )
    return g.call_module(norm, x, name="x") if norm else x


class SwinEmbeddings(BlockPattern):
    role = "SwinEmbeddings"
    priority = 30
    accepts = Accepts(2, 2, families=("norm",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        holders = [m for m in members if m.kind == "class"]
        norms = [m for m in members if family(m) == "norm"]
        if len(holders) != 1 or len(norms) != 1 or len(members) != 2:
            return None
        held = ctx.classes.get(holders[0].type_name)
        found = patch_conv(held, ctx) if held is not None else None
        if found is None or found[2] is not None:
            return None
        extra = tensors(cls)
        positions = [t for t in extra if t.attr in ("position_embeddings",)]
        others = [t for t in extra if t not in positions and t.attr != "mask_token"]
        if others:
            return None
        absolute = ctx.resolver.evidence("use_absolute_embeddings")
        if absolute is not None and bool(absolute[1]) != bool(positions):
            return None
        conv = (holders[0].attr, *found[0])
        pos = positions[0].attr if positions else None
        found = (conv, found[1], norms[0].attr, pos, in_channels(cls, ctx))
        return Match(self, len(cls.members) + 1, found)

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        return images(match.found[-1])

    def forward(self, match: Match, g: Graph) -> None:
        conv, patch, norm, pos, _ = match.found
        x = patch_grid(g, g.input("pixel_values"), conv, patch, (norm,))
        if pos is not None:
            table = g.getattr((pos,))
            height = g.call_method("size", x, 1, inline=True)
            width = g.call_method("size", x, 2, inline=True)
            table = g.call_method("view", table, 1, height, width, -1, inline=True)
            x = g.call_function("add", x, table, name="x")
        g.output(x)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._swin_examples import transformers_layout

        return [transformers_layout(positions=256)]
