"""Layers shared across depth (ALBERT): a projection from the embedding width to the layers'
width, then a few groups of layers, each group applied several times in a row.

The checkpoint stores each group once, so how often it runs is not in the weights: it is the
choice `num_layers` (config.json `num_hidden_layers`), split evenly over the groups as the
library does (layer i runs group i * groups // num_layers).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    stack,
    tensors,
)

PROJECT = r"embedding_hidden_mapping_in|embeddings_project|project_in|proj_in"
UNEVEN = (
    "layers shared across depth whose count does not split evenly over the groups "
    "(num_layers is not a multiple of the group count)"
)


class SharedLayers(BlockPattern):
    role = "Encoder"
    priority = 6
    synonyms = {"num_layers": ("num_hidden_layers", "n_layer", "n_layers", "num_layers")}

    accepts = Accepts(1, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not 1 <= len(members) <= 2:
            return None
        stacks = {m.attr: stack(m) for m in members}
        groups = [m for m in members if stacks[m.attr] and ctx.role(stacks[m.attr][0]) == "Encoder"]
        project = [m for m in members if family(m) == "linear"]
        if len(groups) != 1 or len(members) != 1 + len(project):
            return None
        group, count = stacks[groups[0].attr]
        if not ctx.takes(group, "mask"):
            return None
        # The config's group sizes must be what the weights show (else this is another layout).
        inner = ctx.classes.get(group.type_name)
        inner_stack = stack(modules(inner)[0]) if inner is not None and modules(inner) else None
        for key, shown in (
            ("num_hidden_groups", count),
            ("inner_group_num", inner_stack[1] if inner_stack else None),
        ):
            said = ctx.resolver.evidence(key)
            if said is not None and said[1] != shown:
                return None
        depth = ctx.choose(
            cls,
            groups[0].attr,
            "num_layers",
            12 * count,
            [n * count for n in (1, 2, 3, 4, 6, 8, 24)],
            "how many times the shared layers run (ALBERT's usual 12 per group)",
            accepts="positive_int",
        )
        if int(depth.value) % count:
            return Match(self, len(members) + 1, missing=UNEVEN)
        found = (project[0].attr if project else None, groups[0].attr, int(depth.value) // count)
        return Match(self, len(members) + 1, found, [depth])

    def forward(self, match: Match, g: Graph) -> None:
        project, groups, times = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        if project is not None:
            x = g.call_module((project,), x, comment="to the layers' width")
        comment = f"{times} layers share each group's weights"
        g.output(g.call_module((groups,), x, mask, each=True, times=times, comment=comment))

    @staticmethod
    def examples():
        from codegen.patterns.blocks.post_norm_layer import _example

        return [_example()]
