"""Deep layer aggregation's tree of one level (Yu et al. 2018; ucbdrive/dla's and timm's Tree with
`levels=1`): two residual blocks in turn, the first adding the (pooled, projected) input instead
of its own, and a root: a 1x1 conv-norm over their outputs concatenated (and the pooled input,
where the tree is a level's root), then ReLU:

    bottom = max_pool(x); x1 = tree1(x, residual=project(bottom)); x2 = tree2(x1)
    relu(root.bn(root.conv(cat([x2, x1, bottom], 1))))

Recognised from widths: the root's conv reads both blocks' widths (and the input's). The blocks'
convs and norms are called here, as the first takes another residual than its input. Each tree
of the DLA stages halves the resolution (its first conv and the pool stride 2), a convention: a
choice, the conv's stride pinned with it.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import unit
from codegen.patterns._kit import name_order

TREE = re.compile(r"tree_?\d", re.I)


def _pairs(m, ctx: BlockContext) -> list | None:
    """A residual block's (conv path, norm path) pairs in order, and its widths: numbered
    conv/norm members (DLA's BasicBlock, Bottleneck)."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    if cls is None or tensors(cls):
        return None
    members = modules(cls)
    convs = sorted((c for c in members if family(c) == "conv"), key=lambda c: name_order(c.attr))
    norms = sorted((c for c in members if family(c) == "norm"), key=lambda c: name_order(c.attr))
    if len(convs) < 2 or len(convs) != len(norms) or len(members) != 2 * len(convs):
        return None
    if [name_order(c.attr)[0] for c in convs] != [name_order(n.attr)[0] for n in norms]:
        return None
    for a, b in zip(convs, convs[1:]):
        if a.io.out_width != b.io.in_width:
            return None
    return [((m.attr, c.attr), (m.attr, n.attr)) for c, n in zip(convs, norms)]


class AggregationTree(BlockPattern):
    role = "Tree"
    priority = 12

    accepts = Accepts(3, 4, tensors=False, names=(TREE.pattern,))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not 3 <= len(members) <= 4:
            return None
        trees = sorted((m for m in members if TREE.fullmatch(m.attr)), key=lambda m: m.attr)
        if len(trees) != 2 or any(m.io is None for m in trees):
            return None
        rest = [m for m in members if m not in trees]
        first, second = trees
        c_in, c_out = first.io.in_width, first.io.out_width
        if second.io.in_width != c_out or second.io.out_width != c_out:
            return None
        units = [(m, u) for m in rest if (u := unit(m, ctx)) is not None and u.norm is not None]
        # the root reads both blocks' outputs (and the input's width, at a level's root)
        roots = [(m, u) for m, u in units if u.in_width in (2 * c_out, 2 * c_out + c_in)]
        roots = [(m, u) for m, u in roots if u.kernel in (1, (1, 1))]
        project = [m for m in rest if m.kind == "sequential" and m not in [r[0] for r in roots]]
        if len(roots) != 1 or len(project) + 1 != len(rest):
            return None
        root, root_unit = roots[0]
        projected = unit(project[0], ctx) if project else None
        if project and (projected is None or projected.norm is None):
            return None
        if project and (projected.in_width, projected.out_width) != (c_in, c_out):
            return None
        if not project and c_in != c_out:
            return None
        reads = root_unit.in_width
        if reads not in (2 * c_out, 2 * c_out + c_in) or root_unit.out_width != c_out:
            return None
        pairs = [_pairs(first, ctx), _pairs(second, ctx)]
        if None in pairs:
            return None
        stride = ctx.choose(
            cls,
            first.attr,
            "stride",
            2,
            [1],
            "the tree halves the resolution: its first conv strides, the input is max-pooled",
        )
        activation = ctx.choose(
            cls,
            root.attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "between the blocks' pairs, after their sums and after the root (ReLU in DLA's code)",
        )
        pins = []
        if stride.value == 2:
            why = "a DLA tree halves the resolution (its first block's first conv)"
            for path, _ in cls.instances:
                pins.append((f"{path}.{'.'.join(pairs[0][0][0])}", "stride", 2, why))
        # Whether the root reads the tree's input too (a level's root) is each instance's: DLA's
        # dla34 roots level 3's tree so and not level 2's, one class for both.
        level_roots = {reads != 2 * c_out}
        for io in cls.member_io:
            r, t = io.get(root.attr), io.get(first.attr)
            if r is not None and t is not None and None not in (r.in_width, t.out_width):
                level_roots.add(r.in_width != 2 * t.out_width)
        level_root = level_roots.pop() if len(level_roots) == 1 else "per_instance"
        found = (
            pairs,
            (projected.conv, projected.norm) if project else None,
            (root_unit.conv, root_unit.norm),
            level_root,
            stride.value,
        )
        return Match(self, len(members) + 2, found, [stride, activation], pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        (first, second), project, root, level_root, stride = match.found
        activation = match.choices[1].value
        x = g.input("x")
        bottom = x
        if stride != 1:
            bottom = g.call_function("max_pool2d", x, stride, stride, name="bottom")
        shortcut = bottom
        if project is not None:  # its conv and norm: the Sequential's slot holds no activation
            shortcut = g.call_module(project[0], bottom, name="shortcut", inline=True)
            shortcut = g.call_module(project[1], shortcut, name="shortcut")

        def block(pairs, h, residual, name):
            for i, (conv, norm) in enumerate(pairs):
                h = g.call_module(conv, h, name=name, inline=True)
                h = g.call_module(norm, h, name=name, inline=i < len(pairs) - 1)
                if i < len(pairs) - 1:
                    h = act.apply(g, activation, h, name=name)
            h = g.call_function("add", h, residual, name=name, inline=True)
            return act.apply(g, activation, h, name=name)

        x1 = block(first, x, shortcut, "x1")
        x2 = block(second, x1, x1, "x2")
        if level_root == "per_instance":  # the root's weight says whether it reads `bottom`
            weight = g.getattr(root[0] + ("weight",))
            reads = g.call_method("size", weight, 1, name="root_reads", inline=True)
            out = g.call_function("tree_root_input", x2, x1, bottom, reads, name="out", inline=True)
        else:
            children = [x2, x1] + ([bottom] if level_root else [])
            out = g.call_function("cat", children, 1, name="out", inline=True)
        out = g.call_module(root[0], out, name="out", inline=True)
        out = g.call_module(root[1], out, name="out", inline=True)
        g.output(act.apply(g, activation, out, name="out", inline=True))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._split_examples import dla_examples

        return dla_examples()
