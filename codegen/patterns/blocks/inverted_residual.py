"""The inverted residual (MobileNetV2) and MBConv (EfficientNet): an optional 1x1 expansion, a
depthwise conv, an optional squeeze-excitation, a 1x1 projection without activation, and the input
added back when the shapes allow (same width in and out, stride 1).

`x + project(se(act(dw(act(expand(x))))))`. The units are read from the members whichever way they
were written (a Sequential of conv-norm Sequentials as torchvision does, or separate members and
classes as Hugging Face does), in dataflow order by widths: expand widens, the depthwise keeps the
width, the projection narrows. The activation is one choice of the class: ReLU6 (MobileNetV2) by
default, SiLU for EfficientNet where a config says so.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, tensors
from codegen.patterns.blocks._conv_parts import Unit, unit

ACTIVATIONS = ["relu6", "relu", "silu", "hardswish", "gelu"]


class InvertedResidual(BlockPattern):
    role = "InvertedResidual"
    priority = 20  # more than a chain of the same members: it knows the residual

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not members:
            return None
        # A single Sequential holding the units (torchvision), or the units as members (HF).
        if len(members) == 1 and members[0].kind == "sequential":
            seq = members[0]
            items = [c for c in seq.children if c.kind != "placeholder"]
            if len(items) != len(seq.children):
                return None
            units = _units_of_sequential(seq, ctx)
            se = None
        else:
            se_members = [m for m in members if ctx.role(m) == "SqueezeExcite"]
            rest = [m for m in members if m not in se_members]
            units = [unit(m, ctx) for m in rest]
            if len(se_members) > 1 or any(u is None for u in units):
                return None
            units = _flow_order(units)
            se = se_members[0].attr if se_members else None
        if units is None or not 2 <= len(units) <= 3:
            return None
        *front, project = units
        dw = front[-1]
        expand = front[0] if len(front) == 2 else None
        if not dw.depthwise or not project.pointwise or project.norm is None:
            return None
        if expand is not None and expand.out_width != dw.in_width:
            return None
        if dw.norm is None or (expand is not None and expand.norm is None):
            return None
        if project.in_width != dw.out_width:
            return None
        # Blocks of one class may differ in width and stride (the first of a stage widens or
        # downsamples): the residual is decided by shapes at run time, as torchvision does.
        # A full conv in front (Hugging Face's MobileNetV2 stem) reads the image: no residual.
        residual = expand is None or expand.pointwise
        activation = ctx.choose(
            cls,
            dw.conv[0],
            "activation",
            "relu6",
            [a for a in ACTIVATIONS if a != "relu6"],
            "after the expansion and the depthwise conv",
            aliases=act.ALIASES,
        )
        found = (expand, dw, se, project, residual)
        return Match(self, len(members) + 1, found, [activation])

    def forward(self, match: Match, g: Graph) -> None:
        expand, dw, se, project, residual = match.found
        activation = match.choices[0].value
        x = g.input("x")
        out = x
        for u in (expand, dw):
            if u is None:
                continue
            out = g.call_module(u.conv, out, name="out", inline=True)
            out = act.apply(g, activation, g.call_module(u.norm, out, inline=True), name="out")
        if se is not None:
            out = g.call_module((se,), out, name="out")
        out = g.call_module(project.conv, out, name="out", inline=True)
        out = g.call_module(project.norm, out, name="out", comment="projection, no activation")
        if residual:
            out = g.call_function("add_if_same_shape", x, out, name="out")
        g.output(out)

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._vision_examples import modules as zoo

        z = zoo()
        return [
            Example(z["torchvision_inverted_residual"](8, 8, 4), (torch.randn(2, 8, 6, 6),)),
            Example(z["torchvision_inverted_residual"](8, 12, 1), (torch.randn(2, 8, 6, 6),)),
        ]


def _units_of_sequential(seq, ctx) -> list[Unit] | None:
    """torchvision: [CNA(expand)?, CNA(depthwise), Conv2d(project), BatchNorm2d] or [..., CNA]."""
    out: list[Unit] = []
    items = list(seq.children)
    i = 0
    while i < len(items):
        m = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        u = unit(m, ctx, (seq.attr,))
        if u is None:
            return None
        if u.norm is None and m.kind == "builtin" and nxt is not None and nxt.io is not None:
            if nxt.io.family == "norm":  # a bare conv followed by its norm
                u.norm = (seq.attr, nxt.attr)
                i += 1
        out.append(u)
        i += 1
    return out


def _flow_order(units: list[Unit]) -> list[Unit] | None:
    """Expand (or a stem conv), depthwise, project: by widths and kernels, not key order. The
    projection is pointwise and reads what the depthwise gives; the expansion gives what the
    depthwise reads. Where both 1x1 layers fit either place, names decide (expand before reduce)."""
    dws = [u for u in units if u.depthwise]
    if len(dws) != 1:
        return None
    dw = dws[0]
    rest = [u for u in units if u is not dw]
    if not rest or len(rest) > 2:
        return None
    projects = [u for u in rest if u.pointwise and u.in_width == dw.out_width]
    expands = [u for u in rest if u.out_width == dw.in_width]
    for project in sorted(projects, key=_project_first):
        before = [u for u in rest if u is not project]
        if all(u in expands for u in before):
            return before + [dw, project]
    return None


def _project_first(u: Unit) -> int:
    """A 1x1 named like a projection is the projection before one named like an expansion."""
    name = u.conv[0].lower()
    return 0 if any(w in name for w in ("proj", "reduce", "pwl", "linear")) else 1
