"""Squeeze-and-excitation: pool each channel, reduce, activate, expand, gate, rescale the input.

`x * gate(expand(act(reduce(mean(x)))))`, with 1x1 convolutions or Linear layers for reduce and
expand. Which is which comes from the shapes (reduce: C -> r, expand: r -> C), never key order.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Example,
    Match,
    containers,
    family,
    modules,
)
from codegen.patterns.blocks._conv_parts import unit, walk_builtin
from codegen.patterns.blocks.spatial_group_enhance import ROLE as SGE_ROLE
from codegen.patterns.blocks.spatial_group_enhance import group_counts

# The width MobileNetV3 rounds a squeeze-excitation's reduction to (a multiple of it, at least it).
V3_ROUNDING = 8
SE_NAME = re.compile(r"squeeze|excit|^se|reduce|expand|^fc\d", re.I)


def _squeeze_named(ctx: BlockContext, path: str) -> bool:
    """Whether anything outside the class at `path` speaks of its pooled statistic: a pin from an
    enclosing block, a calibrated value or a hint."""
    resolver = ctx.resolver
    return (
        (path, "squeeze") in resolver.structural
        or (path, "squeeze") in resolver.calibrated
        or any("squeeze" in values for values in resolver.hints.values())
    )


class SqueezeExcite(BlockPattern):
    role = "SqueezeExcite"
    priority = 10  # two layers that widen back: an SE gate rather than a plain chain

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        prefix: tuple[str, ...] = ()
        seq: list = []  # the items of a Sequential holding the gate, in order
        if len(members) == 1 and len(cls.members) == 1 and members[0].kind == "sequential":
            # Hugging Face's RegNet: `attention = Sequential(conv, act, conv, gate)` beside a pool;
            # xiaolai's MobileNetV3: `se = Sequential(pool, conv, bn, act, conv, bn, gate)`.
            prefix, seq = (members[0].attr,), members[0].children
            members = [c for c in seq if c.kind != "placeholder"]
        elif len(cls.members) != len(members):
            return None
        members, norms = _layer_norms(members, prefix)
        if len(members) != 2 or norms is None:
            return None
        layers = [_layer(m, ctx, prefix) for m in members]
        if None in layers:
            return None
        kinds = {kind for _, kind, _, _ in layers}
        if kinds not in ({"conv"}, {"linear"}):
            return None
        # Linear C -> r -> C is also an autoencoder: SE names say gate (the layers', or where
        # they are a Sequential's items, the class's: moskomule's SELayer `se` holds `fc`), or a
        # conv beside it giving or reading the width it rescales (below)
        names = [m.attr for m in members]
        if prefix:
            names = [path.rsplit(".", 1)[-1] for path, *_ in cls.instances] or [""]
        named = all(SE_NAME.search(n) for n in names)
        a, b = layers
        width = max(a[3][0], b[3][0])  # what the gate rescales
        pinned = _squeeze_named(ctx, cls.name)  # (CBAM's holder pins its channel gate's pools)
        if kinds == {"linear"} and not (named or pinned or _beside_convs(cls, ctx, width)):
            return None
        reduce, expand = (a, b) if a[3][1] < a[3][0] else (b, a)
        if a[3][1] == a[3][0] and _numbered_after(b[2], a[2]):
            reduce, expand = a, b  # keeping the width (V3_ROUNDING below): the names' order
        if _numbered_after(reduce[2], expand[2]):
            return None  # `fc1` widens, `fc2` narrows back: an MLP (PoolFormer's), not a gate
        (channels, squeezed), (into, back) = reduce[3], expand[3]
        told = act.mobile_family(ctx.resolver)
        v3 = told is not None and told[0] == "mobilenet_v3"
        # MobileNetV3 rounds the squeezed width up to a multiple of 8 (torchvision's and timm's
        # _make_divisible): at 8 channels or fewer it keeps them all.
        kept = v3 and kinds == {"conv"} and squeezed == channels == V3_ROUNDING
        if not (squeezed < channels or kept) or (into, back) != (squeezed, channels):
            return None
        # EfficientNet's: SiLU; a MixNet's: its block's (swish where it squeeze-excites)
        paths = [path for path, _ in cls.instances]
        default, why = act.family_default(ctx.resolver, "relu", paths)
        gate_default = "sigmoid"
        hard = told is not None and told[0] in act.HARD_GATED
        blocks_use = default  # what the blocks around it apply, where the family says
        if hard:
            (default, gate_default), why = act.V3_SQUEEZE, told[1]
        reduce_at, expand_at = reduce[2], expand[2]  # choices addressed by the member's name
        activation = act.mark_family(
            ctx.choose(
                cls,
                reduce_at,
                "activation",
                default,
                act.alternatives(default, told=ctx.resolver, conv=v3),
                "after the reduction",
                aliases=act.ALIASES,
            ),
            why,
        )
        gate = act.mark_family(
            ctx.choose(
                cls,
                expand_at,
                "gate",
                gate_default,
                act.alternatives(gate_default, gates=True),
            ),
            why if hard else "",
        )
        conv = kinds == {"conv"}
        choices = [activation, gate]
        if pinned:
            # IMDN's contrast-aware channel attention (CCALayer) squeezes each channel to its
            # mean plus its standard deviation; CBAM's channel gate runs its layers on the mean
            # and on the max and sums the two. No tensor shows which. Offered only where an
            # enclosing block pins it (its IMDModule, its CBAM) or calibration/hints name it, so
            # that no other squeeze-excitation carries a choice nothing could settle.
            choices.append(
                ctx.resolver.choose(
                    cls.name,
                    "squeeze",
                    "mean",
                    ["mean_plus_std", "mean_and_max"] if conv else ["mean_and_max"],
                    "what each channel is pooled to (IMDN's CCA: mean plus std; CBAM's: the "
                    "mean and the max, each through the layers, summed)",
                )
            )
        if norms and (kinds != {"conv"} or squeezed == channels):
            return None  # a norm on each side of a gate that keeps the width: which is which?
        # A norm after a layer (ReXNet's SE: conv, BatchNorm2d, ReLU6; xiaolai's MobileNetV3: a
        # BatchNorm2d after each conv) normalises what that layer gives: matched by its width.
        after = {
            side: next((n for n in norms if n[1] == width), None)
            for side, width in (("reduce", squeezed), ("expand", channels))
        }
        if sum(v is not None for v in after.values()) != len(norms):
            return None
        found = (reduce[0], expand[0], conv, after["reduce"], after["expand"], None)
        if seq:  # the Sequential's own slot after the reduction (and its norm) holds the activation
            at = [c.attr for c in seq]
            last = max(at.index(p[-1]) for p in (reduce[0], (after["reduce"] or reduce)[0]))
            slot = seq[last + 1] if last + 1 < at.index(expand[0][-1]) else None
            if act.holds(slot, activation.value):
                found = found[:5] + (prefix + (slot.attr,),)
        guessed = ""
        if hard and blocks_use != default and activation.source in ("default", "structure"):
            # MobileNetV3's codes force ReLU here inside hard-swish blocks (torchvision's
            # SqueezeExcitation, timm's force_act_layer); a port handing the SE its block's
            # activation (timm's generic se_layer(mid, act_layer=act)) has the same keys.
            guessed = (
                f"the activation after the reduction follows {told[0]}'s code ({default}), not "
                f"its blocks' ({blocks_use}); no tensor shows which: the choice activation"
            )
        imdn = len(choices) > 2 and choices[2].value == "mean_plus_std"
        if imdn and choices[2].source == "structure":
            guessed = (
                "the contrast term leaves no tensor (IMDN's CCA by convention): the choice squeeze"
            )
        return Match(self, 2 + len(norms), found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        reduce, expand, conv, reduce_norm, expand_norm, held = match.found
        activation, gate = (c.value for c in match.choices[:2])
        squeeze = match.choices[2].value if len(match.choices) > 2 else "mean"
        x = g.input("x")

        def excite(s, name: str):  # reduce, activate, expand: what the gate reads
            s = g.call_module(reduce, s, name=name, inline=True)
            if reduce_norm is not None:
                s = g.call_module(reduce_norm[0], s, name=name, inline=True)
            if held is not None:  # the Sequential's own layer for it: called, not copied
                s = g.call_module(held, s, name=name)
            else:
                s = act.apply(g, activation, s, name=name)
            s = g.call_module(expand, s, inline=True)
            if expand_norm is not None:
                s = g.call_module(expand_norm[0], s, inline=True)
            return s

        s = g.call_method(
            "mean", x, (2, 3), name="scale", kwargs={"keepdim": conv}, comment="squeeze: [batch, C]"
        )
        if squeeze == "mean_plus_std":
            std = g.call_method(
                "std", x, (2, 3), kwargs={"unbiased": False, "keepdim": True}, inline=True
            )
            s = g.call_function("add", std, s, name="scale", comment="contrast: std plus mean")
        s = excite(s, "scale")
        if squeeze == "mean_and_max":
            top = g.call_method("amax", x, (2, 3), kwargs={"keepdim": conv}, name="top")
            s = g.call_function("add", s, excite(top, "top"), name="scale", comment="both pools")
        s = act.apply(g, gate, s, name="scale")
        if not conv:
            s = g.call_function("getitem", s, (Slice(), Slice(), None, None), inline=True)
        g.output(g.call_function("mul", x, s))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class ConvSE(nn.Module):  # timm / torchvision style: 1x1 convolutions, ReLU, sigmoid
            def __init__(self) -> None:
                super().__init__()
                self.fc1 = nn.Conv2d(16, 4, 1)
                self.fc2 = nn.Conv2d(4, 16, 1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                s = x.mean((2, 3), keepdim=True)
                return x * torch.sigmoid(self.fc2(F.relu(self.fc1(s))))

        class LinearSE(nn.Module):  # the paper's form: Linear layers on the pooled vector
            def __init__(self) -> None:
                super().__init__()
                self.excite = nn.Linear(2, 8)  # registered first: the shapes decide the order
                self.squeeze = nn.Linear(8, 2)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                s = torch.sigmoid(self.excite(F.relu(self.squeeze(x.mean((2, 3))))))
                return x * s[:, :, None, None]

        class SequentialSE(nn.Module):  # transformers' RegNetSELayer
            def __init__(self) -> None:
                super().__init__()
                self.pooler = nn.AdaptiveAvgPool2d((1, 1))
                self.attention = nn.Sequential(
                    nn.Conv2d(16, 4, 1), nn.ReLU(), nn.Conv2d(4, 16, 1), nn.Sigmoid()
                )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x * self.attention(self.pooler(x))

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.se = SequentialSE()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.se(x)

        class ConvModule(nn.Module):  # mmcv's ConvModule(norm_cfg=None): conv, `activate`
            def __init__(self, c_in: int, c_out: int, act: nn.Module) -> None:
                super().__init__()
                self.conv = nn.Conv2d(c_in, c_out, 1)
                self.activate = act

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.activate(self.conv(x))

        class MmdetSELayer(nn.Module):  # mmdet.models.layers.SELayer (ratio 16)
            def __init__(self, channels: int = 32) -> None:
                super().__init__()
                self.global_avgpool = nn.AdaptiveAvgPool2d(1)
                self.conv1 = ConvModule(channels, channels // 16, nn.ReLU())
                self.conv2 = ConvModule(channels // 16, channels, nn.Sigmoid())

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x * self.conv2(self.conv1(self.global_avgpool(x)))

        class NormedSE(nn.Module):  # timm's SEWithNorm (ReXNet): a BatchNorm2d after fc1
            def __init__(self) -> None:
                super().__init__()
                self.fc1 = nn.Conv2d(16, 4, 1)
                self.bn = nn.BatchNorm2d(4)
                self.fc2 = nn.Conv2d(4, 16, 1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                s = F.relu(self.bn(self.fc1(x.mean((2, 3), keepdim=True))))
                return x * torch.sigmoid(self.fc2(s))

        x = torch.randn(2, 16, 5, 5)
        return [
            Example(NormedSE(), (x,)),
            Example(MmdetSELayer(), (torch.randn(2, 32, 4, 4),)),
            Example(ConvSE(), (x,)),
            Example(LinearSE(), (torch.randn(2, 8, 5, 5),)),
            Example(Holder(), (x,)),
        ]


# The model-wide pin (ChoiceResolver.structural, path "") of analyze/strides.py's
# squeeze_place: where the mobile blocks' gates sit, ("after" the projection (xiaolai's port) or
# "before" it, why), as the blocks whose widths tell show it.
SQUEEZE_PLACE = "squeeze_place"

# Channel gates a residual or inverted-residual body may hold: a squeeze-excitation, ECA's
# one-channel Conv1d across the pooled channels (blocks/efficient_channel_attention.py), or
# coordinate attention's strips (blocks/coordinate_attention.py), CBAM's channel and spatial
# gates (blocks/conv_block_attention.py): each rescales its input.
GATE_ROLES = (
    "SqueezeExcite",
    "EfficientChannelAttention",
    "CoordinateAttention",
    "ConvBlockAttention",
    "TripletAttention",  # (a gate over each pixel too, keeping any width: blocks/triplet_attention)
    SGE_ROLE,  # (one over each pixel of its groups: blocks/spatial_group_enhance.py)
)


def channel_gate(m, ctx: BlockContext) -> bool:
    """Whether a member rescales its input's channels by a gate computed from their means."""
    return ctx.role(m) in GATE_ROLES


def gate_width(m, ctx: BlockContext) -> int | None:
    """The channels a gate member rescales: what its reducing layer reads (the analysis sets a
    class's input width from its forward, not from the span of its members). None for a gate
    whose layers do not record it (ECA's Conv1d reads one channel)."""
    if ctx.role(m) not in GATE_ROLES or ctx.role(m) in (
        "EfficientChannelAttention",
        "TripletAttention",
        SGE_ROLE,
    ):
        return None
    return m.io.in_width if m.io is not None else None


# What a block's forward calls the gate it places, where not a squeeze-excitation.
GATE_COMMENTS = {SGE_ROLE: "spatial group-wise enhance"}


def gate_comment(m, ctx: BlockContext) -> str:
    """The comment on a block's call of its gate member."""
    return GATE_COMMENTS.get(ctx.role(m), "squeeze-excitation")


def gate_groups(m, ctx: BlockContext, holder) -> set[int]:
    """The groups a gate that keeps any width splits its input into (SGE's G): the width it
    follows is a multiple of each. Empty for any other gate."""
    if ctx.role(m) != SGE_ROLE:
        return set()
    return group_counts(m, holder, ctx)


def _layer(m, ctx: BlockContext, prefix: tuple[str, ...]):
    """(path, family, member name, (in width, out width)) of a built-in 1x1 conv or Linear
    member, or of the conv a unit class wraps with no norm (mmcv's ConvModule(norm_cfg=None):
    `conv1.conv`, its `activate` holding no tensors, so the gate's activations are this pattern's
    choices); None for anything else."""
    if m.kind == "builtin" and family(m) in ("conv", "linear") and m.io is not None:
        if (family(m) == "conv" and _kernel(m) != 1) or None in (m.io.in_width, m.io.out_width):
            return None
        return (prefix + (m.attr,), family(m), m.attr, (m.io.in_width, m.io.out_width))
    if m.kind != "class" or prefix:
        return None
    found = unit(m, ctx)
    if found is None or found.norm is not None or found.kernel not in (1, (1, 1)):
        return None
    if None in (found.in_width, found.out_width):
        return None
    return (found.conv, "conv", m.attr, (found.in_width, found.out_width))


def _beside_convs(cls, ctx: BlockContext, width: int) -> bool:
    """Whether every place the class is used holds, beside it (in the Sequential or class holding
    it), a conv that gives or reads the `width` channels it rescales: its Linear layers then gate
    a conv's map (senet.pytorch's and huawei-noah's SELayer: `fc = Sequential(Linear, ReLU,
    Linear)` after a conv), not an autoencoder's bottleneck, nor one part of a gate that pools
    otherwise (CBAM's channel gate, beside a spatial gate's 2 -> 1 conv)."""
    found = False
    for other in ctx.classes.values():
        if other is cls:
            continue
        for siblings in containers(modules(other)):
            gates = [m for m in siblings if m.kind == "class" and m.type_name == cls.name]
            rest = [m for m in siblings if m not in gates]
            # (each one's own widths: a class's members are its first instance's)
            for gate in gates:
                rescales = gate.io.in_width if gate.io is not None else width
                if not any(_conv_of_width(m, rescales, ctx, cls.name) for m in rest):
                    return False
                found = True
    return found


def _conv_of_width(m, width: int, ctx: BlockContext, skip: str) -> bool:
    """Whether a member gives or reads `width` channels and is or holds a conv."""
    if m.io is None or width not in (m.io.in_width, m.io.out_width):
        return False
    return any(family(c) == "conv" for c in walk_builtin([m], ctx, skip=skip))


def _layer_norms(members, prefix: tuple[str, ...]) -> tuple[list, list | None]:
    """(the members that are not norms, (path, width) of each norm): a norm only right after a
    layer where the members are a Sequential's items (`prefix` its path); named members are
    matched to their layer by width. None for the norms where one cannot follow a layer."""
    layers, norms = [], []
    for i, m in enumerate(members):
        if family(m) != "norm":
            layers.append(m)
            continue
        width = m.io.out_width if m.io is not None else None
        if width is None or (prefix and (i == 0 or family(members[i - 1]) == "norm")):
            return layers, None
        norms.append((prefix + (m.attr,), width))
    return layers, norms


def _kernel(m) -> int | None:
    k = next((a.value for a in m.args if a.keyword == "kernel_size"), None)
    return k if isinstance(k, int) else None


def _numbered_after(a: str, b: str) -> bool:
    """Whether `a` is numbered after `b` in one series of names (`fc2` after `fc1`)."""
    found_a, found_b = re.fullmatch(r"(\D*?)_?(\d+)", a), re.fullmatch(r"(\D*?)_?(\d+)", b)
    if not found_a or not found_b or found_a.group(1) != found_b.group(1):
        return False
    return int(found_a.group(2)) > int(found_b.group(2))
