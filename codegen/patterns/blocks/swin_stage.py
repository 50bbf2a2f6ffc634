"""A Swin stage: its blocks in turn, each told its place (every second one shifts its windows)
and, for Swin V2's blocks built at config.json's size (swin_block.py), which stage it is, and a patch merging that halves the resolution, after the blocks (the official code, Hugging
Face) or before them (timm). The widths say which: merging after the blocks takes their width,
before them it gives it. Channels-last maps in and out: [batch, height, width, channels]."""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, modules
from codegen.patterns.blocks.sublayer import as_module_list

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
        if any(ctx.role(b) != "SwinBlock" for b in blocks[0].children):
            return None
        merging = [m for m in members if ctx.role(m) == "PatchMerging"]
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
            places = {"after" for w in widths if (wide, narrow) == (4 * w, 2 * w)}
            places |= {"before" for w in widths if (wide, narrow) == (2 * w, w)}
            if len(places) == 1:
                place = places.pop()
            else:
                return Match(self, len(members) + 1, missing=PLACE)
        as_module_list(blocks[0])
        found = (blocks[0].attr, merging[0].attr if merging else None, place)
        # Swin V2's blocks with config.json's sizes: told which stage they are in too
        staged = ctx.takes(blocks[0].children[0], "stage")
        return Match(self, len(members) + 1, (*found, staged))

    def forward(self, match: Match, g: Graph) -> None:
        blocks, merging, place, staged = match.found
        x = g.input("x")  # [batch, height, width, channels]
        stage = (g.input("stage", "int"),) if staged else ()  # its place among the stages
        halve = {"name": "x", "comment": "half the resolution"}
        if place == "before":
            x = g.call_module((merging,), x, **halve)
        x = g.call_module((blocks,), x, *stage, each=True, each_index=True, name="x")
        if place == "after":
            x = g.call_module((merging,), x, **halve)
        g.output(x)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._swin_examples import official_layout, transformers_layout

        return [transformers_layout(), official_layout(late_merge=False)]
