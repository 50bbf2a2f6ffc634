"""The ResNet basic block: conv-norm pairs, then the input, projected when the shape changes, is
added: `act(body(x) + shortcut(x))`. Pairs are found by the numbers in their names (conv1 with bn1)
and by widths, never by key order; the activation is a choice of the class.

A block whose instances widen with nothing to project the input takes He et al. 2016's "option A"
shortcut (the CIFAR ResNets): the input subsampled to the output's resolution, its new channels
zeros; only where a block doubles the width, as those stages do (pairs widening otherwise are a
plain stack). Where those zeros go is not in any key: both sides by default (akamaster's
pytorch_resnet_cifar10, the layout most CIFAR ResNets copy), after the input's channels as
fb.resnet.torch concatenates them; a choice, and the block says it guessed."""

from __future__ import annotations

import re
from dataclasses import replace

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
    name_order,
    tensors,
)
from codegen.patterns.blocks._conv_parts import (
    arg,
    conv_kernel,
    expands_elsewhere,
    held_norm,
    is_depthwise,
    unit,
)
from codegen.patterns.blocks._norm_order import POST, PRE, model_order, proven
from codegen.patterns.blocks._norm_order import same_width_everywhere
from codegen.patterns.blocks.chain import numbered_name
from codegen.patterns.blocks.channel_shuffle import unshown_shuffle
from codegen.patterns.blocks.squeeze_excite import (
    channel_gate,
    gate_comment,
    gate_groups,
    gate_width,
)

# What residual blocks call the member on their shortcut path; osmr/imgclsmob's units (ResUnit,
# SEResUnit, ResNeXtUnit, ...) call it `identity_conv`. The one list analyze/ reads too.
# Lower-cased: the Wide ResNet paper's code (and the semi-supervised repositories built on it,
# FixMatch's, MixMatch's) names its 1x1 projection `convShortcut`.
SHORTCUT_NAMES = {
    "downsample",
    "shortcut",
    "skip",
    "proj",
    "residual",
    "identity_conv",
    "convshortcut",
}


# ChoiceResolver.structural, per block path: ((residual, dense), why) where the widths the next
# block reads prove it a dual path block (blocks/dual_path_block.py, analyze/layouts.py).
DUAL_PATH = "dual_path"
LAST_UNIT_ACTIVATED = "last_unit_activated"


def proven_dual_path(cls, ctx: BlockContext) -> bool:
    """Whether the widths prove any instance of the class a dual path block: never a plain
    residual, whose output is what its body gives."""
    return any((path, DUAL_PATH) in ctx.resolver.structural for path, _ in cls.instances)


def _spatial(kernel: object) -> bool:
    """A kernel wider than 1x1 (an int or a tuple), as a conv's argument reads."""
    sizes = kernel if isinstance(kernel, (tuple, list)) else (kernel,)
    return any(isinstance(k, int) and k > 1 for k in sizes)


def _bottleneck(kernels: list) -> bool:
    """A 1x1 conv, a spatial one, a 1x1 conv: the body of ResNet-50's blocks (`kernels` in
    dataflow order; a self-contained step in the middle has None)."""
    pointwise = (1, (1, 1), [1, 1])
    return (
        len(kernels) == 3
        and kernels[0] in pointwise
        and kernels[2] in pointwise
        and (kernels[1] is None or _spatial(kernels[1]))
    )


def _unpaired(convs, norms) -> list:
    """The projection of a block whose convs and norms are numbered in pairs (`conv1`/`bn1`,
    `conv2`/`bn2`) but for one 1x1 conv with no norm of its number, reading what the first conv
    reads and giving what the last paired conv gives: d2l's `Residual` (`conv3`, built where
    `use_1x1conv`). None found: []."""
    numbers = {name_order(n.attr)[0] for n in norms}
    if () in numbers or len(numbers) != len(norms):
        return []
    extra = [c for c in convs if name_order(c.attr)[0] not in numbers]
    if len(extra) != 1 or extra[0].io is None or conv_kernel(extra[0]) not in (1, (1, 1)):
        return []
    body = [c for c in convs if c is not extra[0]]
    if (
        len(body) < 2
        or None in (body[0].io, body[-1].io)
        or name_order(extra[0].attr) < name_order(body[-1].attr)
    ):
        return []
    ends = (body[0].io.in_width, body[-1].io.out_width)
    return extra if (extra[0].io.in_width, extra[0].io.out_width) == ends else []


# A step's number followed by its kernel (timm's byobnet blocks: `conv1_1x1`, `conv2_kxk`,
# `conv3_1x1`; `conv2_3x3`, `conv1_dw`): the kernel tag says what the step is, the number where
TAGGED_STEP = re.compile(r"([A-Za-z]+?)_?(\d+)_(?:1x1|kxk|\d+x\d+|dw|pw)")


def step_name(attr: str) -> tuple[str | None, int]:
    """(stem, number) of a body step's name: chain.numbered_name's, or a tagged step's."""
    found = numbered_name(attr)
    tagged = TAGGED_STEP.fullmatch(attr)
    if found[0] is None and tagged is not None:
        return tagged.group(1).lower(), int(tagged.group(2))
    return found


class BasicBlock(BlockPattern):
    role = "BasicBlock"

    accepts = Accepts(2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 2 or proven_dual_path(cls, ctx):
            return None  # (what reads a dual path block's output proves it is no plain sum)
        wrapped = [m.attr for m in members if _wrapped_conv(m) is not None]
        bare = sum(family(m) == "conv" for m in members)
        if wrapped and bare + len(wrapped) == sum(family(m) == "norm" for m in members):
            members = [_wrapped_conv(m) or m for m in members]  # (each pairs with a norm)
        else:
            wrapped = []  # (a one-conv Sequential beside the pairs: a shortcut's projection)
        convs = sorted(
            (m for m in members if family(m) == "conv"), key=lambda m: name_order(m.attr)
        )
        norms = sorted(
            (m for m in members if family(m) == "norm"), key=lambda m: name_order(m.attr)
        )
        rest = [m for m in members if m not in convs and m not in norms]
        gates = [m for m in rest if channel_gate(m, ctx)]
        if len(gates) > 1:
            return None
        rest = [m for m in rest if m not in gates]
        # A member that convolves, normalises and activates on its own (ResNeSt's split attention
        # `conv2`, SKNet's selective kernel `conv1`): one step of the body, numbered among the
        # convs, with no norm or activation after it.
        inner = [m for m in rest if ctx.role(m) in SELF_CONTAINED]
        if len(inner) > 1:
            return None
        rest = [m for m in rest if m not in inner]
        # A member that mixes the pixels with no conv of its own (BoTNet's MHSA, alone in a
        # Sequential): the body's spatial step, numbered among the convs, with its norm after it.
        mixers = [m for m in rest if _pixel_mixer(m, ctx)]
        if len(mixers) > 1 or (mixers and inner):
            return None
        rest = [m for m in rest if m not in mixers]
        # An activation with tensors of its own (SRGAN's `prelu`, one PReLU shared by the block):
        # the block's activation, called between the pairs; whether it runs after the sum too
        # leaves no key (a choice).
        own = [m for m in rest if family(m) == "activation" and m.kind == "builtin"]
        if len(own) > 1:
            return None
        rest = [m for m in rest if m not in own]
        if not convs and not norms:  # conv-norm units wrapped one per member (timm's ConvNormAct)
            if own or inner:
                return None
            return self._match_units(cls, ctx, rest, gates, len(members))
        if not norms and not own and not inner and all(held_norm(c) for c in convs):
            # Convs that hold their norms (Detectron2's Conv2d): each a unit of its own.
            return self._match_units(cls, ctx, rest + convs, gates, len(members))
        if len(members) < 4 + len(inner):
            return None
        shortcut = None
        if len(rest) == 1 and family(rest[0]) in ("sequential", "conv"):
            shortcut = rest[0]
        elif rest or len(convs) == len(norms) + 1:
            named = [m for m in convs if m.attr in SHORTCUT_NAMES] or _unpaired(convs, norms)
            if rest or len(named) != 1:
                return None
            shortcut = named[0]
            convs.remove(shortcut)
        if len(convs) + len(mixers) != len(norms) or len(convs) < 2:
            return None
        if shortcut is None and _separable(convs) and not expands_elsewhere(cls, ctx):
            # A depthwise kxk, then a 1x1: MobileNetV1's separable block (Howard et al. 2017),
            # never residual; only a network whose other blocks expand into their depthwise
            # conv (an inverted residual's, blocks/inverted_residual.py) adds the input back.
            return None
        # instances that widen with nothing to project the input: option A (zero channels)
        zero_pad = shortcut is None and not same_width_everywhere(convs[0], convs[-1])
        steps = sorted(convs + mixers, key=lambda m: name_order(m.attr))
        if mixers and not 0 < steps.index(mixers[0]) < len(steps) - 1:
            return None
        pairs = [
            (
                ((c.attr,), (n.attr,), c.io.in_width, c.io.out_width, conv_kernel(c))
                if c not in mixers  # (a mixer keeps its norm's width; its kernel is no conv's)
                else ((c.attr,), (n.attr,), n.io.in_width, n.io.in_width, None)
            )
            for c, n in zip(steps, norms)
        ]
        if any(c.io.out_width != n.io.in_width for c, n in zip(steps, norms) if c not in mixers):
            return None
        if inner:  # in name order among the pairs; its widths are its class's to check
            at = sum(name_order(c.attr) < name_order(inner[0].attr) for c in convs)
            if not 0 < at < len(pairs):
                return None
            pairs.insert(at, ((inner[0].attr,), None, None, None, None))
        order = POST
        if POST not in {proven(n, c) for c, n in zip(convs, norms)}:  # each norm could come first
            order = model_order(ctx)
            if order == PRE:
                return None  # the model's other blocks are pre-activation (preact_residual.py)
        short = [(shortcut.attr,)] if shortcut else None
        own_attr = own[0].attr if own else None
        pool = _pooled_body(cls, ctx, inner or mixers, shortcut)
        if pool is not None and mixers:
            pool = (*pool, MIXER_POOL)
        match = self._finish(cls, ctx, pairs, short, gates, 0, zero_pad, own_attr, pool)
        if match is not None and wrapped:
            _wrapped_step(cls, ctx, match, wrapped)
        if match is not None and order is None and not match.guessed:
            match.guessed = (
                "every conv keeps the width, so each norm could also come before its conv "
                "(a pre-activation block) and no other block proves the order: read as "
                "conv then norm"
            )
        if match is not None and not match.guessed:
            match.guessed = unshown_shuffle(convs)  # (a grouped 1x1 conv: a hidden shuffle)
        if match is not None and not match.guessed:
            match.guessed = unrecorded_downsampling(convs)
        unnamed = shortcut is not None and shortcut.attr not in SHORTCUT_NAMES and rest == []
        keeps = (
            unnamed and shortcut.io is not None and shortcut.io.in_width == shortcut.io.out_width
        )
        if match is not None and keeps and not match.guessed:
            match.guessed = (
                f"{shortcut.attr}, a 1x1 conv with no norm that keeps the width, is read as the "
                "shortcut's projection (d2l's Residual); it could also be a last pointwise step"
            )
        return match

    def _match_units(self, cls, ctx: BlockContext, rest, gates, size: int) -> Match | None:
        """Each step one member holding a conv and its norm (a class or a `[conv, norm]`
        Sequential), ordered by the numbers or letters in their names (`conv1`..`conv3`, `a`..`c`),
        the shortcut a unit too: its conv and norm are called directly, as the body's are, so a
        unit class whose own trailing activation the keys cannot show decides nothing."""
        shortcuts = [m for m in rest if m.attr.lower() in SHORTCUT_NAMES]
        body = [m for m in rest if m not in shortcuts]
        if len(shortcuts) > 1 or len(body) < 2:
            return None
        found = [unit(m, ctx) for m in body]
        names = [step_name(m.attr) for m in body]
        stems = {stem for stem, _ in names}
        if any(u is None or u.norm is None for u in found) or len(stems) != 1 or None in stems:
            return None
        if len({n for _, n in names}) != len(names):
            return None
        steps = sorted(zip(names, found, body), key=lambda s: s[0][1])
        pairs = [(u.conv, u.norm, u.in_width, u.out_width, u.kernel) for _, u, _ in steps]
        closing = _trailing_slot(steps[-1][2])
        short = None
        if shortcuts:
            s = unit(shortcuts[0], ctx)
            if s is None or s.norm is None or not s.pointwise:
                return None
            if (s.in_width, s.out_width) != (pairs[0][2], pairs[-1][3]):
                return None
            short = [s.conv, s.norm]
        match = self._finish(cls, ctx, pairs, short, gates, size)
        if match is None:
            return None
        # A unit class activates inside its own forward, and a flag that turns that off for the
        # body's last unit leaves no key: timm's ConvNormAct(apply_act=False) and mmcv's
        # ConvModule(act_cfg=None) add the sum to a plain norm output, osmr/imgclsmob's
        # SqueezeNext units activate all of theirs first (davidtvs' ENet registers that last
        # activation as a tensorless slot after the norm).
        last = ctx.choose(
            cls,
            ".".join(pairs[-1][1]),
            LAST_UNIT_ACTIVATED,
            False,
            [True],
            "whether the body's last unit activates before the sum",
        )
        match.choices.append(last)
        if last.source == "structure" and not match.guessed:
            # a stage's convention pinned it (blocks/split_append_stage.py): still no key's
            match.guessed = (
                f"the last unit activates before the sum by a convention no key shows "
                f"({last.note}; the choice {LAST_UNIT_ACTIVATED})"
            )
        if last.source == "default" and not match.guessed:
            where = (
                f"{closing} holds no tensors after the last unit's norm"
                if closing
                else "each step is a unit whose own activation no key shows"
            )
            match.guessed = (
                f"{where}: the last unit's norm output is read as added to the shortcut "
                "unactivated (a ResNet's); it may activate first (the choice "
                f"{LAST_UNIT_ACTIVATED})"
            )
        return match

    def _finish(
        self,
        cls,
        ctx: BlockContext,
        pairs,
        shortcut,
        gates,
        size: int,
        zero_pad: bool = False,
        own: str | None = None,
        pool: tuple | None = None,
    ) -> Match | None:
        """`pairs`: (conv path, norm path, in width, out width, kernel) in dataflow order; `shortcut`:
        the paths the shortcut calls in turn (the member, or a unit's conv and norm); `zero_pad`:
        no shortcut member although instances widen (option A, zero channels); `own`: an
        activation member called between the pairs."""
        width = pairs[0][2]
        for _, _, takes, gives, _ in pairs:  # each conv takes what the previous norm gave
            if width is not None and takes not in (None, width):
                return None
            width = gives
        c_in, c_out = pairs[0][2], pairs[-1][3]
        if shortcut is None and c_in != c_out and not zero_pad:
            return None
        if zero_pad and (c_in is None or c_out != 2 * c_in):
            # Option A doubles the width where a stage begins; pairs that widen otherwise (8 to
            # 12) are a plain stack (a VGG's, MobileNetV1's), which no residual block claims.
            return None
        if own is None:
            activation = ctx.choose(
                cls,
                ".".join(pairs[0][1]),
                "activation",
                "relu",
                act.alternatives("relu", conv=True),
                "between conv/norm pairs and after the sum",
            )
        else:  # SRGAN's residual blocks (Ledig et al. 2017) add nothing after the sum
            activation = ctx.choose(
                cls,
                own,
                "after_sum",
                "identity",
                [own, "relu"],
                f"after the sum ({own} runs between the conv/norm pairs)",
            )
        choices = [activation]
        if own is None and (
            between := act.inside_blocks(ctx, cls, ".".join(pairs[0][1]), activation)
        ):
            choices.append(between)  # HF ResNet: hidden_act after the sum, relu between the pairs
        elif own is None and (activation.path, "inside_activation") in ctx.resolver.structural:
            # a family pattern sets the two apart (SRResNet's blocks add nothing after the sum)
            choices.append(
                ctx.choose(
                    cls,
                    ".".join(pairs[0][1]),
                    "inside_activation",
                    activation.value,
                    act.alternatives(activation.value, conv=True),
                    "between the conv/norm pairs",
                )
            )
        gate, guessed = None, ""
        if gates:
            # SE-ResNet (Hu et al. 2018) gates the body's output before the sum; RegNetY gates
            # the 3x3 conv's. Widths tell them apart unless both give the gate's width; then the
            # last spatial conv's (RegNetY's grouped 3x3 before its 1x1, Radosavovic et al. 2020;
            # SE-ResNet's basic block's second 3x3 is also its last conv), still a guess.
            width, groups = gate_width(gates[0], ctx), gate_groups(gates[0], ctx, cls)
            fits = [
                ".".join(c)
                for c, _, _, gives, _ in pairs
                if width in (None, gives)
                and all(type(gives) is int and gives % each == 0 for each in groups)
            ]
            if not fits:
                return None
            spatial = [".".join(p[0]) for p in pairs if p[3] == width and _spatial(p[4])]
            # A gate that keeps any width (ECA) follows the body's last pair: timm's Bottleneck
            # and BasicBlock (`attn_last`) and ECA-Net's ECABasicBlock/ECABottleneck put it there.
            default = spatial[-1] if spatial else fits[-1]
            where = ctx.choose(
                cls,
                gates[0].attr,
                "gate_after",
                default,
                [f for f in fits if f != default],
                "the conv/norm pair whose output the squeeze-excitation rescales",
            )
            choices.append(where)
            gate = (gates[0].attr, where.value, gate_comment(gates[0], ctx))
            if len(fits) > 1 and where.source == "default":
                guessed = (
                    f"the {gate[2]} {gates[0].attr} could follow "
                    f"{' or '.join(fits)} (their widths match); it follows {where.value}"
                )
        padding = None
        if zero_pad:
            where = ctx.choose(
                cls,
                ".".join(pairs[0][0]),
                "zero_channels",
                "both_sides",
                ["after"],
                "option A shortcut: where the input's added zero channels go",
            )
            choices.append(where)
            padding = where.value
            if where.source == "default" and not guessed:
                guessed = (
                    "instances widen with no projection: the input is subsampled and padded with "
                    "zero channels on both sides (akamaster's CIFAR ResNets; fb.resnet.torch "
                    "appends them: zero_channels='after')"
                )
        pooled = None
        if pool is not None and pool[2:] == (MIXER_POOL,):
            # the mixer's position tables are sized for the map before the pool (they prove
            # "after"); the pool's kind is the BoTNet paper's, no key's
            pooled = (pool[0], MIXER_POOL)
            guessed = guessed or (
                f"{pool[1]}, and {pool[0]} mixes pixels with no stride of its own: read as a 2x2 "
                f"average pool of stride 2 after it (BoTNet, Srinivas et al. 2021)"
            )
        elif pool is not None:  # (self-contained step, why the body downsamples)
            where = ctx.choose(
                cls,
                pool[0],
                "downsample_pool",
                "after",
                ["before"],
                f"{pool[1]}: a 3x3 average pool of stride 2 before or after {pool[0]}",
            )
            choices.append(where)
            pooled = (pool[0], where.value)
            if where.source == "default" and not guessed:
                guessed = (
                    f"{pool[1]}, and no conv of the body records a stride: a 3x3 average pool "
                    f"after {pool[0]} (ResNeSt's avd, timm's avd_last), or before it (avd_first)"
                )
        # gate: (member, conv path)
        found = ([(p[0], p[1]) for p in pairs], shortcut, gate, padding, own, pooled)
        match = Match(self, size or len(modules(cls)), found, choices, guessed=guessed)
        if _bottleneck([p[4] for p in pairs]):
            match.title = "Bottleneck"  # He et al. 2016's name for the 1x1, kxk, 1x1 body
        return match

    def forward(self, match: Match, g: Graph) -> None:
        pairs, shortcut, gate, zero_pad, own, pooled = match.found
        after_sum = match.choices[0].value
        activation = "identity" if own else after_sum
        activation = act.inside_value(match.choices, activation)
        last_activated = any(c.name == LAST_UNIT_ACTIVATED and c.value for c in match.choices)
        wrapped_steps = {
            c.path.rpartition(".")[2]
            for c in match.choices
            if c.name == WRAPPED_STEP and c.value == "simam"
        }
        x = g.input("x")
        out = x
        for i, (conv, norm) in enumerate(pairs):
            if norm is None:  # a self-contained step: it normalises and activates itself
                where = pooled[1] if pooled is not None else None
                out = _avd_pool(g, out) if where == "before" else out
                out = g.call_module(conv, out, name="out")
                out = _avd_pool(g, out) if where == "after" else out
                continue
            out = g.call_module(conv, out, name="out", inline=True)
            if pooled is not None and pooled == (conv[0], MIXER_POOL):
                out = g.call_function(
                    "avg_pool2d",
                    out,
                    2,
                    kwargs={"stride": 2},
                    name="out",
                    comment="the block's stride (BoTNet)",
                )
            if ".".join(conv) in wrapped_steps:
                out = g.call_function(
                    "simam", out, 1e-4, name="out", comment="parameter-free attention (SimAM)"
                )
            last = i == len(pairs) - 1
            gated = gate is not None and gate[1] == ".".join(conv)
            out = g.call_module(norm, out, name="out", inline=not (last or gated))
            if not last and own:
                out = g.call_module((own,), out, name="out")
            elif not last or last_activated:
                out = act.apply(g, activation, out, name="out")
            if gated:
                out = g.call_module((gate[0],), out, name="out", comment=gate[2])
        identity = x
        for path in shortcut or ():
            identity = g.call_module(path, identity, name="identity", inline=True)
        if zero_pad is not None:
            identity = g.call_function(
                "zero_padded_shortcut",
                x,
                out,
                zero_pad == "both_sides",
                name="identity",
                comment="option A: subsampled, zero channels added",
            )
        out = g.call_function("add", out, identity, name="out")
        if own and after_sum == own:
            g.output(g.call_module((own,), out, name="out", inline=True))
        else:
            g.output(act.apply(g, after_sum, out, name="out", inline=True))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Block(nn.Module):
            def __init__(self, c_in: int, c_out: int, stride: int) -> None:
                super().__init__()
                self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(c_out)
                self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(c_out)
                self.downsample = None
                if stride != 1 or c_in != c_out:
                    self.downsample = nn.Sequential(
                        nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
                    )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = F.relu(self.bn1(self.conv1(x)))
                out = self.bn2(self.conv2(out))
                shortcut = x if self.downsample is None else self.downsample(x)
                return F.relu(out + shortcut)

        class Stage(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.block = Block(8, 16, 2)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.block(x)

        class Energy(nn.Module):  # SimAM's attention: no parameters, so no key shows it
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                d = (x - x.mean(dim=[2, 3], keepdim=True)).pow(2)
                n = x.size(2) * x.size(3) - 1
                return x * torch.sigmoid(
                    d / (4 * (d.sum(dim=[2, 3], keepdim=True) / n + 1e-4)) + 0.5
                )

        class WrappedBlock(nn.Module):  # the attention wrapped with the second conv
            def __init__(self, c: int) -> None:
                super().__init__()
                self.conv1 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
                self.norm1 = nn.BatchNorm2d(c)
                self.conv2 = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), Energy())
                self.norm2 = nn.BatchNorm2d(c)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.norm2(self.conv2(F.relu(self.norm1(self.conv1(x)))))
                return F.relu(out + x)

        class Wrapped(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.blocks = nn.Sequential(WrappedBlock(8), WrappedBlock(8))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.blocks(x)

        x = torch.randn(2, 8, 8, 8)
        return [Example(Stage(), (x,)), Example(Wrapped(), (x,))]


# Block patterns whose class convolves, normalises and activates by itself: one step of a body.
SELF_CONTAINED = ("SplitAttention", "SelectiveKernel")
# Pixel mixers a block uses as its spatial conv, normed and activated after it like one.
PIXEL_MIXERS = ("RelativeContentAttention",)
MIXER_POOL = "mixer_pool"


def _pixel_mixer(m, ctx: BlockContext) -> bool:
    """A member of a role in PIXEL_MIXERS, or a Sequential holding only one such."""
    if m.kind == "sequential":
        real = [c for c in m.children if c.kind != "placeholder"]
        return len(real) == len(m.children) == 1 and _pixel_mixer(real[0], ctx)
    return m.kind == "class" and ctx.role(m) in PIXEL_MIXERS


WRAPPED_STEP = "wrapped_step"


def _wrapped_conv(m):
    """The conv of a member that is a Sequential holding one conv and nothing the keys show,
    stood in its member's name (calling the member calls the conv), else None."""
    if m.kind != "sequential" or len(m.children) != 1 or m.attr.lower() in SHORTCUT_NAMES:
        return None
    conv = m.children[0]
    if conv.kind != "builtin" or family(conv) != "conv" or conv.attr != "0":
        return None
    return replace(conv, attr=m.attr)


def _wrapped_step(cls, ctx: BlockContext, match: Match, wrapped: list[str]) -> None:
    """A body conv wrapped alone in a Sequential (`conv2 = Sequential(conv2, attention)`) leaves
    room after it for a step without tensors, which no key shows: SimAM's residual blocks wrap
    their parameter-free attention so (Yang et al. 2021, ZjjConan/SimAM's `BasicBlock`; an
    attention with tensors wraps bn2 instead), read as that, else nothing (a one-item wrapper).
    A choice per wrapped conv, and the block says it guessed."""
    for attr in wrapped:
        step = ctx.choose(
            cls,
            attr,
            WRAPPED_STEP,
            "simam",
            ["identity"],
            f"a step without tensors inside {attr}'s Sequential, after its conv",
        )
        match.choices.append(step)
        if step.source == "default" and not match.guessed:
            match.guessed = (
                f"{attr} wraps its conv alone in a Sequential: a step without tensors after it "
                "(read as SimAM's parameter-free attention, e_lambda 1e-4) or none leave the "
                f"same keys (the choice {WRAPPED_STEP})"
            )


def _trailing_slot(m) -> str:
    """`name[i]` where a unit Sequential `[conv, norm, slot]` registers a layer without tensors
    after its norm (its callers call the conv and the norm, not the slot), else ""."""
    if m.kind != "sequential" or not m.children or m.children[-1].kind != "placeholder":
        return ""
    return f"{m.attr}[{m.children[-1].attr}]"


def _avd_pool(g: Graph, out):
    return g.call_function(
        "avg_pool2d",
        out,
        3,
        kwargs={"stride": 2, "padding": 1},
        name="out",
        comment="the block's stride (ResNeSt's avd)",
    )


def unrecorded_downsampling(convs: list) -> str:
    """Why a residual body that halves the resolution is guessed where no evidence placed the
    stride: a strided conv (torchvision's ResNets) and a stride-1 conv followed by a fixed low-pass
    filter (Zhang 2019's anti-aliased downsampling: timm's `aa_layer`, resnetblur's BlurPool2d, a
    binomial kernel held in a non-persistent buffer) leave the same keys and shapes, and compute
    otherwise. '' where no body conv strides, or config.json fixed its stride."""
    for conv in convs:
        a = next((a for a in conv.args if a.keyword == "stride"), None)
        choice = a.choice if a is not None else None
        if choice is None or choice.source != "default" or choice.value in (1, (1, 1)):
            continue
        return (
            f"the block downsamples and no key shows how: read as {conv.attr}'s stride "
            "(torchvision's ResNets); an anti-aliased ResNet (timm's aa_layer) strides nothing "
            "there and blur-pools after its activation, with a filter no key holds"
        )
    return ""


def _pooled_body(cls, ctx: BlockContext, inner: list, shortcut) -> tuple | None:
    """(the self-contained step, why) where the block downsamples though no conv of its body
    records a stride: its shortcut average-pools (ResNet-D's avg_down, as ResNeSt's blocks are
    built) or holds a strided conv. ResNeSt strides its body with a 3x3 average pool beside the
    split attention (`avd`), not in it: the split conv's class is shared with unstrided blocks."""
    if not inner or shortcut is None:
        return None
    items = shortcut.children if shortcut.kind == "sequential" else [shortcut]
    pools = [c for c in items if c.kind == "placeholder" and c.type_name == "nn.AvgPool2d"]
    strided = [c for c in items if family(c) == "conv" and arg(c, "stride", 1) not in (1, (1, 1))]
    if not pools and not strided:
        return None
    why = f"the shortcut {'average-pools' if pools else 'strides'}"
    return (inner[0].attr, why)


def _separable(convs: list) -> bool:
    """Two convs: a depthwise one with a spatial kernel, then a 1x1 (in name order)."""
    if len(convs) != 2 or not is_depthwise(convs[0]):
        return False
    return conv_kernel(convs[0]) not in (1, (1, 1)) and conv_kernel(convs[1]) in (1, (1, 1))
