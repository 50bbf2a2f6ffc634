"""The inverted residual (MobileNetV2) and MBConv (EfficientNet): an optional 1x1 expansion, a
depthwise conv, an optional squeeze-excitation, a 1x1 projection without activation, and the input
added back when the shapes allow (same width in and out, stride 1).

`x + project(se(act(dw(act(expand(x))))))`. The units are read from the members whichever way they
were written (a Sequential of conv-norm Sequentials as torchvision does, or separate members and
classes as Hugging Face does), in dataflow order by widths: expand widens, the depthwise keeps the
width, the projection narrows; a squeeze-excitation sits between the depthwise conv and the
projection (MobileNetV3, EfficientNet). The activation is one choice of the class: ReLU6
(MobileNetV2) by default, SiLU for EfficientNet or hard-swish where a config or hint says so.

Hugging Face's EfficientNet adds no residual on the first block of each row of its block table
(`id_skip`), whatever the shapes: config.json's table (`strides`, `num_block_repeats`,
`depth_coefficient`) says which blocks those are, and a class holding both kinds where a first
block keeps the shape has no single forward (it raises, naming the gap).
"""

from __future__ import annotations

import math
import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import Unit, arg, expands_elsewhere, member_units
from codegen.patterns.blocks._conv_parts import unit
from codegen.patterns.blocks.residual import SHORTCUT_NAMES
from codegen.patterns.blocks.squeeze_excite import (
    SQUEEZE_PLACE,
    channel_gate,
    gate_width,
)

ACTIVATIONS = ["relu6", "relu", "silu", "hardswish", "gelu"]


class InvertedResidual(BlockPattern):
    role = "InvertedResidual"
    priority = 20  # more than a chain of the same members: it knows the residual

    accepts = Accepts(1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not members:
            return None
        # A single Sequential holding the units (torchvision), or the units as members (HF).
        shortcut = inline = None
        if len(members) == 1 and members[0].kind == "sequential":
            seq = members[0]
            units, se = _units_of_sequential(seq, ctx)
        else:
            se_members = [m for m in members if channel_gate(m, ctx)]
            rest = [m for m in members if m not in se_members]
            if len(se_members) > 1:
                return None
            shortcut, rest = _projection_shortcut(rest, ctx)
            if shortcut is False:
                return None
            inline, rest = _inline_gate(rest) if not se_members else (None, rest)
            units = member_units(rest, ctx, _flow_order)
            separate = any(family(m) == "norm" for m in rest)
            if separate and units and not any(u.one_channel_per_group for u in units):
                # Bare conv and norm members (timm's blocks): a grouped 3x3 reading several
                # channels per group is a ResNeXt bottleneck's; only a true depthwise conv, or a
                # fused expansion, makes this block.
                if len(units) != 2 or any(u.groups != 1 for u in units):
                    return None
            se = (se_members[0].attr,) if se_members else None
        if units is None or not 2 <= len(units) <= 3:
            return None
        if inline is not None and inline[2] != units[-2].out_width:
            return None  # the gate's convs rescale the depthwise conv's channels, or none
        *front, project = units
        dw = front[-1]
        expand = front[0] if len(front) == 2 else None
        # Fused MBConv (EfficientNetV2, timm's EdgeResidual): one full kxk conv that expands
        # in place of the 1x1 expansion and the depthwise conv, then the 1x1 projection.
        fused = expand is None and not dw.depthwise and dw.kernel != 1
        if dw.depthwise and not dw.one_channel_per_group:
            return None  # several channels per group: a ResNeXt or RegNet bottleneck's 3x3
        if not (dw.depthwise or fused) or not project.pointwise or project.norm is None:
            return None
        if expand is not None and expand.out_width != dw.in_width:
            return None
        if dw.norm is None or (expand is not None and expand.norm is None):
            return None
        if project.in_width != dw.out_width:
            return None
        if not _inverted(expand, project):
            return None  # narrow-wide-narrow only: a depthwise bottleneck (ResNeXt's) is no such
        if shortcut is not None:
            takes = (expand or dw).in_width
            if (shortcut.in_width, shortcut.out_width) != (takes, project.out_width):
                return None
        if expand is None and inline is None and not fused and not expands_elsewhere(cls, ctx):
            # Depthwise then pointwise alone (squeeze-excited or not: PP-LCNet's) is also
            # MobileNetV1's separable block (Howard et al. 2017; blocks/separable_block.py),
            # activated after the 1x1 and never residual: only a network whose other blocks
            # expand (MobileNetV2's first block, Sandler et al. 2018) makes it this one.
            return None
        # Blocks of one class may differ in width and stride (the first of a stage widens or
        # downsamples): the residual is decided by shapes at run time, as torchvision does.
        # A full conv in front (Hugging Face's MobileNetV2 stem) reads the image: no residual.
        residual: object = expand is None or expand.pointwise
        skip = _row_starts(cls, ctx) if residual else None
        if skip == "mixed":
            return Match(
                self,
                len(members) + 1,
                missing="the residual: config.json skips it on each row's first block (id_skip), "
                "and this class holds first and later blocks",
            )
        if skip is not None:
            residual = skip
        told = act.mobile_family(ctx.resolver)
        opening = None
        if expand is None and not fused and told is not None and told[0] == "proxyless_nas":
            # ProxylessNAS builds its first block (expansion 1) with no shortcut, whatever the
            # widths (Cai et al.'s ProxylessNASNets: MobileInvertedResidualBlock(conv, None)).
            opening = _no_shortcut(
                ctx,
                cls,
                dw,
                "the input added back where the shapes allow",
                told[1] + "; its first block has no shortcut",
            )
            if opening.value == "none":
                residual = "no residual: ProxylessNAS' first block has no shortcut"
        unskipped = ctx.resolver.structural.get(("", act.MOBILE_NOSKIP_BLOCKS))
        if opening is None and residual is True and unskipped is not None and cls.instances:
            if all(path in unskipped[0] for path, _ in cls.instances):
                # (EfficientNet-EdgeTPU's first block: analyze/strides.py's mobile_noskip_blocks)
                opening = _no_shortcut(
                    ctx,
                    cls,
                    dw,
                    "the input added back where the shapes allow, or none",
                    unskipped[1],
                )
                if opening.value == "none":
                    residual = "no residual: " + unskipped[1]
        growth = _widening_residual(cls, ctx, dw, residual, shortcut)
        if growth is not None:
            opening = growth
        kept = None
        if opening is None and expand is None and not fused and inline is None:
            kept = _shape_keeping_residual(cls, ctx, dw, residual)
            if kept is not None:
                opening = kept
                if kept.value == "none":
                    residual = "no residual: a separable block (MobileNetV1's) adds no input"
        if shortcut is not None:
            # kuangliu's MobileNetV2 projects the input where a stride-1 block widens: the
            # projected input is always added, still with no activation after the sum (the
            # linear bottleneck, Sandler et al. 2018).
            residual = (shortcut.conv, shortcut.norm)
        activation = mobile_activation(
            cls, ctx, dw.conv[0], "relu6", ACTIVATIONS, "after the expansion and the depthwise conv"
        )
        choices = [activation] + ([opening] if opening is not None else [])
        if inline is not None:
            choices += _inline_gate_choices(cls, ctx, inline)
        guessed = act.unproven_activation(activation)
        if kept is not None and kept.source in ("default", "structure"):
            guessed = (
                "a block of this class keeps its shape with no expansion: MobileNetV2's and "
                "EfficientNet's code adds its input there, MobileNetV1's separable block does "
                f"not, and no key tells; read as {kept.value}"
            )
        if growth is not None and (growth.source in ("default", "structure") or se is not None):
            # Calibration may settle the residual; the gate's place against the activations
            # (ReXNet's SE reads the depthwise conv's output before its ReLU6) no key shows.
            guessed = (
                "a block of this class widens, and no family's structure shows here what its "
                "residual is: MobileNetV2's widening blocks add none, ReXNet's (and PyramidNet's) "
                "add the input to their first channels at stride 1 and activate after the "
                f"squeeze-excitation, not the depthwise conv; read as {growth.value}"
            )
        widths = _widths(expand, project)
        if widths is not None and widths[0] == widths[1]:
            # Expansion 1 with its 1x1 built anyway: kuangliu's MobileNetV2 applies it, his
            # EfficientNet skips it (`x if expand_ratio == 1`); the keys are the same.
            # EfficientNet's MBConv does not expand at ratio 1 (Tan & Le 2019): a port that
            # builds the 1x1 anyway (kuangliu's) skips it. Still a guess: the keys are the same.
            told = act.mobile_family(ctx.resolver)
            efficientnet = told is not None and told[0] == "efficientnet"
            skip = act.mark_family(
                ctx.choose(
                    cls,
                    expand.conv[0],
                    "expansion",
                    "skipped" if efficientnet else "applied",
                    ["applied" if efficientnet else "skipped"],
                    "a 1x1 expansion that keeps the width: applied, or skipped (the input read)",
                ),
                told[1] if efficientnet else "",
            )
            choices.append(skip)
            if skip.source in ("default", "structure"):
                guessed = (
                    f"the 1x1 expansion {expand.conv[0]} keeps the width: some blocks skip it "
                    f"there (expansion 1) and the keys cannot tell; read as {skip.value}"
                )
        # a gate that closes the body (the Sequential's last item) rescales the projection's output
        se_last = se is not None and len(se) == 2 and se[-1] == members[0].children[-1].attr
        if se is not None and len(se) == 1:
            # A gate member sits where its width is: after the depthwise conv (MobileNetV3,
            # EfficientNet), or after the projection's norm (xiaolai's MobileNetV3 port, `se`
            # applied to bn3's output); where both widths are equal the keys cannot tell.
            width = gate_width(next(m for m in members if m.attr == se[0]), ctx)
            se_last = width is not None and width == project.out_width != dw.out_width
            told = ctx.resolver.structural.get(("", SQUEEZE_PLACE))
            if width is not None and width == project.out_width == dw.out_width:
                se_last = told is not None and told[0] == "after"
                if told is None and not guessed:
                    guessed = (
                        f"the squeeze-excitation {se[0]} rescales as many channels as the "
                        "depthwise conv and the projection give: read as before the projection"
                    )
        found = (expand, dw, se, project, residual, se_last, inline)
        explains = len(members) + 1
        if expand is None or (expand.pointwise and dw.one_channel_per_group):
            # A body that opens with the depthwise conv (MobileNetV3's and EfficientNet's first
            # blocks), or expands into a true depthwise one (one channel per group), is this
            # block, not a ResNet-style residual layer (RegNet's grouped 3x3 reads several
            # channels per group), which activates after the sum.
            explains += len(units) + (se is not None or inline is not None) + 1
        if _same_widths(expand, project) and not expands_elsewhere(cls, ctx):
            # Every 1x1 keeps the width: a depthwise ResNeXt bottleneck has the same keys and
            # activates after the sum; only another block that expands proves this network's.
            guessed = (
                "every conv keeps the width, so this could also be a depthwise bottleneck that "
                "activates after the sum, and no other block expands: read as an inverted residual"
            )
        return Match(self, explains, found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        expand, dw, se, project, residual, se_last, inline = match.found
        activation = match.choices[0].value
        x = g.input("x")
        skipped = any(c.name == "expansion" and c.value == "skipped" for c in match.choices)
        out = x
        for u in (expand, dw):
            if u is None:
                continue
            out = g.call_module(u.conv, out, name="out", inline=True)
            out = act.apply(g, activation, g.call_module(u.norm, out, inline=True), name="out")
            if u is expand and skipped:
                out = g.call_function("input_if_same_shape", x, out, name="out")
        if se is not None and not se_last:
            out = g.call_module(se, out, name="out")
        if inline is not None:
            by = {c.name: c.value for c in match.choices}
            scale = g.call_method(
                "mean", out, (2, 3), name="scale", kwargs={"keepdim": True}, comment="squeeze"
            )
            scale = g.call_module((inline[0],), scale, name="scale", inline=True)
            scale = act.apply(g, by["se_activation"], scale, name="scale")
            scale = g.call_module((inline[1],), scale, inline=True)
            scale = act.apply(g, by["gate"], scale, name="scale", comment="excite")
            out = g.call_function("mul", out, scale, name="out")
        out = g.call_module(project.conv, out, name="out", inline=True)
        out = g.call_module(project.norm, out, name="out", comment="projection, no activation")
        if se is not None and se_last:
            out = g.call_module(se, out, name="out")
        by_name = {c.name: c.value for c in match.choices}
        if residual is True and by_name.get("residual") == "first_channels":
            out = g.call_function("add_to_first_channels", x, out, name="out")
        elif residual is True:
            out = g.call_function("add_if_same_shape", x, out, name="out")
        elif isinstance(residual, tuple):
            identity = x
            for path in residual:
                identity = g.call_module(path, identity, name="identity", inline=True)
            out = g.call_function("add", out, identity, name="out")
        comment = residual if isinstance(residual, str) else ""
        g.output(out, comment=comment)

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._vision_examples import _randomise_norms, modules as zoo

        z = zoo()
        # MobileNetV2's first block (no expansion) is told from MobileNetV1's separable block by
        # the block that expands after it.
        torch.manual_seed(0)
        pair = torch.nn.Sequential(
            z["inverted_residual"](8, 12, 1), z["inverted_residual"](12, 12, 4)
        )
        _randomise_norms(pair)

        class InlineGateBlock(torch.nn.Module):  # a TensorFlow port: the SE convs are members
            def __init__(self) -> None:
                super().__init__()
                nn = torch.nn
                self.expand_conv, self.expand_bn = nn.Conv2d(8, 32, 1, bias=False), nn.BatchNorm2d(
                    32
                )
                self.dw_conv = nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False)
                self.dw_bn = nn.BatchNorm2d(32)
                self.se_reduce, self.se_expand = nn.Conv2d(32, 2, 1), nn.Conv2d(2, 32, 1)
                self.project_conv, self.project_bn = nn.Conv2d(
                    32, 8, 1, bias=False
                ), nn.BatchNorm2d(8)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                F = torch.nn.functional
                out = F.relu6(self.expand_bn(self.expand_conv(x)))
                out = F.relu6(self.dw_bn(self.dw_conv(out)))
                s = self.se_expand(F.relu(self.se_reduce(out.mean((2, 3), keepdim=True))))
                return x + self.project_bn(self.project_conv(out * torch.sigmoid(s)))

        inline = InlineGateBlock()
        _randomise_norms(inline)
        return [
            Example(z["holder"](inline), (torch.randn(2, 8, 6, 6),)),
            Example(z["torchvision_inverted_residual"](8, 8, 4), (torch.randn(2, 8, 6, 6),)),
            Example(z["holder"](pair), (torch.randn(2, 8, 6, 6),)),
        ]


def mobile_activation(cls, ctx: BlockContext, where: str, default: str, options, note: str):
    """A mobile block's activation choice: its family's where the body names one (MobileNetV3's
    ReLU where the class's blocks are all early ones), else `default`; cited either way."""
    paths = [path for path, _ in cls.instances]
    value, why = act.family_default(ctx.resolver, default, paths)
    others = [a for a in options if a != value]
    choice = ctx.choose(cls, where, "activation", value, others, note, aliases=act.ALIASES)
    return act.mark_family(choice, why)


def _shape_keeping_residual(cls, ctx: BlockContext, dw: Unit, residual):
    """The `residual` choice of a block without expansion (a depthwise then a pointwise conv-norm)
    of which an instance keeps its width: MobileNetV2's and EfficientNet's first blocks add their
    input where the shapes allow (torchvision's use_res_connect, timm's has_skip), a MobileNetV1
    separable block with the same keys never does. None where no instance keeps its width."""
    if residual is not True:
        return None
    if not any(io is not None and io.in_width == io.out_width for _, io in cls.instances):
        return None
    note = "where a block without expansion keeps its shape: the input added back, or none"
    return _residual_choice(cls, ctx, dw, "none", note)


def _residual_choice(cls, ctx: BlockContext, dw: Unit, other: str, note: str):
    """A block's `residual` choice: the input added where the shapes allow (default), or `other`."""
    return ctx.choose(cls, dw.conv[0], "residual", "add_if_same_shape", [other], note)


def _no_shortcut(ctx: BlockContext, cls, dw: Unit, note: str, why: str):
    """A family's block its code builds with no shortcut whatever its widths: the `residual`
    choice defaulting to none, marked as the family's (`why`)."""
    choice = ctx.choose(cls, dw.conv[0], "residual", "none", ["add_if_same_shape"], note)
    return act.mark_family(choice, why)


def _widening_residual(cls, ctx: BlockContext, dw: Unit, residual, shortcut):
    """The `residual` choice of a class of which an instance widens (more channels out than in),
    in a body whose structure identifies no mobile family (analyze/strides.py's mobile_family:
    stages of blocks that keep their width). Stage-built networks (MobileNetV2, EfficientNet,
    MobileNetV3) widen only at a stage's first block, which adds no residual; networks that widen
    at every block (ReXNet, Han et al. 2021; PyramidNet's shortcut the same way) add the input to
    the first channels of a stride-1 block's output. None where the shapes decide as elsewhere."""
    if residual is not True or shortcut is not None or act.mobile_family(ctx.resolver):
        return None
    widens = any(
        io is not None and None not in (io.in_width, io.out_width) and io.in_width < io.out_width
        for _, io in cls.instances
    )
    if not widens:
        return None
    note = "where a block widens at stride 1: none, or the input added to its first channels"
    return _residual_choice(cls, ctx, dw, "first_channels", note)


def efficientnet_rows(resolver) -> tuple[str, list[bool], list[int]] | None:
    """EfficientNet's block table in config.json (`strides`, `num_block_repeats`,
    `depth_coefficient`): each row repeats ceil(depth_coefficient x repeats) times, its first
    block taking the row's stride. (the citation, whether each block starts a row, its stride)."""
    strides = resolver.evidence("strides")
    repeats = resolver.evidence("num_block_repeats")
    if strides is None or repeats is None:
        return None
    depth = resolver.evidence("depth_coefficient")
    scale = depth[1] if depth is not None and isinstance(depth[1], (int, float)) else 1.0
    rows, counts = strides[1], repeats[1]
    if not (isinstance(rows, list) and isinstance(counts, list) and len(rows) == len(counts)):
        return None
    if not all(type(v) is int and v > 0 for v in rows + counts):
        return None
    starts: list[bool] = []
    out: list[int] = []
    for stride, n in zip(rows, counts):
        count = math.ceil(scale * n)
        starts += [True] + [False] * (count - 1)
        out += [stride] + [1] * (count - 1)
    return f"{strides[0]} and {repeats[0]}", starts, out


def _row_starts(cls, ctx: BlockContext) -> str | None:
    """Hugging Face's EfficientNet adds no residual on a row's first block (`id_skip`), even one
    whose shape allows it; later blocks keep the shape and add it. Where config.json's table says
    all the class's blocks start rows: a comment saying there is none. Where the class also holds
    later blocks and a row's first block keeps the shape, one forward cannot serve both: "mixed".
    None where the table says nothing, or where the shapes decide as they do elsewhere."""
    rows = efficientnet_rows(ctx.resolver)
    if rows is None or not cls.instances:
        return None
    note, starts, strides = rows
    first, keeps_shape = set(), False
    for path, io in cls.instances:
        last = path.rsplit(".", 1)[-1]
        if not (last.isascii() and last.isdigit()) or int(last) >= len(starts):
            return None
        i = int(last)
        first.add(starts[i])
        same = io is not None and io.in_width == io.out_width and strides[i] == 1
        keeps_shape = keeps_shape or (starts[i] and same)
    if first == {True}:
        return f"no residual: {note} make each of these blocks the first of its row"
    return "mixed" if keeps_shape else None


def _inline_gate(members) -> tuple[tuple[str, str, int] | None, list]:
    """A squeeze-excitation written as two biased 1x1 conv members of the block itself, with no
    norm (lukemelas' EfficientNet: `_se_reduce` C -> s, `_se_expand` s -> C, between the
    depthwise conv and the projection): (reduce, expand, C) and the other members. The
    expansion and projection have no bias, a norm following each."""
    convs = [
        m
        for m in members
        if m.kind == "builtin"
        and family(m) == "conv"
        and arg(m, "kernel_size") == 1
        and arg(m, "bias", True) is not False
        and m.io is not None
        and None not in (m.io.in_width, m.io.out_width)
    ]
    for reduce in convs:
        channels, squeezed = reduce.io.in_width, reduce.io.out_width
        back = [m for m in convs if (m.io.in_width, m.io.out_width) == (squeezed, channels)]
        if squeezed < channels and len(back) == 1 and back[0] is not reduce:
            rest = [m for m in members if m is not reduce and m is not back[0]]
            return (reduce.attr, back[0].attr, channels), rest
    return None, members


def _inline_gate_choices(cls, ctx: BlockContext, inline) -> list:
    """The activation inside an inline squeeze-excitation and its gate: the family's (SiLU and
    sigmoid for EfficientNet, ReLU and hard sigmoid for MobileNetV3), else ReLU and sigmoid."""
    told = act.mobile_family(ctx.resolver)
    default, why = act.family_default(ctx.resolver, "relu")
    gate = "sigmoid"
    if told is not None and told[0] == "mobilenet_v3":
        (default, gate), why = act.V3_SQUEEZE, told[1]
    inner = ctx.choose(
        cls,
        inline[0],
        "se_activation",
        default,
        act.alternatives(default),
        "after the squeeze-excitation's reduction",
        aliases=act.ALIASES,
    )
    outer = ctx.choose(cls, inline[1], "gate", gate, act.alternatives(gate, gates=True))
    return [act.mark_family(inner, why), act.mark_family(outer, why if told else "")]


def _projection_shortcut(members, ctx: BlockContext) -> tuple[object, list]:
    """A member named as a shortcut that is a pointwise conv-norm unit (kuangliu's MobileNetV2:
    `shortcut = Sequential(Conv2d 1x1, BatchNorm2d)`), and the other members. (None, members)
    where there is none; (False, members) where one is named but is no such unit."""
    named = [m for m in members if m.attr.lower() in SHORTCUT_NAMES]
    if not named:
        return None, members
    found = unit(named[0], ctx) if len(named) == 1 else None
    if found is None or found.norm is None or not found.pointwise or found.groups != 1:
        return False, members
    return found, [m for m in members if m is not named[0]]


def _widths(expand: Unit | None, project: Unit) -> tuple | None:
    """(input, depthwise, output) widths where all are known and a 1x1 expansion leads."""
    if expand is None or not expand.pointwise:
        return None
    found = (expand.in_width, expand.out_width, project.out_width)
    return found if all(isinstance(w, int) for w in found) else None


def _inverted(expand: Unit | None, project: Unit) -> bool:
    """The depthwise conv at least as wide as the block's input and output: an inverted
    bottleneck (Sandler et al. 2018). A ResNeXt bottleneck narrowed to one channel per group is
    narrowest in the middle, and activates after its sum."""
    widths = _widths(expand, project)
    return widths is None or widths[1] >= max(widths[0], widths[2])


def _same_widths(expand: Unit | None, project: Unit) -> bool:
    widths = _widths(expand, project)
    return widths is not None and len(set(widths)) == 1


def _units_of_sequential(seq, ctx) -> tuple[list[Unit] | None, tuple[str, ...] | None]:
    """torchvision: [CNA(expand)?, CNA(depthwise), SE?, Conv2d(project), BatchNorm2d] or
    [..., CNA]; MobileNetV3 and EfficientNet put their squeeze-excitation before the projection.
    (the units, the squeeze-excitation's path or None)."""
    out: list[Unit] = []
    se: tuple[str, ...] | None = None
    items = list(seq.children)
    activated: set[int] = set()  # units an empty slot (an activation) follows
    i = 0
    while i < len(items):
        m = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        if m.kind == "placeholder":
            # An empty slot after a unit's norm (MnasNet's `layers`: conv, bn, ReLU, ...) is the
            # activation this pattern applies; anywhere else (after the projection) it is not.
            if not out or out[-1].norm is None or out[-1].norm[-1] != items[i - 1].attr:
                return None, None
            if nxt is None:
                return None, None
            activated.add(len(out) - 1)
            i += 1
            continue
        # The gate after the depthwise conv (MobileNetV3, EfficientNet), or closing the body
        # after the projection's norm (ECA-Net's eca_mobilenetv2: `eca_layer` last in `conv`).
        closing = nxt is None and len(out) >= 2 and out[-1].pointwise and out[-1].norm is not None
        if channel_gate(m, ctx) and se is None and out and (out[-1].depthwise or closing):
            se = (seq.attr, m.attr)
            i += 1
            continue
        u = unit(m, ctx, (seq.attr,))
        if u is None:
            return None, None
        if u.norm is None and m.kind == "builtin" and nxt is not None and nxt.io is not None:
            if nxt.io.family == "norm":  # a bare conv followed by its norm
                u.norm = (seq.attr, nxt.attr)
                i += 1
        out.append(u)
        i += 1
    if se is not None and len(out) < 2:
        return None, None
    if activated and activated != set(range(len(out) - 1)):
        # Slots show where the activations are: after each unit but the projection. A depthwise
        # conv with none after it (ShuffleNetV2's branch) is another block.
        return None, None
    return out, se


def _flow_order(units: list[Unit]) -> list[Unit] | None:
    """Expand (or a stem conv), depthwise, project: by widths and kernels, not key order. The
    projection is pointwise and reads what the depthwise gives; the expansion gives what the
    depthwise reads. Where both 1x1 layers fit either place, names decide (expand before reduce)."""
    dws = [u for u in units if u.depthwise]
    if not dws and len(units) == 2:  # fused: a full kxk conv, then the 1x1 projection
        full = [u for u in units if not u.pointwise]
        project = [u for u in units if u.pointwise]
        if len(full) != 1 or len(project) != 1 or project[0].in_width != full[0].out_width:
            return None
        (f,), (p,) = full, project
        # Only where the widths say it: the kxk conv expands and the 1x1 narrows back. A 1x1
        # numbered first (DarkNet's conv1 1x1, conv2 3x3: a bottleneck that activates both and
        # adds) reads the input instead.
        if not (f.out_width > f.in_width and p.out_width < p.in_width):
            return None
        if _numbered_before(p.conv[0], f.conv[0]):
            return None
        return [f, p]
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


def _numbered_before(a: str, b: str) -> bool:
    """`conv1` before `conv2`: one series of names, `a`'s number lower."""
    found_a, found_b = re.fullmatch(r"(\D*?)_?(\d+)", a), re.fullmatch(r"(\D*?)_?(\d+)", b)
    if not found_a or not found_b or found_a.group(1) != found_b.group(1):
        return False
    return int(found_a.group(2)) < int(found_b.group(2))


def _project_first(u: Unit) -> tuple[int, int]:
    """A 1x1 named like a projection is the projection before one named like an expansion; of
    two named alike (kuangliu's `conv1`, `conv3` around the depthwise `conv2`), the one numbered
    last."""
    name = u.conv[0].lower()
    number = re.findall(r"\d+", name)
    named = 0 if any(w in name for w in ("proj", "reduce", "pwl", "linear")) else 1
    return named, -int(number[-1]) if number else 0
