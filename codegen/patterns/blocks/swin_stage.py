"""A Swin stage: its blocks in turn, each told its place (every second one shifts its windows)
and, for Swin V2's blocks built at config.json's size (swin_block.py), which stage it is, and a
patch merging that halves the resolution, after the blocks (the official code, Hugging Face) or
before them (timm). The widths say which: merging after the blocks takes their width,
before them it gives it. Channels-last maps in and out: [batch, height, width, channels].

FocalNet's stages (microsoft/FocalNet's `BasicLayer`) are laid out the same: pre-norm blocks
whose mixer is a focal modulation over the channels-last map (focal_modulation.py: every step
of such a block acts on the last dim), then a patch embedding (a conv of
kernel and stride p, a LayerNorm) in place of the merging. FocalNet's MLPs are GELU's (pinned).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    convention_pins,
    family,
    modules,
)
from codegen.patterns.blocks.sublayer import as_module_list
from codegen.patterns.blocks.swin_embeddings import patch_conv, patch_grid

FOCAL_WHY = "FocalNet's"
PLACE = "whether the patch merging comes before or after the blocks (their widths do not say)"


class SwinStage(BlockPattern):
    role = "SwinStage"
    priority = 30
    accepts = Accepts(1, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if len(members) != len(cls.members) or len(members) not in (1, 2):
            return None
        blocks = [m for m in members if m.kind in ("repeat", "sequential", "modulelist")]
        if len(blocks) != 1 or not blocks[0].children:
            return None
        focal = all(_focal_block(b, ctx) for b in blocks[0].children)
        if not focal and any(ctx.role(b) != "SwinBlock" for b in blocks[0].children):
            return None
        merging = [m for m in members if ctx.role(m) == "PatchMerging"]
        patches = None  # FocalNet's patch embedding in its place: (conv path, patch, norm path)
        if focal and not merging and len(members) == 2:
            merging = [m for m in members if m is not blocks[0]]
            patches = _patch_embedding(merging[0], ctx)
            if patches is None:
                return None
        if len(merging) != len(members) - 1:
            return None
        place = None
        if merging and merging[0].present_if:
            # One class for stages with and without it: its sizes may come from two stages.
            return Match(self, len(members) + 1, missing=PLACE)
        if merging:
            # The widths of the members as registered here (one stage): the classes they are
            # shared with across stages record another stage's.
            # Blocks keep the width; as chained, one end may be a member reading something else
            # (Swin V2's position-bias MLP reads 2 coordinates): either end that places it.
            io = blocks[0].io
            widths = {w for w in ((io.in_width, io.out_width) if io else ()) if w}
            io = merging[0].io
            wide, narrow = (io.in_width, io.out_width) if io else (None, None)
            if patches is None:
                places = {"after" for w in widths if (wide, narrow) == (4 * w, 2 * w)}
                places |= {"before" for w in widths if (wide, narrow) == (2 * w, w)}
            else:  # a patchifying conv changes the width: it reads the blocks' or gives it
                places = {"after" for w in widths if wide == w != narrow}
                places |= {"before" for w in widths if narrow == w != wide}
            if len(places) == 1:
                place = places.pop()
            else:
                return Match(self, len(members) + 1, missing=PLACE)
        as_module_list(blocks[0])
        if patches is not None:
            conv, patch, norm = patches
            patches = ((merging[0].attr, *conv), patch, norm and (merging[0].attr, norm))
        found = (blocks[0].attr, merging[0].attr if merging else None, place, patches, focal)
        # Swin V2's blocks with config.json's sizes: told which stage they are in too
        staged = ctx.takes(blocks[0].children[0], "stage")
        pins = []
        if focal:
            held = ctx.classes.get(blocks[0].children[0].type_name)
            mlps = [m for m in modules(held) if ctx.role(m) == "MLP"]
            pins = convention_pins(ctx, [], mlps, FOCAL_WHY, 1e-5, "gelu")
        title = "FocalNetStage" if focal else ""
        return Match(self, len(members) + 1, (*found, staged), pins=pins, title=title)

    def forward(self, match: Match, g: Graph) -> None:
        blocks, merging, place, patches, focal, staged = match.found
        x = g.input("x")  # [batch, height, width, channels]
        stage = (g.input("stage", "int"),) if staged else ()  # its place among the stages

        def merge(x):
            if patches is None:
                return g.call_module((merging,), x, name="x", comment="half the resolution")
            x = g.call_method("permute", x, 0, 3, 1, 2, inline=True)
            return patch_grid(g, x, *patches)

        if place == "before":
            x = merge(x)
        x = g.call_module((blocks,), x, *stage, each=True, each_index=not focal, name="x")
        if place == "after":
            x = merge(x)
        g.output(x)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._swin_examples import (
            focalnet_layout,
            official_layout,
            transformers_layout,
        )

        return [transformers_layout(), official_layout(late_merge=False), focalnet_layout()]


def _focal_block(m, ctx: BlockContext) -> bool:
    """A transformer block whose mixer is a focal modulation projecting with Linear layers (over
    channels-last maps: focal_modulation.py)."""
    held = ctx.classes.get(m.type_name) if m.kind == "class" and ctx.role(m) == "Block" else None
    for mixer in modules(held) if held is not None else []:
        inner = ctx.classes.get(mixer.type_name) if ctx.role(mixer) == "FocalModulation" else None
        if inner is not None and any(family(x) == "linear" for x in modules(inner)):
            return True
    return False


def _patch_embedding(m, ctx: BlockContext) -> tuple | None:
    """(conv path, patch, norm attribute) of a class holding a patchifying conv and a LayerNorm."""
    held = ctx.classes.get(m.type_name) if m.kind == "class" else None
    found = patch_conv(held, ctx) if held is not None else None
    if found is None or found[2] is None:
        return None
    norm = next(x for x in modules(held) if x.attr == found[2])
    return found if norm.type_name == "nn.LayerNorm" else None
