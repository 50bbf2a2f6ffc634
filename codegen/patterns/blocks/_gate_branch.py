"""A gate branch beside a main path: a member that reads what enters the module (its width is the
input's) and gives the width of what the main path gives, while nothing of the main path reads
it. The widths then leave one dataflow that uses it: it is computed from the input and multiplies
the main path's output, squashed into [0, 1] (the squashing leaves no tensor: a choice).

    out = main(x) * gate(branch(x))

Where the branch runs is a second choice: on the input itself, or on the input average-pooled by
2 and its gate resized back (nearest) to the main path's size. The branch's own kernels tell the
second: a 1xk depthwise conv and a kx1 one are the decoupled fully connected (DFC) attention of
GhostNetV2 (Tang et al. 2022, section 3.2: "we downsample the feature ... by average pooling with
kernel 2x2 and stride 2, then up-sample with nearest interpolation"; huawei-noah's and timm's
GhostModuleV2 `short_conv`), the paper's cost saving; any other branch keeps the resolution.
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice, Value
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, family
from codegen.patterns.blocks._conv_parts import conv_kernel, is_depthwise, walk_builtin

POOLINGS = [1, 2]  # the factor the branch's input is average-pooled by (1: not pooled)
DFC = (
    "GhostNetV2's DFC attention (1xk and kx1 depthwise convs): run on the input average-pooled "
    "by 2, the gate resized back (nearest), as huawei-noah's and timm's GhostModuleV2"
)


def gate_branch(members: list, reads: int, gives: set[int]):
    """The one member of `members` (those the main path leaves) that reads `reads` channels and
    gives one of `gives`, or None."""
    found = [
        m
        for m in members
        if m.io is not None and m.io.in_width == reads and m.io.out_width in gives
    ]
    return found[0] if len(found) == 1 and len(members) == 1 else None


def last_conv(branch) -> tuple[str, ...] | None:
    """The path, inside the branch, of its last conv (what gives the gate's width); () where
    the branch is one conv."""
    if branch.kind == "builtin":
        return () if family(branch) == "conv" else None
    convs = [c for c in branch.children if c.kind == "builtin" and family(c) == "conv"]
    return (convs[-1].attr,) if branch.kind == "sequential" and convs else None


def decoupled(branch, ctx: BlockContext) -> bool:
    """Whether the branch holds a 1xk and a kx1 depthwise conv (the DFC attention's)."""
    kernels = set()
    for layer in walk_builtin([branch], ctx):
        # depthwise only: an Inception branch's full 1x7 and 7x1 convs are no such attention
        k = conv_kernel(layer) if family(layer) == "conv" and is_depthwise(layer) else None
        if isinstance(k, (tuple, list)) and len(k) == 2 and 1 in k and max(k) > 1:
            kernels.add(tuple(k).index(1))
    return kernels == {0, 1}


def gate_choices(ctx: BlockContext, cls, where: str, branch) -> list:
    """The squashing function and the pooling of a gate branch (see the module's docstring)."""
    gate = ctx.choose(
        cls,
        where,
        "gate",
        "sigmoid",
        act.alternatives("sigmoid", gates=True),
        "the branch's output squashed into a gate on the main path",
    )
    dfc = decoupled(branch, ctx)
    pool = ctx.choose(
        cls,
        where,
        "gate_pooling",
        2 if dfc else 1,
        [p for p in POOLINGS if p != (2 if dfc else 1)],
        "the factor the branch's input is average-pooled by; the gate is resized back",
        accepts="positive_int",
    )
    return [gate, act.mark_family(pool, DFC if dfc else "")]


def apply_gate(
    g: Graph, path: tuple[str, ...], x: Value, out: Value, gate: str, pooling: int
) -> Value:
    """`out` multiplied by the gate the branch at `path` computes from `x`."""
    if pooling > 1:
        x = g.call_function("avg_pool2d", x, pooling, kwargs={"stride": pooling}, inline=True)
    res = g.call_module(path, x, name="gate", inline=True)
    res = act.apply(g, gate, res, name="gate", inline=pooling > 1)
    if pooling > 1:
        size = g.call_method("size", out, inline=True)
        hw = g.call_function("getitem", size, Slice(-2, None), inline=True)
        res = g.call_function(
            "interpolate",
            res,
            hw,
            kwargs={"mode": "nearest"},
            name="gate",
            comment="back to the main path's size",
        )
    return g.call_function("mul", out, res, name="out")
