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
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns import _activations as act
from codegen.patterns._kit import tensors
from codegen.patterns.blocks.padded_resnet_block import slot_pin
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


def _shuffles(m, ctx: BlockContext) -> bool:
    """An upsampler container: pixel-shuffle slots, or classes of role Upsample."""
    if m.kind not in ("sequential", "modulelist", "repeat"):
        return False
    return any(
        (c.kind == "placeholder" and c.type_name == "nn.PixelShuffle")
        or (c.kind == "class" and ctx.role(c) == "Upsample")
        for c in m.children
    )


def _blocks(m) -> bool:
    """A container of residual blocks (generated classes)."""
    return m.kind in ("sequential", "modulelist", "repeat") and any(
        c.kind == "class" for c in m.children
    )


def _conv_part(m) -> bool:
    """A conv, or a part holding one (sgrvinod's `ConvolutionalBlock`: conv, norm, activation)."""
    return (m.kind == "builtin" and family(m) == "conv") or m.kind in ("class", "sequential")


def _by_structure(members, ctx: BlockContext) -> tuple | None:
    """SRResNet's parts where the names do not number them (twtygqyy's `conv_input`, `residual`,
    `conv_mid`, `bn_mid`, `upscale4x`, `conv_output`; sgrvinod's `conv_block1`, `residual_blocks`,
    `conv_block2`, `subpixel_convolutional_blocks`, `conv_block3`): the one part reading the image,
    the trunk keeping the width (the blocks, then the conv, then its norm: Ledig et al. 2017,
    fig. 4), the upsampler (its shuffles show as slots or Upsample classes), the part back to the
    image."""
    if any(m.io is None or not m.io.in_width or not m.io.out_width for m in members):
        return None
    ups = [m for m in members if _shuffles(m, ctx)]
    lasts = [m for m in members if _conv_part(m) and not _blocks(m) and m not in ups]
    lasts = [m for m in lasts if m.io.out_width < m.io.in_width]
    if len(ups) != 1 or len(lasts) != 1:
        return None
    (up,), (last,) = ups, lasts
    channels, width = last.io.out_width, last.io.in_width
    firsts = [m for m in members if (m.io.in_width, m.io.out_width) == (channels, width)]
    if len(firsts) != 1 or not _conv_part(firsts[0]) or up.io.in_width != width:
        return None
    first = firsts[0]
    trunk = [m for m in members if m not in (first, up, last)]
    if any((m.io.in_width, m.io.out_width) != (width, width) for m in trunk):
        return None
    blocks = [m for m in trunk if _blocks(m)]
    convs = [m for m in trunk if _conv_part(m) and not _blocks(m)]
    norms = [m for m in trunk if m.kind == "builtin" and family(m) == "norm"]
    if len(blocks) != 1 or len(convs) > 1 or len(norms) > len(convs):
        return None
    if len(blocks) + len(convs) + len(norms) != len(trunk):
        return None
    return first, blocks + convs + norms, up, last


def _closing_norm_pins(trunk, held) -> list:
    """The trunk's closing norm is of the kind the blocks' norms are, where neither records
    running statistics: twtygqyy's `bn_mid` is an InstanceNorm2d like its blocks' `in1`/`in2`
    (a BatchNorm without running statistics, what the name alone would say, is rare)."""
    kinds = {m.type_name for m in (held.members if held is not None else []) if family(m) == "norm"}
    if kinds != {"nn.InstanceNorm2d"}:
        return []
    pins = []
    for m in trunk:
        choice = next((c for c in m.choices if c.name == "module_type"), None)
        if family(m) == "norm" and choice is not None and m.type_name != "nn.InstanceNorm2d":
            why = "the blocks' norms are instance norms: the trunk's closing norm is one too"
            pins.append((choice.path, "module_type", "nn.InstanceNorm", why))
    return pins


def _long_skip(ctx: BlockContext, cls, where: str):
    return ctx.choose(
        cls,
        where,
        "long_skip",
        "add",
        ["none"],
        "the first part's output added to the trunk's (SRResNet's elementwise sum)",
    )


class SRResNet(BlockPattern):
    role = "SuperResolution"
    priority = 10

    accepts = Accepts(4, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 4:
            return None
        ordered = _numbered(members)
        if ordered is None:
            return self._match_by_structure(cls, members, ctx)
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
        skip = _long_skip(ctx, cls, trunk[0].attr)
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
        found = (first.attr, tuple((m.attr, False) for m in trunk), up.attr, tuple(steps))
        found += ("", False)
        return Match(
            self, len(members), found, [skip, squash], guessed="; ".join(guessed), pins=pins
        )

    def _match_by_structure(self, cls, members, ctx: BlockContext) -> Match | None:
        parts = _by_structure(members, ctx)
        if parts is None:
            return None
        first, trunk, up, last = parts
        skip = _long_skip(ctx, cls, trunk[0].attr)
        squash = ctx.choose(
            cls,
            last.attr,
            "output_activation",
            "identity",
            [o for o in OUTPUTS if o != "identity"],
            "after the last conv (tanh_to_unit: (tanh + 1) / 2)",
        )
        choices = [skip, squash]
        bare = first.kind == "builtin"
        if bare:  # its activation holds no tensor (Ledig's PReLU would)
            choices.append(
                ctx.choose(
                    cls,
                    first.attr,
                    "head_activation",
                    "leaky_relu",
                    act.alternatives("leaky_relu", conv=True),
                    "after the first conv (twtygqyy/pytorch-SRResNet's LeakyReLU(0.2))",
                )
            )
        guessed = [c.name for c in choices if c.source == "default"]
        pins = []
        activation = choices[-1].value if bare else None
        module = act.MODULES.get(activation) if activation else None
        why = "as after the first conv, its head_activation choice: twtygqyy/pytorch-SRResNet"
        for slot in up.children if module else []:
            if slot.kind == "placeholder" and slot.type_name != "nn.PixelShuffle":
                pin = slot_pin(slot, module, why)
                pins += [pin] if pin else []
        held = ctx.classes.get(next(c for c in trunk[0].children if c.kind == "class").type_name)
        own = held.forward.choices if held is not None and held.forward is not None else []
        said = next((c for c in own if c.name == "activation"), None)
        if said is not None and activation:
            why_block = "SRResNet's residual block adds nothing after the sum, Ledig et al. 2017"
            pins.append((said.path, "activation", "identity", why_block))
            pins.append((said.path, "inside_activation", activation, why))
        pins += _closing_norm_pins(trunk, held)
        note = ""
        if guessed:
            note = (
                "SRResNet's long skip, output squashing and parameter-free activations leave no "
                f"tensor: the choices {', '.join(guessed)}"
            )
        each = lambda m: m.kind in ("modulelist", "repeat")  # noqa: E731
        found = (first.attr, tuple((m.attr, each(m)) for m in trunk), up.attr, ())
        found += (last.attr, each(up))
        return Match(self, len(members), found, choices, guessed=note, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        first, trunk, up, steps, last, up_each = match.found
        values = {c.name: c.value for c in match.choices}
        skip, squash = values["long_skip"], values["output_activation"]
        x = g.input("x")
        feat = g.call_module((first,), x, name="feat")
        if "head_activation" in values:
            feat = act.apply(g, values["head_activation"], feat, name="feat")
        out = feat
        for attr, each in trunk:
            out = g.call_module((attr,), out, name="out", each=each)
        if skip == "add":
            out = g.call_function("add", feat, out, name="out", comment="long skip over the trunk")
        for step in steps:
            out = g.call_module((up, step), out, name="out")
        if last:  # the upsampler, then the conv back to the image
            out = g.call_module((up,), out, name="out", each=up_each)
            out = g.call_module((last,), out, name="out")
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
        import torch.nn.functional as F

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

        class BnBlock(nn.Module):  # BN residual block, LeakyReLU between, nothing after the sum
            def __init__(self, c: int) -> None:
                super().__init__()
                self.c1, self.n1 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)
                self.c2, self.n2 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)

            def forward(self, x):
                h = F.leaky_relu(self.n1(self.c1(x)), 0.2)
                return x + self.n2(self.c2(h))

        class Shuffle(nn.Module):  # SRGAN's UpsampleBLock under other names
            def __init__(self, c: int) -> None:
                super().__init__()
                self.proj = nn.Conv2d(c, 4 * c, 3, padding=1)
                self.act = nn.PReLU()

            def forward(self, x):
                return self.act(F.pixel_shuffle(self.proj(x), 2))

        class Unnumbered(nn.Module):  # the parts named, not numbered; blocks in a ModuleList
            def __init__(self, c: int = 4) -> None:
                super().__init__()
                self.head = nn.Conv2d(3, c, 9, padding=4)
                self.blocks = nn.ModuleList(BnBlock(c) for _ in range(2))
                self.fuse = nn.Conv2d(c, c, 3, padding=1)
                self.fuse_norm = nn.BatchNorm2d(c)
                self.upsample = nn.Sequential(Shuffle(c), Shuffle(c))
                self.tail = nn.Conv2d(c, 3, 9, padding=4)

            def forward(self, x):
                feat = F.leaky_relu(self.head(x), 0.2)
                out = feat
                for block in self.blocks:
                    out = block(out)
                out = feat + self.fuse_norm(self.fuse(out))
                return self.tail(self.upsample(out))

        torch.manual_seed(0)
        unnumbered = Unnumbered()
        for m in unnumbered.modules():  # trained statistics, so a wrong norm shows
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
        return [
            Example(Generator().eval(), (torch.randn(2, 3, 5, 5),)),
            Example(unnumbered.eval(), (torch.randn(2, 3, 5, 5),)),
        ]
