"""A super-resolution generator in SRResNet's layout (Ledig et al. 2017, fig. 4), written as
numbered parts run in turn (leftthomas/SRGAN's `Generator`: `block1` ... `block8`): a first conv
(with its PReLU), residual blocks, a conv-BN closing the trunk, the first part's output added
back (the long skip), the sub-pixel upsampling steps and the last conv, then the output squashed:

    first = block1(x)
    trunk = block7(block6(...block2(first)))
    out = block8(first + trunk)
    return (tanh(out) + 1) / 2          # leftthomas/SRGAN; other ports return `out`

The widths order the parts only with the numbers in their names: every trunk part keeps the
width. The long skip and the squashing leave no tensor: choices. Where every part is named
`blockN`, the structure is leftthomas's code, whose squashing is `(tanh + 1) / 2` by default;
elsewhere none is. The conv-BN that closes the trunk has no activation after it (the figure's
`k3n64s1` conv and BN before the elementwise sum): its slot is pinned empty.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import tensors
from codegen.patterns.blocks.shuffle_upsample import RATIOS

NUMBERED = re.compile(r"([A-Za-z_]*?)_?(\d+)")
OUTPUTS = ["identity", "tanh_to_unit", "tanh", "sigmoid"]
LEFTTHOMAS = re.compile(r"block\d+")
IDENTITY = "nn.Identity()"


def _numbered(members) -> list | None:
    """The members in the order of the numbers in their names, all sharing one stem."""
    found = [NUMBERED.fullmatch(m.attr) for m in members]
    if any(f is None for f in found) or len({f.group(1) for f in found}) != 1:
        return None
    numbers = [int(f.group(2)) for f in found]
    if len(set(numbers)) != len(numbers):
        return None
    return [m for _, m in sorted(zip(numbers, members), key=lambda p: p[0])]


def _first_conv(m):
    """A conv, or the conv a Sequential starts with."""
    if m.kind == "sequential" and m.children:
        m = m.children[0]
    return m if m.kind == "builtin" and family(m) == "conv" and m.io.ndim == 2 else None


def _upsampler(m, ctx: BlockContext, width: int, channels: int) -> list[str] | None:
    """A Sequential's or ModuleList's items: upsampling steps (a class of role Upsample, or a
    conv widening r*r times), then a last conv from the width to the image's channels."""
    if m.kind not in ("sequential", "modulelist") or len(m.children) < 2:
        return None
    *ups, last = m.children
    if last.kind != "builtin" or family(last) != "conv" or last.io.in_width != width:
        return None
    if last.io.out_width != channels:
        return None
    for up in ups:
        if up.kind != "class" or ctx.role(up) != "Upsample" or up.io is None:
            return None
        # the class's widths are its conv's: r*r times wider out, before the shuffle
        if up.io.in_width != width or up.io.out_width not in [width * r * r for r in RATIOS]:
            return None
    return [c.attr for c in m.children]


def _trailing_slot(m) -> str | None:
    """The index of an activation slot a Sequential ends with after a conv and a norm."""
    items = m.children if m.kind == "sequential" else []
    if len(items) == 3 and items[-1].kind == "placeholder":
        if [family(c) for c in items[:2]] == ["conv", "norm"]:
            return items[-1].attr
    return None


class SRResNet(BlockPattern):
    role = "SuperResolution"
    priority = 10

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 4:
            return None
        ordered = _numbered(members)
        if ordered is None:
            return None
        first, *trunk, up = ordered
        head = _first_conv(first)
        if head is None or first.io is None or not head.io.in_width:
            return None
        channels, width = head.io.in_width, first.io.out_width
        if len(trunk) < 2 or any(m.io is None for m in trunk):
            return None
        if any((m.io.in_width, m.io.out_width) != (width, width) for m in trunk):
            return None
        steps = _upsampler(up, ctx, width, channels)
        if steps is None:
            return None
        skip = ctx.choose(
            cls,
            trunk[0].attr,
            "long_skip",
            "add",
            ["none"],
            "the first part's output added to the trunk's (SRResNet's elementwise sum)",
        )
        leftthomas = all(LEFTTHOMAS.fullmatch(m.attr) for m in members)
        squash = ctx.choose(
            cls,
            up.attr,
            "output_activation",
            "tanh_to_unit" if leftthomas else "identity",
            [o for o in OUTPUTS if o != ("tanh_to_unit" if leftthomas else "identity")],
            "after the last conv (tanh_to_unit: (tanh + 1) / 2)",
        )
        guessed = []
        if squash.source == "default":
            if leftthomas:
                squash.note = "leftthomas/SRGAN's Generator (`blockN` parts) by convention"
            guessed.append(
                "the output's squashing leaves no tensor (leftthomas/SRGAN's (tanh + 1) / 2, "
                "other SRResNet ports none): the choice output_activation"
            )
        pins = []
        slot = _trailing_slot(trunk[-1])
        if slot is not None:
            guessed.append("the closing conv-BN's empty activation slot (SRResNet's convention)")
            why = "SRResNet's conv-BN closing the trunk has no activation (Ledig et al. 2017)"
            for path, _ in cls.instances:
                where = ".".join(p for p in (path, trunk[-1].attr, slot) if p)
                pins.append((where, "module_type", IDENTITY, why))
        found = (first.attr, tuple(m.attr for m in trunk), up.attr, tuple(steps))
        return Match(
            self, len(members), found, [skip, squash], guessed="; ".join(guessed), pins=pins
        )

    def forward(self, match: Match, g: Graph) -> None:
        first, trunk, up, steps = match.found
        skip, squash = (c.value for c in match.choices)
        x = g.input("x")
        feat = g.call_module((first,), x, name="feat")
        out = feat
        for attr in trunk:
            out = g.call_module((attr,), out, name="out")
        if skip == "add":
            out = g.call_function("add", feat, out, name="out", comment="long skip over the trunk")
        for step in steps:
            out = g.call_module((up, step), out, name="out")
        if squash == "tanh_to_unit":
            out = g.call_function("tanh", out, name="out", inline=True)
            out = g.call_function("add", out, 1.0, name="out", inline=True)
            out = g.call_function("truediv", out, 2.0, name="out", comment="from [-1, 1] to [0, 1]")
        elif squash != "identity":
            out = g.call_function(squash, out, name="out")
        g.output(out)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Residual(nn.Module):  # leftthomas/SRGAN ResidualBlock
            def __init__(self, c: int) -> None:
                super().__init__()
                self.conv1 = nn.Conv2d(c, c, 3, padding=1)
                self.bn1 = nn.BatchNorm2d(c)
                self.prelu = nn.PReLU()
                self.conv2 = nn.Conv2d(c, c, 3, padding=1)
                self.bn2 = nn.BatchNorm2d(c)

            def forward(self, x):
                return x + self.bn2(self.conv2(self.prelu(self.bn1(self.conv1(x)))))

        class Up(nn.Module):
            def __init__(self, c: int, r: int) -> None:
                super().__init__()
                self.conv = nn.Conv2d(c, c * r * r, 3, padding=1)
                self.shuffle = nn.PixelShuffle(r)
                self.prelu = nn.PReLU()

            def forward(self, x):
                return self.prelu(self.shuffle(self.conv(x)))

        class Generator(nn.Module):  # an x3 SRResNet as numbered `stage` parts, no squashing
            def __init__(self, c: int = 4) -> None:
                super().__init__()
                self.stage1 = nn.Sequential(nn.Conv2d(3, c, 9, padding=4), nn.PReLU())
                self.stage2 = Residual(c)
                self.stage3 = Residual(c)
                self.stage4 = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c))
                self.stage5 = nn.Sequential(Up(c, 3), nn.Conv2d(c, 3, 9, padding=4))

            def forward(self, x):
                first = self.stage1(x)
                return self.stage5(first + self.stage4(self.stage3(self.stage2(first))))

        torch.manual_seed(0)
        return [Example(Generator().eval(), (torch.randn(2, 3, 5, 5),))]
