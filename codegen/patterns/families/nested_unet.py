"""A U-Net whose nodes are named by their place in a grid, level i (the resolution, halved at each
level down) and step j along it: 4uiiurz1/pytorch-nested-unet's `UNet` and `NestedUNet`
(U-Net++, Zhou et al. 2018), `conv{i}_{j}` (or `x_{i}_{j}`, smp's UNet++ names), and a 1x1 head.

    x[i][0] = node(i, 0)(pool(x[i-1][0]))                           the encoder, i > 0
    x[i][j] = node(i, j)(cat(x[i][k] for the level's nodes k < j,   the level's earlier nodes
                             up(x[i+1][j-1])))                      and the map from below
    return head(x[0][J])                                            the level-0 node last

No key says which maps a node reads: the widths do. A node (i, j > 0) reads as many times the
level's width as the level has nodes before j, plus the width of the level below: U-Net++'s dense
skips (conv0_2 reads x0_0, x0_1 and the upsampled x1_1), or the plain U-Net's one skip where the
grid holds only its outer nodes (conv2_2 reads x2_0 and the upsampled x3_1). The match checks
every node's width so, and that each level down reads the one above, pooled. The pooling (2x2
max, the paper's), the upsampling (bilinear, corners aligned, 4uiiurz1's `nn.Upsample`) and the
order of the concatenation (the level's maps, then the one from below) leave no key: choices,
and the forward says it is a guess until calibration settles them. Nodes run diagonal by
diagonal, deepest first (4uiiurz1's order), so each map exists before a node reads it.
"""

from __future__ import annotations

import re

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
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks._unet_parts import image_entry_pins
from codegen.patterns.blocks.unet_level import UPSAMPLES

NODE = re.compile(r"(?P<stem>[A-Za-z_]*?)_?(?P<level>\d+)_(?P<step>\d+)")
POOLS = ["max", "avg"]


def _width(m, end: str) -> int | None:
    width = getattr(m.io, end, None) if m.io is not None else None
    return width if isinstance(width, int) else None


def _nodes(members) -> tuple[dict, list] | None:
    """{(level, step): (path, member)} for the members (or one ModuleDict's items) named by a grid
    place, one stem for all, and the members beside them; None without such a grid."""
    candidates = []
    for m in members:
        if m.kind == "moduledict":
            candidates += [((m.attr, c.attr), c, m) for c in m.children]
        else:
            candidates.append(((m.attr,), m, m))
    grid, stems, holders = {}, set(), set()
    for path, m, holder in candidates:
        found = NODE.fullmatch(path[-1])
        if found is None or m.kind != "class":
            continue
        grid[int(found["level"]), int(found["step"])] = (path, m)
        stems.add(found["stem"])
        holders.add(holder.attr)
    if len(stems) != 1 or len(grid) < 3:
        return None
    rest = [m for m in members if m.attr not in holders]
    return grid, rest


def _checked(grid: dict) -> list | None:
    """The nodes in an order that computes each map before a node reads it, each with the places
    it reads (the level's earlier nodes, the node below); None where a width does not fit."""
    levels = sorted({i for i, _ in grid})
    if levels != list(range(len(levels))) or len(levels) < 2:
        return None
    width = {}
    for i in levels:
        if (i, 0) not in grid:
            return None
        width[i] = _width(grid[i, 0][1], "out_width")
        if width[i] is None:
            return None
        if i > 0 and _width(grid[i, 0][1], "in_width") != width[i - 1]:
            return None  # a level down reads the one above, pooled
    plan = []
    for (i, j), (path, m) in grid.items():
        if j == 0:
            plan.append(((i, j), path, [], None))
            continue
        same = sorted(k for lv, k in grid if lv == i and k < j)
        below = (i + 1, j - 1)
        if below not in grid or _width(m, "out_width") != width[i]:
            return None
        if _width(grid[below][1], "out_width") != width.get(i + 1):
            return None
        if _width(m, "in_width") != len(same) * width[i] + width[i + 1]:
            return None
        plan.append(((i, j), path, [(i, k) for k in same], below))
    # diagonal by diagonal, the deepest first: (i + 1, j - 1) comes before (i, j)
    plan.sort(key=lambda p: (p[0][0] + p[0][1], -p[0][0]))
    return plan


class GridUNet(BlockPattern):
    role = "UNet"
    priority = 7

    accepts = Accepts(tensors=False, families=("conv",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        found = _nodes(members)
        if found is None:
            return None
        grid, rest = found
        if len(rest) != 1 or family(rest[0]) != "conv" or rest[0].kind != "builtin":
            return None
        head = rest[0]
        plan = _checked(grid)
        if plan is None or conv_kernel(head) not in (1, (1, 1)):
            return None
        last = max(j for i, j in grid if i == 0)
        if _width(head, "in_width") not in (None, _width(grid[0, last][1], "out_width")):
            return None
        where = grid[0, 0][0][0]
        pool = ctx.choose(cls, where, "pool", POOLS[0], POOLS[1:], "2x2, a level down")
        up = ctx.choose(
            cls, where, "upsample", UPSAMPLES[0], UPSAMPLES[1:], "2x, the map from below"
        )
        below_first = ctx.choose(
            cls, where, "below_first", False, [True], "the concatenation: the map from below first"
        )
        choices = [pool, up, below_first]
        unsaid = [c.name for c in choices if c.source == "default"]
        guessed = ""
        if unsaid:
            guessed = (
                "the pooling, the upsampling and the order of each node's concatenation leave "
                "no key: " + ", ".join(unsaid) + " at 4uiiurz1's"
            )
        pins = image_entry_pins(ctx, *grid[0, 0])
        found = (plan, (0, last), head.attr)
        return Match(self, len(members) + 1, found, choices, guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        plan, last, head = match.found
        pool, up, below_first = (c.value for c in match.choices)
        x = g.input("x")
        maps = {}
        for (i, j), path, same, below in plan:
            if j == 0 and i == 0:
                inp = x
            elif j == 0:
                fn = "max_pool2d" if pool == "max" else "avg_pool2d"
                inp = g.call_function(fn, maps[i - 1, 0], 2, inline=True)
            else:
                kwargs = {"scale_factor": 2.0, "mode": "nearest" if up == "nearest" else "bilinear"}
                if up != "nearest":
                    kwargs["align_corners"] = up == "bilinear_aligned"
                upsampled = g.call_function("interpolate", maps[below], kwargs=kwargs, name="up")
                parts = [maps[p] for p in same]
                parts = [upsampled, *parts] if below_first else [*parts, upsampled]
                inp = g.call_function("cat", parts, kwargs={"dim": 1}, inline=True)
            maps[i, j] = g.call_module(path, inp, name=f"x{i}_{j}")
        g.output(g.call_module((head,), maps[last], comment="[batch, classes, height, width]"))

    @staticmethod
    def examples():
        from codegen.patterns.families._grid_unet_examples import grid_unet_examples

        return grid_unet_examples()
